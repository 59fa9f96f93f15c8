import { CancelledError, CliError, StepError, UsageError } from './errors.js';
import type { Change, CheckResult, Context, Step, StepId } from './types.js';
import { renderChanges } from '../ui/plan.js';
import { symbols } from '../ui/colors.js';

/**
 * Runs the ordered steps: check -> plan -> (dry-run: print) -> confirm -> apply -> check again.
 *
 * Phase 1 (survey) checks every step in dependency order; a step whose dependency is not done yet
 * is "pending" (doctor: skipped, with the reason), and every step still to do gets a plan — so the
 * whole plan is known, and input problems surface, before anything is created.
 * Phase 2 (apply) walks the dependency graph, running independent steps concurrently (DevOps work
 * proceeds while terraform applies); prompts are serialised by the UI.
 */

export type StepOutcome = 'done' | 'already' | 'planned' | 'pending' | 'failed' | 'not-run';

export interface StepReport {
  id: StepId;
  title: string;
  outcome: StepOutcome;
  check?: CheckResult;
  changes: Change[];
  error?: string;
  fix?: string;
  durationMs?: number;
  /** Dependencies that were not done when the step was surveyed. */
  waitingFor?: StepId[];
}

export interface RunReport {
  ok: boolean;
  dryRun: boolean;
  steps: StepReport[];
}

type Mode = 'apply' | 'dry-run';

function isSatisfied(r: CheckResult | undefined): boolean {
  return r?.status === 'ok' || r?.status === 'warning';
}

function errorText(e: unknown): { error: string; fix?: string } {
  if (e instanceof CliError) return { error: e.message, ...(e.fix ? { fix: e.fix } : {}) };
  return { error: e instanceof Error ? e.message : String(e) };
}

export interface RunHooks {
  /**
   * After the survey's plan is printed, before the dry-run ends or anything is confirmed or applied
   * (init prints its cost estimate there).
   */
  afterSurvey?: () => Promise<void>;
}

export async function runSteps(steps: readonly Step[], ctx: Context, mode: Mode, hooks: RunHooks = {}): Promise<RunReport> {
  const { log } = ctx;
  const byId = new Map(steps.map((s) => [s.id, s]));
  const reports = new Map<StepId, StepReport>(steps.map((s) => [s.id, { id: s.id, title: s.title, outcome: 'not-run', changes: [] }]));

  // ---- Phase 1: survey (read-only) -------------------------------------------------------
  const surveyed = await walk(steps, async (step, depsOk, waitingFor) => {
    const rep = reports.get(step.id)!;
    rep.waitingFor = waitingFor;
    if (depsOk) {
      rep.check = await ctx.ui.task(`checking ${step.title}`, () => step.check(ctx));
      if (isSatisfied(rep.check)) {
        rep.outcome = 'already';
        return true;
      }
    } else {
      rep.outcome = 'pending';
    }
    // A plan for everything not done: plan() may refuse (UsageError) when input is missing.
    rep.changes = await step.plan(ctx, rep.check ?? { status: 'skipped', summary: 'waits for an earlier step' });
    if (rep.outcome !== 'pending') rep.outcome = 'planned';
    return false;
  });
  if (surveyed.error) throw surveyed.error;

  for (const s of steps) printSurveyLine(ctx, reports.get(s.id)!);
  await hooks.afterSurvey?.();

  if (mode === 'dry-run') {
    log.info('');
    log.info(ctx.log.c.bold('Dry run: nothing was changed.') + ' Run `azure-mlops init` to apply the plan above.');
    return { ok: true, dryRun: true, steps: [...reports.values()] };
  }

  // ---- Phase 2: apply --------------------------------------------------------------------
  const todo = steps.filter((s) => reports.get(s.id)!.outcome !== 'already');
  for (const s of steps) if (reports.get(s.id)!.outcome === 'already') await markDone(ctx, s.id, reports.get(s.id)!.check!);
  if (todo.length === 0) {
    log.success('Everything is already set up; nothing to do.');
    return { ok: true, dryRun: false, steps: [...reports.values()] };
  }
  await ctx.state.setAnswers(ctx.answers.toRecord());

  const applied = await walk(steps, async (step) => {
    const rep = reports.get(step.id)!;
    if (rep.outcome === 'already') return true;
    if (ctx.signal.aborted) throw new CancelledError();
    const started = Date.now();
    try {
      // Earlier steps may have changed the world since the survey: check again.
      if (rep.outcome === 'pending') {
        rep.check = await step.check(ctx);
        if (isSatisfied(rep.check)) {
          rep.outcome = 'already';
          await markDone(ctx, step.id, rep.check);
          log.success(`${step.title}: ${rep.check.summary}`);
          return true;
        }
        rep.changes = await step.plan(ctx, rep.check);
        log.step(`${ctx.log.c.bold(step.title)}: ${rep.check.summary}`);
        for (const line of renderChanges(rep.changes, ctx.log.c)) log.info(line);
      }
      if (!ctx.run.yes && rep.changes.some((c) => c.action !== 'manual' && c.confirm !== false)) {
        const go = await ctx.ui.confirm(`${step.title}: apply ${rep.changes.length === 1 ? 'this change' : `these ${rep.changes.length} changes`}?`);
        if (!go) throw new CancelledError(`Stopped before "${step.title}"; nothing of it was changed.`, 'Run `azure-mlops init` again when ready; finished steps are kept.');
      }
      await step.apply(ctx, rep.changes);
      const after = await step.check(ctx);
      rep.check = after;
      if (!isSatisfied(after)) {
        throw new StepError(`${step.title}: still not done after applying (${after.summary})`, after.fix, step.id);
      }
      rep.outcome = 'done';
      rep.durationMs = Date.now() - started;
      await markDone(ctx, step.id, after);
      log.success(`${step.title}: ${after.summary}`);
      return true;
    } catch (e) {
      rep.outcome = 'failed';
      rep.durationMs = Date.now() - started;
      Object.assign(rep, errorText(e));
      if (!(e instanceof CancelledError)) await ctx.state.markStep(step.id, 'failed', rep.error).catch(() => undefined);
      throw e;
    }
  });
  if (applied.error) {
    const e = applied.error;
    if (e instanceof CliError) throw e;
    const failed = [...reports.values()].find((r) => r.outcome === 'failed');
    throw new StepError(`${failed?.title ?? 'a step'} failed: ${e instanceof Error ? e.message : String(e)}`, undefined, failed?.id, { cause: e });
  }
  return { ok: true, dryRun: false, steps: [...reports.values()] };
}

async function markDone(ctx: Context, id: StepId, check: CheckResult): Promise<void> {
  if (check.record) await ctx.state.setStepData(id, check.record);
  await ctx.state.markStep(id, 'done', check.summary);
}

function printSurveyLine(ctx: Context, rep: StepReport): void {
  const { c } = ctx.log;
  if (rep.outcome === 'already') {
    ctx.log.info(`${c.green(symbols.ok)} ${rep.title}: ${rep.check?.summary ?? 'done'}${rep.check?.status === 'warning' ? c.yellow(` (${rep.check.fix ?? 'warning'})`) : ''}`);
    return;
  }
  const head = rep.outcome === 'pending' ? c.dim(`${symbols.skipped} ${rep.title}: after ${(rep.waitingFor ?? []).join(', ')}`) : `${c.cyan(symbols.arrow)} ${c.bold(rep.title)}: ${rep.check?.summary ?? ''}`;
  ctx.log.info(head);
  for (const line of renderChanges(rep.changes, c)) ctx.log.info(line);
}

/**
 * Walks the dependency graph: a step starts when all its dependencies have finished; `fn` returns
 * whether the step is satisfied, which its dependents receive as `depsOk`. Independent steps run
 * concurrently. After the first error no new step starts; running ones finish.
 */
export async function walk<T extends { id: string; dependsOn: readonly string[] }>(
  steps: readonly T[],
  fn: (step: T, depsOk: boolean, waitingFor: T['dependsOn'][number][]) => Promise<boolean>,
): Promise<{ error?: unknown }> {
  const done = new Map<string, boolean>();
  const started = new Set<string>();
  const known = new Set(steps.map((s) => s.id));
  let error: unknown;
  let running = 0;
  return new Promise((resolve) => {
    const pump = () => {
      if (error === undefined) {
        for (const s of steps) {
          if (started.has(s.id)) continue;
          const deps = s.dependsOn.filter((d) => known.has(d));
          if (!deps.every((d) => done.has(d))) continue;
          started.add(s.id);
          running++;
          const waitingFor = deps.filter((d) => !done.get(d));
          fn(s, waitingFor.length === 0, waitingFor)
            .then((ok) => done.set(s.id, ok))
            .catch((e) => {
              error ??= e;
              done.set(s.id, false);
            })
            .finally(() => {
              running--;
              pump();
            });
        }
      }
      if (running === 0) resolve(error === undefined ? {} : { error });
    };
    pump();
  });
}

/** Checks the step list itself: unique ids, known dependencies, no cycles (a unit test runs it). */
export function validateStepGraph(steps: readonly Step[]): void {
  const ids = new Set<StepId>();
  for (const s of steps) {
    if (ids.has(s.id)) throw new UsageError(`duplicate step id ${s.id}`);
    for (const d of s.dependsOn) if (!ids.has(d)) throw new UsageError(`step ${s.id} depends on ${d}, which is not listed before it`);
    ids.add(s.id);
  }
}
