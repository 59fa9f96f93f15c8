// A fake Azure DevOps organization on 127.0.0.1 that the real azure-devops-node-api client talks
// to unmodified: location discovery (OPTIONS {org}/_apis/{area}), api-version negotiation through
// the Accept header, the service's JSON shapes and error JSON, auth (PAT / Entra bearer, 401 or
// 203 + HTML), in-memory state, a request log, and fault injection.
//
//   const fake = await FakeDevOps.start();
//   const api = new azdev.WebApi(fake.orgUrl, azdev.getPersonalAccessTokenHandler('fake-pat'));
//   ...
//   await fake.stop();
//
// The contract it follows: ../../../../shared/DESIGN.md section 5 and the 7.1 specs/examples in
// ../../../../shared/azure-devops-rest-specs. Unknown routes answer 501 naming the route.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Backend, prng, resolveOptions, type ResolvedOptions } from './backend.js';
import { ApiError, errorJson, parseApiVersion, Query, type Req, type Res } from './http.js';
import { locationsOfArea, LOCATION_BY_ID, renderLocation } from './locations.js';
import { installExtension as install } from './areas/extensions.js';
import { createEndpoint } from './areas/endpoints.js';
import { applyPush, normalizePath } from './areas/git.js';
import { resolvePath } from './areas/yaml.js';
import { seedCompletedRun } from './areas/build.js';
import { buildServiceIdentity } from './areas/security.js';
import type { World } from './world.js';
import type {
  Agent,
  Build,
  BuildResult,
  Definition,
  FailMode,
  FakeDevOpsOptions,
  InjectedFault,
  Pool,
  Project,
  Queue,
  RandomFaults,
  RecordedRequest,
  Repo,
  ResourcePermissions,
  ServiceEndpoint,
  VariableGroup,
} from './types.js';

export type * from './types.js';
export { World } from './world.js';

const SIGN_IN_HTML = `<!DOCTYPE html>
<html lang="en-US">
<head>
  <meta charset="utf-8" />
  <title>Azure DevOps Services | Sign In</title>
  <meta http-equiv="X-UA-Compatible" content="IE=11;&#32;IE=10;&#32;IE=9;&#32;IE=8" />
  <link rel="stylesheet" href="https://cdn.vsassets.io/content/signin.css" />
</head>
<body class="signin">
  <div class="container">
    <h1>Sign in to your account</h1>
    <p>You need to sign in to Azure DevOps Services to continue.</p>
    <a href="https://login.microsoftonline.com/common/oauth2/authorize?client_id=499b84ac-1321-427f-aa17-267ca6975798">Sign in</a>
  </div>
</body>
</html>
`;

interface ActiveFault extends InjectedFault {
  remaining: number;
}

interface FailPoint {
  mode: FailMode;
  afterCommit: boolean;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function headerValue(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

export class FakeDevOps {
  readonly requests: RecordedRequest[] = [];
  private readonly opts: ResolvedOptions;
  private readonly backend: Backend;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<http.ServerResponse>();
  private faults: ActiveFault[] = [];
  private random: RandomFaults | undefined;
  private readonly faultRng: () => number;
  private readonly failPoints = new Map<number, FailPoint>();
  private calls = 0;
  private seq = 0;
  private url = '';

  private constructor(opts: FakeDevOpsOptions) {
    this.opts = resolveOptions(opts);
    this.backend = new Backend(this.opts);
    this.faultRng = prng(this.opts.seed);
    this.server = http.createServer((req, res) => {
      this.onRequest(req, res).catch((e: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'Content-Type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify(errorJson('Exception', `Fake Azure DevOps crashed: ${(e as Error).stack ?? String(e)}`)));
        }
      });
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(opts: FakeDevOpsOptions = {}): Promise<FakeDevOps> {
    const fake = new FakeDevOps(opts);
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = fake.server.address() as AddressInfo;
    fake.backend.origin = `http://127.0.0.1:${port}`;
    fake.url = fake.backend.orgUrl;
    return fake;
  }

  /** e.g. http://127.0.0.1:PORT/contoso */
  get orgUrl(): string {
    return this.url;
  }

  /** The in-memory state. */
  get world(): World {
    return this.backend.world;
  }

  /** The resolved options (defaults applied). */
  get options(): Readonly<ResolvedOptions> {
    return this.opts;
  }

  /** POST/PUT/PATCH/DELETE requests, in order. */
  mutating(): RecordedRequest[] {
    return this.requests.filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method));
  }

  /** Non-discovery requests so far. */
  countCalls(): number {
    return this.calls;
  }

  /** Forgets the recorded requests (the call counter keeps counting). */
  clearRequests(): void {
    this.requests.length = 0;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  // ---------------------------------------------------------------- fault injection

  /** The next `times` (default 1) matching requests get `status` (429 carries Retry-After). */
  inject(f: InjectedFault): void {
    this.faults.push({ ...f, remaining: f.times ?? 1 });
  }

  /** Drops every pending injected fault. */
  clearFaults(): void {
    this.faults = [];
  }

  /** Added delay for every response from now on (0 to stop). */
  setLatency(ms: number): void {
    (this.opts as { latencyMs: number }).latencyMs = ms;
  }

  /** Seeded random faults on non-discovery requests; rate 0 turns them off. */
  randomFaults(f: RandomFaults): void {
    this.random = f.rate > 0 && f.statuses.length > 0 ? f : undefined;
  }

  /**
   * The k-th non-discovery request (1-based, counted from the start) fails: 'error' = 500,
   * 'timeout' = never answered, 'reset' = socket destroyed. With `afterCommit` the request is
   * processed first (its change is kept) and only the answer is lost.
   */
  failAt(k: number, mode: FailMode, opts: { afterCommit?: boolean } = {}): void {
    this.failPoints.set(k, { mode, afterCommit: opts.afterCommit ?? false });
  }

  // ---------------------------------------------------------------- seeding helpers (no request recorded)

  /** A wellFormed project (with its default repo and queues), like one created long ago. */
  addProject(name: string, opts: { description?: string; visibility?: 'private' | 'public' } = {}): Project {
    if (this.world.findProject(name)) throw new Error(`FakeDevOps.addProject: project ${name} already exists`);
    const p = this.backend.newProject(name, opts.description ?? '', opts.visibility ?? 'private');
    this.backend.materializeProject(p);
    return p;
  }

  addPool(name: string, agents: Array<{ name: string; status: 'online' | 'offline'; enabled?: boolean }> = [], opts: { autoProvision?: boolean } = {}): Pool {
    if (this.world.findPool(name)) throw new Error(`FakeDevOps.addPool: pool ${name} already exists`);
    const pool = this.backend.newPool(name, { autoProvision: opts.autoProvision ?? false });
    for (const a of agents) this.backend.newAgent(pool, a.name, a.status, a.enabled ?? true);
    return pool;
  }

  addAgent(pool: string, agent: { name: string; status: 'online' | 'offline'; enabled?: boolean }): Agent {
    return this.backend.newAgent(this.pool(pool), agent.name, agent.status, agent.enabled ?? true);
  }

  /** An agent coming online / going offline (e.g. the VM's agents registering). */
  setAgentStatus(pool: string, agentName: string, status: 'online' | 'offline'): void {
    const p = this.pool(pool);
    const a = this.world.agents.find((x) => x.poolId === p.id && x.name.toLowerCase() === agentName.toLowerCase());
    if (!a) throw new Error(`FakeDevOps.setAgentStatus: no agent ${agentName} in pool ${pool}`);
    a.status = status;
    a.statusChangedOn = this.backend.now();
  }

  /** A project queue for an existing pool, optionally authorized for all pipelines. */
  addQueue(project: string, pool: string, opts: { authorizeAllPipelines?: boolean } = {}): Queue {
    const p = this.project(project);
    const q = this.backend.ensureQueue(p.id, this.pool(pool));
    if (opts.authorizeAllPipelines) this.backend.authorize(p.id, 'queue', String(q.id), 'all');
    return q;
  }

  /** A repo; with `files` it gets a first commit on refs/heads/main. */
  addRepo(project: string, name: string, files?: Record<string, string>): Repo {
    const p = this.project(project);
    if (this.world.findRepo(p.id, name)) throw new Error(`FakeDevOps.addRepo: repo ${name} already exists in ${project}`);
    const repo = this.backend.createRepo(p.id, name);
    if (files && Object.keys(files).length > 0) this.pushFiles(project, name, files);
    return repo;
  }

  /** Commits files (add or edit) on a branch (default: the default branch, else main). */
  pushFiles(project: string, repo: string, files: Record<string, string>, opts: { branch?: string; message?: string } = {}): string {
    const r = this.repo(project, repo);
    const ref = opts.branch ? (opts.branch.startsWith('refs/') ? opts.branch : `refs/heads/${opts.branch}`) : (r.defaultBranch ?? 'refs/heads/main');
    const head = r.refs[ref];
    const tree = head ? r.commits[head]?.tree ?? {} : {};
    applyPush(this.backend, r, {
      refUpdates: [{ name: ref, oldObjectId: head ?? '0000000000000000000000000000000000000000' }],
      commits: [
        {
          comment: opts.message ?? 'Seeded by FakeDevOps',
          changes: Object.entries(files).map(([path, content]) => ({
            changeType: tree[normalizePath(path)] ? 'edit' : 'add',
            item: { path: normalizePath(path) },
            newContent: { content, contentType: 'rawtext' },
          })),
        },
      ],
    });
    return r.refs[ref] ?? '';
  }

  /** Every file at the head of a branch (default branch by default), as UTF-8 text. */
  files(project: string, repo: string, branch?: string): Record<string, string> {
    const r = this.repo(project, repo);
    const ref = branch ? (branch.startsWith('refs/') ? branch : `refs/heads/${branch}`) : r.defaultBranch;
    const head = ref ? r.refs[ref] : undefined;
    const tree = head ? r.commits[head]?.tree ?? {} : {};
    return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, v.toString('utf8')]));
  }

  readFile(project: string, repo: string, path: string, branch?: string): string | undefined {
    return this.files(project, repo, branch)[normalizePath(path)];
  }

  installExtension(publisher: string, extension: string): void {
    install(this.backend, publisher, extension);
  }

  /**
   * A service endpoint in `project` (default: AzureRM, workload identity federation). Fields of
   * `endpoint` override the defaults; `authorization.parameters` are stored as given.
   */
  addEndpoint(project: string, endpoint: Partial<ServiceEndpoint>): ServiceEndpoint {
    const p = this.project(project);
    const name = endpoint.name ?? 'AzureMLWorkspace';
    const e = createEndpoint(
      this.backend,
      {
        name,
        type: endpoint.type ?? 'AzureRM',
        url: endpoint.url ?? 'https://management.azure.com/',
        description: endpoint.description ?? '',
        data: endpoint.data ?? {},
        owner: endpoint.owner ?? 'library',
        authorization: endpoint.authorization ?? {
          scheme: 'WorkloadIdentityFederation',
          parameters: { tenantid: '00000000-0000-0000-0000-000000000001', serviceprincipalid: '00000000-0000-0000-0000-000000000002' },
        },
        serviceEndpointProjectReferences: endpoint.serviceEndpointProjectReferences ?? [{ projectReference: { id: p.id, name: p.name }, name }],
      },
      p,
    );
    e.readyAfterPolls = 0;
    e.isReady = endpoint.isReady ?? true;
    if (endpoint.isShared !== undefined) e.isShared = endpoint.isShared;
    return e;
  }

  addVariableGroup(project: string, name: string, variables: Record<string, string>, opts: { secrets?: string[]; description?: string } = {}): VariableGroup {
    const p = this.project(project);
    const now = this.backend.now();
    const secrets = new Set((opts.secrets ?? []).map((s) => s.toLowerCase()));
    const g: VariableGroup = {
      id: this.backend.next('variableGroup'),
      name,
      description: opts.description ?? '',
      type: 'Vsts',
      variables: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, secrets.has(k.toLowerCase()) ? { value: v, isSecret: true } : { value: v }])),
      variableGroupProjectReferences: [{ projectReference: { id: p.id, name: p.name }, name, description: opts.description ?? '' }],
      createdBy: this.world.user,
      createdOn: now,
      modifiedBy: this.world.user,
      modifiedOn: now,
    };
    this.world.variableGroups.push(g);
    return g;
  }

  /** A YAML pipeline (build definition) on `repo` at `path`. */
  addPipeline(project: string, name: string, opts: { repo: string; path: string; folder?: string }): Definition {
    const p = this.project(project);
    const r = this.repo(project, opts.repo);
    const hosted = this.world.pools.find((x) => x.isHosted);
    const d: Definition = {
      id: this.backend.next('definition'),
      projectId: p.id,
      name,
      path: opts.folder ?? '\\',
      revision: 1,
      createdDate: this.backend.now(),
      repositoryId: r.id,
      repositoryType: 'TfsGit',
      defaultBranch: undefined,
      yamlFilename: resolvePath('/', opts.path),
      processType: 2,
      queueId: this.world.queues.find((q) => q.projectId === p.id && q.poolId === hosted?.id)?.id,
      variables: {},
      triggers: [],
    };
    this.world.definitions.push(d);
    return d;
  }

  /**
   * A completed run of the YAML pipeline `pipeline` (by name) with `result` and the build `tags` its
   * steps added (`##vso[build.addbuildtag]`), as if it had run earlier; it is the newest run.
   */
  addRun(project: string, pipeline: string, opts: { result: BuildResult; tags?: string[] }): Build {
    const p = this.project(project);
    const d = this.world.pipelines.find((x) => x.projectId === p.id && x.name.toLowerCase() === pipeline.toLowerCase());
    if (!d) throw new Error(`FakeDevOps.addRun: no pipeline ${pipeline} in ${project}`);
    return seedCompletedRun(this.backend, d, opts);
  }

  /** The project's build service identity, `{Project} Build Service ({org})`: who a run's System.AccessToken is. */
  buildServiceIdentity(project: string): { descriptor: string; displayName: string } {
    return buildServiceIdentity(this.backend, this.project(project));
  }

  /** Authorizes a resource (queue id, endpoint id, variable group id) for a pipeline id or all pipelines. */
  authorize(project: string, resourceType: 'queue' | 'endpoint' | 'variablegroup' | string, resourceId: string | number, pipeline: number | 'all'): ResourcePermissions {
    return this.backend.authorize(this.project(project).id, resourceType, String(resourceId), pipeline);
  }

  private project(nameOrId: string): Project {
    const p = this.world.findProject(nameOrId);
    if (!p) throw new Error(`FakeDevOps: no project ${nameOrId}`);
    return p;
  }

  private pool(name: string): Pool {
    const p = this.world.findPool(name);
    if (!p) throw new Error(`FakeDevOps: no pool ${name}`);
    return p;
  }

  private repo(project: string, name: string): Repo {
    const r = this.world.findRepo(this.project(project).id, name);
    if (!r) throw new Error(`FakeDevOps: no repo ${name} in ${project}`);
    return r;
  }

  // ---------------------------------------------------------------- HTTP

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const query = new Query(url.searchParams);
    const accept = headerValue(req, 'accept') ?? '';
    const apiVersion = parseApiVersion(accept, query);
    const segments = url.pathname.split('/').filter((s) => s !== '');
    const discovery =
      method === 'OPTIONS' ||
      (method === 'GET' && segments.length === 3 && segments[1]?.toLowerCase() === '_apis' && segments[2]?.toLowerCase() === 'resourceareas');
    const call = discovery ? 0 : ++this.calls;
    let body: unknown;
    const text = rawBody.toString('utf8');
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (['authorization', 'cookie', 'proxy-authorization'].includes(k) || v === undefined) continue;
      headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    const rec: RecordedRequest = {
      seq: ++this.seq,
      method,
      path: url.pathname,
      query: query.raw,
      body,
      status: 0,
      at: Date.now(),
      apiVersion,
      headers,
      authScheme: headerValue(req, 'authorization')?.split(' ')[0]?.toLowerCase(),
      discovery,
      call,
    };
    this.requests.push(rec);

    const failPoint = discovery ? undefined : this.failPoints.get(call);
    if (failPoint && !failPoint.afterCommit) {
      await this.delay(0);
      this.fail(failPoint.mode, rec, req, res);
      return;
    }

    const injected = this.matchFault(method, url.pathname, discovery);
    if (injected) {
      await this.delay(injected.latencyMs ?? 0);
      rec.fault = 'inject';
      this.send(res, rec, injected.html203 ? this.signInPage(injected.status) : this.faultResponse(injected.status, injected.body, injected.retryAfterSeconds));
      return;
    }
    if (!discovery && this.random && this.faultRng() < this.random.rate) {
      const status = this.random.statuses[Math.floor(this.faultRng() * this.random.statuses.length)] ?? 500;
      await this.delay(0);
      rec.fault = 'random';
      this.send(res, rec, this.faultResponse(status, undefined, this.random.retryAfterSeconds));
      return;
    }

    let answer: Res;
    if (!this.authorized(headerValue(req, 'authorization'))) {
      rec.fault = 'auth';
      answer = this.opts.badAuth === '203' ? this.signInPage(203) : this.unauthorized();
    } else {
      answer = await this.dispatch(method, segments, query, rawBody, body, req, accept, apiVersion);
    }
    await this.delay(0);
    if (failPoint) {
      this.fail(failPoint.mode, rec, req, res);
      return;
    }
    this.send(res, rec, answer);
  }

  private async delay(extra: number): Promise<void> {
    const ms = this.opts.latencyMs + extra;
    if (ms > 0) await sleep(ms);
  }

  private fail(mode: FailMode, rec: RecordedRequest, req: http.IncomingMessage, res: http.ServerResponse): void {
    rec.fault = mode;
    if (mode === 'error') {
      this.send(res, rec, { status: 500, json: errorJson('Exception', 'The server encountered an unexpected error (injected by FakeDevOps.failAt).', 'System.Exception, mscorlib') });
    } else if (mode === 'timeout') {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
    } else {
      req.socket.destroy();
    }
  }

  private matchFault(method: string, path: string, discovery: boolean): ActiveFault | undefined {
    const f = this.faults.find(
      (x) => x.remaining > 0 && (!discovery || x.discovery === true) && (!x.method || x.method.toUpperCase() === method) && (!x.path || x.path.test(path)),
    );
    if (!f) return undefined;
    f.remaining -= 1;
    this.faults = this.faults.filter((x) => x.remaining > 0);
    return f;
  }

  private faultResponse(status: number, body: unknown, retryAfterSeconds: number | undefined): Res {
    const headers: Record<string, string> = {};
    const retryAfter = retryAfterSeconds ?? (status === 429 ? 1 : undefined);
    if (retryAfter !== undefined) headers['Retry-After'] = String(retryAfter);
    let json = body;
    if (json === undefined) {
      if (status === 429) {
        json = errorJson('RequestBlockedException', "TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource 'ATCPU' in namespace 'User'.");
        Object.assign(headers, {
          'X-RateLimit-Resource': 'ATCPU',
          'X-RateLimit-Delay': '0.5',
          'X-RateLimit-Limit': '200',
          'X-RateLimit-Remaining': '0',
          'X-RateLimit-Reset': String(Math.floor(Date.now() / 1000) + (retryAfter ?? 1)),
        });
      } else if (status === 503) {
        json = errorJson('ServiceUnavailableException', 'TF400898: An Internal Error Occurred. The service is temporarily unavailable (injected).');
      } else if (status >= 500) {
        json = errorJson('Exception', 'The server encountered an unexpected error (injected).', 'System.Exception, mscorlib');
      } else if (status === 401) {
        return this.unauthorized();
      } else {
        json = errorJson('InjectedFaultException', `Injected fault ${status}.`);
      }
    }
    return { status, json, headers };
  }

  private authorized(h: string | undefined): boolean {
    if (!h) return false;
    const space = h.indexOf(' ');
    const scheme = h.slice(0, space).toLowerCase();
    const value = h.slice(space + 1).trim();
    if (scheme === 'bearer') return value === this.opts.bearer;
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      return colon >= 0 && decoded.slice(colon + 1) === this.opts.pat;
    }
    return false;
  }

  private unauthorized(): Res {
    return {
      status: 401,
      json: errorJson('UnauthorizedRequestException', "TF400813: The user '' is not authorized to access this resource."),
      headers: {
        'WWW-Authenticate': 'Bearer authorization_uri=https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000, Basic realm="https://tfsprodweu5.visualstudio.com/", TFS-Federated',
        'X-TFS-FedAuthRealm': 'https://tfsprodweu5.visualstudio.com/',
        'X-TFS-FedAuthIssuer': `${this.url}/`,
        'X-VSS-AuthorizationEndpoint': 'https://vssps.dev.azure.com/',
      },
    };
  }

  private signInPage(status: number): Res {
    return { status, raw: SIGN_IN_HTML, contentType: 'text/html; charset=utf-8' };
  }

  private async dispatch(
    method: string,
    segments: string[],
    query: Query,
    rawBody: Buffer,
    body: unknown,
    req: http.IncomingMessage,
    accept: string,
    apiVersion: string | undefined,
  ): Promise<Res> {
    try {
      const org = segments[0];
      if (org === undefined || org.toLowerCase() !== this.opts.org.toLowerCase()) {
        throw new ApiError(404, 'OrganizationNotFoundException', `The organization '${org ?? ''}' does not exist (this fake serves '${this.opts.org}').`);
      }
      let scope: 'org' | 'project';
      let projectSegment: string | undefined;
      let restSegments: string[];
      if (segments[1]?.toLowerCase() === '_apis') {
        scope = 'org';
        restSegments = segments.slice(2);
      } else if (segments[2]?.toLowerCase() === '_apis') {
        scope = 'project';
        projectSegment = decodeURIComponent(segments[1] ?? '');
        restSegments = segments.slice(3);
      } else {
        return this.notImplemented(method, segments.join('/'), 'not an _apis route');
      }
      const rest = restSegments.map((s) => decodeURIComponent(s)).join('/');

      if (method === 'OPTIONS') {
        const area = restSegments.length === 1 && scope === 'org' ? locationsOfArea(rest) : [];
        if (area.length === 0) return this.notImplemented(method, `/${segments.join('/')}`, 'unknown area');
        return { status: 200, json: { count: area.length, value: area.map((l) => renderLocation(l, this.opts.maxVersion)) } };
      }
      if (method === 'GET' && scope === 'org' && rest.toLowerCase() === 'resourceareas') {
        return { status: 200, json: { count: 0, value: [] } };
      }

      const found = this.backend.route(method, scope, rest);
      if (!found) return this.notImplemented(method, `/${segments.join('/')}`, `${scope} scope`);
      const location = LOCATION_BY_ID.get(found.route.location);
      if (apiVersion !== undefined) {
        const requested = Number.parseFloat(apiVersion);
        if (!Number.isFinite(requested) || requested > Number.parseFloat(this.opts.maxVersion)) {
          throw new ApiError(
            400,
            'VssVersionOutOfRangeException',
            `The requested REST API version of ${apiVersion} is out of range for this server. The latest REST API version this server supports is ${this.opts.maxVersion}.`,
          );
        }
        // A preview-only resource (releasedVersion 0.0) needs the -preview flag, like the service.
        if (location && !location.released && !/-preview/i.test(apiVersion)) {
          throw new ApiError(
            400,
            'VssInvalidPreviewVersionException',
            `The requested version "${apiVersion}" of the resource is under preview. The -preview flag must be supplied in the api-version for such requests. For example: "${apiVersion}-preview"`,
          );
        }
      } else if (method !== 'GET' && location) {
        throw new ApiError(
          400,
          'VssVersionNotSpecifiedException',
          `No api-version was supplied for the "${method}" request. The version must be supplied either as part of the Accept header (e.g. "application/json; api-version=1.0") or as a query parameter (e.g. "?api-version=1.0").`,
        );
      }
      const r: Req = {
        method,
        rest,
        query,
        body,
        rawBody,
        headers: req.headers,
        accept,
        apiVersion,
        projectSegment,
        project: projectSegment !== undefined ? this.backend.requireProject(projectSegment) : undefined,
        params: Object.fromEntries(Object.entries(found.params).map(([k, v]) => [k, decodeURIComponent(v)])),
      };
      return await this.backend.handle(found.route, r);
    } catch (e) {
      if (e instanceof ApiError) {
        return { status: e.status, json: errorJson(e.typeKey, e.message, e.typeName), headers: { 'X-TFS-ServiceError': encodeURIComponent(e.message), ...e.headers } };
      }
      // A bug of the fake: answer loudly (recorded as 500) rather than hang up.
      return { status: 500, json: errorJson('FakeDevOpsBugException', `Fake Azure DevOps crashed on ${method} /${segments.join('/')}: ${(e as Error).stack ?? String(e)}`) };
    }
  }

  private notImplemented(method: string, path: string, why: string): Res {
    const message = `Fake Azure DevOps does not implement ${method} ${path} (${why}). Add the route to test/fakes/devops/ or stop calling it.`;
    return { status: 501, json: errorJson('FakeRouteNotImplementedException', message) };
  }

  private send(res: http.ServerResponse, rec: RecordedRequest, r: Res): void {
    rec.status = r.status;
    const headers: Record<string, string> = {
      // random, so that entity ids (seeded) do not depend on how many requests came before
      ActivityId: randomUUID(),
      'X-TFS-Session': randomUUID(),
      'X-VSS-E2EID': randomUUID(),
      'X-Content-Type-Options': 'nosniff',
      ...(r.headers ?? {}),
    };
    let payload: string | Buffer | undefined;
    if (r.raw !== undefined) {
      payload = r.raw;
      headers['Content-Type'] = r.contentType ?? 'application/octet-stream';
    } else if (r.json !== undefined) {
      payload = JSON.stringify(r.json);
      headers['Content-Type'] = `application/json; charset=utf-8${rec.apiVersion ? `; api-version=${rec.apiVersion}` : ''}`;
    }
    if (payload !== undefined) headers['Content-Length'] = String(Buffer.byteLength(payload));
    res.writeHead(r.status, headers);
    res.end(payload);
  }
}
