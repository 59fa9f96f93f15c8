import { z } from 'zod';
import { parse, type ArmClient } from './client.js';

/**
 * Globally unique names: whether a storage account, container registry or key vault name is free,
 * and the soft-deleted key vaults that keep a vault name taken until they are purged.
 */

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

/** What each call needs in Azure RBAC, named in 403 messages. */
const ACTION = {
  storageName: 'Microsoft.Storage/checknameavailability/read',
  registryName: 'Microsoft.ContainerRegistry/checkNameAvailability/read',
  vaultName: 'Microsoft.KeyVault/checkNameAvailability/read',
  deletedVaultRead: 'Microsoft.KeyVault/locations/deletedVaults/read',
  deletedVaultList: 'Microsoft.KeyVault/deletedVaults/read',
  deletedVaultPurge: 'Microsoft.KeyVault/locations/deletedVaults/purge/action',
} as const;

export class ArmNames {
  constructor(private readonly arm: ArmClient) {}

  // ---- global names ----------------------------------------------------------------------------

  async storageNameAvailable(subscriptionId: string, name: string): Promise<NameAvailability> {
    const client = await this.arm.sdk('storage', subscriptionId);
    const r = await this.arm.call(`checking the storage account name ${name}`, ACTION.storageName, `/subscriptions/${subscriptionId}`, () =>
      client.storageAccounts.checkNameAvailability({ name, type: 'Microsoft.Storage/storageAccounts' }),
    );
    return toAvailability(parse(nameAvailabilitySchema, r, 'storage name check'));
  }

  async registryNameAvailable(subscriptionId: string, name: string): Promise<NameAvailability> {
    const client = await this.arm.sdk('registry', subscriptionId);
    const r = await this.arm.call(`checking the container registry name ${name}`, ACTION.registryName, `/subscriptions/${subscriptionId}`, () =>
      client.registries.checkNameAvailability({ name, type: 'Microsoft.ContainerRegistry/registries' }),
    );
    return toAvailability(parse(nameAvailabilitySchema, r, 'container registry name check'));
  }

  async keyVaultNameAvailable(subscriptionId: string, name: string): Promise<NameAvailability> {
    const client = await this.arm.sdk('vault', subscriptionId);
    const r = await this.arm.call(`checking the key vault name ${name}`, ACTION.vaultName, `/subscriptions/${subscriptionId}`, () =>
      client.vaults.checkNameAvailability({ name, type: 'Microsoft.KeyVault/vaults' }),
    );
    return toAvailability(parse(nameAvailabilitySchema, r, 'key vault name check'));
  }

  // ---- soft-deleted key vaults -----------------------------------------------------------------

  /** The soft-deleted vault `name` in `location` of this subscription, or null. */
  async deletedVault(subscriptionId: string, location: string, name: string): Promise<DeletedVault | null> {
    const client = await this.arm.sdk('vault', subscriptionId);
    const r = await this.arm.call(`looking for a soft-deleted key vault ${name}`, ACTION.deletedVaultRead, `/subscriptions/${subscriptionId}`, () => client.vaults.getDeleted(name, location), 'null');
    return r === null ? null : toDeletedVault(parse(deletedVaultSchema, r, 'deleted vault'), name, location);
  }

  /** Every soft-deleted vault of the subscription (any location). */
  async deletedVaults(subscriptionId: string): Promise<DeletedVault[]> {
    const client = await this.arm.sdk('vault', subscriptionId);
    return this.arm.call(`listing soft-deleted key vaults`, ACTION.deletedVaultList, `/subscriptions/${subscriptionId}`, async () => {
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
    const client = await this.arm.sdk('vault', subscriptionId);
    const { pollIntervalMs, registerTimeoutMs } = this.arm.settings;
    await this.arm.call(`purging the soft-deleted key vault ${name}`, ACTION.deletedVaultPurge, `/subscriptions/${subscriptionId}`, async () => {
      const poller = client.vaults.purgeDeleted(name, location, { updateIntervalInMs: pollIntervalMs });
      await poller.pollUntilDone({ abortSignal: AbortSignal.timeout(registerTimeoutMs) });
    });
  }
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

function toDate(v: Date | string | undefined): Date | undefined {
  if (v === undefined) return undefined;
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
