import { createHash } from 'node:crypto';
import { howToSet, type AnswerKey } from '../config/fields.js';
import { UsageError } from './errors.js';
import type { CheckResult } from './types.js';

/**
 * One deployment per prefix. Each deployment has an id: a UUID this tool writes into the tag
 * `azure-mlops-deployment` of its resource groups (terraform, through the module's `deployment_id`)
 * and into the descriptions of the Azure DevOps objects it creates that have one (project, service
 * connection, variable group). A state dir finding a resource group or one of those objects marked
 * with another id refuses to go on (exit 2) instead of adopting another state dir's deployment.
 *
 * The id (src/steps/deployment-values.ts `deploymentId`): with the local terraform backend, the
 * random `deploymentId` of state.json, made once per state dir; with `--state-backend azurerm`, one
 * derived from the backend's blob (`sharedDeploymentId`), so that every state dir sharing that
 * terraform state is the same deployment and carries the same id without copying anything.
 */

export const DEPLOYMENT_TAG = 'azure-mlops-deployment';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
export const UUID_RE = new RegExp(`^${UUID}$`, 'i');
const MARK_RE = new RegExp(`created by azure-mlops, deployment (${UUID})`, 'i');

/** What a description says about its owner: "… (created by azure-mlops, deployment <id>)". */
export function createdBy(id: string): string {
  return `created by azure-mlops, deployment ${id}`;
}

/** The deployment id a description names, if it carries our marker. */
export function markedDeployment(description: string | null | undefined): string | undefined {
  return description ? MARK_RE.exec(description)?.[1]?.toLowerCase() : undefined;
}

/** Namespace of the ids derived from a backend (UUID version 5, RFC 9562 section 5.5). */
const NAMESPACE = 'b8d1b7a4-5c3e-4f0a-9d62-3a7e0c2f9e15';

/** A name-based UUID (version 5: SHA-1 of the namespace and the name). */
export function uuidFromName(name: string, namespace = NAMESPACE): string {
  const h = createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name, 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * The id of a deployment whose terraform state is the blob `container/key` of the storage account
 * `account` (--state-backend azurerm). Storage account names are unique in all of Azure, so the
 * blob names one terraform state, and state dirs sharing it share the deployment.
 */
export function sharedDeploymentId(backend: { account: string; container: string; key: string }): string {
  return uuidFromName(`azurerm:${backend.account.toLowerCase()}/${backend.container}/${backend.key}`);
}

/** What a run needs to say about another deployment's object, and what to do about it. */
export interface Conflict {
  /** e.g. "resource group rg-x-ml", "Azure DevOps project 'mlops'". */
  what: string;
  /** The id it is marked with; undefined: it exists without any mark. */
  owner: string | undefined;
  /** This state dir's deployment id. */
  ours: string;
}

/** The answer that renames the object instead (the prefix for resource groups). */
export function conflictFix(rename: AnswerKey, hint?: string): string {
  return [
    `Run azure-mlops from the state dir that created it (--state-dir or AZURE_MLOPS_STATE_DIR), or choose another name with ${howToSet(rename)}.`,
    hint ?? 'To run one deployment from several state dirs (or machines), share its terraform state: every one of them uses --state-backend azurerm (env AZURE_MLOPS_STATE_BACKEND) from the first init on, and so carries the same deployment id.',
  ].join(' ');
}

export function conflictMessage(c: Conflict): string {
  return c.owner
    ? `${c.what} is already deployed by another azure-mlops state dir: it belongs to deployment ${c.owner}, and this state dir's deployment is ${c.ours}. azure-mlops never takes over another state dir's deployment.`
    : `${c.what} already exists, without the ${DEPLOYMENT_TAG} tag, and this state dir did not create it (made by hand, or by an azure-mlops older than deployment ids from another state dir). azure-mlops never takes over what it did not create.`;
}

/** The refusal of a found object that names another deployment (exit 2, before it is touched). */
export function conflictError(c: Conflict, rename: AnswerKey, hint?: string): UsageError {
  return new UsageError(conflictMessage(c), conflictFix(rename, hint));
}

/**
 * A check that found another deployment's object: missing for doctor, a refusal for init (exit 2).
 * No facts: the run stops before any plan() would read them (`never` fits every step's facts).
 */
export function refusedCheck(c: Conflict, rename: AnswerKey, hint?: string): CheckResult<never> {
  const message = conflictMessage(c);
  const fix = conflictFix(rename, hint);
  return { status: 'missing', summary: message, fix, refusal: { message, fix } };
}

/**
 * A found Azure DevOps object's owner by its description: undefined when it is ours or carries no
 * mark (then it is "found, kept" as before); the conflict when it names another deployment.
 */
export function describedConflict(what: string, description: string | null | undefined, ours: string): Conflict | undefined {
  const owner = markedDeployment(description);
  return owner && owner !== ours.toLowerCase() ? { what, owner, ours } : undefined;
}
