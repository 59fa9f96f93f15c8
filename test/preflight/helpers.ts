import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { ArmAdapterOptions } from '../../src/adapters/arm/client.js';
import { ArmAdapter } from '../../src/adapters/arm/index.js';
import type { Context } from '../../src/engine/types.js';
import { FakeArm, type FakeArmWorld } from '../fakes/arm/fake-arm.js';
import { FakeAz } from '../fakes/fake-az.js';
import { baseEnv, tempWorld } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';

export const SUB = '22222222-2222-2222-2222-222222222222';
export const PREFIX = 'mlops01';
export const LOCATION = 'westeurope';

const started: FakeArm[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((f) => f.close()));
});

export interface Setup {
  arm: FakeArm;
  az: FakeAz;
  ctx: Context;
  io: { out: () => string; err: () => string; all: () => string };
  /** Every az invocation of the fake's log, by command ('cloud show', 'account get-access-token'…). */
  azCommands: () => string[];
}

/** A real Context against the fake az and the fake ARM. */
export async function setup(
  opts: {
    arm?: Partial<FakeArmWorld>;
    az?: Record<string, unknown>;
    flags?: Record<string, string>;
    /** Pin the subscription in state like the azure-login step does (default true). */
    pinSubscription?: boolean;
    adapter?: ArmAdapterOptions;
    cloud?: (arm: FakeArm) => Record<string, unknown>;
  } = {},
): Promise<Setup> {
  const arm = await FakeArm.start(opts.arm);
  started.push(arm);
  const w = tempWorld('aml-preflight-');
  const az = new FakeAz({ cloud: opts.cloud ? opts.cloud(arm) : arm.cloud(), ...opts.az });
  const azEnv = az.env();
  const env = baseEnv(w.home, azEnv);
  const { ctx, io } = await testContext({
    env,
    cwd: w.cwd,
    flags: { prefix: PREFIX, location: LOCATION, ...opts.flags },
    global: { yes: true, stateDir: join(w.cwd, '.azure-mlops') },
  });
  ctx.arm = new ArmAdapter(ctx.az, { httpClient: arm.httpClient(), redactor: ctx.redactor, pollIntervalMs: 10, ...opts.adapter });
  if (opts.pinSubscription !== false) await ctx.state.setStepData('azure-login', { subscriptionId: SUB, tenantId: '11111111-1111-1111-1111-111111111111' });
  return { arm, az, ctx, io, azCommands: () => az.calls().map((c) => c.cmd) };
}

/** Resource ids of what terraform creates for PREFIX in SUB. */
export const ids = {
  rg: `/subscriptions/${SUB}/resourceGroups/rg-${PREFIX}-ml`,
  storage: `/subscriptions/${SUB}/resourceGroups/rg-${PREFIX}-ml/providers/Microsoft.Storage/storageAccounts/st${PREFIX}`,
  registry: `/subscriptions/${SUB}/resourceGroups/rg-${PREFIX}-ml/providers/Microsoft.ContainerRegistry/registries/acr${PREFIX}`,
  vault: `/subscriptions/${SUB}/resourceGroups/rg-${PREFIX}-ml/providers/Microsoft.KeyVault/vaults/kv-${PREFIX}`,
  aks: `/subscriptions/${SUB}/resourceGroups/rg-${PREFIX}-ml/providers/Microsoft.ContainerService/managedClusters/aks${PREFIX}`,
  agentVm: `/subscriptions/${SUB}/resourceGroups/rg-${PREFIX}-devops/providers/Microsoft.Compute/virtualMachines/vm-${PREFIX}-agents`,
  pipelineIdentity: `/subscriptions/${SUB}/resourceGroups/rg-${PREFIX}-ml/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-${PREFIX}-pipeline`,
};

/** The token the fake az hands out for the ARM audience the fake cloud advertises. */
export const FAKE_TOKEN = 'fake-token-for-httpsmanagementcorewindowsnet';
