// The fake's state machine: the world, id generation, URL and JSON rendering helpers shared by the
// area handlers, the seeding helpers and the route table. No HTTP here (see server.ts).
import { createHash } from 'node:crypto';
import { ApiError, compileRoute, matchRoute, obj, str, type CompiledRoute, type Req, type Res, type Route } from './http.js';
import { World } from './world.js';
import type {
  Agent,
  Commit,
  FakeDevOpsOptions,
  IdentityRef,
  Pool,
  Project,
  ProjectReferenceRef,
  Queue,
  Repo,
  ResourcePermissions,
} from './types.js';
import { coreRoutes } from './areas/core.js';
import { taskAgentRoutes } from './areas/taskagent.js';
import { extensionRoutes } from './areas/extensions.js';
import { endpointRoutes } from './areas/endpoints.js';
import { gitRoutes } from './areas/git.js';
import { buildRoutes } from './areas/build.js';
import { securityRoutes } from './areas/security.js';

export const ZERO_ID = '0000000000000000000000000000000000000000';
export const AGILE_TEMPLATE_ID = 'adcc42ab-9882-485e-a3ed-7678f01f66bc';

type CounterKind = 'pool' | 'queue' | 'agent' | 'variableGroup' | 'definition' | 'build';

export type ResolvedOptions = Required<Omit<FakeDevOpsOptions, 'marketplace' | 'onRunComplete'>> & { marketplace: string[]; onRunComplete: FakeDevOpsOptions['onRunComplete'] };

export function resolveOptions(o: FakeDevOpsOptions = {}): ResolvedOptions {
  return {
    org: o.org ?? 'contoso',
    pat: o.pat ?? 'fake-pat',
    bearer: o.bearer ?? 'fake-entra-token',
    badAuth: o.badAuth ?? '401',
    maxVersion: o.maxVersion ?? '7.1',
    endpointReadyAfterPolls: o.endpointReadyAfterPolls ?? 0,
    projectCreateOperationPolls: o.projectCreateOperationPolls ?? 1,
    projectCreateResult: o.projectCreateResult ?? 'succeeded',
    runCompleteAfterPolls: o.runCompleteAfterPolls ?? 1,
    runResult: o.runResult ?? 'succeeded',
    runTags: o.runTags ?? [],
    enforceResourceAuthorization: o.enforceResourceAuthorization ?? true,
    requireOnlineAgents: o.requireOnlineAgents ?? true,
    duplicateEndpointStatus: o.duplicateEndpointStatus ?? 500,
    marketplace: o.marketplace ?? [],
    latencyMs: o.latencyMs ?? 0,
    seed: o.seed ?? 1,
    onRunComplete: o.onRunComplete,
  };
}

/** mulberry32: small seeded PRNG returning [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ROUTES: CompiledRoute[] = [
  ...coreRoutes,
  ...taskAgentRoutes,
  ...extensionRoutes,
  ...endpointRoutes,
  ...gitRoutes,
  ...buildRoutes,
  ...securityRoutes,
].map((r: Route) => compileRoute(r));

export class Backend {
  readonly opts: ResolvedOptions;
  readonly world: World;
  /** http://127.0.0.1:PORT (set once listening). */
  origin = 'http://127.0.0.1';
  private readonly idRng: () => number;
  private readonly counters: Record<CounterKind, number> = { pool: 10, queue: 101, agent: 1, variableGroup: 1, definition: 1, build: 1 };

  constructor(opts: ResolvedOptions) {
    this.opts = opts;
    this.idRng = prng(opts.seed ^ 0x5eed);
    const orgId = this.uuid();
    const userId = this.uuid();
    const user: IdentityRef = {
      id: userId,
      displayName: 'Fake User',
      uniqueName: `fake.user@${opts.org}.example`,
      descriptor: `aad.${Buffer.from(userId).toString('base64url').slice(0, 40)}`,
    };
    this.world = new World({ id: orgId, name: opts.org }, user);
    // Every organization has these two pools, provisioned as queues into every project.
    this.world.pools.push(
      { id: 1, name: 'Default', isHosted: false, poolType: 'automation', autoProvision: true, autoUpdate: true, autoSize: true, scope: this.uuid(), createdOn: this.now() },
      { id: 2, name: 'Azure Pipelines', isHosted: true, poolType: 'automation', autoProvision: true, autoUpdate: true, autoSize: true, scope: this.uuid(), createdOn: this.now() },
    );
    this.seedAgentPackages();
  }

  // ---------------------------------------------------------------- ids, time, urls

  uuid(): string {
    const b = Array.from({ length: 16 }, () => Math.floor(this.idRng() * 256));
    b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
    b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
    const h = b.map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  sha1(...parts: Array<string | Buffer>): string {
    const h = createHash('sha1');
    for (const p of parts) h.update(p);
    return h.digest('hex');
  }

  next(kind: CounterKind): number {
    const v = this.counters[kind];
    this.counters[kind] = v + 1;
    return v;
  }

  now(): string {
    return new Date().toISOString();
  }

  get orgUrl(): string {
    return `${this.origin}/${this.opts.org}`;
  }

  /** Absolute URL under the org: api('_apis/projects/x') or api(`${projectId}/_apis/...`). */
  api(path: string): string {
    return `${this.orgUrl}/${path.replace(/^\//, '')}`;
  }

  // ---------------------------------------------------------------- rendering

  identity(u: IdentityRef = this.world.user): Record<string, unknown> {
    return {
      displayName: u.displayName,
      url: this.api(`_apis/Identities/${u.id}`),
      _links: { avatar: { href: this.api(`_apis/GraphProfile/MemberAvatars/${u.descriptor}`) } },
      id: u.id,
      uniqueName: u.uniqueName,
      imageUrl: this.api(`_apis/GraphProfile/MemberAvatars/${u.descriptor}`),
      descriptor: u.descriptor,
    };
  }

  projectRef(p: Project): Record<string, unknown> {
    return {
      id: p.id,
      name: p.name,
      description: p.description || undefined,
      url: this.api(`_apis/projects/${p.id}`),
      state: p.state,
      revision: p.revision,
      visibility: p.visibility,
      lastUpdateTime: p.lastUpdateTime,
    };
  }

  // ---------------------------------------------------------------- lookups that answer like the service

  /**
   * One `{projectReference: {id|name}, name, description}` of a service endpoint or variable group
   * body, resolved to a wellFormed project (404 ProjectDoesNotExistException otherwise); name and
   * description default to the object's own.
   */
  projectReference(raw: unknown, name: string, description: string): ProjectReferenceRef {
    const ref = obj(raw);
    const pr = obj(ref?.['projectReference']);
    const key = str(pr?.['id']) ?? str(pr?.['name']);
    const project = key ? this.world.findProject(key) : undefined;
    if (!project || project.state !== 'wellFormed') {
      throw new ApiError(404, 'ProjectDoesNotExistException', `TF200016: The following project does not exist: ${key ?? '(none)'}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.`);
    }
    return { projectReference: { id: project.id, name: project.name }, name: str(ref?.['name']) ?? name, description: str(ref?.['description']) ?? description };
  }

  /** A wellFormed project by name or id, else 404 ProjectDoesNotExistWithNameException (TF200016). */
  requireProject(nameOrId: string): Project {
    const p = this.world.findProject(nameOrId);
    if (!p || p.state !== 'wellFormed') {
      throw new ApiError(
        404,
        'ProjectDoesNotExistWithNameException',
        `TF200016: The following project does not exist: ${nameOrId}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.`,
      );
    }
    return p;
  }

  projectOf(r: Req): Project {
    if (!r.project) throw new ApiError(400, 'ArgumentNullException', 'Value cannot be null.\r\nParameter name: project');
    return r.project;
  }

  // ---------------------------------------------------------------- state changes shared by handlers and seeding

  /** Project reaches wellFormed: default repo (named as the project), queues of auto-provisioned pools. */
  materializeProject(p: Project): void {
    p.state = 'wellFormed';
    p.revision += 1;
    p.lastUpdateTime = this.now();
    if (p.sourceControlType.toLowerCase() === 'git' && !this.world.repos.some((r) => r.projectId === p.id && r.name.toLowerCase() === p.name.toLowerCase())) {
      this.createRepo(p.id, p.name);
    }
    for (const pool of this.world.pools) {
      if (!pool.autoProvision) continue;
      const q = this.ensureQueue(p.id, pool);
      // The built-in pools' queues (Default, Azure Pipelines) come open to all pipelines.
      if (pool.id < 10) this.authorize(p.id, 'queue', String(q.id), 'all');
    }
  }

  newProject(name: string, description = '', visibility: 'private' | 'public' = 'private', sourceControlType = 'Git', processTemplateId = AGILE_TEMPLATE_ID): Project {
    const p: Project = {
      id: this.uuid(),
      name,
      description,
      visibility,
      state: 'createPending',
      revision: 1,
      lastUpdateTime: this.now(),
      sourceControlType,
      processTemplateId,
      defaultTeamId: this.uuid(),
    };
    this.world.projects.push(p);
    return p;
  }

  /** Removes a project and everything scoped to it. */
  dropProject(p: Project): void {
    const w = this.world;
    w.projects = w.projects.filter((x) => x !== p);
    w.repos = w.repos.filter((r) => r.projectId !== p.id);
    w.queues = w.queues.filter((q) => q.projectId !== p.id);
    const defs = new Set(w.definitions.filter((d) => d.projectId === p.id).map((d) => d.id));
    w.definitions = w.definitions.filter((d) => d.projectId !== p.id);
    w.builds = w.builds.filter((b) => !defs.has(b.definitionId));
    w.permissions = w.permissions.filter((x) => x.projectId !== p.id);
    for (const e of w.endpoints) e.serviceEndpointProjectReferences = e.serviceEndpointProjectReferences.filter((r) => r.projectReference.id !== p.id);
    w.endpoints = w.endpoints.filter((e) => e.serviceEndpointProjectReferences.length > 0);
    for (const g of w.variableGroups) g.variableGroupProjectReferences = g.variableGroupProjectReferences.filter((r) => r.projectReference.id !== p.id);
    w.variableGroups = w.variableGroups.filter((g) => g.variableGroupProjectReferences.length > 0);
  }

  newPool(name: string, extra: Partial<Pool> = {}): Pool {
    const pool: Pool = {
      id: this.next('pool'),
      name,
      isHosted: false,
      poolType: 'automation',
      autoProvision: false,
      autoUpdate: true,
      autoSize: true,
      scope: this.uuid(),
      createdOn: this.now(),
      ...extra,
    };
    this.world.pools.push(pool);
    if (pool.autoProvision) for (const p of this.world.projects) if (p.state === 'wellFormed') this.ensureQueue(p.id, pool);
    return pool;
  }

  newAgent(pool: Pool, name: string, status: 'online' | 'offline' = 'online', enabled = true): Agent {
    const a: Agent = {
      id: this.next('agent'),
      poolId: pool.id,
      name,
      status,
      enabled,
      version: '4.264.2',
      osDescription: 'Linux 6.8.0-1021-azure #25-Ubuntu SMP Wed Jan 15 20:45:09 UTC 2025',
      createdOn: this.now(),
      statusChangedOn: this.now(),
    };
    this.world.agents.push(a);
    return a;
  }

  ensureQueue(projectId: string, pool: Pool, name = pool.name): Queue {
    const existing = this.world.queues.find((q) => q.projectId === projectId && q.poolId === pool.id);
    if (existing) return existing;
    const q: Queue = { id: this.next('queue'), projectId, name, poolId: pool.id };
    this.world.queues.push(q);
    return q;
  }

  createRepo(projectId: string, name: string): Repo {
    const repo: Repo = { id: this.uuid(), name, projectId, defaultBranch: undefined, isDisabled: false, refs: {}, commits: {}, pushes: [] };
    this.world.repos.push(repo);
    return repo;
  }

  /** Appends a commit with `tree` on top of `parent` and returns it (no ref update). */
  makeCommit(repo: Repo, parent: string | undefined, tree: Record<string, Buffer>, comment: string, pushId: number): Commit {
    const date = this.now();
    const treeId = this.sha1('tree', ...Object.keys(tree).sort().flatMap((k) => [k, tree[k] ?? Buffer.alloc(0)]));
    const author = { name: this.world.user.displayName, email: this.world.user.uniqueName, date };
    const commitId = this.sha1('commit', repo.id, parent ?? '', treeId, comment, date, String(Object.keys(repo.commits).length));
    const commit: Commit = { commitId, treeId, parents: parent ? [parent] : [], comment, author, committer: { ...author }, pushId, tree };
    repo.commits[commitId] = commit;
    return commit;
  }

  authorize(projectId: string, resourceType: string, resourceId: string, who: number | 'all', authorized = true): ResourcePermissions {
    let p = this.world.permissionsFor(projectId, resourceType, resourceId);
    if (!p) {
      p = { projectId, resourceType, resourceId, allPipelines: undefined, pipelines: [] };
      this.world.permissions.push(p);
    }
    const stamp = { authorizedBy: this.world.user, authorizedOn: this.now() };
    if (who === 'all') {
      p.allPipelines = authorized ? { authorized: true, ...stamp } : undefined;
    } else {
      p.pipelines = p.pipelines.filter((x) => x.id !== who);
      if (authorized) p.pipelines.push({ id: who, authorized: true, ...stamp });
    }
    return p;
  }

  private seedAgentPackages(): void {
    const platforms = ['linux-x64', 'linux-arm64', 'linux-musl-x64', 'osx-x64', 'osx-arm64', 'win-x64', 'win-x86'];
    for (const [major, minor, patch] of [[4, 264, 2], [4, 261, 0]] as const) {
      for (const platform of platforms) {
        const v = `${major}.${minor}.${patch}`;
        const ext = platform.startsWith('win') ? 'zip' : 'tar.gz';
        const filename = `vsts-agent-${platform}-${v}.${ext}`;
        this.world.agentPackages.push({
          type: 'agent',
          platform,
          createdOn: '2025-10-01T00:00:00Z',
          version: { major, minor, patch },
          downloadUrl: `https://download.agent.dev.azure.com/agent/${v}/${filename}`,
          infoUrl: 'https://go.microsoft.com/fwlink/?LinkId=798199',
          hashValue: this.sha1(filename) + this.sha1(v).slice(0, 24),
          filename,
        });
      }
    }
  }

  // ---------------------------------------------------------------- routing

  /** Finds the route for a request; undefined when none matches (the server answers 501). */
  route(method: string, scope: 'org' | 'project', rest: string): { route: CompiledRoute; params: Record<string, string> } | undefined {
    for (const route of ROUTES) {
      if (route.method !== method) continue;
      if (route.scope !== 'any' && route.scope !== scope) continue;
      const params = matchRoute(route, rest);
      if (params) return { route, params };
    }
    return undefined;
  }

  async handle(route: CompiledRoute, r: Req): Promise<Res> {
    return route.handler(this, r);
  }
}
