import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runSteps, tallyChanges } from '../../src/engine/runner.js';
import { buildSteps } from '../../src/steps/index.js';
import { SUB, SUB2, worldContext, worldsPerTest } from '../helpers/world.js';

const world = worldsPerTest();

/** Every line of the plan a person would read: what each change does, its details and commands. */
const planText = (r: Awaited<ReturnType<typeof runSteps>>) =>
  r.steps.flatMap((s) => s.changes.flatMap((c) => [c.what, ...(c.details ?? []), ...(c.commands ?? [])])).join('\n');

describe('the first plan (survey: every check, then one plan)', () => {
  it('default managed identity and local backend: no app registration or state-storage commands', async () => {
    const w = await world();
    const { ctx } = await worldContext(w, {}, { dryRun: true });
    const r = await runSteps(buildSteps(), ctx, 'dry-run');
    const text = planText(r);
    expect(text).not.toMatch(/az ad app|az ad sp/);
    expect(text).not.toMatch(/tfstate|sttf/);
    expect(r.steps.find((s) => s.id === 'service-principal')?.outcome).toBe('already');
    expect(r.steps.find((s) => s.id === 'terraform-backend')?.outcome).toBe('already');
    expect(text).not.toContain('<subscription');
    expect(text).toContain(SUB);
    // A dry run writes nothing, anticipated facts included.
    expect(existsSync(w.stateDir)).toBe(false);
  });

  it('a subscription other than az\'s current one: the plan uses it everywhere (anticipated), not a placeholder', async () => {
    const w = await world();
    const { ctx, io } = await worldContext(w, { subscription: SUB2 }, { dryRun: true });
    const r = await runSteps(buildSteps(), ctx, 'dry-run');
    const login = r.steps.find((s) => s.id === 'azure-login')!;
    expect(login.outcome).toBe('planned');
    expect(login.changes[0]?.commands?.[0]).toBe(`az account set --subscription ${SUB2}`);
    // Steps after the sign-in were checked against the chosen subscription, not left pending.
    expect(r.steps.find((s) => s.id === 'azure-preflight')?.outcome).not.toBe('pending');
    expect(r.steps.find((s) => s.id === 'service-principal')?.outcome).toBe('already');
    const text = planText(r);
    expect(text).toContain(`subscriptionId = ${SUB2}`);
    expect(text).toContain(`subscription_id = "${SUB2}"`);
    expect(text).not.toContain(SUB);
    expect(text).not.toContain('<subscription');
    // One summary line on top, in terraform's manner, with the counts of the changes listed.
    const tally = tallyChanges(r.steps.filter((s) => s.outcome !== 'already').flatMap((s) => s.changes));
    expect(r.tally).toEqual(tally);
    expect(io.all()).toContain(`Plan: ${tally.create} to create, ${tally.change} to change, 0 to destroy in Azure and Azure DevOps`);
    expect(io.all().indexOf('Plan:')).toBeLessThan(io.all().indexOf('To do:'));
    expect(existsSync(w.stateDir)).toBe(false);
  });

  it('--pipeline-identity app-registration: the app commands are in the plan', async () => {
    const w = await world();
    const { ctx } = await worldContext(w, { pipelineIdentity: 'app-registration' }, { dryRun: true });
    const r = await runSteps(buildSteps(), ctx, 'dry-run');
    expect(planText(r)).toContain('az ad app create --display-name azure-mlops-mlops01-pipeline');
  });

  it('non-interactive without --yes: the plan is printed, then exit 2 naming --yes, nothing changed', async () => {
    const w = await world();
    const { ctx, io } = await worldContext(w, {}, { yes: false });
    const e = await runSteps(buildSteps(), ctx, 'apply').then(() => undefined, (x: unknown) => x as Error & { exitCode?: number; fix?: string });
    expect(e?.exitCode).toBe(2);
    expect(e?.fix).toContain('--yes');
    expect(io.all()).toContain('To do:');
    expect(w.devops.mutating()).toEqual([]);
    expect(w.az.mutatingCalls()).toEqual([]);
    expect(w.arm.mutatingRequests()).toEqual([]);
  });
});
