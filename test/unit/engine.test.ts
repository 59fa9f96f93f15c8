import { describe, expect, it } from 'vitest';
import { runSteps, validateStepGraph, walk } from '../../src/engine/runner.js';
import { buildSteps } from '../../src/steps/index.js';
import { fromStep, runChecks } from '../../src/engine/doctor.js';
import { UsageError, StepError } from '../../src/engine/errors.js';
import type { Change, CheckResult, Step, StepId } from '../../src/engine/types.js';
import { testContext } from '../helpers/context.js';
import { tempWorld, baseEnv } from '../helpers/cli.js';

/** A step over a shared in-memory world: done when world[id] is true. */
function fakeStep(id: StepId, deps: StepId[], world: Record<string, boolean>, log: string[], opts: { planThrows?: Error; applyFails?: boolean; delayMs?: number } = {}): Step {
  return {
    id,
    title: `step ${id}`,
    dependsOn: deps,
    async check(): Promise<CheckResult> {
      log.push(`check ${id}`);
      return world[id] ? { status: 'ok', summary: 'present' } : { status: 'missing', summary: 'absent', fix: 'create it' };
    },
    async plan(): Promise<Change[]> {
      log.push(`plan ${id}`);
      if (opts.planThrows) throw opts.planThrows;
      return [{ action: 'create', what: id, commands: [`make ${id}`] }];
    },
    async apply() {
      log.push(`apply-start ${id}`);
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      if (opts.applyFails) throw new StepError(`${id} broke`);
      if (!opts.applyFails) world[id] = true;
      log.push(`apply-end ${id}`);
    },
  };
}

async function ctxFor() {
  const w = tempWorld();
  return testContext({ env: baseEnv(w.home), cwd: w.cwd, global: { yes: true, stateDir: `${w.cwd}/.azure-mlops` } });
}

describe('engine', () => {
  it('applies missing steps in dependency order, re-checks, and records state', async () => {
    const world: Record<string, boolean> = { tools: true };
    const log: string[] = [];
    const steps = [fakeStep('tools', [], world, log), fakeStep('ssh-key', ['tools'], world, log), fakeStep('azure-login', ['ssh-key'], world, log)];
    const { ctx, io } = await ctxFor();
    const report = await runSteps(steps, ctx, 'apply');
    expect(report.steps.map((s) => s.outcome)).toEqual(['already', 'done', 'done']);
    expect(log.indexOf('apply-end ssh-key')).toBeLessThan(log.indexOf('apply-start azure-login'));
    expect(log.filter((l) => l === 'apply-start tools')).toHaveLength(0);
    expect(ctx.state.data.steps['azure-login']?.status).toBe('done');
    expect(io.all()).toContain('make ssh-key');
  });

  it('a second run applies nothing and says everything is done', async () => {
    const world: Record<string, boolean> = { tools: true, 'ssh-key': true };
    const log: string[] = [];
    const { ctx, io } = await ctxFor();
    const report = await runSteps([fakeStep('tools', [], world, log), fakeStep('ssh-key', ['tools'], world, log)], ctx, 'apply');
    expect(report.steps.every((s) => s.outcome === 'already')).toBe(true);
    expect(log.some((l) => l.startsWith('apply'))).toBe(false);
    expect(io.all()).toMatch(/nothing to do/);
  });

  it('dry-run plans every step (pending ones too) and applies nothing', async () => {
    const world: Record<string, boolean> = {};
    const log: string[] = [];
    const { ctx, io } = await ctxFor();
    const report = await runSteps([fakeStep('tools', [], world, log), fakeStep('ssh-key', ['tools'], world, log)], ctx, 'dry-run');
    expect(report.steps.map((s) => s.outcome)).toEqual(['planned', 'pending']);
    expect(log).toEqual(['check tools', 'plan tools', 'plan ssh-key']);
    expect(io.all()).toContain('after tools');
    expect(ctx.state.persisted).toBe(false);
  });

  it('a plan that refuses (missing input) stops the run before anything is applied', async () => {
    const world: Record<string, boolean> = {};
    const log: string[] = [];
    const { ctx } = await ctxFor();
    const steps = [fakeStep('tools', [], world, log), fakeStep('devops-project', [], world, log, { planThrows: new UsageError('no key') })];
    await expect(runSteps(steps, ctx, 'apply')).rejects.toBeInstanceOf(UsageError);
    expect(log.some((l) => l.startsWith('apply'))).toBe(false);
  });

  it('independent steps run concurrently; a failure stops new steps and is reported', async () => {
    const world: Record<string, boolean> = {};
    const log: string[] = [];
    const { ctx } = await ctxFor();
    const steps = [
      fakeStep('terraform', [], world, log, { delayMs: 50 }),
      fakeStep('devops-project', [], world, log, { delayMs: 10, applyFails: true }),
      fakeStep('pipeline', ['terraform', 'devops-project'], world, log),
    ];
    await expect(runSteps(steps, ctx, 'apply')).rejects.toThrow(/devops-project broke/);
    expect(log.indexOf('apply-start devops-project')).toBeLessThan(log.indexOf('apply-end terraform'));
    expect(log).toContain('apply-end terraform'); // the running step finished
    expect(log).not.toContain('apply-start pipeline');
    expect(ctx.state.data.steps['devops-project']?.status).toBe('failed');
  });

  it('a step still missing after apply fails with its fix', async () => {
    const log: string[] = [];
    const { ctx } = await ctxFor();
    const stubborn: Step = { ...fakeStep('tools', [], {}, log), apply: async () => undefined };
    await expect(runSteps([stubborn], ctx, 'apply')).rejects.toThrow(/still not done/);
  });

  it('doctor: dependents of a missing check are skipped with the reason', async () => {
    const world: Record<string, boolean> = { tools: true };
    const log: string[] = [];
    const { ctx } = await ctxFor();
    const steps = [fakeStep('tools', [], world, log), fakeStep('ssh-key', ['tools'], world, log), fakeStep('azure-login', ['ssh-key'], world, log)];
    const r = await runChecks(steps.map((s) => fromStep(s, s.id, 'local', s.dependsOn)), ctx);
    expect(r.checks.map((c) => c.status)).toEqual(['ok', 'missing', 'skipped']);
    expect(r.checks[2]?.finding).toContain('step ssh-key');
    expect(r.ok).toBe(false);
  });

  it('doctor: a hanging check times out instead of hanging', async () => {
    const { ctx } = await ctxFor();
    const hang: Step = { ...fakeStep('tools', [], {}, []), check: () => new Promise(() => undefined) };
    const r = await runChecks([fromStep(hang, 'x', 'local')], ctx, 50);
    expect(r.checks[0]).toMatchObject({ status: 'missing', finding: expect.stringMatching(/did not answer within/) });
  });

  it('the real step list is a valid graph (unique ids, dependencies listed before)', () => {
    expect(() => validateStepGraph(buildSteps())).not.toThrow();
  });

  it('validates the step graph', () => {
    const s = fakeStep('ssh-key', ['tools'], {}, []);
    expect(() => validateStepGraph([s])).toThrow(/not listed before/);
  });

  it('walk runs independent work concurrently', async () => {
    const order: string[] = [];
    const mk = (id: StepId, deps: StepId[]) => ({ ...fakeStep(id, deps, {}, []) });
    await walk([mk('tools', []), mk('ssh-key', []), mk('azure-login', ['tools', 'ssh-key'])], async (s) => {
      order.push(`start ${s.id}`);
      await new Promise((r) => setTimeout(r, 5));
      order.push(`end ${s.id}`);
      return true;
    });
    expect(order.slice(0, 2).sort()).toEqual(['start ssh-key', 'start tools']);
    expect(order.at(-2)).toBe('start azure-login');
  });
});
