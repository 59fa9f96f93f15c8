import { z } from 'zod';
import { parse, type ArmClient } from './client.js';

/** Rights: the signed-in identity's effective permissions at a scope, and whether they allow an action. */

export interface Permission {
  actions: string[];
  notActions: string[];
  condition?: string;
}

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

const permissionSchema = z
  .object({
    actions: z.array(z.string()).optional(),
    notActions: z.array(z.string()).optional(),
    condition: z.string().nullish(),
  })
  .passthrough();
const permissionPageSchema = z.object({ value: z.array(permissionSchema), nextLink: z.string().nullish() }).passthrough();

/** api-version of the permissions call, made without a typed SDK method. */
const PERMISSIONS_API_VERSION = '2022-04-01';

/** What the call needs in Azure RBAC, named in 403 messages. */
const PERMISSIONS_READ = 'Microsoft.Authorization/permissions/read';

export class ArmAuthorization {
  constructor(private readonly arm: ArmClient) {}

  /** The signed-in identity's effective permissions at `scope` (`/subscriptions/…[/resourceGroups/…]`). */
  async permissions(scope: string): Promise<Permission[]> {
    const clean = `/${scope.replace(/^\/+|\/+$/g, '')}`;
    return this.arm.call(`reading your permissions on ${clean}`, PERMISSIONS_READ, clean, async () => {
      const out: Permission[] = [];
      let next: string | undefined = `${clean}/providers/Microsoft.Authorization/permissions`;
      for (let page = 0; next && page < 20; page++) {
        const { body } = await this.arm.rawGet(next, PERMISSIONS_API_VERSION);
        const p = parse(permissionPageSchema, body, 'permissions');
        for (const e of p.value) out.push({ actions: e.actions ?? [], notActions: e.notActions ?? [], ...(e.condition ? { condition: e.condition } : {}) });
        next = p.nextLink ?? undefined;
      }
      return out;
    });
  }
}
