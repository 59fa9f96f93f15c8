import type { WebApi } from 'azure-devops-node-api';
import { z } from 'zod';
import { CliError, ExitCode } from '../engine/errors.js';
import { missingAnswer } from '../config/resolve.js';
import { TOOL_VERSION } from '../engine/version.js';
import type { Logger } from '../ui/logger.js';

/**
 * Azure DevOps through `azure-devops-node-api` (one client per run, discovery done once), with:
 * - early credential validation (connectionData), including the 203 + HTML sign-in page a bad PAT
 *   sometimes gets instead of a 401;
 * - retries: 429 waits Retry-After (capped) and retries any call; 5xx/timeouts back off
 *   exponentially for reads; creates are never blindly repeated: the caller re-finds by name
 *   (`createOrFind`) before trying again;
 * - every response parsed through a zod schema;
 * - errors that carry the service's message and typeKey, and the fix when known.
 * Nothing here logs request headers or bodies with secrets; the PAT never leaves the auth handler.
 */

export const PAT_SCOPES =
  'Agent Pools (Read & manage), Build (Read & execute), Code (Read & write), Service Connections (Read, query & manage), ' +
  'Variable Groups (Read, create & manage), Project and Team (Read; Read, write & manage to create the project), ' +
  'Extensions (Read & manage, only to install the Azure ML extension)';

/** Azure DevOps' application id: the resource of an Entra token for Azure DevOps. */
export const DEVOPS_RESOURCE = '499b84ac-1321-427f-aa17-267ca6975798';

/** A PAT (sent as Basic), or a Microsoft Entra access token (Bearer) with its expiry (the client is rebuilt before it). */
export type DevOpsAuth = { kind: 'pat'; pat: string } | { kind: 'bearer'; token: string; expiresOnTimestamp?: number };

/**
 * An Azure DevOps call failed. A CliError (exit 1) so the one line telling the user what to do
 * (`fix`) reaches the screen through every path: the runner keeps CliErrors as they are, cli.ts
 * prints their fix, doctor shows it beside the check.
 */
export class DevOpsError extends CliError {
  constructor(
    message: string,
    readonly statusCode: number | undefined,
    readonly typeKey: string | undefined,
    fix?: string,
  ) {
    super(message, ExitCode.stepFailed, fix);
    this.name = 'DevOpsError';
  }

  /** The organization refused the credential itself (401, or 203 with a sign-in page). */
  get refused(): boolean {
    return this.statusCode === 401 || this.statusCode === 203;
  }
}

/** Where to create a PAT, and what it needs. */
export function patFix(orgUrl: string): string {
  return `Create a PAT at ${orgUrl}/_usersSettings/tokens with these scopes: ${PAT_SCOPES}; pass it in AZURE_DEVOPS_EXT_PAT or --pat-stdin.`;
}

const ORG_FIX = (orgUrl: string) =>
  `Check the organization URL ${orgUrl} (--org, env AZURE_MLOPS_ORG): it is https://dev.azure.com/{organization} as your browser shows it, or https://{organization}.visualstudio.com.`;

/** Node's socket and TLS error codes, and typed-rest-client's socket timeout ("Request timeout: /path"). */
const UNREACHABLE_CODES = /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|EPIPE|ESOCKETTIMEDOUT|UND_ERR_\w+)$/;
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|DEPTH_ZERO/;

/**
 * A request that never got an HTTP answer: "Could not reach <url>: <code>", with what to check.
 * undefined when `e` is not such an error (it has a status, or no known code).
 */
export function unreachableError(url: string, e: unknown): DevOpsError | undefined {
  if (statusOf(e) !== undefined) return undefined;
  const message = String((e as Error)?.message ?? e);
  const raw = (e as { code?: unknown } | null)?.code;
  const code = typeof raw === 'string' ? raw : /^Request timeout/i.test(message) ? 'timeout' : undefined;
  if (!code) return undefined;
  const host = (() => {
    try {
      return new URL(url).host;
    } catch {
      return url;
    }
  })();
  const network = 'your network, and, behind a proxy, HTTPS_PROXY (NO_PROXY lists the hosts that bypass it)';
  if (TLS_CODES.test(code)) {
    return new DevOpsError(
      `Could not reach ${url}: ${code} (the server's TLS certificate is not trusted)`,
      undefined,
      undefined,
      `Behind a TLS-inspecting proxy, point NODE_EXTRA_CA_CERTS at its CA certificate (PEM); otherwise check the URL (--org, env AZURE_MLOPS_ORG).`,
    );
  }
  if (code !== 'timeout' && !UNREACHABLE_CODES.test(code)) return undefined;
  const fix =
    code === 'ENOTFOUND' || code === 'EAI_AGAIN'
      ? `The host name ${host} does not resolve: check the URL (--org, env AZURE_MLOPS_ORG), then ${network}.`
      : code === 'ECONNREFUSED'
        ? `Nothing answers at ${host}: check the URL and its port (--org, env AZURE_MLOPS_ORG), then ${network}.`
        : `Check the URL (--org, env AZURE_MLOPS_ORG), ${network}; AZURE_MLOPS_HTTP_TIMEOUT_MS gives slow networks more time.`;
  return new DevOpsError(`Could not reach ${url}: ${code}`, undefined, undefined, fix);
}

export function statusOf(e: unknown): number | undefined {
  const s = (e as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

function typeKeyOf(e: unknown): string | undefined {
  const r = (e as { result?: { typeKey?: unknown } } | null)?.result;
  return typeof r?.typeKey === 'string' ? r.typeKey : undefined;
}

function retryAfterMs(e: unknown): number | undefined {
  const h = (e as { responseHeaders?: Record<string, string | string[] | undefined> } | null)?.responseHeaders;
  const v = h?.['retry-after'];
  const raw = Array.isArray(v) ? v[0] : v;
  if (!raw) return undefined;
  const secs = Number(raw);
  if (Number.isFinite(secs)) return secs * 1000;
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

const TRANSIENT = new Set([500, 502, 503, 504]);
const NETWORK = /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|socket hang up|timeout|EAI_AGAIN/i;

export function isTransient(e: unknown): boolean {
  const s = statusOf(e);
  if (s !== undefined) return TRANSIENT.has(s);
  return NETWORK.test(String((e as Error)?.message ?? e)) || NETWORK.test(String((e as { code?: string })?.code ?? ''));
}

/** Duplicate-name errors of the service (pools, groups 409; repos 409 TF400948; projects 400). */
export function isDuplicate(e: unknown): boolean {
  const s = statusOf(e);
  const t = typeKeyOf(e) ?? '';
  const m = String((e as Error)?.message ?? '');
  return s === 409 || /AlreadyExists|ExistsException|TF400948|TF200019|already exists/i.test(`${t} ${m}`);
}

export interface RetryPolicy {
  maxRetryAfterMs: number;
  attempts: number;
  baseDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetryAfterMs: 60_000, attempts: 5, baseDelayMs: 400 };

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

// ---- shapes we rely on (everything else passes through untouched) ------------------------
const named = { id: z.union([z.string(), z.number()]), name: z.string() };
export const projectSchema = z.object({ id: z.string(), name: z.string(), description: z.string().nullish(), state: z.union([z.string(), z.number()]).optional() }).passthrough();
export const poolSchema = z.object({ id: z.number(), name: z.string(), isHosted: z.boolean().optional() }).passthrough();
export const queueSchema = z.object({ id: z.number(), name: z.string(), pool: z.object({ id: z.number() }).passthrough().optional() }).passthrough();
export const agentSchema = z.object({ id: z.number(), name: z.string(), status: z.union([z.string(), z.number()]).optional(), enabled: z.boolean().optional() }).passthrough();
export const extensionSchema = z.object({ publisherId: z.string().optional(), extensionId: z.string().optional(), extensionName: z.string().optional(), version: z.string().optional() }).passthrough();
export const endpointSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullish(),
    type: z.string().optional(),
    url: z.string().optional(),
    isReady: z.boolean().optional(),
    data: z.record(z.string(), z.string().nullish()).nullish(),
    authorization: z.object({ scheme: z.string(), parameters: z.record(z.string(), z.string().nullish()).nullish() }).passthrough().nullish(),
    serviceEndpointProjectReferences: z.array(z.object({ projectReference: z.object({ id: z.string() }).passthrough(), name: z.string() }).passthrough()).nullish(),
  })
  .passthrough();
export const variableGroupSchema = z
  .object({
    id: z.number(),
    name: z.string(),
    description: z.string().nullish(),
    variables: z.record(z.string(), z.object({ value: z.string().nullish(), isSecret: z.boolean().nullish() }).passthrough()).nullish(),
    variableGroupProjectReferences: z.array(z.object({ name: z.string(), projectReference: z.object({ id: z.string() }).passthrough() }).passthrough()).nullish(),
  })
  .passthrough();
export const repoSchema = z.object({ id: z.string(), name: z.string(), defaultBranch: z.string().nullish(), webUrl: z.string().nullish(), remoteUrl: z.string().nullish() }).passthrough();
export const refSchema = z.object({ name: z.string(), objectId: z.string() }).passthrough();
export const pipelineSchema = z.object({ ...named, id: z.number(), folder: z.string().nullish(), _links: z.unknown().optional() }).passthrough();
export const runSchema = z
  .object({ id: z.number(), name: z.string().nullish(), state: z.union([z.string(), z.number()]), result: z.union([z.string(), z.number()]).nullish(), _links: z.object({ web: z.object({ href: z.string() }).partial() }).partial().passthrough().nullish() })
  .passthrough();
export const permissionsSchema = z
  .object({ resource: z.object({ type: z.string(), id: z.string() }).partial().passthrough().nullish(), pipelines: z.array(z.object({ id: z.number(), authorized: z.boolean() }).passthrough()).nullish(), allPipelines: z.object({ authorized: z.boolean() }).passthrough().nullish() })
  .passthrough();
const operationSchema = z.object({ id: z.string(), status: z.union([z.string(), z.number()]), url: z.string().optional(), resultMessage: z.string().nullish() }).passthrough();
const connectionSchema = z.object({ authenticatedUser: z.object({ id: z.string(), providerDisplayName: z.string().nullish() }).passthrough() }).passthrough();

export type Project = z.infer<typeof projectSchema>;
export type Pool = z.infer<typeof poolSchema>;
export type Queue = z.infer<typeof queueSchema>;
export type Endpoint = z.infer<typeof endpointSchema>;
export type VariableGroup = z.infer<typeof variableGroupSchema>;
export type Repo = z.infer<typeof repoSchema>;
export type Pipeline = z.infer<typeof pipelineSchema>;
export type Run = z.infer<typeof runSchema>;
/** A build of the Builds API: a YAML pipeline's run is a build with the same id, and only the build has `tags`. */
export const buildSchema = z
  .object({ id: z.number(), status: z.union([z.string(), z.number()]).nullish(), result: z.union([z.string(), z.number()]).nullish(), tags: z.array(z.string()).nullish(), _links: z.object({ web: z.object({ href: z.string() }).partial() }).partial().passthrough().nullish() })
  .passthrough();
/**
 * A run's timeline (build/7.1/build.json, Timeline and TimelineRecord): stages, phases, jobs and
 * tasks, each with the `issues` (errors and warnings, e.g. a failed Azure login) it raised.
 */
export const timelineSchema = z
  .object({
    records: z
      .array(
        z
          .object({
            type: z.string().nullish(),
            name: z.string().nullish(),
            state: z.unknown(),
            result: z.unknown(),
            order: z.number().nullish(),
            issues: z.array(z.object({ type: z.union([z.string(), z.number()]).nullish(), message: z.string().nullish() }).passthrough()).nullish(),
          })
          .passthrough(),
      )
      .nullish(),
  })
  .passthrough();
export interface TimelineRecord {
  type: string;
  name: string;
  /** Lower-case: pending, inprogress, completed. */
  state: string;
  /** Lower-case once completed: succeeded, succeededwithissues, failed, canceled, skipped, abandoned; else ''. */
  result: string;
  order?: number;
  /** Issue type as sent (a string or the library's IssueType number: 1 error, 2 warning) and message. */
  issues: Array<{ type: string | number | undefined; message: string }>;
}
/** The newest run of a pipeline as `doctor` reads it. */
export interface LastRun {
  id: number;
  /** Build status, lower-case: notstarted, inprogress, cancelling, postponed, completed. */
  state: string;
  /** Build result, lower-case, once completed: succeeded, partiallysucceeded, failed, canceled. */
  result?: string;
  /** The build's tags (the pipeline tags a run whose new model was not better: MODEL_NOT_BETTER_TAG). */
  tags: string[];
  url?: string;
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new DevOpsError(`Azure DevOps returned an unexpected ${what} (${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message})`, undefined, undefined);
  return r.data;
}

function lastRunOf(b: z.infer<typeof buildSchema>): LastRun {
  const result = b.result === null || b.result === undefined ? undefined : buildResult(b.result);
  return {
    id: b.id,
    state: buildState(b.status),
    ...(result && result !== 'none' ? { result } : {}),
    tags: b.tags ?? [],
    ...(b._links?.web?.href ? { url: b._links.web.href } : {}),
  };
}

/** Enum values arrive as numbers in some places and strings in others. */
export function enumIs(value: unknown, names: string[], numbers: number[]): boolean {
  return typeof value === 'number' ? numbers.includes(value) : names.includes(String(value).toLowerCase());
}

// Pipelines API enums (numbers from the library, strings from REST), as lower-case names.
const RUN_STATES: Record<number, string> = { 0: 'unknown', 1: 'inprogress', 2: 'canceling', 4: 'completed' };
const RUN_RESULTS: Record<number, string> = { 0: 'unknown', 1: 'succeeded', 2: 'failed', 4: 'canceled' };
const enumName = (v: unknown, t: Record<number, string>) => (typeof v === 'number' ? (t[v] ?? String(v)) : String(v ?? '')).toLowerCase();
/**
 * Lookups by name keep only the object named exactly `name`. Azure DevOps names are unique within
 * their set regardless of case (a name differing only in case is a duplicate: 409/400), so equality
 * ignores case; but the services' name filters are patterns — `poolName`, `queueName` and
 * `groupName` take `*` wildcards (and our names never contain `*`: the schema refuses it) — and some
 * lookups list everything (pipelines) or accept an id in place of the name (projects, repositories).
 * Several exact matches (never expected: the name is unique) are an error listing them, rather than
 * a guess.
 */
export function exactlyNamed<T extends { name: string }>(list: readonly T[], name: string, what: string, describe: (x: T) => string = (x) => String((x as { id?: unknown }).id)): T | undefined {
  const same = list.filter((x) => x.name.toLowerCase() === name.toLowerCase());
  if (same.length > 1) {
    throw new DevOpsError(`${same.length} ${what}s are named '${name}' (${same.map(describe).join(', ')}); azure-mlops cannot tell which one is meant`, undefined, undefined, `Rename or delete the extra ones in Azure DevOps, or choose another name.`);
  }
  return same[0];
}

export const runState = (v: unknown): string => enumName(v, RUN_STATES);
export const runResult = (v: unknown): string => enumName(v, RUN_RESULTS);
// Builds API enums (BuildStatus, BuildResult: flags in the library's BuildInterfaces), as lower-case names.
const BUILD_STATES: Record<number, string> = { 0: 'none', 1: 'inprogress', 2: 'completed', 4: 'cancelling', 8: 'postponed', 32: 'notstarted' };
const BUILD_RESULTS: Record<number, string> = { 0: 'none', 2: 'succeeded', 4: 'partiallysucceeded', 8: 'failed', 32: 'canceled' };
export const buildState = (v: unknown): string => enumName(v, BUILD_STATES);
export const buildResult = (v: unknown): string => enumName(v, BUILD_RESULTS);
// Timeline enums (TimelineRecordState, TaskResult in the library's BuildInterfaces), as lower-case names.
const RECORD_STATES: Record<number, string> = { 0: 'pending', 1: 'inprogress', 2: 'completed' };
const TASK_RESULTS: Record<number, string> = { 0: 'succeeded', 1: 'succeededwithissues', 2: 'failed', 3: 'canceled', 4: 'skipped', 5: 'abandoned' };

export interface DevOpsAdapterOptions {
  orgUrl: string;
  auth: () => Promise<DevOpsAuth>;
  log: Logger;
  signal?: AbortSignal;
  retry?: Partial<RetryPolicy>;
  /** Per-request socket timeout. */
  timeoutMs?: number;
}

export class DevOpsAdapter {
  private webApi: Promise<WebApi> | undefined;
  private validated: Promise<{ userId: string; user: string }> | undefined;
  private authKind: DevOpsAuth['kind'] | undefined;
  readonly retry: RetryPolicy;
  /** Requests made (for benchmarks and tests). */
  calls = 0;

  constructor(readonly opts: DevOpsAdapterOptions) {
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
  }

  get orgUrl(): string {
    return this.opts.orgUrl;
  }

  /** When the Entra token behind the client expires (a PAT: never). */
  private authExpires: number | undefined;

  /** Forget the client and its credential (the credential changed: a PAT after a refused Entra token). */
  resetAuth(): void {
    this.webApi = undefined;
    this.validated = undefined;
    this.authExpires = undefined;
  }

  private api(): Promise<WebApi> {
    // An Entra token lives about an hour; a long run (terraform) outlives it: take a new one first.
    if (this.authExpires !== undefined && this.authExpires - Date.now() < 5 * 60_000) {
      this.webApi = undefined;
      this.authExpires = undefined;
    }
    this.webApi ??= (async () => {
      if (!this.opts.orgUrl) throw missingAnswer(['org']);
      // CommonJS package: its exports are on `default` when imported from the ESM bundle.
      const mod = (await import('azure-devops-node-api')) as typeof import('azure-devops-node-api') & { default?: typeof import('azure-devops-node-api') };
      const azdev = mod.default ?? mod;
      const auth = await this.opts.auth();
      this.authKind = auth.kind;
      this.authExpires = auth.kind === 'bearer' ? auth.expiresOnTimestamp : undefined;
      const handler = auth.kind === 'pat' ? azdev.getPersonalAccessTokenHandler(auth.pat) : azdev.getBearerHandler(auth.token);
      return new azdev.WebApi(this.opts.orgUrl, handler, { allowRetries: false, socketTimeout: this.opts.timeoutMs ?? 60_000 }, { productName: 'azure-mlops', productVersion: TOOL_VERSION });
    })();
    this.webApi.catch(() => (this.webApi = undefined));
    return this.webApi;
  }

  /**
   * Validates the credential once: GET _apis/connectionData. A 401, or a 203 with an HTML
   * sign-in page, means the PAT (or token) is invalid or expired.
   */
  validate(): Promise<{ userId: string; user: string }> {
    this.validated ??= (async () => {
      const api = await this.api();
      const url = `${this.opts.orgUrl}/_apis/connectionData`;
      // An unreachable host becomes "could not reach <url>" with what to check (toError).
      const res = await this.withRetry('connect to Azure DevOps', () => api.rest.client.get(url, { Accept: 'application/json', 'X-TFS-FedAuthRedirect': 'Suppress' }), true, url);
      const status = res.message.statusCode ?? 0;
      const type = String(res.message.headers['content-type'] ?? '');
      const body = await res.readBody();
      if (status === 401 || status === 203 || (status === 200 && !type.includes('json'))) {
        throw new DevOpsError(
          this.authKind === 'bearer'
            ? `${this.opts.orgUrl} refused the Microsoft Entra token of your az login (${status === 203 ? 'HTTP 203: a sign-in page instead of data' : `HTTP ${status}`}): the organization is not connected to your Microsoft Entra tenant, or your account is not a member of it.`
            : `The Azure DevOps credential was refused by ${this.opts.orgUrl} (${status === 203 ? 'HTTP 203: a sign-in page instead of data' : `HTTP ${status}`}): the PAT is invalid or expired, or it belongs to another organization.`,
          status,
          undefined,
          this.credentialFix(),
        );
      }
      if (status === 404) throw new DevOpsError(`${this.opts.orgUrl} is not an Azure DevOps organization (HTTP 404: not found).`, status, undefined, ORG_FIX(this.opts.orgUrl));
      if (status >= 300) {
        throw new DevOpsError(
          `Azure DevOps answered HTTP ${status} to ${url}.`,
          status,
          undefined,
          status >= 500 ? 'The service is having trouble: wait a few minutes and re-run.' : ORG_FIX(this.opts.orgUrl),
        );
      }
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        throw new DevOpsError(`Azure DevOps answered ${url} with something that is not JSON (a proxy or sign-in page?).`, status, undefined, `${ORG_FIX(this.opts.orgUrl)} The PAT needs: ${PAT_SCOPES}.`);
      }
      const c = parse(connectionSchema, json, 'connectionData');
      return { userId: c.authenticatedUser.id, user: c.authenticatedUser.providerDisplayName ?? c.authenticatedUser.id };
    })();
    this.validated.catch(() => (this.validated = undefined));
    return this.validated;
  }

  /** What to do about a refused credential: a new PAT (where, which scopes), or a new az login for an Entra token. */
  private credentialFix(): string {
    if (this.authKind === 'bearer') {
      return `Connect the organization to your tenant (Organization settings > Microsoft Entra), or have an administrator add your account (Organization settings > Users); or sign in with another account (az login). Or use a PAT: ${patFix(this.opts.orgUrl)}`;
    }
    return patFix(this.opts.orgUrl);
  }

  /** Runs `fn` with the retry policy: 429 always (Retry-After), transient errors only when idempotent. */
  private async withRetry<T>(label: string, fn: () => Promise<T>, idempotent: boolean, url?: string): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        this.calls++;
        return await fn();
      } catch (e) {
        const status = statusOf(e);
        const last = attempt >= this.retry.attempts || this.opts.signal?.aborted;
        if (!last && status === 429) {
          const wait = Math.min(retryAfterMs(e) ?? this.retry.baseDelayMs * 2 ** attempt, this.retry.maxRetryAfterMs);
          this.opts.log.debug(`  ${label}: throttled (429), retrying in ${Math.ceil(wait / 1000)} s as the service asks`);
          await sleep(wait, this.opts.signal);
          continue;
        }
        if (!last && idempotent && isTransient(e)) {
          const wait = this.retry.baseDelayMs * 2 ** (attempt - 1) * (0.75 + Math.random() / 2);
          this.opts.log.debug(`  ${label}: ${status ?? (e as Error).message}, retrying in ${Math.round(wait)} ms`);
          await sleep(wait, this.opts.signal);
          continue;
        }
        throw this.toError(label, e, url);
      }
    }
  }

  /** `url`: the request's URL when known (else the organization's, in a message that names the call). */
  private toError(label: string, e: unknown, url?: string): DevOpsError {
    if (e instanceof DevOpsError) return e;
    const unreachable = unreachableError(url ?? this.opts.orgUrl, e);
    if (unreachable) return url ? unreachable : new DevOpsError(`${label} failed: c${unreachable.message.slice(1)}`, undefined, undefined, unreachable.fix);
    const status = statusOf(e);
    const typeKey = typeKeyOf(e);
    const msg = ((e as { result?: { message?: string } })?.result?.message ?? (e as Error)?.message ?? String(e)).split('\n')[0];
    let fix: string | undefined;
    if (status === 401) fix = this.credentialFix();
    else if (status === 403) fix = `The PAT or account lacks a permission for this; the PAT needs: ${PAT_SCOPES}.`;
    else if (status === 429) fix = 'Azure DevOps kept throttling; wait a few minutes and re-run.';
    else if (status !== undefined && status >= 500) fix = 'Azure DevOps failed on its side; wait a little and re-run: what is done is kept.';
    return new DevOpsError(`${label} failed: ${status ? `HTTP ${status} ` : ''}${typeKey ? `${typeKey}: ` : ''}${msg}`, status, typeKey, fix);
  }

  /** A call through the library: reads are retried on transient errors, writes only on 429. */
  async call<T>(label: string, fn: (api: WebApi) => Promise<T>, opts: { idempotent?: boolean } = {}): Promise<T> {
    await this.validate();
    const api = await this.api();
    return this.withRetry(label, () => fn(api), opts.idempotent ?? true);
  }

  /**
   * A create that is never duplicated: on a duplicate-name answer, or on a transient error after
   * which the object may or may not exist, find it by name; create again only when it is absent.
   */
  async createOrFind<T>(label: string, find: () => Promise<T | undefined>, create: (api: WebApi) => Promise<T>): Promise<{ value: T; created: boolean }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return { value: await this.call(label, create, { idempotent: false }), created: true };
      } catch (e) {
        const cause = e instanceof DevOpsError ? e : this.toError(label, e);
        if (isDuplicate(cause) || (TRANSIENT.has(cause.statusCode ?? 0) || cause.statusCode === undefined)) {
          const existing = await find();
          if (existing) return { value: existing, created: false };
          if (isDuplicate(cause) || attempt >= this.retry.attempts) throw cause;
          await sleep(this.retry.baseDelayMs * 2 ** (attempt - 1), this.opts.signal);
          continue;
        }
        throw cause;
      }
    }
  }

  /** Raw REST (operations, pipeline permissions: no library client for them). */
  async rest<T>(label: string, method: 'GET' | 'PATCH', path: string, schema: z.ZodType<T>, body?: unknown, apiVersion = '7.1'): Promise<T | undefined> {
    const url = path.startsWith('http') ? path : `${this.opts.orgUrl}/${path.replace(/^\//, '')}`;
    const options = { acceptHeader: `application/json;api-version=${apiVersion}` };
    const res = await this.call(label, (api) => (method === 'GET' ? api.rest.get<unknown>(url, options) : api.rest.update<unknown>(url, body, options)), { idempotent: true });
    if (res.statusCode === 404 || res.result === null || res.result === undefined) return undefined;
    return parse(schema, res.result, label);
  }

  // ---- core ----------------------------------------------------------------------------------

  async findProject(name: string): Promise<Project | undefined> {
    const p = await this.call(`read project ${name}`, (a) => a.getCoreApi().then((c) => c.getProject(name)));
    const project = p ? parse(projectSchema, p, 'project') : undefined;
    // GET _apis/projects/{projectId} takes a name or an id (core.json): accept the project named so,
    // or the one whose id was given.
    return project && (project.name.toLowerCase() === name.toLowerCase() || project.id.toLowerCase() === name.toLowerCase()) ? project : undefined;
  }

  /** Queues the create and polls the operation to its end. */
  async createProject(name: string, description: string, pollMs = 1000): Promise<{ project: Project; created: boolean }> {
    const { value: op, created } = await this.createOrFind<unknown>(
      `create project ${name}`,
      () => this.findProject(name),
      (a) =>
        a.getCoreApi().then((c) =>
          c.queueCreateProject({
            name,
            description,
            visibility: 0, // private
            capabilities: { versioncontrol: { sourceControlType: 'Git' }, processTemplate: { templateTypeId: 'adcc42ab-9882-485e-a3ed-7678f01f66bc' } }, // Agile
          } as never),
        ),
    );
    if (created) {
      const ref = parse(operationSchema, op, 'operation');
      const url = ref.url ?? `_apis/operations/${ref.id}`;
      for (let i = 0; ; i++) {
        const cur = await this.rest('poll project creation', 'GET', url, operationSchema);
        const status = String(cur?.status ?? '').toLowerCase();
        // OperationStatus: 3 cancelled, 4 succeeded, 5 failed (numbers from the library, strings from REST).
        if (status === 'succeeded' || cur?.status === 4) break;
        if (status === 'failed' || status === 'cancelled' || cur?.status === 3 || cur?.status === 5) {
          throw new DevOpsError(`Creating project ${name} failed: ${cur?.resultMessage ?? status}`, undefined, undefined);
        }
        if (i > 300) throw new DevOpsError(`Creating project ${name} did not finish in time`, undefined, undefined, 'Re-run azure-mlops init; it resumes.');
        // Project creation takes seconds: poll quickly at first, then every `pollMs`.
        await sleep(Math.min(pollMs, 50 * 2 ** i), this.opts.signal);
      }
    }
    const project = await this.findProject(name);
    if (!project) throw new DevOpsError(`Project ${name} is not visible after its creation succeeded`, undefined, undefined, 'Re-run azure-mlops init.');
    return { project, created };
  }

  // ---- agent pools and queues ------------------------------------------------------------------

  async findPool(name: string): Promise<Pool | undefined> {
    const list = await this.call(`read pool ${name}`, (a) => a.getTaskAgentApi().then((t) => t.getAgentPools(name)));
    return exactlyNamed((list ?? []).map((p) => parse(poolSchema, p, 'agent pool')), name, 'agent pool');
  }

  async createPool(name: string): Promise<{ value: Pool; created: boolean }> {
    return this.createOrFind(`create pool ${name}`, () => this.findPool(name), async (a) => parse(poolSchema, await (await a.getTaskAgentApi()).addAgentPool({ name, autoProvision: false, autoUpdate: true } as never), 'agent pool'));
  }

  async findQueue(project: string, name: string): Promise<Queue | undefined> {
    const list = await this.call(`read queue ${name}`, (a) => a.getTaskAgentApi().then((t) => t.getAgentQueues(project, name)));
    return exactlyNamed((list ?? []).map((q) => parse(queueSchema, q, 'agent queue')), name, 'agent queue');
  }

  async createQueue(project: string, name: string, poolId: number): Promise<{ value: Queue; created: boolean }> {
    return this.createOrFind(`add pool ${name} to project ${project}`, () => this.findQueue(project, name), async (a) => parse(queueSchema, await (await a.getTaskAgentApi()).addAgentQueue({ name, pool: { id: poolId } } as never, project, false), 'agent queue'));
  }

  async agents(poolId: number): Promise<Array<z.infer<typeof agentSchema>>> {
    const list = await this.call('list agents', (a) => a.getTaskAgentApi().then((t) => t.getAgents(poolId)));
    return (list ?? []).map((x) => parse(agentSchema, x, 'agent'));
  }

  // ---- extensions ------------------------------------------------------------------------------

  async installedExtension(publisher: string, extension: string): Promise<z.infer<typeof extensionSchema> | undefined> {
    const e = await this.call(`read extension ${publisher}.${extension}`, (a) => a.getExtensionManagementApi().then((x) => x.getInstalledExtensionByName(publisher, extension)));
    return e ? parse(extensionSchema, e, 'installed extension') : undefined;
  }

  async installExtension(publisher: string, extension: string): Promise<void> {
    await this.createOrFind(`install extension ${publisher}.${extension}`, () => this.installedExtension(publisher, extension), (a) => a.getExtensionManagementApi().then((x) => x.installExtensionByName(publisher, extension)));
  }

  // ---- service endpoints -----------------------------------------------------------------------

  async findEndpoint(project: string, name: string): Promise<Endpoint | undefined> {
    const list = await this.call(`read service connection ${name}`, (a) => a.getServiceEndpointApi().then((s) => s.getServiceEndpointsByNames(project, [name], undefined, undefined, undefined, true, true)));
    return exactlyNamed((list ?? []).map((x) => parse(endpointSchema, x, 'service connection')), name, 'service connection');
  }

  async getEndpoint(project: string, id: string): Promise<Endpoint | undefined> {
    const e = await this.call('read service connection', (a) => a.getServiceEndpointApi().then((s) => s.getServiceEndpointDetails(project, id)));
    return e ? parse(endpointSchema, e, 'service connection') : undefined;
  }

  async createEndpoint(project: string, body: Record<string, unknown>): Promise<{ value: Endpoint; created: boolean }> {
    return this.createOrFind(`create service connection ${String(body.name)}`, () => this.findEndpoint(project, String(body.name)), async (a) =>
      parse(endpointSchema, await (await a.getServiceEndpointApi()).createServiceEndpoint(body as never), 'service connection'),
    );
  }

  async updateEndpoint(id: string, body: Record<string, unknown>): Promise<Endpoint> {
    const e = await this.call(`update service connection ${String(body.name)}`, (a) => a.getServiceEndpointApi().then((s) => s.updateServiceEndpoint(body as never, id)));
    return parse(endpointSchema, e, 'service connection');
  }

  // ---- variable groups -------------------------------------------------------------------------

  async findVariableGroup(project: string, name: string): Promise<VariableGroup | undefined> {
    const list = await this.call(`read variable group ${name}`, (a) => a.getTaskAgentApi().then((t) => t.getVariableGroups(project, name)));
    return exactlyNamed((list ?? []).map((x) => parse(variableGroupSchema, x, 'variable group')), name, 'variable group');
  }

  async createVariableGroup(project: string, body: Record<string, unknown>): Promise<{ value: VariableGroup; created: boolean }> {
    return this.createOrFind(`create variable group ${String(body.name)}`, () => this.findVariableGroup(project, String(body.name)), async (a) =>
      parse(variableGroupSchema, await (await a.getTaskAgentApi()).addVariableGroup(body as never), 'variable group'),
    );
  }

  async updateVariableGroup(id: number, body: Record<string, unknown>): Promise<VariableGroup> {
    // PUT with the whole group (project references included): safe to repeat.
    const g = await this.call(`update variable group ${String(body.name)}`, (a) => a.getTaskAgentApi().then((t) => t.updateVariableGroup(body as never, id)));
    return parse(variableGroupSchema, g, 'variable group');
  }

  // ---- git -------------------------------------------------------------------------------------

  async findRepo(project: string, name: string): Promise<Repo | undefined> {
    const r = await this.call(`read repository ${name}`, (a) => a.getGitApi().then((g) => g.getRepository(name, project)));
    const repo = r ? parse(repoSchema, r, 'repository') : undefined;
    // GET git/repositories/{repositoryId} takes "the name or ID of the repository" (git.json).
    return repo && (repo.name.toLowerCase() === name.toLowerCase() || repo.id.toLowerCase() === name.toLowerCase()) ? repo : undefined;
  }

  async createRepo(project: string, projectId: string, name: string): Promise<{ value: Repo; created: boolean }> {
    return this.createOrFind(`create repository ${name}`, () => this.findRepo(project, name), async (a) =>
      parse(repoSchema, await (await a.getGitApi()).createRepository({ name, project: { id: projectId } } as never, project), 'repository'),
    );
  }

  async refs(project: string, repoId: string): Promise<Array<z.infer<typeof refSchema>>> {
    const list = await this.call('read branches', (a) => a.getGitApi().then((g) => g.getRefs(repoId, project, 'heads/')));
    return (list ?? []).map((r) => parse(refSchema, r, 'git ref'));
  }

  /**
   * Pushes a commit that creates `branch`. Not blindly repeatable: after an error that may or may
   * not have landed, the branch is looked up first, and the push is only tried again when it is absent.
   */
  async push(project: string, repoId: string, branch: string, push: Record<string, unknown>): Promise<void> {
    await this.createOrFind(
      `push to ${branch}`,
      async () => (await this.refs(project, repoId)).find((r) => r.name === `refs/heads/${branch}`),
      (a) => a.getGitApi().then((g) => g.createPush(push as never, repoId, project)),
    );
  }

  /** Content of one file on a branch, or undefined when absent. */
  async fileContent(project: string, repoId: string, path: string, branch: string): Promise<string | undefined> {
    try {
      const item = await this.call(`read ${path}`, (a) =>
        a.getGitApi().then((g) => g.getItem(repoId, path, project, undefined, undefined, false, false, false, { version: branch, versionType: 0 } as never, true)),
      );
      return item?.content ?? undefined;
    } catch (e) {
      if (e instanceof DevOpsError && e.statusCode === 404) return undefined;
      throw e;
    }
  }

  // ---- pipelines -------------------------------------------------------------------------------

  /**
   * The pipeline named `name` in the root folder `\` (where azure-mlops creates it). Pipeline names
   * are unique per folder only: one of the same name in another folder is someone else's.
   */
  async findPipeline(project: string, name: string): Promise<Pipeline | undefined> {
    const list = await this.call('list pipelines', (a) => a.getPipelinesApi().then((p) => p.listPipelines(project)));
    const root = (list ?? []).map((x) => parse(pipelineSchema, x, 'pipeline')).filter((p) => !p.folder || p.folder === '\\');
    return exactlyNamed(root, name, 'pipeline', (p) => `id ${p.id}`);
  }

  async createPipeline(project: string, body: Record<string, unknown>): Promise<{ value: Pipeline; created: boolean }> {
    return this.createOrFind(`create pipeline ${String(body.name)}`, () => this.findPipeline(project, String(body.name)), async (a) =>
      parse(pipelineSchema, await (await a.getPipelinesApi()).createPipeline(body as never, project), 'pipeline'),
    );
  }

  async pipelineConfigPath(project: string, pipelineId: number): Promise<{ path?: string; repositoryId?: string }> {
    const p = await this.call('read pipeline', (a) => a.getPipelinesApi().then((x) => x.getPipeline(project, pipelineId)));
    const cfg = (p as { configuration?: { path?: string; repository?: { id?: string } } } | null)?.configuration;
    return { ...(cfg?.path ? { path: cfg.path } : {}), ...(cfg?.repository?.id ? { repositoryId: cfg.repository.id } : {}) };
  }

  /** A harmless read per PAT scope; `ok: false` only when the service refuses it (401/403). */
  async probeScopes(project?: string): Promise<Array<{ scope: string; ok: boolean; why: string }>> {
    const probes: Array<[string, (a: WebApi) => Promise<unknown>]> = [
      ['Project and Team', (a) => a.getCoreApi().then((c) => c.getProjects(undefined, 1))],
      ['Agent Pools', (a) => a.getTaskAgentApi().then((t) => t.getAgentPools())],
      ['Extensions', (a) => a.getExtensionManagementApi().then((x) => x.getInstalledExtensions())],
    ];
    if (project) {
      probes.push(
        ['Code', (a) => a.getGitApi().then((g) => g.getRepositories(project))],
        ['Build', (a) => a.getBuildApi().then((b) => b.getDefinitions(project, undefined, undefined, undefined, undefined, 1))],
        ['Service Connections', (a) => a.getServiceEndpointApi().then((s) => s.getServiceEndpoints(project))],
        ['Variable Groups', (a) => a.getTaskAgentApi().then((t) => t.getVariableGroups(project))],
      );
    }
    return Promise.all(
      probes.map(async ([scope, fn]) => {
        try {
          await this.call(`read (${scope})`, fn);
          return { scope, ok: true, why: 'readable' };
        } catch (e) {
          const s = e instanceof DevOpsError ? e.statusCode : statusOf(e);
          if (s === 401 || s === 403) return { scope, ok: false, why: `HTTP ${s}` };
          return { scope, ok: true, why: `not probed: ${(e as Error).message.split('\n')[0]}` };
        }
      }),
    );
  }

  /**
   * The newest run of the pipeline named `name`, if any, read as a build (Builds API, newest queue
   * time first, one result): the Pipelines API's Run has no tags, the Build has `tags: string[]`
   * (build/7.1/build.json, definition Build).
   */
  async lastRun(project: string, name: string): Promise<LastRun | undefined> {
    const p = await this.findPipeline(project, name);
    if (!p) return undefined;
    const QUEUE_TIME_DESCENDING = 4; // BuildQueryOrder.QueueTimeDescending
    const builds = await this.call('list runs', (a) =>
      a.getBuildApi().then((b) => b.getBuilds(project, [p.id], undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, 1, undefined, undefined, undefined, QUEUE_TIME_DESCENDING)),
    );
    // top=1, newest queued first: the one answer is the last run.
    const last = builds?.[0];
    return last ? lastRunOf(parse(buildSchema, last, 'build')) : undefined;
  }

  /** The tags of one run (its build), e.g. to tell a "model not better" run after `--run`. */
  async runTags(project: string, runId: number): Promise<string[]> {
    const b = await this.call('read the run\'s build', (a) => a.getBuildApi().then((x) => x.getBuild(project, runId)));
    return b ? (parse(buildSchema, b, 'build').tags ?? []) : [];
  }

  permissionsPath(project: string, type: 'queue' | 'endpoint' | 'variablegroup', id: string | number): string {
    return `${encodeURIComponent(project)}/_apis/pipelines/pipelinePermissions/${type}/${id}`;
  }

  async permissions(project: string, type: 'queue' | 'endpoint' | 'variablegroup', id: string | number) {
    return this.rest(`read ${type} permissions`, 'GET', this.permissionsPath(project, type, id), permissionsSchema, undefined, '7.1-preview.1');
  }

  async authorize(project: string, type: 'queue' | 'endpoint' | 'variablegroup', id: string | number, pipelineId: number): Promise<void> {
    // PATCH of an absolute state ("authorized: true"): safe to repeat.
    await this.rest(`authorize the pipeline for ${type} ${id}`, 'PATCH', this.permissionsPath(project, type, id), permissionsSchema, { pipelines: [{ id: pipelineId, authorized: true }] }, '7.1-preview.1');
  }

  async runPipeline(project: string, pipelineId: number): Promise<Run> {
    const r = await this.call('queue a pipeline run', (a) => a.getPipelinesApi().then((p) => p.runPipeline({} as never, project, pipelineId)), { idempotent: false });
    return parse(runSchema, r, 'run');
  }

  async getRun(project: string, pipelineId: number, runId: number): Promise<Run> {
    const r = await this.call('read the run', (a) => a.getPipelinesApi().then((p) => p.getRun(project, pipelineId, runId)));
    return parse(runSchema, r, 'run');
  }

  async timeline(project: string, buildId: number): Promise<TimelineRecord[]> {
    const t = await this.call('read the run timeline', (a) => a.getBuildApi().then((b) => b.getBuildTimeline(project, buildId)));
    if (!t) return [];
    return (parse(timelineSchema, t, 'run timeline').records ?? []).map((r) => ({
      type: r.type ?? '',
      name: r.name ?? '',
      state: enumName(r.state, RECORD_STATES),
      result: enumName(r.result, TASK_RESULTS),
      ...(typeof r.order === 'number' ? { order: r.order } : {}),
      issues: (r.issues ?? []).map((i) => ({ type: i.type ?? undefined, message: i.message ?? '' })),
    }));
  }

  // ---- deletes (azure-mlops destroy) -----------------------------------------------------------
  // Each is idempotent: a 404 (the library resolves it to null, or it rejects with statusCode 404)
  // means the object is already gone, which is what the caller wants. Deletes are retried like
  // reads (repeating a delete is harmless).

  private async remove(label: string, fn: (api: WebApi) => Promise<unknown>): Promise<void> {
    try {
      await this.call(label, fn, { idempotent: true });
    } catch (e) {
      if ((e instanceof DevOpsError ? e.statusCode : statusOf(e)) === 404) return;
      throw e;
    }
  }

  /** A YAML pipeline is a build definition: deleting it also drops its runs and its pipeline permissions. */
  async deletePipeline(project: string, id: number): Promise<void> {
    await this.remove(`delete pipeline ${id}`, (a) => a.getBuildApi().then((b) => b.deleteDefinition(project, id)));
  }

  /** Removes the group from these projects; the service deletes it once no project references it. */
  async deleteVariableGroup(id: number, projectIds: string[]): Promise<void> {
    await this.remove(`delete variable group ${id}`, (a) => a.getTaskAgentApi().then((t) => t.deleteVariableGroup(id, projectIds)));
  }

  /** Removes the service connection from these projects (deleted once no project shares it). */
  async deleteEndpoint(id: string, projectIds: string[]): Promise<void> {
    await this.remove(`delete service connection ${id}`, (a) => a.getServiceEndpointApi().then((s) => s.deleteServiceEndpoint(id, projectIds)));
  }

  async deleteRepo(project: string, id: string): Promise<void> {
    await this.remove(`delete repository ${id}`, (a) => a.getGitApi().then((g) => g.deleteRepository(id, project)));
  }

  /** The project's queue of a pool (the pool itself stays). */
  async deleteQueue(project: string, id: number): Promise<void> {
    await this.remove(`delete agent queue ${id}`, (a) => a.getTaskAgentApi().then((t) => t.deleteAgentQueue(id, project)));
  }

  /** Deregisters one agent from a pool. */
  async deleteAgent(poolId: number, agentId: number): Promise<void> {
    await this.remove(`delete agent ${agentId} of pool ${poolId}`, (a) => a.getTaskAgentApi().then((t) => t.deleteAgent(poolId, agentId)));
  }

  /** Deletes the pool with its agents and its queues in every project. */
  async deletePool(id: number): Promise<void> {
    await this.remove(`delete agent pool ${id}`, (a) => a.getTaskAgentApi().then((t) => t.deleteAgentPool(id)));
  }

  /**
   * Queues the project's deletion and follows the operation to its end (as createProject does).
   * An absent project (404) is already gone. Polls quickly at first, then every `pollMs`.
   */
  async deleteProject(id: string, pollMs = 1000): Promise<void> {
    let op: unknown;
    try {
      op = await this.call(`delete project ${id}`, (a) => a.getCoreApi().then((c) => c.queueDeleteProject(id)), { idempotent: true });
    } catch (e) {
      if ((e instanceof DevOpsError ? e.statusCode : statusOf(e)) === 404) return;
      throw e;
    }
    if (op === null || op === undefined) return;
    const ref = parse(operationSchema, op, 'operation');
    const url = ref.url ?? `_apis/operations/${ref.id}`;
    for (let i = 0; ; i++) {
      const cur = await this.rest('poll project deletion', 'GET', url, operationSchema);
      const status = String(cur?.status ?? '').toLowerCase();
      if (status === 'succeeded' || cur?.status === 4) return;
      if (status === 'failed' || status === 'cancelled' || cur?.status === 3 || cur?.status === 5) {
        throw new DevOpsError(`Deleting project ${id} failed: ${cur?.resultMessage ?? status}`, undefined, undefined, 'Look at the project in Organization settings > Projects, then re-run `azure-mlops destroy`.');
      }
      if (i > 300) throw new DevOpsError(`Deleting project ${id} did not finish in time`, undefined, undefined, 'Re-run `azure-mlops destroy`; it resumes.');
      if (this.opts.signal?.aborted) throw new DevOpsError(`Stopped waiting for the deletion of project ${id} (interrupted); Azure DevOps goes on with it`, undefined, undefined, 'Re-run `azure-mlops destroy`; it resumes.');
      await sleep(Math.min(pollMs, 100 * 2 ** i), this.opts.signal);
    }
  }
}
