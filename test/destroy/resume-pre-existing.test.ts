import { afterEach, describe, expect, it } from 'vitest';
import type { World } from '../helpers/world.js';
import { faultEveryCall, preExistingProblems, preExistingWorld } from './helpers.js';

const worlds: World[] = [];
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.stop()));
});

describe('destroy is resumable and keeps what existed before, whatever fails', () => {
  it('with a pre-existing project, pool, repository and app: they stay untouched whatever fails', async () => {
    const { w, theirs } = await preExistingWorld();
    worlds.push(w);
    const r = await faultEveryCall(w, () => preExistingProblems(w, theirs), ['--push-to', 'azure-mlops', '--pipeline-identity', 'app-registration']);
    console.log(`destroy resume (pre-existing objects): N=${r.N} outside calls (${r.by}); ${r.runs} faulted runs (N + ${r.runs - r.N} lost answers of Azure DevOps writes): ${r.stopped} stopped the run, ${r.converged}/${r.runs} converged on the re-run`);
    expect(r.N).toBeGreaterThanOrEqual(10);
    expect(r.failures).toEqual([]);
    expect(r.converged).toBe(r.runs);
  }, 300_000);
});
