import { z } from 'zod';
import { parse, type ArmClient } from './client.js';

/**
 * Federated credentials of a user-assigned managed identity (the pipeline identity): what lets the
 * Azure DevOps service connection sign in as it with workload identity federation.
 */

/** api-version of Microsoft.ManagedIdentity: user-assigned identities and their federated credentials (no typed SDK method is used). */
export const MANAGED_IDENTITY_API_VERSION = '2023-01-31';

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

/** What each call needs in Azure RBAC, named in 403 messages. */
const ACTION = {
  ficRead: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read',
  ficWrite: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write',
  ficDelete: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete',
} as const;

export class ArmIdentity {
  constructor(private readonly arm: ArmClient) {}

  /** The identity's federated credentials, or null when the identity (or its group) does not exist. */
  async federatedCredentials(identityId: string): Promise<FederatedCredential[] | null> {
    const id = `/${identityId.replace(/^\/+/, '')}`;
    return this.arm.call(`listing the federated credentials of ${id.split('/').pop()}`, ACTION.ficRead, id, async () => {
      const out: FederatedCredential[] = [];
      let next: string | undefined = `${id}/federatedIdentityCredentials`;
      for (let page = 0; next && page < 20; page++) {
        const { body } = await this.arm.rawGet(next, MANAGED_IDENTITY_API_VERSION);
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
    return this.arm.call(`adding the federated credential ${name}`, ACTION.ficWrite, id, async () => {
      const { body } = await this.arm.rawRequest('PUT', id, MANAGED_IDENTITY_API_VERSION, { properties: { issuer: fc.issuer, subject: fc.subject, audiences: fc.audiences } });
      return toFederatedCredential(parse(ficSchema, body, 'federated identity credential'));
    });
  }

  /**
   * Deletes a federated credential: true when it was deleted, false when it (or its identity) was
   * already gone (ARM answers 204, or 404 for a missing identity).
   */
  async deleteFederatedCredential(identityId: string, name: string): Promise<boolean> {
    const id = `/${identityId.replace(/^\/+/, '')}/federatedIdentityCredentials/${encodeURIComponent(name)}`;
    const r = await this.arm.call(`deleting the federated credential ${name}`, ACTION.ficDelete, id, () => this.arm.rawRequest('DELETE', id, MANAGED_IDENTITY_API_VERSION), 'null');
    return r !== null && r.status !== 204;
  }
}

function toFederatedCredential(f: z.infer<typeof ficSchema>): FederatedCredential {
  return { ...(f.id ? { id: f.id } : {}), name: f.name, issuer: f.properties.issuer, subject: f.properties.subject, audiences: f.properties.audiences ?? [] };
}
