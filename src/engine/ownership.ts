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

/** Records an object found by name: ours if an earlier run intended or recorded creating it. */
export async function recordFound(state: StateStore, t: Tracked & { id: string }): Promise<boolean> {
  const prior = state.resource(t.kind, t.name);
  const ours = Boolean(prior?.createdByUs);
  if (!prior || prior.id !== t.id || prior.meta?.pending) await state.recordResource({ ...t, createdByUs: ours });
  return ours;
}
