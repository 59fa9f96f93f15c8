import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toolsStep } from '../../src/steps/tools.js';
import { sshKeyStep } from '../../src/steps/ssh-key.js';
import { azureLoginStep } from '../../src/steps/azure-login.js';
import { runSteps } from '../../src/engine/runner.js';
import { UsageError, StepError } from '../../src/engine/errors.js';
import { FakeAz } from '../fakes/fake-az.js';
import { baseEnv, tempWorld } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';
import { makeKey } from '../helpers/keys.js';

async function setup(opts: { world?: Record<string, unknown>; flags?: Record<string, string>; key?: boolean; pathExtra?: string } = {}) {
  const w = tempWorld();
  const az = new FakeAz(opts.world ?? {});
  if (opts.key !== false) makeKey(join(w.home, '.ssh'), 'id_ed25519');
  const env = baseEnv(w.home, az.env());
  if (opts.pathExtra) env.PATH = `${opts.pathExtra}:${env.PATH}`;
  const { ctx, io } = await testContext({ env, cwd: w.cwd, flags: opts.flags ?? {}, global: { yes: true, stateDir: join(w.cwd, '.azure-mlops') } });
  return { ctx, io, az, w };
}

describe('tools step', () => {
  it('finds az (fake), terraform (real) and their versions', async () => {
    const { ctx } = await setup();
    const r = await toolsStep.check(ctx);
    expect(r.status === 'ok' || r.status === 'warning').toBe(true);
    expect(r.summary).toMatch(/az 2\.67\.0/);
    expect(r.summary).toMatch(/terraform 1\.\d+\.\d+/);
  });

  it('a missing or too old terraform is missing, with the install hint; plan stops the run', async () => {
    const w = tempWorld();
    const bin = join(w.root, 'oldbin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'terraform'), '#!/bin/sh\necho \'{"terraform_version":"1.4.6"}\'\n');
    chmodSync(join(bin, 'terraform'), 0o755);
    const { ctx } = await setup({ pathExtra: bin });
    const r = await toolsStep.check(ctx);
    expect(r.status).toBe('missing');
    expect(r.summary).toContain('terraform 1.4.6 (< 1.5.0)');
    expect(r.fix).toContain('developer.hashicorp.com/terraform/install');
    await expect(toolsStep.plan(ctx, r)).rejects.toBeInstanceOf(StepError);
  });

  it('a missing az is missing with the az install hint', async () => {
    const w = tempWorld();
    const { ctx } = await testContext({ env: { ...baseEnv(w.home), PATH: '/nonexistent' }, cwd: w.cwd });
    const r = await toolsStep.check(ctx);
    expect(r.status).toBe('missing');
    expect(r.summary).toContain('az missing');
    expect(r.fix).toContain('install-azure-cli');
  });
});

describe('ssh-key step', () => {
  it('already satisfied: finds ~/.ssh/id_ed25519.pub, no key created', async () => {
    const { ctx, w } = await setup();
    const r = await sshKeyStep.check(ctx);
    expect(r).toMatchObject({ status: 'ok', summary: expect.stringContaining('id_ed25519.pub (ssh-ed25519') });
    expect(existsSync(join(w.home, '.ssh', 'id_rsa'))).toBe(false);
  });

  it('falls back to id_rsa.pub when there is no ed25519 key', async () => {
    const { ctx, w } = await setup({ key: false });
    makeKey(join(w.home, '.ssh'), 'id_rsa', 'rsa', 2048);
    expect((await sshKeyStep.check(ctx)).summary).toContain('id_rsa.pub (ssh-rsa, 2048 bits)');
  });

  it('missing, non-interactive: exit 2 with the exact ssh-keygen command', async () => {
    const { ctx } = await setup({ key: false });
    const r = await sshKeyStep.check(ctx);
    expect(r.status).toBe('missing');
    const e = await sshKeyStep.plan(ctx, r).catch((x) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect(e.fix).toMatch(/ssh-keygen -t ed25519 -f .*\.ssh\/id_ed25519 -C azure-mlops/);
    expect(e.fix).toContain('AZURE_MLOPS_SSH_KEY');
  });

  it('an explicit --ssh-key that is a private key is refused naming the flag', async () => {
    const { ctx: c0, w } = await setup({ key: false });
    void c0;
    makeKey(w.root, 'mykey');
    const { ctx } = await testContext({ env: baseEnv(w.home), cwd: w.cwd, flags: { sshKey: join(w.root, 'mykey') } });
    const r = await sshKeyStep.check(ctx);
    expect(r.summary).toMatch(/PRIVATE key/);
    await expect(sshKeyStep.plan(ctx, r)).rejects.toThrow(/--ssh-key or AZURE_MLOPS_SSH_KEY/);
  });

  it('never overwrites an existing private key without .pub', async () => {
    const { ctx, w } = await setup({ key: false });
    makeKey(join(w.home, '.ssh'), 'id_ed25519');
    execFileSync('rm', [join(w.home, '.ssh', 'id_ed25519.pub')]);
    const r = await sshKeyStep.check(ctx);
    await expect(sshKeyStep.plan(ctx, r)).rejects.toThrow(/exists but has no valid/);
  });
});

describe('azure-login step (fake az)', () => {
  it('signed in, no --subscription: uses the current one with one az call, no mutation', async () => {
    const { ctx, az } = await setup();
    const r = await azureLoginStep.check(ctx);
    expect(r).toMatchObject({ status: 'ok', summary: expect.stringContaining('Contoso Dev (22222222-') });
    expect(r.record).toMatchObject({ subscriptionId: '22222222-2222-2222-2222-222222222222', tenantId: '11111111-1111-1111-1111-111111111111' });
    expect(az.calls().map((c) => c.cmd)).toEqual(['account show']);
  });

  it('--subscription by name selects and pins another subscription (az account set)', async () => {
    const { ctx, az } = await setup({ flags: { subscription: 'Contoso Prod' } });
    const report = await runSteps([azureLoginStep], ctx, 'apply');
    expect(report.steps[0]?.outcome).toBe('done');
    expect(az.mutatingCalls().map((c) => c.argv.slice(0, 4))).toEqual([['account', 'set', '--subscription', '33333333-3333-3333-3333-333333333333']]);
    expect(ctx.state.stepData('azure-login')).toMatchObject({ subscriptionId: '33333333-3333-3333-3333-333333333333' });
  });

  it('a second run makes no mutating az call', async () => {
    const { ctx, az } = await setup({ flags: { subscription: '33333333-3333-3333-3333-333333333333' } });
    await runSteps([azureLoginStep], ctx, 'apply');
    const before = az.mutatingCalls().length;
    const { ctx: ctx2 } = await testContext({ env: ctx.env as Record<string, string>, cwd: ctx.run.cwd, flags: { subscription: '33333333-3333-3333-3333-333333333333' }, global: { yes: true, stateDir: ctx.run.stateDir } });
    const report = await runSteps([azureLoginStep], ctx2, 'apply');
    expect(report.steps[0]?.outcome).toBe('already');
    expect(az.mutatingCalls().length).toBe(before);
  });

  it('an unknown subscription is a usage error listing how to find them', async () => {
    const { ctx } = await setup({ flags: { subscription: 'Nope' } });
    const e = await runSteps([azureLoginStep], ctx, 'apply').catch((x) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toContain("Subscription 'Nope' is not among the 2");
    expect(e.fix).toContain('--subscription');
  });

  it('a subscription name several subscriptions share is an error listing them, nothing switched', async () => {
    const subs = [
      { id: '22222222-2222-2222-2222-222222222222', name: 'Contoso Dev', tenantId: 't1', state: 'Enabled' },
      { id: '44444444-4444-4444-4444-444444444444', name: 'Pay-As-You-Go', tenantId: 't1', state: 'Enabled' },
      { id: '55555555-5555-5555-5555-555555555555', name: 'Pay-As-You-Go', tenantId: 't2', state: 'Enabled' },
    ];
    const { ctx, az } = await setup({ flags: { subscription: 'pay-as-you-go' }, world: { subscriptions: subs } });
    const e = await runSteps([azureLoginStep], ctx, 'apply').catch((x) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toMatch(/2 subscriptions are named 'pay-as-you-go'.*44444444-.*55555555-/);
    expect(e.fix).toContain('AZURE_MLOPS_SUBSCRIPTION');
    expect(az.mutatingCalls()).toEqual([]);
  });

  it('not signed in (fake): non-interactive run fails with the az login hint', async () => {
    const { ctx } = await setup({ world: { loggedIn: false } });
    const r = await azureLoginStep.check(ctx);
    expect(r).toMatchObject({ status: 'missing', summary: 'not signed in to Azure' });
    await expect(azureLoginStep.plan(ctx, r)).rejects.toThrow(/Not signed in/);
  });

  it('a disabled subscription is reported', async () => {
    const { ctx } = await setup({ world: { subscriptions: [{ id: '22222222-2222-2222-2222-222222222222', name: 'Old', tenantId: 't', state: 'Disabled' }] } });
    expect(await azureLoginStep.check(ctx)).toMatchObject({ status: 'missing', summary: expect.stringContaining('Disabled') });
  });
});

describe("azure-login step against Debian's real az (not signed in)", () => {
  const realAz = existsSync('/usr/bin/az');
  it.skipIf(!realAz && !process.env.AZURE_MLOPS_REQUIRE_ALL_TESTS)('detects "not signed in" from the real az', async () => {
    expect(realAz, 'Debian package azure-cli must be installed (.ci/run installs it)').toBe(true);
    const w = tempWorld();
    const env = baseEnv(w.home, { PATH: `/usr/bin:/bin:${process.env.PATH}` });
    const { ctx } = await testContext({ env, cwd: w.cwd });
    const r = await azureLoginStep.check(ctx);
    expect(r).toMatchObject({ status: 'missing', summary: 'not signed in to Azure', fix: expect.stringContaining('az login') });
    expect(await ctx.az.version()).toMatch(/^2\.\d+\.\d+$/);
  });
});
