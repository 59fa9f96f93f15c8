import { afterEach } from 'vitest';
import { ArmAdapter } from '../../src/adapters/arm/index.js';
import type { Context } from '../../src/engine/types.js';
import { testContext } from './context.js';
import { startWorld, type World } from './world-core.js';

export * from './world-core.js';

/** An in-process Context in the world (its adapters get the world's environment, not process.env). */
export async function worldContext(world: World, flags: Record<string, string> = {}, global: Record<string, unknown> = {}, envOverrides: Record<string, string | undefined> = {}) {
  const env = { ...world.env };
  for (const [k, v] of Object.entries(envOverrides)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const r = await testContext({ env, cwd: world.cwd, flags: { ...world.flags, ...flags }, global: { yes: true, stateDir: world.stateDir, ...global } });
  const timeout = Number(env.AZURE_MLOPS_HTTP_TIMEOUT_MS) || undefined;
  r.ctx.arm = new ArmAdapter(r.ctx.az, { httpClient: world.arm.httpClient(), redactor: r.ctx.redactor, pollIntervalMs: 10, ...(timeout ? { attemptTimeoutMs: timeout } : {}) });
  return r as { ctx: Context; io: typeof r.io };
}

/** A fresh fake world per call, stopped after each test of the calling file. */
export function worldsPerTest(): (opts?: Parameters<typeof startWorld>[0]) => Promise<World> {
  const started: World[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((w) => w.stop()));
  });
  return async (opts = {}) => {
    const w = await startWorld(opts);
    started.push(w);
    return w;
  };
}
