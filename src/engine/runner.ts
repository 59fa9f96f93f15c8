import { CancelledError, CliError, StepError, UsageError } from './errors.js';
import type { Change, CheckResult, Context, Step, StepId } from './types.js';
import { renderChanges } from '../ui/plan.js';
import { symbols } from '../ui/colors.js';

/**
 * Runs the ordered steps: questions -> survey -> one plan -> one confirmation -> apply -> check again.
 *
 * Phase 0 (questions, interactive only): each step's prepare() asks what only a person can answer
 * (the subscription, the PAT) before any work starts, one question at a time.
 * Phase 1 (survey, read-only) checks every step, concurrently along the dependencies. A step whose
 * dependency is not done is checked too when that dependency anticipated its facts (switching az's
 * subscription changes nothing the later checks read); otherwise it is "pending". Every step still
 * to do gets a plan, so the whole plan is known, and input problems surface, before anything is
 * created. The plan is printed once, with a one-line summary, and confirmed once (--yes: not asked).
 * Phase 2 (apply) walks the dependency graph, running independent steps concurrently (DevOps work
 * proceeds while terraform applies). The only question asked after this point is terraform's own,
 * once its real plan is known; it is a barrier: no other step runs or prints while it is open.
 */

export type StepOutcome = 'done' | 'already' | 'planned' | 'pending' | 'failed' | 'not-run';

export interface StepReport {
  id: StepId;
  title: string;
  outcome: StepOutcome;
  /** What its check found, as people read it (its facts went to its plan() only). */
  check?: CheckResult;
  changes: Change[];
  error?: string;
  fix?: string;
  durationMs?: number;
  /** Dependencies that were not done when the step was surveyed. */
  waitingFor?: StepId[];
}

export interface PlanTally {
  create: number;
  change: number;
  destroy: number;
}

export interface RunReport {
  ok: boolean;
  dryRun: boolean;
  /** What the plan counted (terraform's own resources come with its plan, in the apply). */
  tally: PlanTally;
  steps: StepReport[];
}

type Mode = 'apply' | 'dry-run';

function isSatisfied(r: Pick<CheckResult<unknown>, 'status'> | undefined): boolean {
  return r?.status === 'ok' || r?.status === 'warning';
}

/** A check as the report shows it: the facts are the step's plan()'s alone (not printed, not in --json). */
function reported({ facts: _facts, ...shown }: CheckResult<unknown>): CheckResult {
  return shown;
}

/** A check that found another deployment's object stops the run (exit 2) before anything is created. */
function refuse(r: CheckResult | undefined): void {
  if (r?.refusal) throw new UsageError(r.refusal.message, r.refusal.fix);
}

function errorText(e: unknown): { error: string; fix?: string } {
  if (e instanceof CliError) return { error: e.message, ...(e.fix ? { fix: e.fix } : {}) };
  return { error: e instanceof Error ? e.message : String(e) };
}

/** The plan's counts, in terraform's manner. */
export function tallyChanges(changes: readonly Change[]): PlanTally {
  const t: PlanTally = { create: 0, change: 0, destroy: 0 };
  for (const c of changes) {
    if (c.action === 'create' || c.action === 'install') t.create++;
    else if (c.action === 'update' || c.action === 'set') t.change++;
    else if (c.action === 'delete') t.destroy++;
  }
  return t;
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
  const reports = new Map<StepId, StepReport>(steps.map((s) => [s.id, { id: s.id, title: s.title, outcome: 'not-run', changes: [] }]));
  const all = () => [...reports.values()];

  // ---- Phase 0: questions, before any work ------------------------------------------------
  if (ctx.ui.interactive) for (const step of steps) await step.prepare?.(ctx);

  // ---- Phase 1: survey (read-only) -------------------------------------------------------
  const surveyed = await walk(steps, async (step, depsOk, waitingFor) => {
    const rep = reports.get(step.id)!;
    rep.waitingFor = waitingFor;
    let ready = false;
    let found: CheckResult<unknown> = { status: 'skipped', summary: 'waits for an earlier step' };
    if (depsOk) {
      found = await ctx.ui.task(`checking ${step.title}`, () => step.check(ctx));
      rep.check = reported(found);
      // Another deployment's object: no plan; the survey finishes (read-only), then the run is refused.
      if (rep.check.refusal) return false;
      if (isSatisfied(rep.check)) {
        rep.outcome = 'already';
        // Its facts (the subscription, the project id, ...) serve the later checks and plans now;
        // they reach the state file only when a run applies (dry runs write nothing).
        if (rep.check.record) ctx.state.anticipate(step.id, rep.check.record);
        return true;
      }
      if (rep.check.anticipated) {
        ctx.state.anticipate(step.id, rep.check.anticipated);
        ready = true;
      }
    } else {
      rep.outcome = 'pending';
    }
    // A plan for everything not done: plan() may refuse (UsageError) when input is missing.
    rep.changes = await step.plan(ctx, found);
    if (rep.outcome !== 'pending') rep.outcome = 'planned';
    return ready;
  });
  // The first refusal in step order (the prefix's resource groups before the Azure DevOps objects).
  for (const s of steps) refuse(reports.get(s.id)!.check);
  if (surveyed.error) throw surveyed.error;

  const todo = steps.filter((s) => reports.get(s.id)!.outcome !== 'already');
  const tally = tallyChanges(todo.flatMap((s) => reports.get(s.id)!.changes));
  printPlan(ctx, steps.map((s) => reports.get(s.id)!), tally);
  await hooks.afterSurvey?.();

  if (mode === 'dry-run') {
    log.info('');
    log.info(ctx.log.c.bold('Dry run: nothing was changed.') + ' Run `azure-mlops init` to apply this plan.');
    return { ok: true, dryRun: true, tally, steps: all() };
  }

  // ---- Phase 2: one confirmation, then apply ---------------------------------------------
  // Nothing is written before the answer (a declined run leaves the state as it was).
  if (todo.length) await confirmPlan(ctx, tally, todo.some((s) => s.createsAzureResources));
  ctx.ui.workStarted = true;
  for (const s of steps) if (reports.get(s.id)!.outcome === 'already') await markDone(ctx, s.id, reports.get(s.id)!.check!);
  if (todo.length === 0) {
    log.success('Everything is already set up; nothing to do.');
    return { ok: true, dryRun: false, tally, steps: all() };
  }
  await ctx.state.setAnswers(ctx.answers.toRecord());

  const applied = await walkWithBarrier(ctx, steps, async (step) => {
    const rep = reports.get(step.id)!;
    if (rep.outcome === 'already') return true;
    if (ctx.signal.aborted) throw new CancelledError();
    const started = Date.now();
    try {
      // Earlier steps may have changed the world since the survey: check again.
      if (rep.outcome === 'pending') {
        const found = await step.check(ctx);
        rep.check = reported(found);
        refuse(rep.check);
        if (isSatisfied(rep.check)) {
          rep.outcome = 'already';
          await markDone(ctx, step.id, rep.check);
          log.success(`${step.title}: ${rep.check.summary}`);
          return true;
        }
        rep.changes = await step.plan(ctx, found);
        log.step(`${ctx.log.c.bold(step.title)}: ${rep.check.summary}`);
        for (const line of renderChanges(rep.changes, ctx.log.c, { compact: true })) log.info(line);
      }
      await step.apply(ctx, rep.changes);
      const after = reported(await step.check(ctx));
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
    const failed = all().find((r) => r.outcome === 'failed');
    throw new StepError(`${failed?.title ?? 'a step'} failed: ${e instanceof Error ? e.message : String(e)}`, undefined, failed?.id, { cause: e });
  }
  return { ok: true, dryRun: false, tally, steps: all() };
}

/**
 * The one question of a run (terraform may ask a second, with its real plan). Declining, or Ctrl-C,
 * is a CancelledError (exit 130) before anything was created. Non-interactive runs need --yes.
 */
async function confirmPlan(ctx: Context, tally: PlanTally, createsAzure: boolean): Promise<void> {
  if (ctx.run.yes) return;
  const counted = `${tally.create} to create, ${tally.change} to change, ${tally.destroy} to destroy`;
  if (!ctx.ui.interactive) {
    throw new UsageError(`Not applying the plan above (${counted}): this run is non-interactive and --yes was not given.`, 'Review the plan, then re-run with --yes (CI) or in a terminal to be asked.');
  }
  ctx.log.info('');
  // Terraform and azd: creating Azure resources is never the default answer.
  const go = await ctx.ui.confirm(`Apply this plan (${counted})?`, !createsAzure);
  if (!go) throw new CancelledError('Stopped: you declined the plan. Nothing was created or changed.', 'Run `azure-mlops init` again when ready.');
}

async function markDone(ctx: Context, id: StepId, check: CheckResult): Promise<void> {
  if (check.record) await ctx.state.setStepData(id, check.record);
  await ctx.state.markStep(id, 'done', check.summary);
}

/** The one plan: a summary line, what is already there, then what will be done, grouped by step. */
function printPlan(ctx: Context, reps: StepReport[], tally: PlanTally): void {
  const { c } = ctx.log;
  const done = reps.filter((r) => r.outcome === 'already');
  const todo = reps.filter((r) => r.outcome !== 'already');
  const head = todo.length === 0
    ? 'Plan: nothing to do; everything is in place.'
    : `Plan: ${c.green(`${tally.create} to create`)}, ${c.yellow(`${tally.change} to change`)}, ${c.red(`${tally.destroy} to destroy`)} in Azure and Azure DevOps${todo.some((r) => r.id === 'terraform') ? ' (terraform shows its own resources before it applies them)' : ''}.`;
  ctx.log.info('');
  ctx.log.info(c.bold(head));
  if (done.length) {
    ctx.log.info('');
    ctx.log.info(c.bold('In place:'));
    for (const r of done) ctx.log.info(`  ${c.green(symbols.ok)} ${r.title}: ${r.check?.summary ?? 'done'}${r.check?.status === 'warning' ? c.yellow(` (${r.check.fix ?? 'warning'})`) : ''}`);
  }
  if (todo.length) {
    ctx.log.info('');
    ctx.log.info(c.bold('To do:'));
    for (const r of todo) {
      const head = r.outcome === 'pending' ? `${c.cyan(symbols.arrow)} ${c.bold(r.title)} ${c.dim(`(after ${(r.waitingFor ?? []).join(', ')})`)}` : `${c.cyan(symbols.arrow)} ${c.bold(r.title)}: ${r.check?.summary ?? ''}`;
      ctx.log.info(`  ${head}`);
      for (const line of renderChanges(r.changes, c)) ctx.log.info(line);
    }
  }
}

/**
 * walk() for the apply phase, with the UI's question barrier: while a step asks (terraform's own
 * question), no other step starts, and the question waits until the running ones have finished.
 */
async function walkWithBarrier(ctx: Context, steps: readonly Step[], fn: (step: Step) => Promise<boolean>): ReturnType<typeof walk> {
  let running = 0;
  let asking = 0;
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  const idle: Array<() => void> = [];
  const settle = () => {
    if (running - asking <= 0) for (const f of idle.splice(0)) f();
  };
  ctx.ui.barrier = async () => {
    asking++;
    gate ??= new Promise<void>((r) => (open = r));
    await new Promise<void>((r) => {
      idle.push(r);
      settle();
    });
    return () => {
      asking--;
      if (asking === 0) {
        open?.();
        gate = undefined;
      }
    };
  };
  try {
    return await walk(steps, async (step) => {
      while (gate) await gate;
      running++;
      try {
        return await fn(step);
      } finally {
        running--;
        settle();
      }
    });
  } finally {
    ctx.ui.barrier = undefined;
  }
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
