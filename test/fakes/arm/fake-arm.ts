import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDefaultHttpClient, type HttpClient } from '@azure/core-rest-pipeline';
import { testCert } from './certs.js';

/**
 * A fake Azure Resource Manager on 127.0.0.1 over HTTPS (self-signed certificate, see certs.ts).
 * It serves exactly the routes ArmAdapter's SDK clients call, with an api-version on each, keeps a
 * scriptable world (providers, taken names, soft-deleted vaults, usages, SKUs, permissions,
 * resources), records every request (method, path, query, body, and whether a bearer token came —
 * never the token), injects faults (429 + Retry-After, 500…) and answers any other route 501
 * naming it.
 */

export interface FakeDeletedVault {
  name: string;
  location: string;
  deletionDate?: string;
  scheduledPurgeDate?: string;
  purgeProtectionEnabled?: boolean;
  /** The resource group the vault was in. */
  resourceGroup?: string;
}

export interface FakeSku {
  name: string;
  family: string;
  vCPUs: number;
  /** Regions offering it (default: every region). */
  locations?: string[];
  /** Location restriction for the subscription, e.g. NotAvailableForSubscription. */
  restricted?: string;
}

export interface FakeUsage {
  name: string;
  localizedName?: string;
  current: number;
  limit: number;
}

export interface FakeFault {
  method?: string;
  /** Case-insensitive regex source matched against the path. */
  path: string;
  status: number;
  /** How many requests it hits (default 1). */
  times?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Milliseconds to wait before answering (also for the timeout tests). */
  delayMs?: number;
}

export interface FakeArmWorld {
  /** namespace → registrationState (a namespace not listed does not exist: 404). */
  providers: Record<string, string>;
  /** Provider GETs answering `Registering` after a register call, before `Registered`. */
  registrationPolls: number;
  /** Names taken by someone else (the name checks also see resources in `resources`). */
  takenNames: { storage: string[]; registry: string[]; vault: string[] };
  deletedVaults: FakeDeletedVault[];
  /** Polls of a purge operation answering 202 before it completes. */
  purgePolls: number;
  /** Compute provider usages per location (`*` = any location). */
  computeUsages: Record<string, FakeUsage[]>;
  /** Azure ML usages per location (`*` = any location); `name` is the usage name value. */
  mlUsages: Record<string, (FakeUsage & { type?: string })[]>;
  /** Managed DevOps Pools usages per location (`*` = any location): vCPUs per VM family. */
  managedPoolUsages: Record<string, FakeUsage[]>;
  skus: FakeSku[];
  /** The signed-in identity's effective permissions (any scope). */
  permissions: { actions: string[]; notActions?: string[]; condition?: string }[];
  /** Resource id (any case) → resource body. */
  resources: Record<string, Record<string, unknown>>;
  faults: FakeFault[];
  /** Subscriptions the login can see. */
  subscriptions?: Array<{ subscriptionId: string; displayName: string; state: string; tenantId?: string }>;
  /** Run commands by id (lower case), as stored: protectedParameters are kept but never returned. */
  runCommands: Record<string, { body: Record<string, unknown>; exitCode: number; output: string }>;
}

/** The part of a Microsoft.DevOpsInfrastructure/pools body the fake reads (REST spec 2025-01-21, Pool). */
export interface ManagedPoolBody {
  location?: string;
  /** The module's tags (azure-mlops-deployment among them, as on every resource it creates). */
  tags?: Record<string, string>;
  properties?: {
    maximumConcurrency?: number;
    organizationProfile?: { kind?: string; organizations?: Array<{ url: string; projects?: string[]; parallelism?: number }> };
  };
}

export interface ArmRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** An `Authorization: Bearer …` header came (the token itself is never recorded). */
  bearer: boolean;
}

export const OWNER = [{ actions: ['*'], notActions: [] }];
export const CONTRIBUTOR = [
  {
    actions: ['*'],
    notActions: [
      'Microsoft.Authorization/*/Delete',
      'Microsoft.Authorization/*/Write',
      'Microsoft.Authorization/elevateAccess/Action',
      'Microsoft.Blueprint/blueprintAssignments/write',
      'Microsoft.Blueprint/blueprintAssignments/delete',
      'Microsoft.Compute/galleries/share/action',
      'Microsoft.Purview/consents/write',
      'Microsoft.Purview/consents/delete',
      'Microsoft.Resources/deploymentStacks/manageDenySetting/action',
      'Microsoft.Subscription/cancel/action',
      'Microsoft.Subscription/enable/action',
    ],
  },
];
export const READER = [{ actions: ['*/read'], notActions: [] }];
export const USER_ACCESS_ADMINISTRATOR = [{ actions: ['*/read', 'Microsoft.Authorization/*', 'Microsoft.Support/*'], notActions: [] }];

export const ALL_PROVIDERS = [
  'Microsoft.Compute',
  'Microsoft.ContainerRegistry',
  'Microsoft.ContainerService',
  'Microsoft.Insights',
  'Microsoft.KeyVault',
  'Microsoft.KubernetesConfiguration',
  'Microsoft.MachineLearningServices',
  'Microsoft.ManagedIdentity',
  'Microsoft.Network',
  'Microsoft.OperationalInsights',
  'Microsoft.Storage',
  'Microsoft.Resources',
  // A Managed DevOps Pool's (--agents-host managed-pool); registered here, as in a subscription
  // that has used Managed DevOps Pools before (a test sets them NotRegistered to see them registered).
  'Microsoft.DevCenter',
  'Microsoft.DevOpsInfrastructure',
];

export function defaultArmWorld(): FakeArmWorld {
  return {
    providers: Object.fromEntries(ALL_PROVIDERS.map((p) => [p, 'Registered'])),
    registrationPolls: 1,
    takenNames: { storage: [], registry: [], vault: [] },
    deletedVaults: [],
    purgePolls: 1,
    computeUsages: {
      '*': [
        { name: 'cores', localizedName: 'Total Regional vCPUs', current: 4, limit: 100 },
        { name: 'lowPriorityCores', localizedName: 'Total Regional Low-priority vCPUs', current: 0, limit: 100 },
        { name: 'standardDSv5Family', localizedName: 'Standard DSv5 Family vCPUs', current: 0, limit: 100 },
        { name: 'standardDSv2Family', localizedName: 'Standard DSv2 Family vCPUs', current: 4, limit: 100 },
        { name: 'standardDSv3Family', localizedName: 'Standard DSv3 Family vCPUs', current: 0, limit: 10 },
        { name: 'virtualMachines', localizedName: 'Virtual Machines', current: 1, limit: 25000 },
      ],
    },
    mlUsages: {
      '*': [
        { name: 'Total Cluster Dedicated Regional vCPUs', current: 0, limit: 100, type: 'Microsoft.MachineLearningServices/dedicatedCores/usages' },
        { name: 'Total Cluster LowPriority Regional vCPUs', current: 0, limit: 100, type: 'Microsoft.MachineLearningServices/lowPriorityCores/usages' },
        { name: 'Standard DSv2 Family Cluster Dedicated vCPUs', current: 0, limit: 24, type: 'Microsoft.MachineLearningServices/vmFamily/usages' },
        { name: 'Standard DSv2 Family Cluster LowPriority vCPUs', current: 0, limit: -1, type: 'Microsoft.MachineLearningServices/vmFamily/usages' },
      ],
    },
    // Managed DevOps Pools quota, per VM family: the service grants 5 vCPUs per family by default
    // ("Prerequisites for Managed DevOps Pools"); generous here like the others, a test lowers it.
    managedPoolUsages: {
      '*': [
        { name: 'standardDADSv5Family', localizedName: 'Standard DADSv5 Family vCPUs', current: 0, limit: 100 },
        { name: 'standardDSv5Family', localizedName: 'Standard DSv5 Family vCPUs', current: 0, limit: 5 },
      ],
    },
    skus: [
      { name: 'Standard_D2ads_v5', family: 'standardDADSv5Family', vCPUs: 2 },
      { name: 'Standard_D2s_v5', family: 'standardDSv5Family', vCPUs: 2 },
      { name: 'Standard_D4s_v5', family: 'standardDSv5Family', vCPUs: 4 },
      { name: 'Standard_D8s_v5', family: 'standardDSv5Family', vCPUs: 8 },
      { name: 'Standard_DS3_v2', family: 'standardDSv2Family', vCPUs: 4 },
      { name: 'Standard_D2s_v3', family: 'standardDSv3Family', vCPUs: 2 },
    ],
    permissions: OWNER,
    resources: {},
    runCommands: {},
    subscriptions: [
      { subscriptionId: '22222222-2222-2222-2222-222222222222', displayName: 'Contoso Dev', state: 'Enabled', tenantId: '11111111-1111-1111-1111-111111111111' },
      { subscriptionId: '33333333-3333-3333-3333-333333333333', displayName: 'Contoso Prod', state: 'Enabled', tenantId: '11111111-1111-1111-1111-111111111111' },
    ],
    faults: [],
  };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'x-ms-request-id': randomUUID(), ...headers });
  res.end(text);
};
const armError = (res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}) => json(res, status, { error: { code, message } }, headers);

type Handler = (m: RegExpExecArray, req: { method: string; path: string; query: Record<string, string>; body: any }) => { status: number; body?: unknown; headers?: Record<string, string> } | undefined;

function identityNotFound(id: string) {
  return { status: 404, body: { error: { code: 'ResourceNotFound', message: `The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/${id.split('/').pop()}' under resource group '${id.split('/')[4]}' was not found.` } } };
}

interface Route {
  method: string;
  re: RegExp;
  handle: Handler;
}

const SUB = '/subscriptions/([^/]+)';

export class FakeArm {
  readonly world: FakeArmWorld;
  readonly requests: ArmRequest[] = [];
  readonly purged: { name: string; location: string }[] = [];
  readonly registered: string[] = [];
  private readonly server: Server;
  private readonly pendingRegistration = new Map<string, number>();
  private readonly operations = new Map<string, { polls: number; done: () => void }>();
  /** Federated credential id (lower case) → when its issuer/subject were last written (epoch ms). */
  private readonly ficWritten = new Map<string, number>();
  private routes: Route[] = [];
  url = '';
  readonly ca: string;

  private constructor(world: FakeArmWorld) {
    this.world = world;
    const { key, cert } = testCert();
    this.ca = cert;
    this.server = createServer({ key, cert }, (req, res) => void this.handle(req, res));
    this.routes = this.buildRoutes();
  }

  static async start(world: Partial<FakeArmWorld> = {}): Promise<FakeArm> {
    const fake = new FakeArm({ ...defaultArmWorld(), ...world });
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `https://127.0.0.1:${(fake.server.address() as AddressInfo).port}/`;
    return fake;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The `az cloud show` answer pointing az (the fake) at this server. */
  cloud(name = 'AzureCloud'): Record<string, unknown> {
    return {
      name,
      isActive: true,
      profile: 'latest',
      endpoints: {
        resourceManager: this.url,
        activeDirectory: 'https://login.microsoftonline.com',
        activeDirectoryResourceId: 'https://management.core.windows.net/',
        microsoftGraphResourceId: 'https://graph.microsoft.com/',
        management: 'https://management.core.windows.net/',
      },
      suffixes: { storageEndpoint: 'core.windows.net', keyvaultDns: '.vault.azure.net' },
    };
  }

  /**
   * An HttpClient for the Azure SDK that trusts only this server's certificate: the SDK's own
   * Node client with an https.Agent carrying the CA (createDefaultHttpClient takes no CA).
   */
  httpClient(): HttpClient {
    const base = createDefaultHttpClient();
    const agent = new Agent({ ca: this.ca, keepAlive: false });
    return {
      sendRequest: (request) => {
        request.agent = agent;
        return base.sendRequest(request);
      },
    };
  }

  /**
   * A directory where processes outside the test create resources: the terraform fixture's apply
   * writes its resource groups there (test/fixtures/terraform/README.md, FIXTURE_ARM_DIR), as real
   * terraform creates them in ARM. One JSON file per resource, its body with its `id`; it exists
   * while its file does. Read at every request (and by syncResourceDir()).
   */
  resourceDir: string | undefined;
  private readonly fromDir = new Set<string>();

  /** Brings `world.resources` in line with `resourceDir`. */
  syncResourceDir(): void {
    if (!this.resourceDir) return;
    const seen = new Set<string>();
    for (const f of readdirSync(this.resourceDir)) {
      if (!f.endsWith('.json')) continue;
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(readFileSync(join(this.resourceDir, f), 'utf8')) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (typeof body.id !== 'string') continue;
      const key = body.id.toLowerCase();
      seen.add(key);
      this.world.resources[key] = body;
    }
    for (const k of this.fromDir) if (!seen.has(k)) delete this.world.resources[k];
    this.fromDir.clear();
    for (const k of seen) this.fromDir.add(k);
  }

  /** Adds a resource this deployment owns (its name is then taken, by us). */
  addResource(id: string, body: Record<string, unknown> = {}): void {
    const name = id.split('/').pop() ?? '';
    this.world.resources[id.toLowerCase()] = { id, name, ...body };
  }

  /**
   * What "running" a run command does in this fake: tests wire it to the fake Azure DevOps server
   * (e.g. agents appear in the pool). Default: succeed with no output.
   */
  onRunCommand: (vmId: string, body: { properties?: { parameters?: Array<{ name: string; value: string }>; protectedParameters?: Array<{ name: string; value: string }> } }) => { exitCode: number; output?: string } = () => ({ exitCode: 0 });

  /**
   * What the Managed DevOps Pools service does when a pool is created, updated or deleted through ARM
   * (Microsoft.DevOpsInfrastructure/pools): tests wire it to the fake Azure DevOps server, where the
   * service creates and removes the pool's Azure DevOps agent pool. An answer refuses the request
   * (the service's validation failing, e.g. a project it cannot add the pool to). Default: nothing.
   */
  onManagedPool: (event: 'put' | 'delete', poolId: string, body: ManagedPoolBody) => { status: number; code: string; message: string } | undefined = () => undefined;

  /** The federated credentials under a managed identity, as ARM lists them. */
  ficsOf(identityId: string): Array<{ id: string; name: string; properties: { issuer: string; subject: string; audiences: string[] } }> {
    const prefix = `${identityId.toLowerCase()}/federatedidentitycredentials/`;
    return Object.entries(this.world.resources)
      .filter(([k]) => k.startsWith(prefix) && !k.slice(prefix.length).includes('/'))
      .map(([, r]) => r as never);
  }

  /**
   * The federated credential (on any managed identity) trusting `issuer` and `subject`, with when it
   * was created or last changed: Microsoft Entra accepts it only after it propagates (see
   * test/helpers/world-core.ts).
   */
  federatedCredentialFor(issuer: string, subject: string): { id: string; writtenAt: number } | undefined {
    for (const [key, r] of Object.entries(this.world.resources)) {
      if (!/\/federatedidentitycredentials\/[^/]+$/.test(key)) continue;
      const p = (r as { properties?: { issuer?: string; subject?: string } }).properties;
      if (p?.issuer === issuer && p.subject === subject) return { id: String(r.id), writtenAt: this.ficWritten.get(key) ?? 0 };
    }
    return undefined;
  }

  calls(method: string, pathRe: RegExp): ArmRequest[] {
    return this.requests.filter((r) => r.method === method && pathRe.test(r.path));
  }

  mutatingRequests(): ArmRequest[] {
    // The name checks are POSTs that change nothing.
    return this.requests.filter((r) => r.method !== 'GET' && !/checkNameAvailability$/i.test(r.path));
  }

  /** A run command as ARM returns it: never its protected parameters. */
  private runCommandView(path: string, withInstanceView: boolean): Record<string, unknown> {
    const rc = this.world.runCommands[path.toLowerCase()]!;
    const props = { ...((rc.body.properties as Record<string, unknown>) ?? {}) };
    delete props.protectedParameters;
    return {
      id: path,
      name: path.split('/').pop(),
      type: 'Microsoft.Compute/virtualMachines/runCommands',
      location: rc.body.location,
      properties: {
        ...props,
        provisioningState: 'Succeeded',
        ...(withInstanceView ? { instanceView: { executionState: rc.exitCode === 0 ? 'Succeeded' : 'Failed', exitCode: rc.exitCode, output: rc.output, error: rc.exitCode === 0 ? '' : 'script failed' } } : {}),
      },
    };
  }

  /** Fails the k-th request (1-based, counted in `requests`): a 500, a reset connection, or no answer. */
  failAtRequest: { k: number; mode: 'error' | 'reset' | 'timeout' } | undefined;

  /** Added to every response (benchmarks: "every outside call takes 200 ms"). */
  latencyMs = 0;

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (this.latencyMs) await new Promise((r) => setTimeout(r, this.latencyMs));
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const u = new URL(req.url ?? '/', 'https://127.0.0.1');
    const path = decodeURIComponent(u.pathname);
    const query = Object.fromEntries(u.searchParams.entries());
    const method = (req.method ?? 'GET').toUpperCase();
    const auth = req.headers.authorization ?? '';
    this.requests.push({ method, path, query, body, bearer: /^Bearer \S+/.test(auth) });
    this.syncResourceDir();
    if (this.failAtRequest !== undefined && this.requests.length === this.failAtRequest.k) {
      const { mode } = this.failAtRequest;
      if (mode === 'reset') {
        req.socket.destroy();
        return;
      }
      if (mode === 'timeout') return; // never answers: the client's timeout must end the call
      armError(res, 500, 'InternalServerError', `injected failure at request ${this.failAtRequest.k}`);
      return;
    }

    for (const f of this.world.faults) {
      if ((f.times ?? 1) <= 0) continue;
      if (f.method && f.method.toUpperCase() !== method) continue;
      if (!new RegExp(f.path, 'i').test(path)) continue;
      f.times = (f.times ?? 1) - 1;
      if (f.delayMs) await new Promise((r) => setTimeout(r, f.delayMs));
      if (res.destroyed) return;
      json(res, f.status, f.body ?? { error: { code: f.status === 429 ? 'TooManyRequests' : 'InternalServerError', message: `injected ${f.status}` } }, f.headers ?? {});
      return;
    }
    if (!/^Bearer \S+/.test(auth)) {
      armError(res, 401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.");
      return;
    }
    if (!query['api-version']) {
      armError(res, 400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
      return;
    }
    // Like ARM: a provider's own operations need the provider registered (registering does not).
    const ns = /^\/subscriptions\/[^/]+\/providers\/([\w.]+)\/(.+)$/i.exec(path);
    if (ns && !/^register$/i.test(ns[2]!)) {
      const key = Object.keys(this.world.providers).find((k) => k.toLowerCase() === ns[1]!.toLowerCase());
      if (key && this.world.providers[key] !== 'Registered') {
        armError(res, 409, 'MissingSubscriptionRegistration', `The subscription is not registered to use namespace '${key}'. See https://aka.ms/rps-not-found for how to register subscriptions.`);
        return;
      }
    }
    for (const r of this.routes) {
      if (r.method !== method) continue;
      const m = r.re.exec(path);
      if (!m) continue;
      const out = r.handle(m, { method, path, query, body });
      if (!out) continue;
      json(res, out.status, out.body, out.headers ?? {});
      return;
    }
    armError(res, 501, 'NotImplementedInFake', `fake ARM does not serve ${method} ${path}?api-version=${query['api-version']}`);
  }

  private usagesFor<T>(table: Record<string, T[]>, location: string): T[] {
    return table[location.toLowerCase()] ?? table[location] ?? table['*'] ?? [];
  }

  private buildRoutes(): Route[] {
    const w = () => this.world;
    const eq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    const provider = (sub: string, ns: string) => {
      const key = Object.keys(w().providers).find((k) => eq(k, ns));
      if (!key) return undefined;
      let state = w().providers[key]!;
      const left = this.pendingRegistration.get(key);
      if (left !== undefined) {
        if (left <= 0) {
          this.pendingRegistration.delete(key);
          state = 'Registered';
          w().providers[key] = state;
        } else {
          this.pendingRegistration.set(key, left - 1);
          state = 'Registering';
        }
      }
      return { id: `/subscriptions/${sub}/providers/${key}`, namespace: key, registrationState: state, registrationPolicy: 'RegistrationRequired', resourceTypes: [] };
    };
    const resourceNamed = (type: string, name: string) =>
      Object.values(w().resources).some((r) => typeof r.id === 'string' && new RegExp(`/providers/${type}/${name}$`, 'i').test(r.id));
    const nameCheck = (kind: 'storage' | 'registry' | 'vault', type: string, messages: (n: string) => string) =>
      ((_m, req) => {
        const { name, type: t } = (req.body ?? {}) as { name?: string; type?: string };
        if (!name || !t || !eq(t, type)) return { status: 400, body: { error: { code: 'InvalidRequest', message: `expected {name, type: '${type}'}` } } };
        const taken =
          w().takenNames[kind].some((n) => eq(n, name)) ||
          resourceNamed(type, name) ||
          (kind === 'vault' && w().deletedVaults.some((v) => eq(v.name, name)));
        return { status: 200, body: taken ? { nameAvailable: false, reason: 'AlreadyExists', message: messages(name) } : { nameAvailable: true } };
      }) satisfies Handler;
    const deletedVaultBody = (sub: string, v: FakeDeletedVault) => ({
      id: `/subscriptions/${sub}/providers/Microsoft.KeyVault/locations/${v.location}/deletedVaults/${v.name}`,
      name: v.name,
      type: 'Microsoft.KeyVault/deletedVaults',
      properties: {
        vaultId: `/subscriptions/${sub}/resourceGroups/${v.resourceGroup ?? 'rg-old'}/providers/Microsoft.KeyVault/vaults/${v.name}`,
        location: v.location,
        deletionDate: v.deletionDate ?? '2026-09-01T10:00:00Z',
        scheduledPurgeDate: v.scheduledPurgeDate ?? '2026-11-30T10:00:00Z',
        tags: {},
        purgeProtectionEnabled: v.purgeProtectionEnabled ?? false,
      },
    });

    return [
      // --- resource providers (arm-resources providers.get / providers.register) -------------
      {
        method: 'GET',
        re: new RegExp(`^${SUB}/providers/([\\w.]+)$`, 'i'),
        handle: (m) => {
          const p = provider(m[1]!, m[2]!);
          return p ? { status: 200, body: p } : { status: 404, body: { error: { code: 'InvalidResourceNamespace', message: `The resource namespace '${m[2]}' is invalid.` } } };
        },
      },
      {
        method: 'POST',
        re: new RegExp(`^${SUB}/providers/([\\w.]+)/register$`, 'i'),
        handle: (m) => {
          const key = Object.keys(w().providers).find((k) => eq(k, m[2]!));
          if (!key) return { status: 404, body: { error: { code: 'InvalidResourceNamespace', message: `The resource namespace '${m[2]}' is invalid.` } } };
          this.registered.push(key);
          if (w().providers[key] !== 'Registered') {
            w().providers[key] = 'Registering';
            this.pendingRegistration.set(key, w().registrationPolls);
          }
          return { status: 200, body: { ...provider(m[1]!, key), registrationState: w().providers[key] } };
        },
      },
      // --- global names ------------------------------------------------------------------------
      {
        method: 'POST',
        re: new RegExp(`^${SUB}/providers/Microsoft\\.Storage/checkNameAvailability$`, 'i'),
        handle: nameCheck('storage', 'Microsoft.Storage/storageAccounts', (n) => `The storage account named ${n} is already taken.`),
      },
      {
        method: 'POST',
        re: new RegExp(`^${SUB}/providers/Microsoft\\.ContainerRegistry/checkNameAvailability$`, 'i'),
        handle: nameCheck('registry', 'Microsoft.ContainerRegistry/registries', (n) => `The registry ${n} is already in use.`),
      },
      {
        method: 'POST',
        re: new RegExp(`^${SUB}/providers/Microsoft\\.KeyVault/checkNameAvailability$`, 'i'),
        handle: nameCheck('vault', 'Microsoft.KeyVault/vaults', (n) => `The vault name '${n}' is already in use. Vault names are globally unique so it is possible that the name is already taken. If you are sure that the vault name was not taken then it is possible that a vault with the same name was recently deleted but not purged after being placed in a recoverable state. If the vault is in a recoverable state then the vault will need to be explicitly purged.`),
      },
      // --- soft-deleted key vaults -------------------------------------------------------------
      {
        method: 'GET',
        re: new RegExp(`^${SUB}/providers/Microsoft\\.KeyVault/deletedVaults$`, 'i'),
        handle: (m) => ({ status: 200, body: { value: w().deletedVaults.map((v) => deletedVaultBody(m[1]!, v)) } }),
      },
      {
        method: 'GET',
        re: new RegExp(`^${SUB}/providers/Microsoft\\.KeyVault/locations/([^/]+)/deletedVaults/([^/]+)$`, 'i'),
        handle: (m) => {
          const v = w().deletedVaults.find((x) => eq(x.name, m[3]!) && eq(x.location, m[2]!));
          return v ? { status: 200, body: deletedVaultBody(m[1]!, v) } : { status: 404, body: { error: { code: 'ResourceNotFound', message: `The Resource 'Microsoft.KeyVault/deletedVaults/${m[3]}' under location '${m[2]}' was not found.` } } };
        },
      },
      {
        method: 'POST',
        re: new RegExp(`^${SUB}/providers/Microsoft\\.KeyVault/locations/([^/]+)/deletedVaults/([^/]+)/purge$`, 'i'),
        handle: (m) => {
          const v = w().deletedVaults.find((x) => eq(x.name, m[3]!) && eq(x.location, m[2]!));
          if (!v) return { status: 404, body: { error: { code: 'ResourceNotFound', message: `deleted vault ${m[3]} not found in ${m[2]}` } } };
          if (v.purgeProtectionEnabled) return { status: 409, body: { error: { code: 'Conflict', message: `Purge protection is enabled for vault ${v.name}.` } } };
          const op = randomUUID();
          this.operations.set(op, {
            polls: w().purgePolls,
            done: () => {
              w().deletedVaults = w().deletedVaults.filter((x) => x !== v);
              this.purged.push({ name: v.name, location: v.location });
            },
          });
          return { status: 202, headers: { Location: `${this.url}subscriptions/${m[1]}/providers/Microsoft.KeyVault/locations/${m[2]}/operationResults/${op}?api-version=${'2026-02-01'}` } };
        },
      },
      {
        method: 'GET',
        re: new RegExp(`^${SUB}/providers/Microsoft\\.KeyVault/locations/([^/]+)/operationResults/([^/]+)$`, 'i'),
        handle: (m) => {
          const op = this.operations.get(m[3]!);
          if (!op) return { status: 404, body: { error: { code: 'OperationNotFound', message: `operation ${m[3]} not found` } } };
          if (op.polls > 0) {
            op.polls--;
            return { status: 202, headers: { Location: `${this.url}${m[0]!.slice(1)}?api-version=2026-02-01` } };
          }
          this.operations.delete(m[3]!);
          op.done();
          return { status: 200 };
        },
      },
      // --- quota ---------------------------------------------------------------------------------
      {
        method: 'GET',
        re: new RegExp(`^${SUB}/providers/Microsoft\\.Compute/locations/([^/]+)/usages$`, 'i'),
        handle: (m) => ({
          status: 200,
          body: {
            value: this.usagesFor(w().computeUsages, m[2]!).map((u) => ({ unit: 'Count', currentValue: u.current, limit: u.limit, name: { value: u.name, localizedValue: u.localizedName ?? u.name } })),
          },
        }),
      },
      {
        method: 'GET',
        re: new RegExp(`^${SUB}/providers/Microsoft\\.Compute/skus$`, 'i'),
        handle: (_m, req) => {
          const loc = /location eq '([^']+)'/i.exec(req.query.$filter ?? '')?.[1];
          const vms = w()
            .skus.filter((s) => !loc || !s.locations || s.locations.some((l) => eq(l, loc)))
            .map((s) => {
              const at = loc ?? s.locations?.[0] ?? 'westeurope';
              return {
                resourceType: 'virtualMachines',
                name: s.name,
                tier: 'Standard',
                size: s.name.replace(/^Standard_/, ''),
                family: s.family,
                locations: [at],
                locationInfo: [{ location: at, zones: ['1', '2', '3'], zoneDetails: [] }],
                capabilities: [
                  { name: 'vCPUs', value: String(s.vCPUs) },
                  { name: 'MemoryGB', value: String(s.vCPUs * 4) },
                ],
                restrictions: s.restricted ? [{ type: 'Location', values: [at], restrictionInfo: { locations: [at] }, reasonCode: s.restricted }] : [],
              };
            });
          // Resource SKUs list every compute resource type, not only VMs.
          const disks = [{ resourceType: 'disks', name: 'Premium_LRS', tier: 'Premium', kind: '', locations: [loc ?? 'westeurope'], capabilities: [], restrictions: [] }];
          return { status: 200, body: { value: [...disks, ...vms] } };
        },
      },
      {
        method: 'GET',
        re: new RegExp(`^${SUB}/providers/Microsoft\\.MachineLearningServices/locations/([^/]+)/usages$`, 'i'),
        handle: (m) => {
          const base = `/subscriptions/${m[1]}`;
          const value = this.usagesFor(w().mlUsages, m[2]!).flatMap((u) => {
            const entry = { id: `${base}/usages/${u.name.replace(/ /g, '_')}`, type: u.type ?? 'Microsoft.MachineLearningServices/vmFamily/usages', unit: 'Count', currentValue: u.current, limit: u.limit, name: { value: u.name, localizedValue: u.name } };
            // The real list also has per-workspace entries with the same names: the adapter skips them.
            const perWorkspace = { ...entry, id: `${base}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/other/usages/${u.name.replace(/ /g, '_')}`, type: 'Microsoft.MachineLearningServices/workspaces/usages', currentValue: 999, limit: 1 };
            return [entry, perWorkspace];
          });
          return { status: 200, body: { value } };
        },
      },
      {
        // SubscriptionUsages_Usages (REST spec devopsinfrastructure 2025-01-21: PagedQuota of Quota
        // {name: {value, localizedValue}, id, unit, currentValue, limit}).
        method: 'GET',
        re: new RegExp(`^${SUB}/providers/Microsoft\\.DevOpsInfrastructure/locations/([^/]+)/usages$`, 'i'),
        handle: (m) => ({
          status: 200,
          body: {
            value: this.usagesFor(w().managedPoolUsages ?? {}, m[2]!).map((u) => ({
              id: `/subscriptions/${m[1]}/providers/Microsoft.DevOpsInfrastructure/locations/${m[2]}/usages/${u.name}`,
              unit: 'Count',
              currentValue: u.current,
              limit: u.limit,
              name: { value: u.name, localizedValue: u.localizedName ?? u.name },
            })),
          },
        }),
      },
      // --- rights --------------------------------------------------------------------------------
      {
        method: 'GET',
        re: /^(\/subscriptions\/[^/]+(?:\/resourceGroups\/[^/]+)?)\/providers\/Microsoft\.Authorization\/permissions$/i,
        handle: () => ({ status: 200, body: { value: w().permissions.map((p) => ({ actions: p.actions, notActions: p.notActions ?? [], dataActions: [], notDataActions: [], ...(p.condition ? { condition: p.condition, conditionVersion: '2.0' } : {}) })) } }),
      },
      // --- subscription -------------------------------------------------------------------------
      {
        method: 'GET',
        re: /^\/subscriptions\/([^/]+)$/i,
        handle: (m) => {
          const sub = (w().subscriptions ?? []).find((s) => s.subscriptionId.toLowerCase() === m[1]!.toLowerCase());
          return sub ? { status: 200, body: { id: `/subscriptions/${sub.subscriptionId}`, ...sub } } : { status: 404, body: { error: { code: 'SubscriptionNotFound', message: `The subscription '${m[1]}' could not be found.` } } };
        },
      },
      // --- VM run commands (arm-compute virtualMachineRunCommands) ---------------------------------
      {
        method: 'PUT',
        re: /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/virtualMachines\/[^/]+)\/runCommands\/([^/]+)$/i,
        handle: (m, req) => {
          const vmId = m[1]!;
          if (!w().resources[vmId.toLowerCase()]) return { status: 404, body: { error: { code: 'ResourceNotFound', message: `The Resource 'Microsoft.Compute/virtualMachines/${vmId.split('/').pop()}' was not found.` } } };
          const body = (req.body ?? {}) as Record<string, unknown>;
          const ran = this.onRunCommand(vmId, body as never);
          w().runCommands[req.path.toLowerCase()] = { body, exitCode: ran.exitCode, output: ran.output ?? '' };
          return { status: 200, body: this.runCommandView(req.path, false) };
        },
      },
      {
        method: 'GET',
        re: /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/virtualMachines\/[^/]+)\/runCommands\/([^/]+)$/i,
        handle: (_m, req) => {
          if (!w().runCommands[req.path.toLowerCase()]) return { status: 404, body: { error: { code: 'NotFound', message: 'run command not found' } } };
          return { status: 200, body: this.runCommandView(req.path, /instanceView/i.test(String(req.query.$expand ?? ''))) };
        },
      },
      {
        method: 'DELETE',
        re: /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/virtualMachines\/[^/]+)\/runCommands\/([^/]+)$/i,
        handle: (_m, req) => {
          const existed = req.path.toLowerCase() in w().runCommands;
          delete w().runCommands[req.path.toLowerCase()];
          return { status: existed ? 200 : 204, body: undefined };
        },
      },
      // --- federated credentials of a user-assigned managed identity (child resources) ----------
      {
        method: 'GET',
        re: /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+)\/federatedIdentityCredentials$/i,
        handle: (m) => {
          const parent = m[1]!;
          if (!w().resources[parent.toLowerCase()]) return identityNotFound(parent);
          return { status: 200, body: { value: this.ficsOf(parent) } };
        },
      },
      {
        method: 'PUT',
        re: /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+)\/federatedIdentityCredentials\/([^/]+)$/i,
        handle: (m, req) => {
          const parent = m[1]!;
          const name = m[2]!;
          if (!w().resources[parent.toLowerCase()]) return identityNotFound(parent);
          if (!/^[a-zA-Z0-9][\w-]{2,119}$/.test(name)) return { status: 400, body: { error: { code: 'BadRequest', message: `Invalid federated identity credential name '${name}'.` } } };
          const p = ((req.body ?? {}) as { properties?: { issuer?: string; subject?: string; audiences?: string[] } }).properties;
          if (!p?.issuer || !p.subject || !p.audiences?.length) return { status: 400, body: { error: { code: 'BadRequest', message: 'issuer, subject and audiences are required.' } } };
          const dup = this.ficsOf(parent).find((f) => f.name.toLowerCase() !== name.toLowerCase() && f.properties.issuer === p.issuer && f.properties.subject === p.subject);
          if (dup) return { status: 400, body: { error: { code: 'BadRequest', message: `Federated identity credential '${dup.name}' already has this issuer and subject.` } } };
          const before = w().resources[req.path.toLowerCase()] as { properties?: { issuer?: string; subject?: string } } | undefined;
          const existed = Boolean(before);
          const body = { id: req.path, name, type: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials', properties: { issuer: p.issuer, subject: p.subject, audiences: p.audiences } };
          w().resources[req.path.toLowerCase()] = body;
          // A new or changed trust starts propagating in Microsoft Entra now.
          if (before?.properties?.issuer !== p.issuer || before?.properties?.subject !== p.subject) this.ficWritten.set(req.path.toLowerCase(), Date.now());
          return { status: existed ? 200 : 201, body };
        },
      },
      {
        method: 'DELETE',
        re: /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+)\/federatedIdentityCredentials\/([^/]+)$/i,
        handle: (m, req) => {
          if (!w().resources[m[1]!.toLowerCase()]) return identityNotFound(m[1]!);
          const existed = req.path.toLowerCase() in w().resources;
          delete w().resources[req.path.toLowerCase()];
          this.ficWritten.delete(req.path.toLowerCase());
          return { status: existed ? 200 : 204, body: undefined };
        },
      },
      // --- Managed DevOps Pools (what terraform's azapi_resource sends; the test fixture sends the same) ---
      {
        // Pools_CreateOrUpdate (REST spec devopsinfrastructure 2025-01-21): 200 update, 201 create; the
        // real one is a long-running operation (Azure-AsyncOperation), answered here as done at once.
        method: 'PUT',
        re: /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.DevOpsInfrastructure\/pools\/([^/]+)$/i,
        handle: (m, req) => {
          const ns = 'Microsoft.DevOpsInfrastructure';
          // Like ARM: a resource type of a provider that is not registered is refused.
          if (w().providers[ns] !== 'Registered') return { status: 409, body: { error: { code: 'MissingSubscriptionRegistration', message: `The subscription is not registered to use namespace '${ns}'. See https://aka.ms/rps-not-found for how to register subscriptions.` } } };
          if (!/^[a-zA-Z0-9][a-zA-Z0-9-.]{2,43}$/.test(m[1]!)) return { status: 400, body: { error: { code: 'InvalidResourceName', message: `The pool name '${m[1]}' is invalid.` } } };
          const body = (req.body ?? {}) as ManagedPoolBody;
          const org = body.properties?.organizationProfile;
          if (org?.kind !== 'AzureDevOps' || !org.organizations?.length) return { status: 400, body: { error: { code: 'BadRequest', message: 'properties.organizationProfile must be of kind AzureDevOps with at least one organization.' } } };
          const refused = this.onManagedPool('put', req.path, body);
          if (refused) return { status: refused.status, body: { error: { code: refused.code, message: refused.message } } };
          const existed = Boolean(w().resources[req.path.toLowerCase()]);
          const resource = { id: req.path, name: m[1], type: 'Microsoft.DevOpsInfrastructure/pools', location: body.location, ...(body.tags ? { tags: body.tags } : {}), properties: { ...(body.properties ?? {}), provisioningState: 'Succeeded' } };
          w().resources[req.path.toLowerCase()] = resource;
          return { status: existed ? 200 : 201, body: resource };
        },
      },
      {
        method: 'DELETE',
        re: /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.DevOpsInfrastructure\/pools\/([^/]+)$/i,
        handle: (_m, req) => {
          const r = w().resources[req.path.toLowerCase()] as ManagedPoolBody | undefined;
          if (!r) return { status: 204, body: undefined };
          delete w().resources[req.path.toLowerCase()];
          this.onManagedPool('delete', req.path, r);
          return { status: 200, body: undefined };
        },
      },
      // --- any resource by id (getById) ----------------------------------------------------------
      {
        method: 'GET',
        re: new RegExp(`^${SUB}/resourceGroups/([^/]+)(/providers/.+)?$`, 'i'),
        handle: (m, req) => {
          const r = w().resources[req.path.toLowerCase()];
          if (r) return { status: 200, body: r };
          // `GET …/resourcegroups/{name}` (resourceGroups.get): a group exists only as a resource of its own.
          if (!m[3]) return { status: 404, body: { error: { code: 'ResourceGroupNotFound', message: `Resource group '${m[2]}' could not be found.` } } };
          const rgKnown = Object.keys(w().resources).some((id) => id.startsWith(`/subscriptions/${m[1]!.toLowerCase()}/resourcegroups/${m[2]!.toLowerCase()}/`) || id === `/subscriptions/${m[1]!.toLowerCase()}/resourcegroups/${m[2]!.toLowerCase()}`);
          if (!rgKnown) return { status: 404, body: { error: { code: 'ResourceGroupNotFound', message: `Resource group '${m[2]}' could not be found.` } } };
          return { status: 404, body: { error: { code: 'ResourceNotFound', message: `The Resource '${req.path.split('/providers/')[1] ?? req.path}' under resource group '${m[2]}' was not found.` } } };
        },
      },
    ];
  }
}
