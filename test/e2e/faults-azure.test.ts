import { describe, expect, it } from 'vitest';
import { callCounts, sweep } from './fault-harness.js';

// For every az invocation, ARM request and terraform command of a full init: break the run there
// (error, kill/reset or timeout), run again, and end with exactly one of every object.
describe('faults at every az, ARM and terraform call converge', () => {
  it('az, ARM, terraform: every call k = 1..N', async () => {
    const ref = await callCounts();
    const results = [await sweep('az', ref.az, ref.fingerprint), await sweep('arm', ref.arm, ref.fingerprint), await sweep('terraform', ref.terraform, ref.fingerprint)];
    const total = results.reduce((a, r) => a + r.n, 0);
    const converged = results.reduce((a, r) => a + r.converged, 0);
    console.log(`fault convergence (az ${ref.az}, ARM ${ref.arm}, terraform ${ref.terraform}): N = ${total}, converged ${converged}`);
    expect(results.flatMap((r) => r.failures)).toEqual([]);
    expect(converged).toBe(total);
  }, 900_000);
});
