import { describe, expect, it } from 'vitest';
import { callCounts, sweep } from './fault-harness.js';

// For every Azure DevOps request of a full init (discovery aside): break it (500, reset, or no
// answer; every other one after the server already acted), run again: exactly one of everything.
describe('faults at every Azure DevOps request converge', () => {
  it('DevOps: every request k = 1..N', async () => {
    const ref = await callCounts();
    const r = await sweep('devops', ref.devops, ref.fingerprint);
    console.log(`fault convergence (Azure DevOps): N = ${r.n}, converged ${r.converged}`);
    expect(r.failures).toEqual([]);
    expect(r.converged).toBe(r.n);
  }, 900_000);
});
