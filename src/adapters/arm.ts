import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import type { HttpClient, Pipeline, PipelinePolicy, PipelineRequest } from '@azure/core-rest-pipeline';
import type { ResourceManagementClient } from '@azure/arm-resources';
import type { StorageManagementClient } from '@azure/arm-storage';
import type { ContainerRegistryManagementClient } from '@azure/arm-containerregistry';
import type { KeyVaultManagementClient } from '@azure/arm-keyvault';
import type { ComputeManagementClient } from '@azure/arm-compute';
import { z } from 'zod';
import { ExternalError } from '../engine/errors.js';
import type { AzAdapter } from './az.js';

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
 */

export class ArmError extends ExternalError {
  constructor(
    message: string,
    readonly code: string | undefined,
    details: ConstructorParameters<typeof ExternalError>[1],
    /** The Azure RBAC action the call needed (for 403s). */
    readonly action?: string,
  ) {
    super(message, details);
    this.name = 'ArmError';
  }
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
 * Wraps a credential so a run asks it once per scope: concurrent requests share one pending call,
 * and a token is reused until `marginMs` before it expires. A failure (az not signed in…) is
 * remembered for `failureTtlMs`, so the burst of calls of one survey starts one az process, not
 * one per call. Claims challenges bypass the cache.
 */
/**
 * The az login as a TokenCredential: what @azure/identity's AzureCliCredential does
 * (`az account get-access-token --resource <scope without /.default>`), but through the az
 * adapter, so the process gets the CLI's environment and timeout, is counted, and its stdout (the
 * token) is never logged.
 */
export class AzCliCredential implements TokenCredential {
  constructor(private readonly az: AzAdapter) {}

  async getToken(scopes: string | string[]): Promise<AccessToken> {
    const scope = Array.isArray(scopes) ? scopes[0] : scopes;
    if (!scope) throw new ArmError('no token scope given', 'InvalidScope', {});
    const { token, expiresOnTimestamp } = await this.az.accessToken(scope.replace(/\/\.default$/, ''));
    return { token, expiresOnTimestamp };
  }
}

export class CachingCredential implements TokenCredential {
  private readonly cache = new Map<string, { token?: AccessToken; pending?: Promise<AccessToken>; failedAt?: number }>();
  /** How many tokens were actually requested from the inner credential (for tests and benchmarks). */
  fetched = 0;

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
    this.fetched++;
    let token: AccessToken | null;
    try {
      token = await this.inner.getToken(scopes, options);
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      throw new ArmError(
        `Cannot get an Azure Resource Manager token from az: ${text.split('\n')[0]}`,
        'CredentialUnavailable',
        { command: 'az account get-access-token' },
      );
    }
    if (!token) throw new ArmError('az returned no Azure Resource Manager token.', 'CredentialUnavailable', { command: 'az account get-access-token' });
    this.onToken(token.token);
    return token;
  }
}

// ---- shapes ------------------------------------------------------------------------------------

const providerSchema = z.object({ namespace: z.string().optional(), registrationState: z.string().optional() }).passthrough();
const nameAvailabilitySchema = z.object({ nameAvailable: z.boolean().optional(), reason: z.string().optional(), message: z.string().optional() }).passthrough();
const deletedVaultSchema = z
  .object({
    id: z.string().optional(),
    name: z.string().optional(),
    properties: z
      .object({
        vaultId: z.string().optional(),
        location: z.string().optional(),
        deletionDate: z.union([z.date(), z.string()]).optional(),
        scheduledPurgeDate: z.union([z.date(), z.string()]).optional(),
        purgeProtectionEnabled: z.boolean().optional(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough();
const usageSchema = z
  .object({
    currentValue: z.number(),
    limit: z.number(),
    name: z.object({ value: z.string(), localizedValue: z.string().optional() }).passthrough(),
  })
  .passthrough();
const mlUsageSchema = usageSchema.extend({ id: z.string().optional(), type: z.string().optional() });
const skuSchema = z
  .object({
    resourceType: z.string().optional(),
    name: z.string().optional(),
    family: z.string().optional(),
    capabilities: z.array(z.object({ name: z.string().optional(), value: z.string().optional() }).passthrough()).optional(),
    restrictions: z
      .array(
        z
          .object({
            type: z.string().optional(),
            values: z.array(z.string()).optional(),
            reasonCode: z.string().optional(),
          })
          .passthrough(),
      )
      .optional(),
  })
  .passthrough();
const permissionSchema = z
  .object({
    actions: z.array(z.string()).optional(),
    notActions: z.array(z.string()).optional(),
    condition: z.string().nullish(),
  })
  .passthrough();
const permissionPageSchema = z.object({ value: z.array(permissionSchema), nextLink: z.string().nullish() }).passthrough();
const mlUsagePageSchema = z.object({ value: z.array(mlUsageSchema), nextLink: z.string().nullish() }).passthrough();
const genericResourceSchema = z
  .object({ id: z.string().optional(), name: z.string().optional(), type: z.string().optional(), location: z.string().optional() })
  .passthrough();

export type RegistrationState = 'Registered' | 'Registering' | 'NotRegistered' | 'Unregistering' | 'Unregistered' | 'Unknown' | (string & {});

export interface NameAvailability {
  available: boolean;
  /** `AlreadyExists` or `Invalid` (AccountNameInvalid for storage) when not available. */
  reason?: string;
  message?: string;
}

export interface DeletedVault {
  name: string;
  location: string;
  /** Resource id the vault had (its resource group tells whose it was). */
  vaultId?: string;
  deletionDate?: Date;
  /** When Azure purges it by itself and the name is free again. */
  scheduledPurgeDate?: Date;
  purgeProtectionEnabled: boolean;
}

export interface Usage {
  current: number;
  /** Infinity when the service reports no limit (-1). */
  limit: number;
  label: string;
}

export interface VmSku {
  /** The quota family, e.g. standardDSv5Family. */
  family: string;
  vCPUs: number;
  /** Why this subscription cannot use the size in the region (NotAvailableForSubscription…), if so. */
  restricted?: string;
}

export interface Permission {
  actions: string[];
  notActions: string[];
  condition?: string;
}

export interface GenericResource {
  id?: string;
  name?: string;
  type?: string;
  location?: string;
  [k: string]: unknown;
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

/** api-versions of the calls made without a typed SDK method. */
/** Microsoft.ManagedIdentity: user-assigned identities and their federated credentials. */
export const MANAGED_IDENTITY_API_VERSION = '2023-01-31';

const API = {
  permissions: '2022-04-01',
  mlUsages: '2024-04-01',
  subscriptions: '2022-12-01',
  managedIdentity: MANAGED_IDENTITY_API_VERSION,
} as const;

/** What each call needs in Azure RBAC, named in 403 messages. */
const ACTION = {
  providerRead: 'Microsoft.Resources/subscriptions/providers/read',
  providerRegister: (ns: string) => `${ns}/register/action`,
  storageName: 'Microsoft.Storage/checknameavailability/read',
  registryName: 'Microsoft.ContainerRegistry/checkNameAvailability/read',
  vaultName: 'Microsoft.KeyVault/checkNameAvailability/read',
  deletedVaultRead: 'Microsoft.KeyVault/locations/deletedVaults/read',
  deletedVaultList: 'Microsoft.KeyVault/deletedVaults/read',
  deletedVaultPurge: 'Microsoft.KeyVault/locations/deletedVaults/purge/action',
  computeUsages: 'Microsoft.Compute/locations/usages/read',
  skus: 'Microsoft.Compute/skus/read',
  mlUsages: 'Microsoft.MachineLearningServices/locations/usages/read',
  permissions: 'Microsoft.Authorization/permissions/read',
  resourceRead: '*/read',
  runCommandWrite: 'Microsoft.Compute/virtualMachines/runCommands/write',
  runCommandRead: 'Microsoft.Compute/virtualMachines/runCommands/read',
  runCommandDelete: 'Microsoft.Compute/virtualMachines/runCommands/delete',
  ficRead: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read',
  ficWrite: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write',
  ficDelete: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete',
} as const;

export const ROLE_ASSIGNMENT_WRITE = 'Microsoft.Authorization/roleAssignments/write';

/** Matches an ARM action against a pattern with `*` wildcards, case-insensitively. */
export function actionMatches(pattern: string, action: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`, 'i');
  return re.test(action);
}

/**
 * Whether the permissions allow `action`: some entry lists it in `actions` and does not exclude it
 * in its own `notActions` (Azure RBAC: the union over role assignments of actions minus notActions).
 * `conditional` is true when only entries with an ABAC condition allow it. Deny assignments are not
 * visible here.
 */
export function isActionAllowed(perms: readonly Permission[], action: string): { allowed: boolean; conditional: boolean } {
  let unconditional = false;
  let conditional = false;
  for (const p of perms) {
    if (!p.actions.some((a) => actionMatches(a, action))) continue;
    if (p.notActions.some((a) => actionMatches(a, action))) continue;
    if (p.condition) conditional = true;
    else unconditional = true;
  }
  return { allowed: unconditional || conditional, conditional: !unconditional && conditional };
}

function toDate(v: Date | string | undefined): Date | undefined {
  if (v === undefined) return undefined;
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
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

type Sdk = {
  resources: ResourceManagementClient;
  storage: StorageManagementClient;
  registry: ContainerRegistryManagementClient;
  vault: KeyVaultManagementClient;
  compute: ComputeManagementClient;
};

export class ArmAdapter {
  private endpointP: Promise<ArmEndpoint> | undefined;
  private credentialP: Promise<CachingCredential> | undefined;
  private httpP: Promise<HttpClient> | undefined;
  private pipelineP: Promise<Pipeline> | undefined;
  private readonly clients = new Map<string, Promise<unknown>>();
  private readonly o: Required<Omit<ArmAdapterOptions, 'httpClient' | 'credential' | 'redactor' | 'retry'>> & { retry: NonNullable<ArmAdapterOptions['retry']> };

  constructor(
    readonly az: AzAdapter,
    private readonly opts: ArmAdapterOptions = {},
  ) {
    this.o = {
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
  credential(): Promise<CachingCredential> {
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
      retryOptions: this.o.retry,
      additionalPolicies: [{ policy: armCallPolicy(this.o.callTimeoutMs, this.o.attemptTimeoutMs), position: 'perCall' as const }],
      userAgentOptions: { userAgentPrefix: 'azure-mlops' },
    };
  }

  /** One SDK client per kind and subscription, built on first use. */
  private client<K extends keyof Sdk>(kind: K, subscriptionId: string): Promise<Sdk[K]> {
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

  /** Runs one ARM call and turns every failure into an ArmError (404 → null when asked). */
  private async call<T>(what: string, action: string, scope: string, fn: () => Promise<T>): Promise<T>;
  private async call<T>(what: string, action: string, scope: string, fn: () => Promise<T>, notFound: 'null'): Promise<T | null>;
  private async call<T>(what: string, action: string, scope: string, fn: () => Promise<T>, notFound?: 'null'): Promise<T | null> {
    try {
      return await fn();
    } catch (e) {
      if (notFound === 'null' && isRestErrorLike(e) && e.statusCode === 404) return null;
      throw await this.toArmError(what, action, scope, e);
    }
  }

  private async toArmError(what: string, action: string, scope: string, e: unknown): Promise<ArmError> {
    if (e instanceof ArmError) return new ArmError(`${what}: ${e.message}`, e.code, e.details, e.action);
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
      const pipeline = createPipelineFromOptions({ retryOptions: this.o.retry, userAgentOptions: { userAgentPrefix: 'azure-mlops' } });
      pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential: cred, scopes: scope }));
      pipeline.addPolicy(armCallPolicy(this.o.callTimeoutMs, this.o.attemptTimeoutMs));
      return pipeline;
    })();
    this.pipelineP.catch(() => (this.pipelineP = undefined));
    return this.pipelineP;
  }

  /**
   * A request through the same pipeline the SDK clients use (token, retries, caps), for ARM calls no
   * installed SDK offers. `path` is relative to the endpoint (starts with `/`) or an absolute nextLink.
   */
  private async rawRequest(method: 'GET' | 'PUT' | 'DELETE', path: string, apiVersion: string | undefined, body?: unknown): Promise<{ status: number; body: unknown }> {
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

  private rawGet(path: string, apiVersion: string | undefined): Promise<{ status: number; body: unknown }> {
    return this.rawRequest('GET', path, apiVersion);
  }

  // ---- resource providers ----------------------------------------------------------------------

  /** registrationState of each namespace (`NotFound` when the subscription does not know it). */
  async providerStates(subscriptionId: string, namespaces: readonly string[]): Promise<Record<string, RegistrationState>> {
    const client = await this.client('resources', subscriptionId);
    const entries = await Promise.all(
      namespaces.map(async (ns) => {
        const p = await this.call(`reading resource provider ${ns}`, ACTION.providerRead, `/subscriptions/${subscriptionId}`, () => client.providers.get(ns), 'null');
        if (p === null) return [ns, 'NotFound'] as const;
        return [ns, parse(providerSchema, p, `resource provider ${ns}`).registrationState ?? 'Unknown'] as const;
      }),
    );
    return Object.fromEntries(entries);
  }

  /**
   * Registers a provider and (unless `wait: false`) waits until it is `Registered`, bounded by
   * registerTimeoutMs. Returns the last state seen.
   */
  async registerProvider(subscriptionId: string, namespace: string, opts: { wait?: boolean } = {}): Promise<RegistrationState> {
    const client = await this.client('resources', subscriptionId);
    const scope = `/subscriptions/${subscriptionId}`;
    const first = await this.call(`registering resource provider ${namespace}`, ACTION.providerRegister(namespace), scope, () => client.providers.register(namespace));
    const state: RegistrationState = parse(providerSchema, first, `resource provider ${namespace}`).registrationState ?? 'Unknown';
    if (opts.wait === false || state === 'Registered') return state;
    return this.waitForProvider(subscriptionId, namespace);
  }

  /** Polls until the provider is `Registered` (bounded by registerTimeoutMs); returns the state. */
  async waitForProvider(subscriptionId: string, namespace: string): Promise<RegistrationState> {
    const until = Date.now() + this.o.registerTimeoutMs;
    let state: RegistrationState = (await this.providerStates(subscriptionId, [namespace]))[namespace] ?? 'Unknown';
    while (state !== 'Registered') {
      if (Date.now() >= until) {
        throw new ArmError(
          `resource provider ${namespace} is still ${state} after ${Math.round(this.o.registerTimeoutMs / 1000)} s`,
          'RegistrationTimeout',
          {},
        );
      }
      await new Promise((r) => setTimeout(r, this.o.pollIntervalMs));
      state = (await this.providerStates(subscriptionId, [namespace]))[namespace] ?? 'Unknown';
    }
    return state;
  }

  // ---- global names ----------------------------------------------------------------------------

  async storageNameAvailable(subscriptionId: string, name: string): Promise<NameAvailability> {
    const client = await this.client('storage', subscriptionId);
    const r = await this.call(`checking the storage account name ${name}`, ACTION.storageName, `/subscriptions/${subscriptionId}`, () =>
      client.storageAccounts.checkNameAvailability({ name, type: 'Microsoft.Storage/storageAccounts' }),
    );
    return toAvailability(parse(nameAvailabilitySchema, r, 'storage name check'));
  }

  async registryNameAvailable(subscriptionId: string, name: string): Promise<NameAvailability> {
    const client = await this.client('registry', subscriptionId);
    const r = await this.call(`checking the container registry name ${name}`, ACTION.registryName, `/subscriptions/${subscriptionId}`, () =>
      client.registries.checkNameAvailability({ name, type: 'Microsoft.ContainerRegistry/registries' }),
    );
    return toAvailability(parse(nameAvailabilitySchema, r, 'container registry name check'));
  }

  async keyVaultNameAvailable(subscriptionId: string, name: string): Promise<NameAvailability> {
    const client = await this.client('vault', subscriptionId);
    const r = await this.call(`checking the key vault name ${name}`, ACTION.vaultName, `/subscriptions/${subscriptionId}`, () =>
      client.vaults.checkNameAvailability({ name, type: 'Microsoft.KeyVault/vaults' }),
    );
    return toAvailability(parse(nameAvailabilitySchema, r, 'key vault name check'));
  }

  // ---- soft-deleted key vaults -----------------------------------------------------------------

  /** The soft-deleted vault `name` in `location` of this subscription, or null. */
  async deletedVault(subscriptionId: string, location: string, name: string): Promise<DeletedVault | null> {
    const client = await this.client('vault', subscriptionId);
    const r = await this.call(`looking for a soft-deleted key vault ${name}`, ACTION.deletedVaultRead, `/subscriptions/${subscriptionId}`, () => client.vaults.getDeleted(name, location), 'null');
    return r === null ? null : toDeletedVault(parse(deletedVaultSchema, r, 'deleted vault'), name, location);
  }

  /** Every soft-deleted vault of the subscription (any location). */
  async deletedVaults(subscriptionId: string): Promise<DeletedVault[]> {
    const client = await this.client('vault', subscriptionId);
    return this.call(`listing soft-deleted key vaults`, ACTION.deletedVaultList, `/subscriptions/${subscriptionId}`, async () => {
      const out: DeletedVault[] = [];
      for await (const v of client.vaults.listDeleted()) {
        const d = parse(deletedVaultSchema, v, 'deleted vault');
        out.push(toDeletedVault(d, d.name ?? '', d.properties?.location ?? ''));
      }
      return out;
    });
  }

  /** Permanently deletes a soft-deleted vault (long-running; waits for the end, bounded). */
  async purgeDeletedVault(subscriptionId: string, location: string, name: string): Promise<void> {
    const client = await this.client('vault', subscriptionId);
    await this.call(`purging the soft-deleted key vault ${name}`, ACTION.deletedVaultPurge, `/subscriptions/${subscriptionId}`, async () => {
      const poller = client.vaults.purgeDeleted(name, location, { updateIntervalInMs: this.o.pollIntervalMs });
      await poller.pollUntilDone({ abortSignal: AbortSignal.timeout(this.o.registerTimeoutMs) });
    });
  }

  // ---- quota -----------------------------------------------------------------------------------

  /**
   * Compute quota in a region, keyed by the usage name: VM families (`standardDSv5Family`…),
   * `cores` (total regional vCPUs) and `lowPriorityCores` (spot/low-priority VMs).
   */
  async computeUsages(subscriptionId: string, location: string): Promise<Record<string, Usage>> {
    const client = await this.client('compute', subscriptionId);
    return this.call(`reading the compute quota in ${location}`, ACTION.computeUsages, `/subscriptions/${subscriptionId}`, async () => {
      const out: Record<string, Usage> = {};
      for await (const u of client.usage.list(location)) {
        const v = parse(usageSchema, u, 'compute usage');
        out[v.name.value] = { current: v.currentValue, limit: v.limit < 0 ? Number.POSITIVE_INFINITY : v.limit, label: v.name.localizedValue ?? v.name.value };
      }
      return out;
    });
  }

  /**
   * Azure ML compute quota in a region (separate from the Compute provider's quota), keyed by usage
   * name: `Total Cluster Dedicated Regional vCPUs`, `Total Cluster LowPriority Regional vCPUs`,
   * `Standard DSv2 Family Cluster Dedicated vCPUs`… Workspace-level entries are left out.
   */
  async mlComputeUsages(subscriptionId: string, location: string): Promise<Record<string, Usage>> {
    const scope = `/subscriptions/${subscriptionId}`;
    return this.call(`reading the Azure ML compute quota in ${location}`, ACTION.mlUsages, scope, async () => {
      const out: Record<string, Usage> = {};
      let next: string | undefined = `${scope}/providers/Microsoft.MachineLearningServices/locations/${encodeURIComponent(location)}/usages`;
      for (let page = 0; next && page < 20; page++) {
        const { body } = await this.rawGet(next, API.mlUsages);
        const p = parse(mlUsagePageSchema, body, 'Azure ML usages');
        for (const u of p.value) {
          if (u.id && /\/workspaces?\//i.test(u.id)) continue;
          if (u.type && /\/workspaces?\//i.test(u.type)) continue;
          out[u.name.value] = { current: u.currentValue, limit: u.limit < 0 ? Number.POSITIVE_INFINITY : u.limit, label: u.name.localizedValue ?? u.name.value };
        }
        next = p.nextLink ?? undefined;
      }
      return out;
    });
  }

  /** VM sizes offered in a region (from resource SKUs): name → quota family and vCPUs. */
  async vmSkus(subscriptionId: string, location: string): Promise<Record<string, VmSku>> {
    const client = await this.client('compute', subscriptionId);
    return this.call(`listing VM sizes in ${location}`, ACTION.skus, `/subscriptions/${subscriptionId}`, async () => {
      const out: Record<string, VmSku> = {};
      for await (const s of client.resourceSkus.list({ filter: `location eq '${location}'` })) {
        const sku = parse(skuSchema, s, 'resource SKU');
        if (sku.resourceType?.toLowerCase() !== 'virtualmachines' || !sku.name || !sku.family) continue;
        const vcpus = Number(sku.capabilities?.find((c) => c.name === 'vCPUs')?.value);
        if (!Number.isFinite(vcpus)) continue;
        const blocked = sku.restrictions?.find((r) => r.type === 'Location' && (r.values ?? []).some((v) => v.toLowerCase() === location.toLowerCase()));
        out[sku.name] = { family: sku.family, vCPUs: vcpus, ...(blocked ? { restricted: blocked.reasonCode ?? 'restricted' } : {}) };
      }
      return out;
    });
  }

  // ---- rights ----------------------------------------------------------------------------------

  /** The signed-in identity's effective permissions at `scope` (`/subscriptions/…[/resourceGroups/…]`). */
  async permissions(scope: string): Promise<Permission[]> {
    const clean = `/${scope.replace(/^\/+|\/+$/g, '')}`;
    return this.call(`reading your permissions on ${clean}`, ACTION.permissions, clean, async () => {
      const out: Permission[] = [];
      let next: string | undefined = `${clean}/providers/Microsoft.Authorization/permissions`;
      for (let page = 0; next && page < 20; page++) {
        const { body } = await this.rawGet(next, API.permissions);
        const p = parse(permissionPageSchema, body, 'permissions');
        for (const e of p.value) out.push({ actions: e.actions ?? [], notActions: e.notActions ?? [], ...(e.condition ? { condition: e.condition } : {}) });
        next = p.nextLink ?? undefined;
      }
      return out;
    });
  }

  /** Whether the identity may create role assignments at `scope` (Owner, User Access Administrator…). */
  async canCreateRoleAssignments(subscriptionId: string, scope = `/subscriptions/${subscriptionId}`): Promise<boolean> {
    return isActionAllowed(await this.permissions(scope), ROLE_ASSIGNMENT_WRITE).allowed;
  }

  // ---- subscription ----------------------------------------------------------------------------

  /** The subscription as ARM sees it (null when the login cannot see it). */
  async subscription(subscriptionId: string): Promise<{ subscriptionId: string; displayName: string; state: string } | null> {
    return this.call(`reading subscription ${subscriptionId}`, ACTION.resourceRead, `/subscriptions/${subscriptionId}`, async () => {
      const { body } = await this.rawGet(`/subscriptions/${subscriptionId}`, API.subscriptions);
      return parse(subscriptionSchema, body, 'subscription');
    }, 'null');
  }

  // ---- run commands ----------------------------------------------------------------------------

  /**
   * Runs a script on a VM through a managed Run Command and waits for it. `protectedParameters`
   * travel to Azure over HTTPS only, are never returned by GETs, and reach the script as
   * environment variables on Linux. The caller deletes the run command afterwards.
   */
  async runCommand(
    vmId: string,
    name: string,
    opts: { location: string; script: string; parameters?: Array<{ name: string; value: string }>; protectedParameters?: Array<{ name: string; value: string }>; timeoutInSeconds?: number },
  ): Promise<{ state: string; exitCode?: number; output?: string; error?: string }> {
    const { sub, rg, vm } = splitVmId(vmId);
    const client = await this.client('compute', sub);
    const runCommands = (client as unknown as { virtualMachineRunCommands: RunCommandsOps }).virtualMachineRunCommands;
    await this.call(`running '${name}' on ${vm}`, ACTION.runCommandWrite, vmId, async () =>
      // The SDK model is flat; it serialises these into the resource's `properties`.
      runCommands.createOrUpdate(rg, vm, name, {
        location: opts.location,
        source: { script: opts.script },
        parameters: opts.parameters ?? [],
        protectedParameters: opts.protectedParameters ?? [],
        asyncExecution: false,
        timeoutInSeconds: opts.timeoutInSeconds ?? 900,
        treatFailureAsDeploymentFailure: false,
      }),
    );
    const got = await this.call(`reading the result of '${name}' on ${vm}`, ACTION.runCommandRead, vmId, () => runCommands.getByVirtualMachine(rg, vm, name, { expand: 'instanceView' }));
    const view: { executionState?: string | undefined; exitCode?: number | undefined; output?: string | undefined; error?: string | undefined } = parse(runCommandViewSchema, got, 'run command');
    return {
      state: view.executionState ?? 'Unknown',
      ...(typeof view.exitCode === 'number' ? { exitCode: view.exitCode } : {}),
      ...(view.output ? { output: view.output } : {}),
      ...(view.error ? { error: view.error } : {}),
    };
  }

  async deleteRunCommand(vmId: string, name: string): Promise<void> {
    const { sub, rg, vm } = splitVmId(vmId);
    const client = await this.client('compute', sub);
    const runCommands = (client as unknown as { virtualMachineRunCommands: RunCommandsOps }).virtualMachineRunCommands;
    await this.call(`deleting run command '${name}' on ${vm}`, ACTION.runCommandDelete, vmId, async () => runCommands.delete(rg, vm, name), 'null');
  }

  // ---- federated credentials of a user-assigned managed identity (the pipeline identity) -------

  /** The identity's federated credentials, or null when the identity (or its group) does not exist. */
  async federatedCredentials(identityId: string): Promise<FederatedCredential[] | null> {
    const id = `/${identityId.replace(/^\/+/, '')}`;
    return this.call(`listing the federated credentials of ${id.split('/').pop()}`, ACTION.ficRead, id, async () => {
      const out: FederatedCredential[] = [];
      let next: string | undefined = `${id}/federatedIdentityCredentials`;
      for (let page = 0; next && page < 20; page++) {
        const { body } = await this.rawGet(next, API.managedIdentity);
        const p = parse(ficPageSchema, body, 'federated identity credentials');
        out.push(...p.value.map(toFederatedCredential));
        next = p.nextLink ?? undefined;
      }
      return out;
    }, 'null');
  }

  /** Creates (or replaces) a federated credential named `name` on the identity. */
  async putFederatedCredential(identityId: string, name: string, fc: Omit<FederatedCredential, 'name' | 'id'>): Promise<FederatedCredential> {
    const id = `/${identityId.replace(/^\/+/, '')}/federatedIdentityCredentials/${encodeURIComponent(name)}`;
    return this.call(`adding the federated credential ${name}`, ACTION.ficWrite, id, async () => {
      const { body } = await this.rawRequest('PUT', id, API.managedIdentity, { properties: { issuer: fc.issuer, subject: fc.subject, audiences: fc.audiences } });
      return toFederatedCredential(parse(ficSchema, body, 'federated identity credential'));
    });
  }

  /**
   * Deletes a federated credential: true when it was deleted, false when it (or its identity) was
   * already gone (ARM answers 204, or 404 for a missing identity).
   */
  async deleteFederatedCredential(identityId: string, name: string): Promise<boolean> {
    const id = `/${identityId.replace(/^\/+/, '')}/federatedIdentityCredentials/${encodeURIComponent(name)}`;
    const r = await this.call(`deleting the federated credential ${name}`, ACTION.ficDelete, id, () => this.rawRequest('DELETE', id, API.managedIdentity), 'null');
    return r !== null && r.status !== 204;
  }

  // ---- any resource ----------------------------------------------------------------------------

  /** A resource by id, or null when it (or its resource group) does not exist. */
  async getResource(id: string, apiVersion: string): Promise<GenericResource | null> {
    const sub = /^\/?subscriptions\/([^/]+)/i.exec(id)?.[1];
    if (!sub) throw new ArmError(`'${id}' is not an ARM resource id (expected /subscriptions/…)`, 'InvalidResourceId', {});
    const client = await this.client('resources', sub);
    const r = await this.call(`reading ${id}`, ACTION.resourceRead, id, () => client.resources.getById(id.replace(/^\/+/, ''), apiVersion), 'null');
    return r === null ? null : (parse(genericResourceSchema, r, id) as GenericResource);
  }
}

export interface FederatedCredential {
  id?: string;
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
}

const ficSchema = z
  .object({ id: z.string().optional(), name: z.string(), properties: z.object({ issuer: z.string(), subject: z.string(), audiences: z.array(z.string()).nullish() }).passthrough() })
  .passthrough();
const ficPageSchema = z.object({ value: z.array(ficSchema), nextLink: z.string().nullish() }).passthrough();

function toFederatedCredential(f: z.infer<typeof ficSchema>): FederatedCredential {
  return { ...(f.id ? { id: f.id } : {}), name: f.name, issuer: f.properties.issuer, subject: f.properties.subject, audiences: f.properties.audiences ?? [] };
}

const subscriptionSchema = z.object({ subscriptionId: z.string(), displayName: z.string(), state: z.string() }).passthrough();

interface RunCommandsOps {
  createOrUpdate(rg: string, vm: string, name: string, body: Record<string, unknown>): PromiseLike<unknown>;
  getByVirtualMachine(rg: string, vm: string, name: string, opts: { expand: string }): Promise<unknown>;
  delete(rg: string, vm: string, name: string): PromiseLike<unknown>;
}

const instanceViewSchema = z
  .object({ executionState: z.string().nullish(), exitCode: z.number().nullish(), output: z.string().nullish(), error: z.string().nullish() })
  .passthrough();
/** The SDK returns the model flattened (`instanceView` at the top); raw ARM nests it in `properties`. */
const runCommandViewSchema = z
  .object({ instanceView: instanceViewSchema.nullish(), properties: z.object({ instanceView: instanceViewSchema.nullish() }).passthrough().nullish() })
  .passthrough()
  .transform((r) => {
    const v = r.instanceView ?? r.properties?.instanceView;
    return v ? { executionState: v.executionState ?? undefined, exitCode: v.exitCode ?? undefined, output: v.output ?? undefined, error: v.error ?? undefined } : {};
  });

function splitVmId(id: string): { sub: string; rg: string; vm: string } {
  const m = /^\/?subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)$/i.exec(id);
  if (!m) throw new ArmError(`'${id}' is not a virtual machine id`, 'InvalidResourceId', {});
  return { sub: m[1]!, rg: m[2]!, vm: m[3]! };
}

function toAvailability(r: z.infer<typeof nameAvailabilitySchema>): NameAvailability {
  return { available: r.nameAvailable === true, ...(r.reason ? { reason: r.reason } : {}), ...(r.message ? { message: r.message } : {}) };
}

function toDeletedVault(d: z.infer<typeof deletedVaultSchema>, name: string, location: string): DeletedVault {
  const p = d.properties ?? {};
  const deletionDate = toDate(p.deletionDate);
  const scheduledPurgeDate = toDate(p.scheduledPurgeDate);
  return {
    name: d.name ?? name,
    location: p.location ?? location,
    ...(p.vaultId ? { vaultId: p.vaultId } : {}),
    ...(deletionDate ? { deletionDate } : {}),
    ...(scheduledPurgeDate ? { scheduledPurgeDate } : {}),
    purgeProtectionEnabled: p.purgeProtectionEnabled === true,
  };
}
