import { z } from 'zod';
import { ArmError, parse, type ArmClient } from './client.js';

/** Any resource by id (does this deployment's resource exist?), and the subscription itself. */

export interface GenericResource {
  id?: string;
  name?: string;
  type?: string;
  location?: string;
  [k: string]: unknown;
}

const genericResourceSchema = z
  .object({ id: z.string().optional(), name: z.string().optional(), type: z.string().optional(), location: z.string().optional() })
  .passthrough();
const resourceGroupSchema = z
  .object({ id: z.string().optional(), name: z.string(), location: z.string().optional(), tags: z.record(z.string(), z.string()).nullish() })
  .passthrough();
const subscriptionSchema = z.object({ subscriptionId: z.string(), displayName: z.string(), state: z.string() }).passthrough();

/** api-version of the subscription read, made without a typed SDK method. */
const SUBSCRIPTIONS_API_VERSION = '2022-12-01';

/** What the calls need in Azure RBAC, named in 403 messages. */
const RESOURCE_READ = '*/read';
const RESOURCE_GROUP_READ = 'Microsoft.Resources/subscriptions/resourceGroups/read';

/** A resource group as ARM returns it; `tags` is {} when it has none (ARM then omits the field). */
export interface ResourceGroup {
  id?: string;
  name: string;
  location?: string;
  tags: Record<string, string>;
}

export class ArmResources {
  constructor(private readonly arm: ArmClient) {}

  /** A resource by id, or null when it (or its resource group) does not exist. */
  async getResource(id: string, apiVersion: string): Promise<GenericResource | null> {
    const sub = /^\/?subscriptions\/([^/]+)/i.exec(id)?.[1];
    if (!sub) throw new ArmError(`'${id}' is not an ARM resource id (expected /subscriptions/…)`, 'InvalidResourceId', {});
    const client = await this.arm.sdk('resources', sub);
    const r = await this.arm.call(`reading ${id}`, RESOURCE_READ, id, () => client.resources.getById(id.replace(/^\/+/, ''), apiVersion), 'null');
    return r === null ? null : (parse(genericResourceSchema, r, id) as GenericResource);
  }

  /** A resource group with its tags (`GET /subscriptions/{s}/resourcegroups/{name}`), or null when it does not exist. */
  async resourceGroup(subscriptionId: string, name: string): Promise<ResourceGroup | null> {
    const client = await this.arm.sdk('resources', subscriptionId);
    const scope = `/subscriptions/${subscriptionId}/resourceGroups/${name}`;
    const r = await this.arm.call(`reading resource group ${name}`, RESOURCE_GROUP_READ, scope, () => client.resourceGroups.get(name), 'null');
    if (r === null) return null;
    const g = parse(resourceGroupSchema, r, `resource group ${name}`);
    return { ...(g.id ? { id: g.id } : {}), name: g.name, ...(g.location ? { location: g.location } : {}), tags: g.tags ?? {} };
  }

  /** The subscription as ARM sees it (null when the login cannot see it). */
  async subscription(subscriptionId: string): Promise<{ subscriptionId: string; displayName: string; state: string } | null> {
    return this.arm.call(`reading subscription ${subscriptionId}`, RESOURCE_READ, `/subscriptions/${subscriptionId}`, async () => {
      const { body } = await this.arm.rawGet(`/subscriptions/${subscriptionId}`, SUBSCRIPTIONS_API_VERSION);
      return parse(subscriptionSchema, body, 'subscription');
    }, 'null');
  }
}
