import type { AnswerKey } from '../config/fields.js';
import { conflictError, describedConflict } from './deployment.js';
import type { StateStore } from './state.js';
import type { ResourceKind } from './types.js';

/**
 * Ownership of outside objects: destroy deletes only what a step created. The record of an
 * intended create is written *before* the outside call, so a run killed between "created" and
 * "recorded" still knows, on the re-run that finds the object by name, that it was ours.
 */
export interface Tracked {
  kind: ResourceKind;
  name: string;
  step: string;
  meta?: Record<string, string>;
}

export async function createTracked<T extends { id: string }>(state: StateStore, t: Tracked, create: () => Promise<T>): Promise<T> {
  const prior = state.resource(t.kind, t.name);
  if (!prior) await state.recordResource({ ...t, id: '', createdByUs: true, meta: { ...t.meta, pending: 'true' } });
  const made = await create();
  // `at` becomes the creation time (a pipeline run waits on it: see runAndFollow in steps/pipeline.ts).
  await state.recordResource({ ...t, id: made.id, createdByUs: true, at: new Date().toISOString() });
  return made;
}

/** What a found object's description says about its owner, and the answer that names it. */
export interface FoundOwner {
  /** For the refusal: "Azure DevOps project 'mlops'". */
  what: string;
  description: string | null | undefined;
  /** This deployment's id (steps/deployment-values.ts deploymentId). */
  deploymentId: string;
  /** The flag and env var that give it another name. */
  rename: AnswerKey;
}

/**
 * Records an object found by name: ours if an earlier run intended or recorded creating it. With
 * `owner`, an object whose description names another deployment is refused (UsageError, exit 2)
 * and neither recorded nor touched; one without our mark is "found, kept" as before.
 */
export async function recordFound(state: StateStore, t: Tracked & { id: string; owner?: FoundOwner }): Promise<boolean> {
  const { owner, ...found } = t;
  const conflict = owner && describedConflict(owner.what, owner.description, owner.deploymentId);
  if (conflict) throw conflictError(conflict, owner.rename);
  const prior = state.resource(found.kind, found.name);
  const ours = Boolean(prior?.createdByUs);
  if (!prior || prior.id !== found.id || prior.meta?.pending) await state.recordResource({ ...found, createdByUs: ours });
  return ours;
}
