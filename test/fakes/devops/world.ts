// The in-memory state of the fake organization. Plain arrays, readable (and, with care,
// writable) by tests; the server keeps them consistent.
import type {
  AccessControlEntry,
  Agent,
  AgentPackage,
  Build,
  Definition,
  IdentityRef,
  InstalledExtension,
  Operation,
  Pool,
  Project,
  Queue,
  Repo,
  ResourcePermissions,
  ServiceEndpoint,
  VariableGroup,
} from './types.js';

export class World {
  readonly org: { id: string; name: string };
  readonly user: IdentityRef;
  projects: Project[] = [];
  operations: Operation[] = [];
  pools: Pool[] = [];
  agents: Agent[] = [];
  queues: Queue[] = [];
  extensions: InstalledExtension[] = [];
  endpoints: ServiceEndpoint[] = [];
  variableGroups: VariableGroup[] = [];
  repos: Repo[] = [];
  /** Build definitions; the YAML ones are the pipelines (same ids). */
  definitions: Definition[] = [];
  /** Builds; those of YAML definitions are the pipeline runs (same ids). */
  builds: Build[] = [];
  permissions: ResourcePermissions[] = [];
  agentPackages: AgentPackage[] = [];
  /** ACEs posted to the Security API (`POST _apis/accesscontrolentries/{securityNamespaceId}`). */
  accessControlEntries: AccessControlEntry[] = [];

  constructor(org: { id: string; name: string }, user: IdentityRef) {
    this.org = org;
    this.user = user;
  }

  /** YAML definitions, i.e. what the Pipelines API lists. */
  get pipelines(): Definition[] {
    return this.definitions.filter((d) => d.processType === 2);
  }

  /** Builds of YAML definitions, i.e. what the Runs API lists. */
  get runs(): Build[] {
    const yaml = new Set(this.pipelines.map((d) => d.id));
    return this.builds.filter((b) => yaml.has(b.definitionId));
  }

  /** A project by name (case-insensitive) or id, in any state. */
  findProject(nameOrId: string): Project | undefined {
    const key = nameOrId.toLowerCase();
    return this.projects.find((p) => p.id.toLowerCase() === key || p.name.toLowerCase() === key);
  }

  findPool(nameOrId: string | number): Pool | undefined {
    if (typeof nameOrId === 'number') return this.pools.find((p) => p.id === nameOrId);
    const key = nameOrId.toLowerCase();
    return this.pools.find((p) => p.name.toLowerCase() === key || String(p.id) === key);
  }

  findRepo(projectId: string | undefined, nameOrId: string): Repo | undefined {
    const key = nameOrId.toLowerCase();
    return this.repos.find(
      (r) =>
        (r.id.toLowerCase() === key && (projectId === undefined || r.projectId === projectId)) ||
        (projectId !== undefined && r.projectId === projectId && r.name.toLowerCase() === key),
    );
  }

  endpointsOf(projectId: string): ServiceEndpoint[] {
    return this.endpoints.filter((e) =>
      e.serviceEndpointProjectReferences.some((r) => r.projectReference.id === projectId),
    );
  }

  variableGroupsOf(projectId: string): VariableGroup[] {
    return this.variableGroups.filter((g) =>
      g.variableGroupProjectReferences.some((r) => r.projectReference.id === projectId),
    );
  }

  permissionsFor(projectId: string, resourceType: string, resourceId: string): ResourcePermissions | undefined {
    const t = resourceType.toLowerCase();
    const id = resourceId.toLowerCase();
    return this.permissions.find(
      (p) => p.projectId === projectId && p.resourceType.toLowerCase() === t && p.resourceId.toLowerCase() === id,
    );
  }

  /** Is the resource usable by this pipeline (authorized for it, or for all pipelines)? */
  isAuthorized(projectId: string, resourceType: string, resourceId: string, pipelineId: number): boolean {
    const p = this.permissionsFor(projectId, resourceType, resourceId);
    if (!p) return false;
    if (p.allPipelines?.authorized) return true;
    return p.pipelines.some((x) => x.id === pipelineId && x.authorized);
  }
}
