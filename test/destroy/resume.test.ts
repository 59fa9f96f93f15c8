import { afterEach, describe, expect, it } from 'vitest';
import { startWorld, type World } from '../helpers/world.js';
import { faultEveryCall, leftovers } from './helpers.js';

const worlds: World[] = [];
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.stop()));
});

describe('destroy is resumable: a fault at any outside call, then a re-run, and everything is gone', () => {
  it('after a full init from nothing', async () => {
    const w = await startWorld();
    worlds.push(w);
    const r = await faultEveryCall(w, () => leftovers(w));
    console.log(`destroy resume (fresh world): N=${r.N} outside calls (${r.by}); ${r.runs} faulted runs (N + ${r.runs - r.N} lost answers of Azure DevOps writes): ${r.stopped} stopped the run, ${r.converged}/${r.runs} converged on the re-run`);
    expect(r.N).toBeGreaterThanOrEqual(15);
    expect(r.failures.join('\n')).toEqual('');
    expect(r.converged).toBe(r.runs);
  }, 300_000);
});
