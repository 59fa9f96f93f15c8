// Types of the fake Azure DevOps server: its options, the recorded requests and the in-memory
// world. The stored entities keep the field names of the REST contracts (api 7.1, see
// ../../../../shared/azure-devops-rest-specs) where a test is likely to read them, plus a few
// bookkeeping fields (poll counters, stored secrets) that the service never returns.

export interface FakeDevOpsOptions {
  /** Path segment of the org URL. Default 'contoso'. */
  org?: string;
  /** The only valid PAT: `Basic base64("<anything>:" + pat)`. Default 'fake-pat'. */
  pat?: string;
  /** The only valid Entra bearer token (`Authorization: Bearer ...`). Default 'fake-entra-token'. */
  bearer?: string;
  /** How a bad or missing credential is answered: 401 JSON (default) or 203 + an HTML sign-in page. */
  badAuth?: '401' | '203';
  /** What OPTIONS advertises as maxVersion. Default '7.1' (the library then sends '7.1-preview.N'). */
  maxVersion?: '7.1' | '7.2';
  /** A new service endpoint reports isReady=false for this many GETs, then true. Default 0. */
  endpointReadyAfterPolls?: number;
  /** A project-create/delete operation stays queued/inProgress for this many polls. Default 1. */
  projectCreateOperationPolls?: number;
  /** Final status of project-create operations. Default 'succeeded'. */
  projectCreateResult?: 'succeeded' | 'failed';
  /** A run (build) reports inProgress for this many GETs of it, then completed. Default 1. */
  runCompleteAfterPolls?: number;
  /** Result of a run that passed validation and had an agent. Default 'succeeded'. */
  runResult?: 'succeeded' | 'failed' | 'canceled';
  /** Build tags such a run has when it completes (what its steps add with `##vso[build.addbuildtag]`). Default none. */
  runTags?: string[];
  /**
   * Validate a YAML run like the service: the pool's queue, the variable groups and the service
   * connections it references must exist and be authorized for the pipeline (pipelinePermissions),
   * otherwise the run ends `failed` with "There was a resource authorization issue". Default true.
   */
  enforceResourceAuthorization?: boolean;
  /**
   * A job on a self-hosted pool waits (run stays inProgress) until the pool has an online,
   * enabled agent, like the service. Default true.
   */
  requireOnlineAgents?: boolean;
  /**
   * Status of a duplicate service-connection name. The service raises
   * DuplicateServiceConnectionException without a status mapping, which surfaces as 500
   * (observed in the wild); default 500.
   */
  duplicateEndpointStatus?: 400 | 409 | 500;
  /** Extra marketplace entries ("publisher.extension") that installExtensionByName accepts. */
  marketplace?: string[];
  /** Added to every response. */
  latencyMs?: number;
  /** Seeds the PRNG used for ids and (separately) for randomFaults. Default 1. */
  seed?: number;
  /**
   * Decides how a run that passed validation ends, when it completes (the world outside Azure DevOps
   * decides it: e.g. whether Microsoft Entra accepted the run's federated login). Undefined: the run
   * ends with `runResult` and `runTags`. Default none.
   */
  onRunComplete?: (build: Build) => RunCompletion | undefined;
}

/** How a run ends, as `onRunComplete` decides it. */
export interface RunCompletion {
  result: BuildResult;
  /**
   * The job that failed (stage and job names as in the YAML): its stage fails, earlier stages
   * succeed, later ones are skipped, and its timeline record carries `issues`. Default: the first
   * stage fails, as with `runResult`.
   */
  failedJob?: { stage: string; job: string };
  /** The failed job's issues (TimelineRecord.issues: type 'error' or 'warning', message). */
  issues?: Array<{ type: 'error' | 'warning'; message: string }>;
}

export interface RecordedRequest {
  /** 1-based arrival order over all requests. */
  seq: number;
  method: string;
  /** The request path as sent (percent-encoded, no query). */
  path: string;
  /** Query parameters (last value wins for repeated keys). */
  query: Record<string, string>;
  /** Parsed JSON body, else the text, else undefined. */
  body: unknown;
  /** Final status; 0 while pending or when the socket was reset / left hanging. */
  status: number;
  /** Date.now() at arrival. */
  at: number;
  /** api-version from the Accept header (or the query), when present. */
  apiVersion: string | undefined;
  /** Request headers, lower-cased, without authorization / cookie. */
  headers: Record<string, string>;
  /** The Authorization scheme only ('basic' for a PAT, 'bearer' for an Entra token), never its value. */
  authScheme: string | undefined;
  /** OPTIONS discovery and GET _apis/ResourceAreas. */
  discovery: boolean;
  /** 1-based index among non-discovery requests (0 for discovery). */
  call: number;
  /** Set when the answer came from fault injection or auth. */
  fault?: 'inject' | 'random' | 'error' | 'timeout' | 'reset' | 'auth';
}

export interface InjectedFault {
  method?: string;
  /** Tested against the request path (not the query). */
  path?: RegExp;
  /** How many matching requests fail. Default 1 (Infinity allowed). */
  times?: number;
  status: number;
  /** JSON body; a default error body of the service's shape is used when omitted. */
  body?: unknown;
  /** Sets Retry-After (429 gets 1 when omitted). */
  retryAfterSeconds?: number;
  /** Delay before this answer. */
  latencyMs?: number;
  /** Answer with the HTML sign-in page (use status 203). */
  html203?: boolean;
  /** Also match discovery requests (OPTIONS, ResourceAreas). Default false. */
  discovery?: boolean;
}

export interface RandomFaults {
  rate: number;
  statuses: Array<429 | 500 | 503>;
  retryAfterSeconds?: number;
}

export type FailMode = 'error' | 'timeout' | 'reset';

export interface IdentityRef {
  id: string;
  displayName: string;
  uniqueName: string;
  descriptor: string;
}

export type ProjectState = 'createPending' | 'wellFormed' | 'deleting';

export interface Project {
  id: string;
  name: string;
  description: string;
  visibility: 'private' | 'public';
  state: ProjectState;
  revision: number;
  lastUpdateTime: string;
  sourceControlType: string;
  processTemplateId: string;
  defaultTeamId: string;
}

export type OperationStatus = 'notSet' | 'queued' | 'inProgress' | 'cancelled' | 'succeeded' | 'failed';

export interface Operation {
  id: string;
  kind: 'createProject' | 'deleteProject';
  projectId: string;
  projectName: string;
  status: OperationStatus;
  /** GETs of the operation (and of the pending project) so far. */
  polls: number;
  pollsBeforeDone: number;
  resultMessage: string | null;
}

export interface Pool {
  id: number;
  name: string;
  isHosted: boolean;
  poolType: 'automation' | 'deployment';
  autoProvision: boolean;
  autoUpdate: boolean;
  autoSize: boolean;
  scope: string;
  createdOn: string;
}

export interface Agent {
  id: number;
  poolId: number;
  name: string;
  status: 'online' | 'offline';
  enabled: boolean;
  version: string;
  osDescription: string;
  createdOn: string;
  statusChangedOn: string;
}

export interface Queue {
  id: number;
  projectId: string;
  name: string;
  poolId: number;
}

export interface InstalledExtension {
  publisherId: string;
  publisherName: string;
  extensionId: string;
  extensionName: string;
  version: string;
  registrationId: string;
  installedOn: string;
}

export interface ProjectReferenceRef {
  projectReference: { id: string; name: string };
  name: string;
  description?: string;
}

export interface ServiceEndpoint {
  id: string;
  name: string;
  type: string;
  url: string;
  description: string;
  data: Record<string, string>;
  /** Stored as received, secrets included (the API answers null for them). */
  authorization: { scheme: string; parameters: Record<string, string> };
  isShared: boolean;
  isReady: boolean;
  owner: string;
  serviceEndpointProjectReferences: ProjectReferenceRef[];
  createdBy: IdentityRef;
  /** GETs that still report isReady=false. */
  readyAfterPolls: number;
  polls: number;
}

export interface VariableValue {
  value: string | null;
  isSecret?: boolean;
  isReadOnly?: boolean;
}

export interface VariableGroup {
  id: number;
  name: string;
  description: string;
  type: string;
  /** Stored with secret values (the API answers `{value: null, isSecret: true}`). */
  variables: Record<string, VariableValue>;
  variableGroupProjectReferences: ProjectReferenceRef[];
  providerData?: unknown;
  createdBy: IdentityRef;
  createdOn: string;
  modifiedBy: IdentityRef;
  modifiedOn: string;
}

export interface GitUserDate {
  name: string;
  email: string;
  date: string;
}

export interface Commit {
  commitId: string;
  treeId: string;
  parents: string[];
  comment: string;
  author: GitUserDate;
  committer: GitUserDate;
  pushId: number;
  /** The whole file tree at this commit: '/path/file' -> bytes. */
  tree: Record<string, Buffer>;
}

export interface Push {
  pushId: number;
  date: string;
  commitIds: string[];
  refUpdates: Array<{ name: string; oldObjectId: string; newObjectId: string }>;
}

export interface Repo {
  id: string;
  name: string;
  projectId: string;
  /** 'refs/heads/main'; undefined until the first push. */
  defaultBranch: string | undefined;
  isDisabled: boolean;
  /** 'refs/heads/main' -> commit id. */
  refs: Record<string, string>;
  commits: Record<string, Commit>;
  pushes: Push[];
}

/** A build definition; a YAML one is also a pipeline (same id), as in the service. */
export interface Definition {
  id: number;
  projectId: string;
  name: string;
  /** Folder, '\\' for the root. */
  path: string;
  revision: number;
  createdDate: string;
  repositoryId: string;
  repositoryType: string;
  defaultBranch: string | undefined;
  /** Path of the YAML file in the repository (process type 2). */
  yamlFilename: string;
  processType: number;
  queueId: number | undefined;
  variables: Record<string, { value?: string; isSecret?: boolean; allowOverride?: boolean }>;
  triggers: unknown[];
}

/** 'cancelling' after an accepted cancel PATCH, until the next GET completes it as canceled. */
export type BuildStatus = 'notStarted' | 'inProgress' | 'cancelling' | 'completed';
export type BuildResult = 'succeeded' | 'partiallySucceeded' | 'failed' | 'canceled';

export interface PlannedJob {
  name: string;
  displayName: string;
  /** Pool name (self-hosted) or undefined for a Microsoft-hosted pool. */
  pool: string | undefined;
  /** The service connections its steps use, in step order: connection name (macros resolved) and task, e.g. 'AzureCLI@2'. */
  connections: Array<{ name: string; task: string }>;
}

export interface PlannedStage {
  name: string;
  displayName: string;
  jobs: PlannedJob[];
}

/** A build; a run of a YAML pipeline is the same object (same id), as in the service. */
export interface Build {
  id: number;
  projectId: string;
  definitionId: number;
  buildNumber: string;
  status: BuildStatus;
  result: BuildResult | undefined;
  reason: string;
  queueTime: string;
  startTime: string | undefined;
  finishTime: string | undefined;
  sourceBranch: string;
  sourceVersion: string;
  templateParameters: Record<string, unknown>;
  variables: Record<string, unknown>;
  /** Stages and jobs read from the YAML at queue time. */
  stages: PlannedStage[];
  /** Why it failed before starting (resource authorization), shown in validationResults and the timeline. */
  validationError: string | undefined;
  /** GETs of the build/run/timeline while it could make progress. */
  polls: number;
  pollsBeforeDone: number;
  finalYaml: string;
  planId: string;
  timelineId: string;
  /** Build tags (Build.tags in build/7.1/build.json), e.g. added by the run's `##vso[build.addbuildtag]`. */
  tags: string[];
  /** The job that failed and its issues, when `onRunComplete` named one (shown in the timeline). */
  failure?: { stage: string; job: string; issues: Array<{ type: 'error' | 'warning'; message: string }> };
}

export type PermissionResourceType = 'queue' | 'endpoint' | 'variablegroup' | string;

export interface PipelinePermission {
  id: number;
  authorized: boolean;
  authorizedBy: IdentityRef;
  authorizedOn: string;
}

export interface ResourcePermissions {
  projectId: string;
  resourceType: PermissionResourceType;
  resourceId: string;
  allPipelines: { authorized: boolean; authorizedBy: IdentityRef; authorizedOn: string } | undefined;
  pipelines: PipelinePermission[];
}

export interface AgentPackage {
  type: string;
  platform: string;
  createdOn: string;
  version: { major: number; minor: number; patch: number };
  downloadUrl: string;
  infoUrl: string;
  hashValue: string;
  filename: string;
}

/**
 * One access control entry of the Security API (security/7.1/security.json, AccessControlEntry),
 * stored with the namespace and token of its ACL.
 */
export interface AccessControlEntry {
  securityNamespaceId: string;
  token: string;
  descriptor: string;
  allow: number;
  deny: number;
}
