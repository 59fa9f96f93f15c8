import { z } from 'zod';
import { parse, type ArmClient } from './client.js';

/**
 * vCPU quota in a region: the Compute provider's usages, Azure ML's own compute usages (a separate
 * quota), and the VM sizes offered there with their quota family.
 */

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

const usageSchema = z
  .object({
    currentValue: z.number(),
    limit: z.number(),
    name: z.object({ value: z.string(), localizedValue: z.string().optional() }).passthrough(),
  })
  .passthrough();
const mlUsageSchema = usageSchema.extend({ id: z.string().optional(), type: z.string().optional() });
const mlUsagePageSchema = z.object({ value: z.array(mlUsageSchema), nextLink: z.string().nullish() }).passthrough();
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

/** api-version of the Azure ML usages call, made without a typed SDK method. */
const ML_USAGES_API_VERSION = '2024-04-01';
/** Microsoft.DevOpsInfrastructure's stable API (the one the terraform module's pool uses). */
const MDP_USAGES_API_VERSION = '2025-01-21';

/** What each call needs in Azure RBAC, named in 403 messages. */
const ACTION = {
  computeUsages: 'Microsoft.Compute/locations/usages/read',
  skus: 'Microsoft.Compute/skus/read',
  mlUsages: 'Microsoft.MachineLearningServices/locations/usages/read',
  // By ARM's {namespace}/{type}/read convention; Reader has it (*/read).
  mdpUsages: 'Microsoft.DevOpsInfrastructure/locations/usages/read',
} as const;

export class ArmQuota {
  constructor(private readonly arm: ArmClient) {}

  /**
   * Compute quota in a region, keyed by the usage name: VM families (`standardDSv5Family`…),
   * `cores` (total regional vCPUs) and `lowPriorityCores` (spot/low-priority VMs).
   */
  async computeUsages(subscriptionId: string, location: string): Promise<Record<string, Usage>> {
    const client = await this.arm.sdk('compute', subscriptionId);
    return this.arm.call(`reading the compute quota in ${location}`, ACTION.computeUsages, `/subscriptions/${subscriptionId}`, async () => {
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
    return this.arm.call(`reading the Azure ML compute quota in ${location}`, ACTION.mlUsages, scope, async () => {
      const out: Record<string, Usage> = {};
      let next: string | undefined = `${scope}/providers/Microsoft.MachineLearningServices/locations/${encodeURIComponent(location)}/usages`;
      for (let page = 0; next && page < 20; page++) {
        const { body } = await this.arm.rawGet(next, ML_USAGES_API_VERSION);
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

  /**
   * Managed DevOps Pools quota in a region (its own quota, apart from the Compute provider's): vCPUs
   * per VM family, keyed by the usage name, which is the family's name as resource SKUs spell it
   * (`standardDADSv5Family`…). Source: "Prerequisites for Managed DevOps Pools", Review Managed
   * DevOps Pools quotas ("quotas are based on CPU cores per Azure VM SKU family"; five cores per
   * family by default); REST `SubscriptionUsages_Usages`, GET
   * /subscriptions/{s}/providers/Microsoft.DevOpsInfrastructure/locations/{l}/usages, answering
   * `{value: [{name: {value, localizedValue}, currentValue, limit, unit, id}], nextLink}`
   * (Azure/azure-rest-api-specs devopsinfrastructure/.../stable/2025-01-21, `PagedQuota`, `Quota`).
   * Keys are lower-cased: the usage names are matched to SKU families without regard to case.
   */
  async managedPoolUsages(subscriptionId: string, location: string): Promise<Record<string, Usage>> {
    const scope = `/subscriptions/${subscriptionId}`;
    return this.arm.call(`reading the Managed DevOps Pools quota in ${location}`, ACTION.mdpUsages, scope, async () => {
      const out: Record<string, Usage> = {};
      let next: string | undefined = `${scope}/providers/Microsoft.DevOpsInfrastructure/locations/${encodeURIComponent(location)}/usages`;
      for (let page = 0; next && page < 20; page++) {
        const { body } = await this.arm.rawGet(next, MDP_USAGES_API_VERSION);
        const p = parse(mlUsagePageSchema, body, 'Managed DevOps Pools usages');
        for (const u of p.value) {
          out[u.name.value.toLowerCase()] = { current: u.currentValue, limit: u.limit < 0 ? Number.POSITIVE_INFINITY : u.limit, label: u.name.localizedValue ?? u.name.value };
        }
        next = p.nextLink ?? undefined;
      }
      return out;
    });
  }

  /** VM sizes offered in a region (from resource SKUs): name → quota family and vCPUs. */
  async vmSkus(subscriptionId: string, location: string): Promise<Record<string, VmSku>> {
    const client = await this.arm.sdk('compute', subscriptionId);
    return this.arm.call(`listing VM sizes in ${location}`, ACTION.skus, `/subscriptions/${subscriptionId}`, async () => {
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
}
