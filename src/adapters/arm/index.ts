import type { AzAdapter } from '../az.js';
import { ArmAuthorization } from './authorization.js';
import { ArmClient, type ArmAdapterOptions, type ArmEndpoint } from './client.js';
import { ArmCompute } from './compute.js';
import { ArmIdentity } from './identity.js';
import { ArmNames } from './names.js';
import { ArmProviders } from './providers.js';
import { ArmQuota } from './quota.js';
import { ArmResources } from './resources.js';

/**
 * Azure Resource Manager, one object per area: `ctx.arm.names.keyVaultNameAvailable(…)`,
 * `ctx.arm.identity.putFederatedCredential(…)`. Each area file (its shapes, the RBAC actions its
 * calls need, its calls) reads top to bottom on its own and is the only place its calls are written;
 * flat methods here would repeat every signature once more. They all share one `ArmClient`
 * (client.ts: endpoint, token, pipeline, retries, errors), so a run still starts one `az cloud show`
 * and one `az account get-access-token` whatever the areas it uses.
 */
export class ArmAdapter {
  private readonly client: ArmClient;
  /** Resource providers: registration state, register, wait. */
  readonly providers: ArmProviders;
  /** Global names (storage, registry, key vault) and soft-deleted key vaults. */
  readonly names: ArmNames;
  /** vCPU quota: compute and Azure ML usages, VM sizes. */
  readonly quota: ArmQuota;
  /** The signed-in identity's permissions. */
  readonly authorization: ArmAuthorization;
  /** Run commands on virtual machines. */
  readonly compute: ArmCompute;
  /** Federated credentials of user-assigned managed identities. */
  readonly identity: ArmIdentity;
  /** Any resource by id, and the subscription. */
  readonly resources: ArmResources;

  constructor(
    readonly az: AzAdapter,
    opts: ArmAdapterOptions = {},
  ) {
    this.client = new ArmClient(az, opts);
    this.providers = new ArmProviders(this.client);
    this.names = new ArmNames(this.client);
    this.quota = new ArmQuota(this.client);
    this.authorization = new ArmAuthorization(this.client);
    this.compute = new ArmCompute(this.client);
    this.identity = new ArmIdentity(this.client);
    this.resources = new ArmResources(this.client);
  }

  /** The active az cloud's resource manager and token scope (one `az cloud show` per run). */
  endpoint(): Promise<ArmEndpoint> {
    return this.client.endpoint();
  }
}
