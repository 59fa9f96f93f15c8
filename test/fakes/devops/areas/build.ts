// build (definitions, builds, timeline), pipelines (pipelines, runs, preview) and pipelinePermissions.
// A YAML build definition is a pipeline and its builds are the runs (same ids), as in the service.
// Shapes: build/7.1/build.json (BuildDefinition, Build, Timeline, TimelineRecord),
// pipelines/7.1/pipelines.json (Pipeline, Run), approvalsAndChecks/7.1/httpExamples/pipelinePermissions/*.json.
// Enums are sent as the service sends them: strings ('inProgress', 'succeeded', 'yaml', 'azureReposGit'),
// except BuildProcess.type (a number: 2 = YAML); requests accept both numbers and strings.
import { ApiError, bodyArray, bodyObject, list, noContent, obj, ok, str, type Req, type Res, type Route } from '../http.js';
import type { Backend } from '../backend.js';
import type { Build, BuildResult, Definition, Project, Repo, ResourcePermissions } from '../types.js';
import { renderRepo, resolveVersion } from './git.js';
import { BUILD_NAMESPACE, buildServiceIdentity, hasPermission, STOP_BUILDS } from './security.js';
import { PipelineReader } from './yaml.js';

const DEFINITIONS = 'dbeaf647-6167-421a-bda9-c9327b25e2e6';
const BUILDS = '0cd358e1-9217-4d94-8269-1c1ee6f93dcf';
const TIMELINE = '8baac422-4c6e-4de5-8532-db96d92acffa';
const PIPELINES = '28e1305e-2afe-47bf-abaf-cbb0e6a91988';
const RUNS = '7859261e-d2e9-4a68-b820-a5d84cc5bb3d';
const PREVIEW = '53df2d18-29ea-46a9-bee0-933540f80abf';
const PERMISSIONS = 'b5b9a4a4-e6cd-4096-853c-ab7d8b0c4eb2';

const AUTHZ = 'For authorization details, refer to https://aka.ms/yamlauthz.';

// ---------------------------------------------------------------- helpers

function folderOf(path: string | undefined): string {
  if (!path) return '\\';
  const p = path.replace(/\//g, '\\');
  return p.startsWith('\\') ? p : `\\${p}`;
}

function defUrl(b: Backend, d: Definition): string {
  return b.api(`${d.projectId}/_apis/build/Definitions/${d.id}?revision=${d.revision}`);
}

function projectOfDef(b: Backend, d: Definition): Project {
  const p = b.world.projects.find((x) => x.id === d.projectId);
  if (!p) throw new ApiError(500, 'Exception', `Fake: definition ${d.id} has no project`);
  return p;
}

function definitionNotFound(id: string | number): ApiError {
  return new ApiError(404, 'DefinitionNotFoundException', `Build pipeline ${id} was not found.`);
}

function requireDefinition(b: Backend, r: Req, id: string | undefined): Definition {
  const p = b.projectOf(r);
  const d = b.world.definitions.find((x) => x.projectId === p.id && String(x.id) === id);
  if (!d) throw definitionNotFound(id ?? '');
  return d;
}

function repoOf(b: Backend, d: Definition): Repo | undefined {
  return b.world.repos.find((x) => x.id === d.repositoryId);
}

function queueJson(b: Backend, queueId: number | undefined): Record<string, unknown> | undefined {
  const q = b.world.queues.find((x) => x.id === queueId);
  if (!q) return undefined;
  const pool = b.world.findPool(q.poolId);
  return {
    _links: { self: { href: b.api(`_apis/build/Queues/${q.id}`) } },
    id: q.id,
    name: q.name,
    url: b.api(`_apis/build/Queues/${q.id}`),
    pool: pool ? { id: pool.id, name: pool.name, ...(pool.isHosted ? { isHosted: true } : {}) } : null,
  };
}

function defRef(b: Backend, d: Definition): Record<string, unknown> {
  const p = projectOfDef(b, d);
  return {
    id: d.id,
    name: d.name,
    url: defUrl(b, d),
    uri: `vstfs:///Build/Definition/${d.id}`,
    path: d.path,
    type: 'build',
    queueStatus: 'enabled',
    revision: d.revision,
    project: b.projectRef(p),
  };
}

function renderDefinitionRef(b: Backend, d: Definition): Record<string, unknown> {
  const p = projectOfDef(b, d);
  const web = `${b.orgUrl}/${encodeURIComponent(p.name)}/_build/definition?definitionId=${d.id}`;
  return {
    _links: {
      self: { href: defUrl(b, d) },
      web: { href: web },
      editor: { href: `${b.orgUrl}/${encodeURIComponent(p.name)}/_build/designer?id=${d.id}&_a=edit-build-definition` },
      badge: { href: b.api(`${p.id}/_apis/build/status/${d.id}`) },
    },
    quality: 'definition',
    authoredBy: b.identity(),
    drafts: [],
    queue: queueJson(b, d.queueId),
    ...defRef(b, d),
    createdDate: d.createdDate,
  };
}

function renderDefinition(b: Backend, d: Definition): Record<string, unknown> {
  const repo = repoOf(b, d);
  return {
    options: [],
    triggers: d.triggers,
    variables: d.variables,
    properties: {},
    tags: [],
    ...renderDefinitionRef(b, d),
    jobAuthorizationScope: 'projectCollection',
    jobTimeoutInMinutes: 60,
    jobCancelTimeoutInMinutes: 5,
    process: d.processType === 2 ? { yamlFilename: d.yamlFilename, type: 2 } : { type: d.processType },
    repository: {
      properties: { cleanOptions: '0', labelSources: '0', labelSourcesFormat: '$(build.buildNumber)', reportBuildStatus: 'true', gitLfsSupport: 'false', skipSyncSource: 'false', checkoutNestedSubmodules: 'false', fetchDepth: '1' },
      id: d.repositoryId,
      type: d.repositoryType,
      name: repo?.name ?? null,
      url: repo ? (renderRepo(b, repo)['remoteUrl'] as string) : null,
      defaultBranch: d.defaultBranch ?? repo?.defaultBranch ?? null,
      clean: null,
      checkoutSubmodules: false,
    },
    processParameters: {},
  };
}

function uniqueName(b: Backend, projectId: string, name: string, folder: string, except?: number): boolean {
  return !b.world.definitions.some(
    (d) => d.id !== except && d.projectId === projectId && d.name.toLowerCase() === name.toLowerCase() && d.path.toLowerCase() === folder.toLowerCase(),
  );
}

function newDefinition(b: Backend, p: Project, init: Omit<Definition, 'id' | 'projectId' | 'revision' | 'createdDate'>): Definition {
  const d: Definition = { id: b.next('definition'), projectId: p.id, revision: 1, createdDate: b.now(), ...init };
  b.world.definitions.push(d);
  return d;
}

/** The queue named (by id, name or pool name) in a definition body, else the project's hosted queue. */
function pickQueue(b: Backend, p: Project, raw: unknown): number | undefined {
  const q = obj(raw);
  const projectQueues = b.world.queues.filter((x) => x.projectId === p.id);
  if (q) {
    const id = Number(q['id']);
    const name = str(q['name']) ?? str(obj(q['pool'])?.['name']);
    const found = Number.isInteger(id) && id > 0 ? projectQueues.find((x) => x.id === id) : name ? projectQueues.find((x) => x.name.toLowerCase() === name.toLowerCase()) : undefined;
    if (!found && (q['id'] !== undefined || name)) {
      throw new ApiError(400, 'ArgumentException', `Could not find the agent queue ${String(q['id'] ?? name)} in project ${p.name}.`);
    }
    if (found) return found.id;
  }
  const hosted = b.world.pools.find((x) => x.isHosted);
  return projectQueues.find((x) => x.poolId === hosted?.id)?.id;
}

// ---------------------------------------------------------------- build definitions

function listDefinitions(b: Backend, r: Req): Res {
  const p = b.projectOf(r);
  const name = r.query.get('name');
  const re = name ? new RegExp(`^${name.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i') : undefined;
  const path = r.query.get('path')?.toLowerCase();
  const repoId = r.query.get('repositoryId')?.toLowerCase();
  const ids = r.query.list('definitionIds')?.map(Number);
  const yaml = r.query.get('yamlFilename')?.toLowerCase();
  const value = b.world.definitions.filter(
    (d) =>
      d.projectId === p.id &&
      (!re || re.test(d.name)) &&
      (!path || d.path.toLowerCase() === folderOf(path).toLowerCase()) &&
      (!repoId || d.repositoryId === repoId) &&
      (!ids || ids.includes(d.id)) &&
      (!yaml || d.yamlFilename.toLowerCase() === yaml),
  );
  const full = r.query.bool('includeAllProperties') ?? false;
  return list(value.map((d) => (full ? renderDefinition(b, d) : renderDefinitionRef(b, d))));
}

function getDefinition(b: Backend, r: Req): Res {
  return ok(renderDefinition(b, requireDefinition(b, r, r.params['definitionId'])));
}

function createDefinition(b: Backend, r: Req): Res {
  const p = b.projectOf(r);
  const body = bodyObject(r, 'definition');
  const name = str(body['name'])?.trim();
  if (!name) throw new ApiError(400, 'ArgumentNullException', 'Value cannot be null.\r\nParameter name: definition.Name');
  const process = obj(body['process']);
  if (!process) throw new ApiError(400, 'ArgumentNullException', 'Value cannot be null.\r\nParameter name: definition.Process');
  const repository = obj(body['repository']);
  if (!repository) throw new ApiError(400, 'ArgumentNullException', 'Value cannot be null.\r\nParameter name: definition.Repository');
  const processType = Number(process['type'] ?? 1);
  const yamlFilename = str(process['yamlFilename']) ?? '';
  if (processType === 2 && !yamlFilename) throw new ApiError(400, 'ArgumentException', 'A YAML pipeline needs process.yamlFilename.');
  const repoKey = str(repository['id']) ?? str(repository['name']) ?? '';
  const repo = b.world.findRepo(p.id, repoKey);
  const repoType = str(repository['type']) ?? 'TfsGit';
  if (repoType.toLowerCase() === 'tfsgit' && !repo) {
    throw new ApiError(400, 'ArgumentException', `TF401019: The Git repository with name or identifier ${repoKey} does not exist or you do not have permissions for the operation you are attempting.`);
  }
  const folder = folderOf(str(body['path']));
  if (!uniqueName(b, p.id, name, folder)) {
    throw new ApiError(400, 'DefinitionExistsException', `The build pipeline name ${name} already exists in folder ${folder}. Use a different name.`);
  }
  const variables = (obj(body['variables']) ?? {}) as Definition['variables'];
  const d = newDefinition(b, p, {
    name,
    path: folder,
    repositoryId: repo?.id ?? repoKey,
    repositoryType: repoType,
    defaultBranch: str(repository['defaultBranch']),
    yamlFilename,
    processType,
    queueId: pickQueue(b, p, body['queue']),
    variables,
    triggers: Array.isArray(body['triggers']) ? body['triggers'] : [],
  });
  return ok(renderDefinition(b, d));
}

function updateDefinition(b: Backend, r: Req): Res {
  const p = b.projectOf(r);
  const id = Number(r.params['definitionId']);
  const body = bodyObject(r, 'definition');
  const bodyId = Number(body['id'] ?? 0);
  if (bodyId !== id) throw new ApiError(400, 'DefinitionNotMatchedException', `The request specifies pipeline ID ${id} but the supplied pipeline has ID ${bodyId}.`);
  const d = b.world.definitions.find((x) => x.projectId === p.id && x.id === id);
  // The service looks the definition up by id and revision: a stale revision reads as "not found".
  if (!d || Number(body['revision']) !== d.revision) throw definitionNotFound(id);
  const name = str(body['name'])?.trim() || d.name;
  const folder = body['path'] === undefined ? d.path : folderOf(str(body['path']));
  if (!uniqueName(b, p.id, name, folder, d.id)) {
    throw new ApiError(400, 'DefinitionExistsException', `The build pipeline name ${name} already exists in folder ${folder}. Use a different name.`);
  }
  const process = obj(body['process']);
  const repository = obj(body['repository']);
  d.name = name;
  d.path = folder;
  if (process) {
    d.processType = Number(process['type'] ?? d.processType);
    d.yamlFilename = str(process['yamlFilename']) ?? d.yamlFilename;
  }
  if (repository) d.defaultBranch = str(repository['defaultBranch']) ?? d.defaultBranch;
  if (body['queue'] !== undefined) d.queueId = pickQueue(b, p, body['queue']);
  if (body['variables'] !== undefined) d.variables = (obj(body['variables']) ?? {}) as Definition['variables'];
  if (Array.isArray(body['triggers'])) d.triggers = body['triggers'];
  d.revision += 1;
  return ok(renderDefinition(b, d));
}

function deleteDefinition(b: Backend, r: Req): Res {
  const d = requireDefinition(b, r, r.params['definitionId']);
  b.world.definitions = b.world.definitions.filter((x) => x !== d);
  b.world.builds = b.world.builds.filter((x) => x.definitionId !== d.id);
  for (const perm of b.world.permissions) perm.pipelines = perm.pipelines.filter((x) => x.id !== d.id);
  return noContent();
}

// ---------------------------------------------------------------- queuing (builds and runs)

interface QueueRequest {
  branch: string | undefined;
  templateParameters: Record<string, unknown>;
  variables: Record<string, unknown>;
  reason: string;
}

function readerFor(b: Backend, p: Project, repo: Repo, commitTree: Record<string, Buffer>, ref: string, sha: string): PipelineReader {
  return new PipelineReader(
    (path) => commitTree[path]?.toString('utf8'),
    (name) => {
      const g = b.world.variableGroupsOf(p.id).find((x) => x.name.toLowerCase() === name.toLowerCase());
      if (!g) return undefined;
      const values: Record<string, string> = {};
      for (const [k, v] of Object.entries(g.variables)) if (!v.isSecret && v.value !== null) values[k] = v.value;
      return values;
    },
    `${repo.name} branch ${ref} version ${sha}`,
  );
}

function buildNumber(b: Backend, d: Definition): string {
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '');
  const n = b.world.builds.filter((x) => x.definitionId === d.id && x.buildNumber.startsWith(`${day}.`)).length + 1;
  return `${day}.${n}`;
}

/** Checks the resources a run uses; returns the service's authorization messages. */
function authorizationProblems(b: Backend, p: Project, d: Definition, analysis: ReturnType<PipelineReader['analyze']>): string[] {
  const problems: string[] = [];
  const push = (m: string): void => {
    if (!problems.includes(m)) problems.push(m);
  };
  for (const stage of analysis.stages) {
    for (const job of stage.jobs) {
      if (job.pool === undefined) continue;
      const queue = b.world.queues.find((q) => q.projectId === p.id && q.name.toLowerCase() === job.pool?.toLowerCase());
      if (!queue || !b.world.isAuthorized(p.id, 'queue', String(queue.id), d.id)) {
        push(`Job ${job.name}: Could not find a pool with name ${job.pool}. The pool does not exist or has not been authorized for use. ${AUTHZ}`);
      }
    }
  }
  for (const name of analysis.groups) {
    const g = b.world.variableGroupsOf(p.id).find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!g || !b.world.isAuthorized(p.id, 'variablegroup', String(g.id), d.id)) {
      push(`Variable group ${name} could not be found. The variable group does not exist or has not been authorized for use. ${AUTHZ}`);
    }
  }
  for (const use of analysis.endpoints) {
    const e = b.world.endpointsOf(p.id).find((x) => x.name.toLowerCase() === use.name.toLowerCase() || x.id === use.name.toLowerCase());
    if (!e || !b.world.isAuthorized(p.id, 'endpoint', e.id, d.id)) {
      push(`Job ${use.job}: Step ${use.step} input ${use.input} references service connection ${use.name} which could not be found. The service connection does not exist, has been disabled or has not been authorized for use. ${AUTHZ}`);
    }
  }
  return problems;
}

function queueBuildFor(b: Backend, p: Project, d: Definition, q: QueueRequest, refusal: { status: number; typeKey: string }): Build {
  const repo = repoOf(b, d);
  if (!repo) throw new ApiError(refusal.status, refusal.typeKey, `The repository ${d.repositoryId} of pipeline ${d.name} could not be found.`);
  const rawBranch = q.branch ?? d.defaultBranch ?? repo.defaultBranch;
  if (!rawBranch) {
    throw new ApiError(refusal.status, refusal.typeKey, `Could not queue the build because the repository ${repo.name} has no branches. Push a commit first.`);
  }
  const branch = rawBranch.startsWith('refs/') ? rawBranch : `refs/heads/${rawBranch}`;
  const sha = repo.refs[branch];
  if (!sha) {
    throw new ApiError(refusal.status, refusal.typeKey, `Unable to resolve the reference '${branch}' to a specific version. Verify the reference exists in the source repository.`);
  }
  const commit = resolveVersion(repo, sha, 'commit');
  const yamlPath = d.yamlFilename.startsWith('/') ? d.yamlFilename : `/${d.yamlFilename}`;
  const queue = b.world.queues.find((x) => x.id === d.queueId);
  const defaultPool = queue ? b.world.findPool(queue.poolId) : undefined;
  const analysis = d.processType === 2
    ? readerFor(b, p, repo, commit.tree, branch, sha).analyze(yamlPath, q.templateParameters, defaultPool && !defaultPool.isHosted ? defaultPool.name : undefined)
    : { stages: [{ name: '__default', displayName: '__default', jobs: [{ name: 'Job', displayName: 'Job', pool: defaultPool && !defaultPool.isHosted ? defaultPool.name : undefined, connections: [] }] }], groups: [], endpoints: [], errors: [] };
  if (analysis.errors.length > 0) {
    throw new ApiError(refusal.status, refusal.typeKey, analysis.errors.join('\n'));
  }
  const problems = b.opts.enforceResourceAuthorization ? authorizationProblems(b, p, d, analysis) : [];
  const now = b.now();
  const validationError = problems.length > 0 ? `There was a resource authorization issue: "The pipeline is not valid. ${problems.join(' ')}"` : undefined;
  const build: Build = {
    id: b.next('build'),
    projectId: p.id,
    definitionId: d.id,
    buildNumber: buildNumber(b, d),
    status: validationError ? 'completed' : 'notStarted',
    result: validationError ? 'failed' : undefined,
    reason: q.reason,
    queueTime: now,
    startTime: validationError ? now : undefined,
    finishTime: validationError ? now : undefined,
    sourceBranch: branch,
    sourceVersion: sha,
    templateParameters: q.templateParameters,
    variables: q.variables,
    stages: analysis.stages,
    validationError,
    polls: 0,
    pollsBeforeDone: b.opts.runCompleteAfterPolls,
    finalYaml: commit.tree[yamlPath]?.toString('utf8') ?? '',
    planId: b.uuid(),
    timelineId: b.uuid(),
    tags: [],
  };
  b.world.builds.push(build);
  return build;
}

/**
 * Seeding: a completed run of a YAML pipeline with `result` and `tags` (what its steps added with
 * `##vso[build.addbuildtag]`), as if it had run earlier. No stages: its timeline is empty.
 */
export function seedCompletedRun(b: Backend, d: Definition, o: { result: BuildResult; tags?: string[] }): Build {
  const repo = repoOf(b, d);
  const branch = d.defaultBranch ?? repo?.defaultBranch ?? 'refs/heads/main';
  const now = b.now();
  const build: Build = {
    id: b.next('build'),
    projectId: d.projectId,
    definitionId: d.id,
    buildNumber: buildNumber(b, d),
    status: 'completed',
    result: o.result,
    reason: 'manual',
    queueTime: now,
    startTime: now,
    finishTime: now,
    sourceBranch: branch,
    sourceVersion: repo?.refs[branch] ?? '0000000000000000000000000000000000000000',
    templateParameters: {},
    variables: {},
    stages: [],
    validationError: undefined,
    polls: 0,
    pollsBeforeDone: 0,
    finalYaml: '',
    planId: b.uuid(),
    timelineId: b.uuid(),
    tags: [...(o.tags ?? [])],
  };
  b.world.builds.push(build);
  return build;
}

/** Self-hosted pools the build's jobs need that have no online, enabled agent. */
function poolsWithoutAgents(b: Backend, build: Build): string[] {
  const names = new Set(build.stages.flatMap((s) => s.jobs.map((j) => j.pool)).filter((x): x is string => x !== undefined));
  return [...names].filter((name) => {
    const pool = b.world.findPool(name);
    if (!pool || pool.isHosted) return false;
    return !b.world.agents.some((a) => a.poolId === pool.id && a.status === 'online' && a.enabled);
  });
}

/** One observation (GET) of a build/run: advances it while an agent is available. */
function observe(b: Backend, build: Build): void {
  if (build.status === 'completed') return;
  if (build.status === 'cancelling') {
    build.status = 'completed';
    build.result = 'canceled';
    build.finishTime = b.now();
    return;
  }
  if (b.opts.requireOnlineAgents && poolsWithoutAgents(b, build).length > 0) return;
  build.polls += 1;
  if (build.status === 'notStarted') {
    build.status = 'inProgress';
    build.startTime = b.now();
  }
  if (build.polls > build.pollsBeforeDone) {
    build.status = 'completed';
    build.finishTime = b.now();
    const decided = b.opts.onRunComplete?.(build);
    if (!decided) {
      build.result = b.opts.runResult;
      build.tags = [...b.opts.runTags];
      return;
    }
    build.result = decided.result;
    // A run that failed never reached the step that tags it.
    build.tags = decided.result === 'succeeded' || decided.result === 'partiallySucceeded' ? [...b.opts.runTags] : [];
    if (decided.failedJob) build.failure = { ...decided.failedJob, issues: decided.issues ?? [] };
  }
}

function renderBuild(b: Backend, build: Build): Record<string, unknown> {
  const d = b.world.definitions.find((x) => x.id === build.definitionId);
  const p = b.world.projects.find((x) => x.id === build.projectId);
  if (!d || !p) throw new ApiError(404, 'BuildNotFoundException', `Build ${build.id} not found.`);
  const url = b.api(`${p.id}/_apis/build/Builds/${build.id}`);
  const web = `${b.orgUrl}/${encodeURIComponent(p.name)}/_build/results?buildId=${build.id}`;
  return {
    _links: {
      self: { href: url },
      web: { href: web },
      sourceVersionDisplayUri: { href: `${url}/sources` },
      timeline: { href: b.api(`${p.id}/_apis/build/builds/${build.id}/Timeline`) },
      badge: { href: b.api(`${p.id}/_apis/build/status/${d.id}`) },
    },
    properties: {},
    tags: [...build.tags],
    validationResults: build.validationError ? [{ result: 'error', message: build.validationError }] : [],
    plans: [{ planId: build.planId }],
    templateParameters: build.templateParameters,
    triggerInfo: {},
    id: build.id,
    buildNumber: build.buildNumber,
    status: build.status,
    ...(build.result ? { result: build.result } : {}),
    queueTime: build.queueTime,
    ...(build.startTime ? { startTime: build.startTime } : {}),
    ...(build.finishTime ? { finishTime: build.finishTime } : {}),
    url,
    definition: defRef(b, d),
    buildNumberRevision: 1,
    project: b.projectRef(p),
    uri: `vstfs:///Build/Build/${build.id}`,
    sourceBranch: build.sourceBranch,
    sourceVersion: build.sourceVersion,
    queue: queueJson(b, d.queueId),
    priority: 'normal',
    reason: build.reason,
    requestedFor: b.identity(),
    requestedBy: b.identity(),
    lastChangedDate: build.finishTime ?? build.startTime ?? build.queueTime,
    lastChangedBy: b.identity(),
    orchestrationPlan: { planId: build.planId },
    logs: { id: 0, type: 'Container', url: `${url}/logs` },
    repository: { id: d.repositoryId, type: d.repositoryType, clean: null, checkoutSubmodules: false },
    retainedByRelease: false,
    triggeredByBuild: null,
    appendCommitMessageToRunName: true,
  };
}

function buildNotFound(id: string | number): ApiError {
  return new ApiError(404, 'BuildNotFoundException', `Build ${id} not found.`);
}

function requireBuild(b: Backend, r: Req, id: string | undefined): Build {
  const p = b.projectOf(r);
  const build = b.world.builds.find((x) => x.projectId === p.id && String(x.id) === id);
  if (!build) throw buildNotFound(id ?? '');
  return build;
}

function queueBuild(b: Backend, r: Req): Res {
  const p = b.projectOf(r);
  const body = bodyObject(r, 'build');
  const defId = Number(obj(body['definition'])?.['id'] ?? r.query.get('definitionId'));
  const d = b.world.definitions.find((x) => x.projectId === p.id && x.id === defId);
  if (!d) throw new ApiError(400, 'DefinitionNotFoundException', `No definition found with ID ${String(defId)}.`);
  const templateParameters: Record<string, unknown> = obj(body['templateParameters']) ?? {};
  const parameters = str(body['parameters']);
  let variables: Record<string, unknown> = {};
  if (parameters) {
    try {
      variables = obj(JSON.parse(parameters)) ?? {};
    } catch {
      throw new ApiError(400, 'ArgumentException', 'build.Parameters must be a JSON object serialized as a string.');
    }
  }
  const build = queueBuildFor(b, p, d, { branch: str(body['sourceBranch']), templateParameters, variables, reason: 'manual' }, { status: 400, typeKey: 'BuildRequestValidationFailedException' });
  return ok(renderBuild(b, build));
}

function getBuild(b: Backend, r: Req): Res {
  const build = requireBuild(b, r, r.params['buildId']);
  observe(b, build);
  return ok(renderBuild(b, build));
}

/**
 * Builds - Update Build (PATCH, build/7.1/build.json). Only a cancel is modelled:
 * `{status: 'cancelling'}` (or BuildStatus.Cancelling = 4, as the library's enum sends it); the
 * build is then `cancelling` and the next GET completes it as `canceled`.
 *
 * Canceling needs "Stop builds" (bit 512 of the Build namespace) on the pipeline's token or its
 * project's. By default only Build and Project Administrators have it, not the project's build
 * service identity (azure-devops-docs organizations/security/includes/pipelines-build.md). The
 * only caller that cancels a build in this system is a run canceling itself with its
 * System.AccessToken, i.e. as `{Project} Build Service ({org})`: the fake evaluates the permission
 * for that identity, so the PATCH gets 403 unless an entry allowing it Stop builds was posted to
 * the Security API (areas/security.ts). The status and the permission follow the docs; the
 * message wording is the fake's.
 */
function updateBuild(b: Backend, r: Req): Res {
  const build = requireBuild(b, r, r.params['buildId']);
  const body = bodyObject(r, 'build');
  const status = body['status'];
  const cancel = status === 4 || str(status)?.toLowerCase() === 'cancelling';
  if (!cancel) {
    throw new ApiError(501, 'FakeRouteNotImplementedException', `Fake Azure DevOps models only the cancel of a build (status cancelling) on PATCH build/builds/${build.id}; got ${JSON.stringify(body)}.`);
  }
  const p = b.projectOf(r);
  const who = buildServiceIdentity(b, p);
  const tokens = [`${p.id}/${build.definitionId}`, p.id];
  if (!hasPermission(b, BUILD_NAMESPACE, tokens, who.descriptor, STOP_BUILDS)) {
    throw new ApiError(403, 'AccessDeniedException', `Access denied. ${who.displayName} needs Stop builds permissions for build ${build.id} in team project ${p.name} to perform the action.`);
  }
  if (build.status !== 'completed') build.status = 'cancelling';
  return ok(renderBuild(b, build));
}

function listBuilds(b: Backend, r: Req): Res {
  const p = b.projectOf(r);
  const defs = r.query.list('definitions')?.map(Number);
  const ids = r.query.list('buildIds')?.map(Number);
  const status = r.query.get('statusFilter')?.toLowerCase();
  const result = r.query.get('resultFilter')?.toLowerCase();
  const branch = r.query.get('branchName');
  let value = b.world.builds.filter(
    (x) =>
      x.projectId === p.id &&
      (!defs || defs.includes(x.definitionId)) &&
      (!ids || ids.includes(x.id)) &&
      (!status || status === 'all' || x.status.toLowerCase() === status) &&
      (!result || x.result?.toLowerCase() === result) &&
      (!branch || x.sourceBranch === branch),
  );
  value = [...value].sort((x, y) => (r.query.get('queryOrder')?.toLowerCase() === 'queuetimeascending' ? x.id - y.id : y.id - x.id));
  const top = r.query.int('$top');
  if (top !== undefined) value = value.slice(0, top);
  return list(value.map((x) => renderBuild(b, x)));
}

type RecordState = 'pending' | 'inProgress' | 'completed';

function getTimeline(b: Backend, r: Req): Res {
  const build = requireBuild(b, r, r.params['buildId']);
  observe(b, build);
  const waiting = b.opts.requireOnlineAgents ? poolsWithoutAgents(b, build) : [];
  const records: Record<string, unknown>[] = [];
  let order = 0;
  const failedResult: BuildResult = build.result === 'canceled' ? 'canceled' : 'failed';
  const record = (type: string, name: string, identifier: string, parentId: string | null, state: RecordState, result: string | null, extra: Record<string, unknown> = {}): string => {
    const id = b.sha1(build.planId, type, identifier, parentId ?? '').slice(0, 32).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*$/, '$1-$2-$3-$4-$5');
    records.push({
      previousAttempts: [],
      id,
      parentId,
      type,
      name,
      startTime: state === 'pending' ? null : build.startTime ?? null,
      finishTime: state === 'completed' ? build.finishTime ?? null : null,
      currentOperation: null,
      percentComplete: state === 'completed' ? 100 : 0,
      state,
      result,
      resultCode: null,
      changeId: records.length + 1,
      lastModified: b.now(),
      workerName: null,
      order: ++order,
      details: null,
      errorCount: result === 'failed' ? 1 : 0,
      warningCount: 0,
      url: null,
      log: null,
      task: null,
      attempt: 1,
      identifier,
      issues: [],
      ...extra,
    });
    return id;
  };
  if (!build.validationError) {
    // With a named failed job (onRunComplete): earlier stages succeeded, its stage failed, later
    // stages were skipped; in its stage, jobs before it succeeded and jobs after it were skipped.
    // Without one, a failed run fails its first stage, as before.
    const failure = build.status === 'completed' ? build.failure : undefined;
    const failedStage = failure ? build.stages.findIndex((s) => s.name === failure.stage) : -1;
    build.stages.forEach((stage, si) => {
      let state: RecordState = 'pending';
      let result: string | null = null;
      const failedJob = si === failedStage ? stage.jobs.findIndex((j) => j.name === failure?.job) : -1;
      if (build.status === 'completed') {
        state = 'completed';
        if (failedStage >= 0) result = si < failedStage ? 'succeeded' : si === failedStage ? failedResult : 'skipped';
        else result = build.result === 'succeeded' || build.result === 'partiallySucceeded' ? build.result : si === 0 ? failedResult : 'skipped';
      } else if (build.status === 'inProgress' && si === 0) {
        state = 'inProgress';
      }
      const stageId = record('Stage', stage.displayName, stage.name, null, state, result);
      stage.jobs.forEach((job, ji) => {
        const jobResult = failedJob < 0 ? result : ji < failedJob ? 'succeeded' : ji === failedJob ? failedResult : 'skipped';
        const phaseId = record('Phase', job.displayName, `${stage.name}.${job.name}`, stageId, state, jobResult);
        const pool = job.pool ? b.world.findPool(job.pool) : undefined;
        const agent = pool ? b.world.agents.find((a) => a.poolId === pool.id && a.status === 'online' && a.enabled) : undefined;
        const issues = job.pool && waiting.includes(job.pool)
          ? [{ type: 'warning', category: 'General', message: `No agent found in pool ${job.pool} which satisfies the specified demands: Agent.Version -gtVersion 2.182.1`, data: {} }]
          : ji === failedJob
            ? (failure?.issues ?? []).map((i) => ({ type: i.type, category: 'General', message: i.message, data: {} }))
            : [];
        record('Job', job.displayName, `${stage.name}.${job.name}.__default`, phaseId, state, jobResult, {
          workerName: state === 'pending' ? null : agent?.name ?? 'Hosted Agent',
          issues,
          ...(ji === failedJob ? { errorCount: issues.filter((i) => i.type === 'error').length || 1 } : {}),
        });
      });
    });
  }
  const p = b.projectOf(r);
  return ok({
    records,
    lastChangedBy: b.world.user.id,
    lastChangedOn: build.finishTime ?? build.startTime ?? build.queueTime,
    id: build.timelineId,
    changeId: records.length,
    url: b.api(`${p.id}/_apis/build/builds/${build.id}/Timeline/${build.timelineId}`),
  });
}

// ---------------------------------------------------------------- pipelines and runs

function pipelineRef(b: Backend, d: Definition): Record<string, unknown> {
  return {
    url: b.api(`${d.projectId}/_apis/pipelines/${d.id}?revision=${d.revision}`),
    id: d.id,
    revision: d.revision,
    name: d.name,
    folder: d.path,
  };
}

function renderPipeline(b: Backend, d: Definition, withConfiguration: boolean): Record<string, unknown> {
  const p = projectOfDef(b, d);
  return {
    _links: {
      self: { href: b.api(`${p.id}/_apis/pipelines/${d.id}?revision=${d.revision}`) },
      web: { href: `${b.orgUrl}/${encodeURIComponent(p.name)}/_build/definition?definitionId=${d.id}` },
    },
    ...(withConfiguration
      ? { configuration: { path: d.yamlFilename, repository: { id: d.repositoryId, type: 'azureReposGit' }, type: 'yaml' } }
      : {}),
    ...pipelineRef(b, d),
  };
}

function requirePipeline(b: Backend, r: Req): Definition {
  const p = b.projectOf(r);
  const id = r.params['pipelineId'];
  const d = b.world.definitions.find((x) => x.projectId === p.id && String(x.id) === id && x.processType === 2);
  if (!d) throw new ApiError(404, 'PipelineNotFoundException', `Pipeline with id ${id ?? ''} not found.`);
  return d;
}

function enumIs(v: unknown, num: number, ...names: string[]): boolean {
  if (typeof v === 'number') return v === num;
  const s = str(v)?.toLowerCase().replace(/-/g, '');
  return s !== undefined && names.includes(s);
}

function createPipeline(b: Backend, r: Req): Res {
  const p = b.projectOf(r);
  const body = bodyObject(r, 'inputParameters');
  const name = str(body['name'])?.trim();
  if (!name) throw new ApiError(400, 'ArgumentNullException', 'Value cannot be null.\r\nParameter name: inputParameters.Name');
  const config = obj(body['configuration']);
  if (!config) throw new ApiError(400, 'ArgumentNullException', 'Value cannot be null.\r\nParameter name: inputParameters.Configuration');
  if (!enumIs(config['type'], 1, 'yaml')) {
    throw new ApiError(400, 'UnsupportedConfigurationTypeException', `Configuration type ${String(config['type'])} is not supported. Use yaml.`);
  }
  const path = str(config['path']);
  if (!path) throw new ApiError(400, 'ArgumentNullException', 'Value cannot be null.\r\nParameter name: configuration.Path');
  const repository = obj(config['repository']);
  if (!repository || !enumIs(repository['type'], 2, 'azurereposgit', 'azurereposgithyphenated')) {
    throw new ApiError(400, 'InvalidRepositoryInformationException', `Repository type ${String(repository?.['type'])} is not supported here: use azureReposGit (2) with the repository id.`);
  }
  const repoKey = str(repository['id']) ?? str(repository['name']) ?? '';
  const repo = b.world.findRepo(p.id, repoKey);
  if (!repo) throw new ApiError(400, 'InvalidRepositoryInformationException', `Repository ${repoKey} could not be found in project ${p.name}.`);
  const folder = folderOf(str(body['folder']));
  if (!uniqueName(b, p.id, name, folder)) {
    throw new ApiError(409, 'PipelineExistsException', `A pipeline with name '${name}' already exists in folder '${folder}'.`);
  }
  const d = newDefinition(b, p, {
    name,
    path: folder,
    repositoryId: repo.id,
    repositoryType: 'TfsGit',
    defaultBranch: undefined,
    yamlFilename: path,
    processType: 2,
    queueId: pickQueue(b, p, undefined),
    variables: {},
    triggers: [],
  });
  return ok(renderPipeline(b, d, true));
}

function listPipelines(b: Backend, r: Req): Res {
  const p = b.projectOf(r);
  const value = b.world.definitions.filter((d) => d.projectId === p.id && d.processType === 2);
  const top = r.query.int('$top');
  const sorted = [...value].sort((x, y) => x.name.localeCompare(y.name));
  return list((top === undefined ? sorted : sorted.slice(0, top)).map((d) => renderPipeline(b, d, false)));
}

function getPipeline(b: Backend, r: Req): Res {
  return ok(renderPipeline(b, requirePipeline(b, r), true));
}

function renderRun(b: Backend, build: Build, d: Definition): Record<string, unknown> {
  const p = projectOfDef(b, d);
  const url = b.api(`${p.id}/_apis/pipelines/${d.id}/runs/${build.id}`);
  // Pipelines RunState: inProgress, canceling, completed (pipelines/7.1/pipelines.json).
  const state = build.status === 'completed' ? 'completed' : build.status === 'cancelling' ? 'canceling' : 'inProgress';
  return {
    _links: {
      self: { href: url },
      web: { href: `${b.orgUrl}/${encodeURIComponent(p.name)}/_build/results?buildId=${build.id}` },
      'pipeline.web': { href: `${b.orgUrl}/${encodeURIComponent(p.name)}/_build/definition?definitionId=${d.id}` },
      pipeline: { href: b.api(`${p.id}/_apis/pipelines/${d.id}?revision=${d.revision}`) },
    },
    templateParameters: build.templateParameters,
    pipeline: pipelineRef(b, d),
    state,
    ...(build.result ? { result: build.result } : {}),
    createdDate: build.queueTime,
    ...(build.finishTime ? { finishedDate: build.finishTime } : {}),
    url,
    resources: {
      repositories: {
        self: { repository: { id: d.repositoryId, type: 'azureReposGit' }, refName: build.sourceBranch, version: build.sourceVersion },
      },
    },
    id: build.id,
    name: build.buildNumber,
  };
}

function runParams(body: Record<string, unknown>): QueueRequest {
  const self = obj(obj(obj(body['resources'])?.['repositories'])?.['self']);
  return {
    branch: str(self?.['refName']),
    templateParameters: obj(body['templateParameters']) ?? {},
    variables: obj(body['variables']) ?? {},
    reason: 'manual',
  };
}

function runPipeline(b: Backend, r: Req): Res {
  const p = b.projectOf(r);
  const d = requirePipeline(b, r);
  const body = r.body === undefined ? {} : bodyObject(r, 'runParameters');
  if (body['previewRun'] === true) return preview(b, r);
  const build = queueBuildFor(b, p, d, runParams(body), { status: 400, typeKey: 'PipelineValidationException' });
  return ok(renderRun(b, build, d));
}

function listRuns(b: Backend, r: Req): Res {
  const d = requirePipeline(b, r);
  const value = b.world.builds.filter((x) => x.definitionId === d.id).sort((x, y) => y.id - x.id);
  return list(value.map((x) => renderRun(b, x, d)));
}

function getRun(b: Backend, r: Req): Res {
  const d = requirePipeline(b, r);
  const build = b.world.builds.find((x) => x.definitionId === d.id && String(x.id) === r.params['runId']);
  if (!build) throw new ApiError(404, 'PipelineRunNotFoundException', `Run ${r.params['runId'] ?? ''} for pipeline ${d.id} not found.`);
  observe(b, build);
  return ok(renderRun(b, build, d));
}

function preview(b: Backend, r: Req): Res {
  const p = b.projectOf(r);
  const d = requirePipeline(b, r);
  const body = r.body === undefined ? {} : bodyObject(r, 'runParameters');
  const override = str(body['yamlOverride']);
  if (override) return ok({ finalYaml: override });
  const q = runParams(body);
  const repo = repoOf(b, d);
  const branch = q.branch ?? d.defaultBranch ?? repo?.defaultBranch;
  const sha = repo && branch ? repo.refs[branch.startsWith('refs/') ? branch : `refs/heads/${branch}`] : undefined;
  if (!repo || !sha || !branch) throw new ApiError(400, 'PipelineValidationException', `Could not resolve the branch of pipeline ${d.name}.`);
  const tree = resolveVersion(repo, sha, 'commit').tree;
  const yamlPath = d.yamlFilename.startsWith('/') ? d.yamlFilename : `/${d.yamlFilename}`;
  const analysis = readerFor(b, p, repo, tree, branch, sha).analyze(yamlPath, q.templateParameters, undefined);
  if (analysis.errors.length > 0) throw new ApiError(400, 'PipelineValidationException', analysis.errors.join('\n'));
  return ok({ finalYaml: tree[yamlPath]?.toString('utf8') ?? '' });
}

// ---------------------------------------------------------------- pipeline permissions

function resourceExists(b: Backend, p: Project, type: string, id: string): boolean {
  switch (type.toLowerCase()) {
    case 'queue':
      return b.world.queues.some((q) => q.projectId === p.id && String(q.id) === id);
    case 'endpoint':
      return b.world.endpointsOf(p.id).some((e) => e.id === id.toLowerCase());
    case 'variablegroup':
      return b.world.variableGroupsOf(p.id).some((g) => String(g.id) === id);
    case 'repository': {
      const repoId = id.includes('.') ? id.split('.').pop() ?? '' : id;
      return b.world.repos.some((x) => x.projectId === p.id && x.id === repoId.toLowerCase());
    }
    default:
      return true; // environment, securefile, ...: not modelled, accepted as is
  }
}

function renderPermissions(b: Backend, type: string, id: string, perm: ResourcePermissions | undefined): Record<string, unknown> {
  return {
    resource: { type, id },
    pipelines: (perm?.pipelines ?? []).map((x) => ({
      id: x.id,
      authorized: x.authorized,
      authorizedBy: { displayName: x.authorizedBy.displayName, id: x.authorizedBy.id, uniqueName: x.authorizedBy.uniqueName, descriptor: x.authorizedBy.descriptor },
      authorizedOn: x.authorizedOn,
    })),
    ...(perm?.allPipelines
      ? { allPipelines: { authorized: perm.allPipelines.authorized, authorizedBy: { displayName: perm.allPipelines.authorizedBy.displayName, id: perm.allPipelines.authorizedBy.id, uniqueName: perm.allPipelines.authorizedBy.uniqueName, descriptor: perm.allPipelines.authorizedBy.descriptor }, authorizedOn: perm.allPipelines.authorizedOn } }
      : {}),
  };
}

function requireResource(b: Backend, p: Project, type: string, id: string): void {
  if (!resourceExists(b, p, type, id)) {
    throw new ApiError(404, 'ResourceNotFoundException', `Resource ${type} with id ${id} does not exist in project ${p.name}, or you do not have permission to access it.`);
  }
}

function applyPermissions(b: Backend, p: Project, type: string, id: string, body: Record<string, unknown>): ResourcePermissions | undefined {
  requireResource(b, p, type, id);
  const pipelines = body['pipelines'];
  if (Array.isArray(pipelines)) {
    for (const raw of pipelines) {
      const x = obj(raw);
      const pid = Number(x?.['id']);
      if (!Number.isInteger(pid) || !b.world.definitions.some((d) => d.projectId === p.id && d.id === pid)) {
        throw new ApiError(400, 'ArgumentException', `Pipeline ${String(x?.['id'])} does not exist in project ${p.name}.`);
      }
      b.authorize(p.id, type, id, pid, x?.['authorized'] !== false);
    }
  }
  const all = obj(body['allPipelines']);
  if (all) b.authorize(p.id, type, id, 'all', all['authorized'] === true);
  return b.world.permissionsFor(p.id, type, id);
}

function getPermissions(b: Backend, r: Req): Res {
  const p = b.projectOf(r);
  const type = r.params['resourceType'] ?? '';
  const id = r.params['resourceId'] ?? '';
  requireResource(b, p, type, id);
  return ok(renderPermissions(b, type, id, b.world.permissionsFor(p.id, type, id)));
}

function patchPermissions(b: Backend, r: Req): Res {
  const p = b.projectOf(r);
  const type = r.params['resourceType'] ?? '';
  const id = r.params['resourceId'] ?? '';
  return ok(renderPermissions(b, type, id, applyPermissions(b, p, type, id, bodyObject(r, 'resourceAuthorization'))));
}

function patchPermissionsBatch(b: Backend, r: Req): Res {
  const p = b.projectOf(r);
  const value = bodyArray(r, 'resourceAuthorizations').map((raw) => {
    const x = obj(raw) ?? {};
    const res = obj(x['resource']);
    const type = str(res?.['type']) ?? '';
    const id = str(res?.['id']) ?? '';
    return renderPermissions(b, type, id, applyPermissions(b, p, type, id, x));
  });
  return list(value);
}

export const buildRoutes: Route[] = [
  { scope: 'project', method: 'GET', pattern: 'build/definitions', location: DEFINITIONS, handler: listDefinitions },
  { scope: 'project', method: 'GET', pattern: 'build/definitions/:definitionId', location: DEFINITIONS, handler: getDefinition },
  { scope: 'project', method: 'POST', pattern: 'build/definitions', location: DEFINITIONS, handler: createDefinition },
  { scope: 'project', method: 'PUT', pattern: 'build/definitions/:definitionId', location: DEFINITIONS, handler: updateDefinition },
  { scope: 'project', method: 'DELETE', pattern: 'build/definitions/:definitionId', location: DEFINITIONS, handler: deleteDefinition },
  { scope: 'project', method: 'POST', pattern: 'build/builds', location: BUILDS, handler: queueBuild },
  { scope: 'project', method: 'GET', pattern: 'build/builds', location: BUILDS, handler: listBuilds },
  { scope: 'project', method: 'GET', pattern: 'build/builds/:buildId', location: BUILDS, handler: getBuild },
  { scope: 'project', method: 'PATCH', pattern: 'build/builds/:buildId', location: BUILDS, handler: updateBuild },
  { scope: 'project', method: 'GET', pattern: 'build/builds/:buildId/timeline/:timelineId?', location: TIMELINE, handler: getTimeline },
  { scope: 'project', method: 'PATCH', pattern: 'pipelines/pipelinePermissions', location: PERMISSIONS, handler: patchPermissionsBatch },
  { scope: 'project', method: 'GET', pattern: 'pipelines/pipelinePermissions/:resourceType/:resourceId', location: PERMISSIONS, handler: getPermissions },
  { scope: 'project', method: 'PATCH', pattern: 'pipelines/pipelinePermissions/:resourceType/:resourceId', location: PERMISSIONS, handler: patchPermissions },
  { scope: 'project', method: 'POST', pattern: 'pipelines', location: PIPELINES, handler: createPipeline },
  { scope: 'project', method: 'GET', pattern: 'pipelines', location: PIPELINES, handler: listPipelines },
  { scope: 'project', method: 'GET', pattern: 'pipelines/:pipelineId', location: PIPELINES, handler: getPipeline },
  { scope: 'project', method: 'POST', pattern: 'pipelines/:pipelineId/runs', location: RUNS, handler: runPipeline },
  { scope: 'project', method: 'GET', pattern: 'pipelines/:pipelineId/runs', location: RUNS, handler: listRuns },
  { scope: 'project', method: 'GET', pattern: 'pipelines/:pipelineId/runs/:runId', location: RUNS, handler: getRun },
  { scope: 'project', method: 'POST', pattern: 'pipelines/:pipelineId/preview', location: PREVIEW, handler: preview },
];
