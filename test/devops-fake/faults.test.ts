// Fault injection: inject(), randomFaults(), failAt(), latency, as the real client sees them.
import { afterEach, describe, expect, it } from 'vitest';
import { rejection, startFake, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.fake.stop();
  h = undefined;
});

describe('inject()', () => {
  it('429 carries Retry-After (and X-RateLimit-*); the library does not retry and surfaces statusCode, result, headers', async () => {
    h = await startFake();
    h.fake.inject({ method: 'GET', path: /\/_apis\/projects$/, status: 429, retryAfterSeconds: 3 });
    const core = await h.api.getCoreApi();
    const e = await rejection(core.getProjects());
    expect(e.statusCode).toBe(429);
    expect(e.result?.typeKey).toBe('RequestBlockedException');
    expect(e.message).toMatch(/^TF400733/);
    expect(e.responseHeaders?.['retry-after']).toBe('3');
    expect(e.responseHeaders?.['x-ratelimit-resource']).toBe('ATCPU');
    expect(e.rateLimit).toMatchObject({ retryAfter: 3, resource: 'ATCPU', remaining: 0 });
    // times defaults to 1: the next call goes through; one GET per call (no retry by the library)
    expect(await core.getProjects()).toEqual([]);
    expect(h.fake.requests.filter((r) => r.path === '/contoso/_apis/projects').map((r) => [r.status, r.fault])).toEqual([
      [429, 'inject'],
      [200, undefined],
    ]);
  });

  it('500/503 with the service error JSON, `times`, a custom body; discovery is not matched unless asked', async () => {
    h = await startFake();
    h.fake.inject({ status: 503, times: 2 });
    const ta = await h.api.getTaskAgentApi(); // discovery (OPTIONS, ResourceAreas) unaffected
    expect((await rejection(ta.getAgentPools())).statusCode).toBe(503);
    expect((await rejection(ta.getAgentPools())).result?.typeKey).toBe('ServiceUnavailableException');
    expect((await ta.getAgentPools()).length).toBe(2);
    h.fake.inject({ method: 'POST', status: 500, body: { message: 'boom', typeKey: 'Custom' } });
    const e = await rejection(ta.addAgentPool({ name: 'pool001' }));
    expect(e).toMatchObject({ statusCode: 500, message: 'boom', result: { typeKey: 'Custom' } });
    expect(h.fake.world.pools.map((p) => p.name)).not.toContain('pool001'); // nothing was created
  });

  it('an HTML 203 on one call: the library returns null instead of data', async () => {
    h = await startFake();
    h.fake.addProject('p');
    const core = await h.api.getCoreApi();
    h.fake.inject({ path: /projects/, status: 203, html203: true });
    expect(await core.getProjects()).toBeNull();
    expect((await core.getProjects()).length).toBe(1);
  });
});

describe('randomFaults()', () => {
  async function pattern(seed: number): Promise<number[]> {
    const harness = await startFake({ seed });
    try {
      harness.fake.randomFaults({ rate: 0.5, statuses: [429, 500, 503], retryAfterSeconds: 0 });
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await harness.api.rest.get(`${harness.fake.orgUrl}/_apis/projects`).catch((e: { statusCode: number }) => ({ statusCode: e.statusCode }));
        statuses.push(res.statusCode);
      }
      // discovery is never faulted
      await harness.api.getCoreApi();
      expect(harness.fake.requests.filter((r) => r.discovery).every((r) => r.status === 200)).toBe(true);
      return statuses;
    } finally {
      await harness.fake.stop();
    }
  }

  it('is seeded: the same seed gives the same faults; rate 0 turns them off', async () => {
    const a = await pattern(7);
    const b = await pattern(7);
    const c = await pattern(8);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.filter((s) => s !== 200).length).toBeGreaterThan(3);
    expect(new Set(a.filter((s) => s !== 200))).toEqual(new Set([429, 500, 503]));
    h = await startFake();
    h.fake.randomFaults({ rate: 1, statuses: [500] });
    expect((await rejection(h.api.rest.get(`${h.fake.orgUrl}/_apis/projects`))).statusCode).toBe(500);
    h.fake.randomFaults({ rate: 0, statuses: [500] });
    expect((await h.api.rest.get(`${h.fake.orgUrl}/_apis/projects`)).statusCode).toBe(200);
  });
});

describe('failAt()', () => {
  it("'error': the k-th non-discovery call gets 500", async () => {
    h = await startFake();
    h.fake.failAt(2, 'error');
    const ta = await h.api.getTaskAgentApi();
    await ta.getAgentPools(); // call 1
    const e = await rejection(ta.getAgentPools()); // call 2
    expect(e.statusCode).toBe(500);
    expect(await ta.getAgentPools()).toHaveLength(2); // call 3
    expect(h.fake.countCalls()).toBe(3);
    expect(h.fake.requests.filter((r) => !r.discovery).map((r) => r.call)).toEqual([1, 2, 3]);
  });

  it("'reset': the socket is destroyed (ECONNRESET, socket hang up)", async () => {
    h = await startFake();
    h.fake.failAt(1, 'reset');
    const ta = await h.api.getTaskAgentApi();
    const e = await rejection(ta.getAgentPools());
    expect(e.code).toBe('ECONNRESET');
    expect(e.message).toBe('socket hang up');
    expect(e.statusCode).toBeUndefined();
    expect(h.fake.requests.at(-1)).toMatchObject({ status: 0, fault: 'reset' });
  });

  it("'timeout': never answered; the client gives up after its socketTimeout", async () => {
    h = await startFake({}, { socketTimeout: 150 });
    h.fake.failAt(1, 'timeout');
    const ta = await h.api.getTaskAgentApi();
    const started = Date.now();
    const e = await rejection(ta.getAgentPools());
    expect(e.message).toBe('Request timeout: /contoso/_apis/distributedtask/pools');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(h.fake.requests.at(-1)).toMatchObject({ status: 0, fault: 'timeout' });
    expect(await ta.getAgentPools()).toHaveLength(2); // the server is still fine
  });

  it('afterCommit: the change is made and only the answer is lost (a retry then meets the duplicate)', async () => {
    h = await startFake();
    h.fake.failAt(1, 'reset', { afterCommit: true });
    const ta = await h.api.getTaskAgentApi();
    const e = await rejection(ta.addAgentPool({ name: 'pool001' }));
    expect(e.code).toBe('ECONNRESET');
    expect(h.fake.world.pools.map((p) => p.name)).toContain('pool001');
    const retry = await rejection(ta.addAgentPool({ name: 'pool001' }));
    expect(retry.statusCode).toBe(409);
  });
});

describe('latency', () => {
  it('latencyMs delays every answer', async () => {
    h = await startFake({ latencyMs: 60 });
    const started = Date.now();
    await h.api.connect();
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    h.fake.inject({ path: /connectionData/, status: 500, latencyMs: 40 });
    const t = Date.now();
    await rejection(h.api.connect());
    expect(Date.now() - t).toBeGreaterThanOrEqual(95);
  });
});
