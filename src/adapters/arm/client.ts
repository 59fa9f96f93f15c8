import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import type { HttpClient, Pipeline, PipelinePolicy, PipelineRequest } from '@azure/core-rest-pipeline';
import type { ResourceManagementClient } from '@azure/arm-resources';
import type { StorageManagementClient } from '@azure/arm-storage';
import type { ContainerRegistryManagementClient } from '@azure/arm-containerregistry';
import type { KeyVaultManagementClient } from '@azure/arm-keyvault';
import type { ComputeManagementClient } from '@azure/arm-compute';
import { z } from 'zod';
import { ExternalError } from '../../engine/errors.js';
import { AzError, type AzAdapter } from '../az.js';

/**
 * Azure Resource Manager through the Azure SDKs, with one token from the existing az login.
 *
 * - The endpoint comes from the active az cloud (`az cloud show` → `endpoints.resourceManager`),
 *   so sovereign clouds and Azure Stack work, and tests point it at a local fake.
 * - One access token per scope per run: `AzureCliCredential` (one `az account get-access-token`)
 *   behind a caching credential shared by every SDK client.
 * - Every response is parsed through a zod schema; every failure becomes an `ArmError` carrying the
 *   service's code and message (401/403 also name the permission the call needs); no message ever
 *   contains the token.
 * - The SDK pipeline retries 429/5xx honouring Retry-After; each call is capped in total time so a
 *   dead or throttling endpoint cannot hang a run.
 * The SDKs are imported lazily: commands that never call ARM do not pay for loading them.
 *
 * This file is what every area shares; the calls themselves are in one file per area beside it.
 */

export class ArmError extends ExternalError {
  constructor(
    message: string,
    readonly code: string | undefined,
    details: ConstructorParameters<typeof ExternalError>[1],
    /** The Azure RBAC action the call needed (for 403s). */
    readonly action?: string,
    options?: { cause?: unknown },
  ) {
    super(message, details, options);
    this.name = 'ArmError';
  }
}

/**
 * The az login is missing or expired: az said so (its error, also as the cause of an ARM call that
 * could get no token), or Azure Resource Manager refused the token (401). Read from the errors'
 * kinds and status along their causes, never from their text.
 */
export function signedOut(e: unknown): boolean {
  for (let x: unknown = e, depth = 0; x instanceof Error && depth < 5; x = x.cause, depth++) {
    if (x instanceof AzError && x.kind === 'not-logged-in') return true;
    if (x instanceof ArmError && x.details.statusCode === 401) return true;
  }
  return false;
}

export interface ArmAdapterOptions {
  /** The HTTP client every SDK client uses (tests pass one that trusts the fake's certificate). */
  httpClient?: HttpClient;
  /** Replaces AzureCliCredential as the token source (it is still wrapped in the cache). */
  credential?: TokenCredential;
  /** Every token obtained is registered here, so logs and errors can never show it. */
  redactor?: { add(secret: string | undefined): void };
  /** Total time one ARM call may take, retries and Retry-After waits included (default 45 s, below doctor's 60 s per check). */
  callTimeoutMs?: number;
  /** One HTTP attempt (default 20 s). */
  attemptTimeoutMs?: number;
  /** Poll interval for long-running operations and provider registration (default 5 s). */
  pollIntervalMs?: number;
  /** How long registerProvider may wait for `Registered` (default 5 min). */
  registerTimeoutMs?: number;
  /** The SDK pipeline's retry options (default: 3 retries, exponential from 1 s, at most 10 s apart). */
  retry?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
}

// ---- the az cloud ------------------------------------------------------------------------------

const cloudSchema = z.object({
  name: z.string(),
  endpoints: z
    .object({
      resourceManager: z.string().refine((v) => URL.canParse(v), 'not a URL'),
      activeDirectoryResourceId: z.string().optional(),
    })
    .passthrough(),
});

export interface ArmEndpoint {
  /** Name of the az cloud (AzureCloud, AzureChinaCloud, AzureUSGovernment, an Azure Stack name…). */
  cloud: string;
  /** The resource manager URL without a trailing slash, e.g. https://management.azure.com */
  url: string;
  /** The token scope (audience + `/.default`) ARM accepts in this cloud. */
  scope: string;
}

/** Hosts of the global Azure clouds' resource managers: their own URL is a valid token audience. */
const WELL_KNOWN_ARM_HOSTS = new Set(['management.azure.com', 'management.chinacloudapi.cn', 'management.usgovcloudapi.net']);

/**
 * The token scope for ARM in a cloud. The public and national clouds accept their resource manager
 * URL as audience (`https://management.azure.com/.default`, what the SDKs use by default). Any other
 * endpoint (Azure Stack Hub, a test fake) uses the audience az itself uses for ARM:
 * `endpoints.activeDirectoryResourceId`. A resource id ending in `/` keeps it (`…windows.net//.default`):
 * AzureCliCredential strips `/.default` and passes the rest to `az account get-access-token --resource`.
 */
export function armScope(resourceManager: string, activeDirectoryResourceId?: string): string {
  const rm = new URL(resourceManager);
  if (WELL_KNOWN_ARM_HOSTS.has(rm.hostname.toLowerCase()) || !activeDirectoryResourceId) return `${rm.origin}/.default`;
  return `${activeDirectoryResourceId}/.default`;
}

// ---- one token per scope per run ---------------------------------------------------------------

/**
 * The az login as a TokenCredential: what @azure/identity's AzureCliCredential does
 * (`az account get-access-token --resource <scope without /.default>`), but through the az
 * adapter, so the process gets the CLI's environment and timeout, is counted, and its stdout (the
 * token) is never logged.
 */
class AzCliCredential implements TokenCredential {
  constructor(private readonly az: AzAdapter) {}

  async getToken(scopes: string | string[]): Promise<AccessToken> {
    const scope = Array.isArray(scopes) ? scopes[0] : scopes;
    if (!scope) throw new ArmError('no token scope given', 'InvalidScope', {});
    const { token, expiresOnTimestamp } = await this.az.accessToken(scope.replace(/\/\.default$/, ''));
    return { token, expiresOnTimestamp };
  }
}

/**
 * Wraps a credential so a run asks it once per scope: concurrent requests share one pending call,
 * and a token is reused until `marginMs` before it expires. A failure (az not signed in…) is
 * remembered for `failureTtlMs`, so the burst of calls of one survey starts one az process, not
 * one per call. Claims challenges bypass the cache.
 */
export class CachingCredential implements TokenCredential {
  private readonly cache = new Map<string, { token?: AccessToken; pending?: Promise<AccessToken>; failedAt?: number }>();

  constructor(
    private readonly inner: TokenCredential,
    private readonly onToken: (token: string) => void = () => undefined,
    private readonly marginMs = 5 * 60_000,
    private readonly failureTtlMs = 30_000,
  ) {}

  async getToken(scopes: string | string[], options: GetTokenOptions = {}): Promise<AccessToken> {
    const list = typeof scopes === 'string' ? [scopes] : [...scopes];
    if (options.claims) return this.fetch(list, options);
    const key = `${[...list].sort().join(' ')}|${options.tenantId ?? ''}`;
    const hit = this.cache.get(key);
    if (hit?.token && hit.token.expiresOnTimestamp - Date.now() > this.marginMs) return hit.token;
    if (hit?.pending && (hit.failedAt === undefined || Date.now() - hit.failedAt < this.failureTtlMs)) return hit.pending;
    // The caller's abort signal is not passed on: other callers share this request.
    const pending = this.fetch(list, options.tenantId ? { tenantId: options.tenantId } : {}).then(
      (token) => {
        this.cache.set(key, { token });
        return token;
      },
      (e: unknown) => {
        this.cache.set(key, { pending, failedAt: Date.now() });
        throw e;
      },
    );
    pending.catch(() => undefined); // a remembered failure is not an unhandled rejection
    this.cache.set(key, { ...hit, pending });
    return pending;
  }

  private async fetch(scopes: string[], options: GetTokenOptions): Promise<AccessToken> {
    let token: AccessToken | null;
    try {
      token = await this.inner.getToken(scopes, options);
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      throw new ArmError(
        `Cannot get an Azure Resource Manager token from az: ${text.split('\n')[0]}`,
        'CredentialUnavailable',
        { command: 'az account get-access-token' },
        undefined,
        { cause: e },
      );
    }
    if (!token) throw new ArmError('az returned no Azure Resource Manager token.', 'CredentialUnavailable', { command: 'az account get-access-token' });
    this.onToken(token.token);
    return token;
  }
}

// ---- responses and errors ----------------------------------------------------------------------

/** A response through its schema; a shape we do not expect is an ArmError, never a crash later. */
export function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new ArmError(`${what}: Azure Resource Manager returned an unexpected shape (${issue?.path.join('.') || 'root'}: ${issue?.message})`, 'UnexpectedShape', {});
}

interface RestErrorLike {
  name: string;
  message: string;
  code?: string;
  statusCode?: number;
  details?: unknown;
  request?: object;
  response?: { bodyAsText?: string | null };
}

function isRestErrorLike(e: unknown): e is RestErrorLike {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'RestError';
}

/** The ARM error body `{ error: { code, message } }` (some services omit the wrapper). */
function cloudError(body: unknown): { code?: string; message?: string } {
  if (!body || typeof body !== 'object') return {};
  const inner = (body as { error?: unknown }).error ?? body;
  if (!inner || typeof inner !== 'object') return {};
  const { code, message } = inner as { code?: unknown; message?: unknown };
  return { ...(typeof code === 'string' ? { code } : {}), ...(typeof message === 'string' ? { message } : {}) };
}

function safeJson(text: string | null | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The ARM error body of failed responses, by request: some SDK helpers (paging) build their error
 * without the service's message; toArmError() finds it here.
 */
const errorBodies = new WeakMap<object, { code?: string; message?: string }>();

/**
 * Per call: caps it (all its retries and Retry-After waits) in time, and each HTTP attempt; keeps
 * the error body of a failed response.
 */
function armCallPolicy(callTimeoutMs: number, attemptTimeoutMs: number): PipelinePolicy {
  return {
    name: 'azureMlopsArmCall',
    async sendRequest(request, next) {
      if (!request.timeout) request.timeout = attemptTimeoutMs;
      const deadline = AbortSignal.timeout(callTimeoutMs);
      const original = request.abortSignal;
      let outer: AbortSignal | undefined;
      if (original instanceof AbortSignal) outer = original;
      else if (original) {
        const forward = new AbortController();
        if (original.aborted) forward.abort();
        else original.addEventListener('abort', () => forward.abort(), { once: true });
        outer = forward.signal;
      }
      request.abortSignal = outer ? AbortSignal.any([outer, deadline]) : deadline;
      try {
        const response = await next(request);
        if (response.status >= 400) {
          const err = cloudError(safeJson(response.bodyAsText));
          if (err.code || err.message) errorBodies.set(request, err);
        }
        return response;
      } catch (e) {
        if (deadline.aborted && !(original?.aborted ?? false)) {
          throw new ArmError(`no answer within ${Math.round(callTimeoutMs / 1000)} s (retries included)`, 'Timeout', {});
        }
        throw e;
      } finally {
        request.abortSignal = original;
      }
    },
  };
}

// ---- the client every area uses ----------------------------------------------------------------

type Sdk = {
  resources: ResourceManagementClient;
  storage: StorageManagementClient;
  registry: ContainerRegistryManagementClient;
  vault: KeyVaultManagementClient;
  compute: ComputeManagementClient;
};

/**
 * The endpoint, the token, the HTTP client and pipeline, one SDK client per kind and subscription,
 * and `call()`, which turns every failure into an ArmError. The area files make their calls through
 * it; nothing else uses it.
 */
export class ArmClient {
  private endpointP: Promise<ArmEndpoint> | undefined;
  private credentialP: Promise<CachingCredential> | undefined;
  private httpP: Promise<HttpClient> | undefined;
  private pipelineP: Promise<Pipeline> | undefined;
  private readonly clients = new Map<string, Promise<unknown>>();
  /** The options with their defaults. */
  readonly settings: Required<Omit<ArmAdapterOptions, 'httpClient' | 'credential' | 'redactor' | 'retry'>> & { retry: NonNullable<ArmAdapterOptions['retry']> };

  constructor(
    private readonly az: AzAdapter,
    private readonly opts: ArmAdapterOptions = {},
  ) {
    this.settings = {
      callTimeoutMs: opts.callTimeoutMs ?? 45_000,
      attemptTimeoutMs: opts.attemptTimeoutMs ?? 20_000,
      pollIntervalMs: opts.pollIntervalMs ?? 5_000,
      registerTimeoutMs: opts.registerTimeoutMs ?? 5 * 60_000,
      retry: { maxRetries: 3, retryDelayInMs: 1_000, maxRetryDelayInMs: 10_000, ...opts.retry },
    };
  }

  /** The active az cloud's resource manager and token scope (one `az cloud show` per run). */
  endpoint(): Promise<ArmEndpoint> {
    this.endpointP ??= this.az.cached(['cloud', 'show'], cloudSchema).then((c) => {
      const url = c.endpoints.resourceManager.replace(/\/+$/, '');
      return { cloud: c.name, url, scope: armScope(c.endpoints.resourceManager, c.endpoints.activeDirectoryResourceId) };
    });
    return this.endpointP;
  }

  /** The one credential of this run: the az login (or the injected one) behind the token cache. */
  private credential(): Promise<CachingCredential> {
    this.credentialP ??= (async () => {
      const inner = this.opts.credential ?? new AzCliCredential(this.az);
      return new CachingCredential(inner, (t) => this.opts.redactor?.add(t));
    })();
    return this.credentialP;
  }

  private http(): Promise<HttpClient> {
    this.httpP ??= this.opts.httpClient
      ? Promise.resolve(this.opts.httpClient)
      : import('@azure/core-rest-pipeline').then((m) => m.createDefaultHttpClient());
    return this.httpP;
  }

  /** Options every SDK client gets: endpoint and scope of the az cloud, shared HTTP client, caps. */
  private async clientOptions() {
    const [{ url, scope }, httpClient] = await Promise.all([this.endpoint(), this.http()]);
    return {
      endpoint: url,
      credentials: { scopes: [scope] },
      httpClient,
      retryOptions: this.settings.retry,
      additionalPolicies: [{ policy: armCallPolicy(this.settings.callTimeoutMs, this.settings.attemptTimeoutMs), position: 'perCall' as const }],
      userAgentOptions: { userAgentPrefix: 'azure-mlops' },
    };
  }

  /** One SDK client per kind and subscription, built on first use. */
  sdk<K extends keyof Sdk>(kind: K, subscriptionId: string): Promise<Sdk[K]> {
    const key = `${kind}:${subscriptionId}`;
    let p = this.clients.get(key) as Promise<Sdk[K]> | undefined;
    if (!p) {
      p = (async (): Promise<Sdk[K]> => {
        const [cred, options] = await Promise.all([this.credential(), this.clientOptions()]);
        switch (kind) {
          case 'resources':
            return new (await import('@azure/arm-resources')).ResourceManagementClient(cred, subscriptionId, options) as Sdk[K];
          case 'storage':
            return new (await import('@azure/arm-storage')).StorageManagementClient(cred, subscriptionId, options) as Sdk[K];
          case 'registry':
            return new (await import('@azure/arm-containerregistry')).ContainerRegistryManagementClient(cred, subscriptionId, options) as Sdk[K];
          case 'vault':
            return new (await import('@azure/arm-keyvault')).KeyVaultManagementClient(cred, subscriptionId, options) as Sdk[K];
          default:
            return new (await import('@azure/arm-compute')).ComputeManagementClient(cred, subscriptionId, options) as Sdk[K];
        }
      })();
      this.clients.set(key, p);
      p.catch(() => this.clients.delete(key));
    }
    return p;
  }

  /**
   * Runs one ARM call and turns every failure into an ArmError (404 → null when asked). `action` is
   * the Azure RBAC action the call needs, named in 403 messages.
   */
  async call<T>(what: string, action: string, scope: string, fn: () => Promise<T>): Promise<T>;
  async call<T>(what: string, action: string, scope: string, fn: () => Promise<T>, notFound: 'null'): Promise<T | null>;
  async call<T>(what: string, action: string, scope: string, fn: () => Promise<T>, notFound?: 'null'): Promise<T | null> {
    try {
      return await fn();
    } catch (e) {
      if (notFound === 'null' && isRestErrorLike(e) && e.statusCode === 404) return null;
      throw await this.toArmError(what, action, scope, e);
    }
  }

  private async toArmError(what: string, action: string, scope: string, e: unknown): Promise<ArmError> {
    if (e instanceof ArmError) return new ArmError(`${what}: ${e.message}`, e.code, e.details, e.action, { cause: e });
    if (isRestErrorLike(e)) {
      const body = cloudError(e.details);
      const recorded = (e.request && errorBodies.get(e.request)) || {};
      const fromText = cloudError(safeJson(e.response?.bodyAsText));
      const code = body.code ?? recorded.code ?? fromText.code ?? e.code;
      const message = body.message ?? recorded.message ?? fromText.message ?? e.message;
      const status = e.statusCode;
      if (status === 401) {
        return new ArmError(`${what}: Azure Resource Manager rejected the token (401 ${code ?? ''}): ${message} Sign in again with \`az login\`.`, code, { statusCode: status });
      }
      if (status === 403) {
        return new ArmError(`${what}: the signed-in identity lacks the permission '${action}' on ${scope} (403 ${code ?? ''}): ${message}`, code, { statusCode: status }, action);
      }
      if (status === undefined) {
        const { url } = await this.endpoint().catch(() => ({ url: 'Azure Resource Manager' }));
        return new ArmError(`${what}: cannot reach ${url}: ${message}`, code ?? 'RequestSendError', {});
      }
      return new ArmError(`${what}: Azure Resource Manager answered ${status}${code ? ` ${code}` : ''}: ${message}`, code, { statusCode: status });
    }
    if (e instanceof Error && e.name === 'AbortError') return new ArmError(`${what}: the request was aborted (${e.message})`, 'Aborted', {});
    if (e instanceof ExternalError) return new ArmError(`${what}: ${e.message}`, undefined, e.details);
    return new ArmError(`${what}: ${e instanceof Error ? e.message : String(e)}`, undefined, {});
  }

  /** Token, retries and caps like the SDK clients' pipelines, for the calls made without an SDK method. */
  private rawPipeline(): Promise<Pipeline> {
    this.pipelineP ??= (async () => {
      const [{ createPipelineFromOptions, bearerTokenAuthenticationPolicy }, cred, { scope }] = await Promise.all([
        import('@azure/core-rest-pipeline'),
        this.credential(),
        this.endpoint(),
      ]);
      const pipeline = createPipelineFromOptions({ retryOptions: this.settings.retry, userAgentOptions: { userAgentPrefix: 'azure-mlops' } });
      pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential: cred, scopes: scope }));
      pipeline.addPolicy(armCallPolicy(this.settings.callTimeoutMs, this.settings.attemptTimeoutMs));
      return pipeline;
    })();
    this.pipelineP.catch(() => (this.pipelineP = undefined));
    return this.pipelineP;
  }

  /**
   * A request through the same pipeline the SDK clients use (token, retries, caps), for ARM calls no
   * installed SDK offers. `path` is relative to the endpoint (starts with `/`) or an absolute nextLink.
   */
  async rawRequest(method: 'GET' | 'PUT' | 'DELETE', path: string, apiVersion: string | undefined, body?: unknown): Promise<{ status: number; body: unknown }> {
    const [{ createPipelineRequest }, pipeline, { url }, httpClient] = await Promise.all([
      import('@azure/core-rest-pipeline'),
      this.rawPipeline(),
      this.endpoint(),
      this.http(),
    ]);
    const full = path.startsWith('https://') ? path : `${url}${path}`;
    const target = new URL(full);
    if (apiVersion && !target.searchParams.has('api-version')) target.searchParams.set('api-version', apiVersion);
    const request: PipelineRequest = createPipelineRequest({ url: target.toString(), method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    request.headers.set('Accept', 'application/json');
    if (body !== undefined) request.headers.set('Content-Type', 'application/json');
    const res = await pipeline.sendRequest(httpClient, request);
    const parsed = safeJson(res.bodyAsText);
    if (res.status >= 400) {
      const { code, message } = cloudError(parsed);
      // Shaped like the SDK's RestError so call() maps it the same way.
      throw Object.assign(new Error(message ?? `status ${res.status}`), { name: 'RestError', statusCode: res.status, code, details: parsed });
    }
    return { status: res.status, body: parsed };
  }

  rawGet(path: string, apiVersion: string | undefined): Promise<{ status: number; body: unknown }> {
    return this.rawRequest('GET', path, apiVersion);
  }
}
