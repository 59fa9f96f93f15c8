import { join } from 'node:path';
import { mkdirInside } from '../adapters/safe-fs.js';
import { createContext, type Base, type GlobalOptions } from '../engine/context.js';
import { runSteps, type RunReport } from '../engine/runner.js';
import { openStateDir, type StateLock } from '../engine/state-dir.js';
import type { AnswerKey } from '../config/fields.js';
import { buildSteps } from '../steps/index.js';
import { pipelineIdOf, runAndFollow, type RunOutcome } from '../steps/pipeline.js';
import { checkTerraformDir } from '../steps/terraform.js';
import { StepError } from '../engine/errors.js';
import type { Context } from '../engine/types.js';
import { namesFor } from '../config/naming.js';
import { loginOf } from '../steps/azure-login.js';
import { deploymentValues } from '../steps/deployment-values.js';
import { renderSummary, summaryLinks, type InitSummary } from '../ui/summary.js';
import { estimateCost } from '../engine/estimate.js';
import type { CostEstimate } from '../config/cost.js';
import { renderEstimate } from '../ui/plan.js';

/** Answers `init` cannot run without (the rest have defaults or are discovered). */
export const INIT_REQUIRED: readonly AnswerKey[] = ['prefix', 'location', 'org', 'project'];

export interface InitOptions extends GlobalOptions {
  answers: Partial<Record<AnswerKey, string | undefined>>;
  /** --push-to <branch> */
  pushTo?: string;
  /** --purge-deleted */
  purgeDeleted?: boolean;
  /** --run: queue a pipeline run at the end; `wait` false with --no-wait. */
  run?: boolean;
  wait?: boolean;
}

/**
 * `azure-mlops init` (and `plan` = `init --dry-run`): walks every step of the README.
 * A dry run changes nothing, not even the state dir.
 */
export async function runInit(opts: InitOptions, base: Base, signal: AbortSignal): Promise<RunReport & { estimate?: CostEstimate; run?: RunOutcome; summary?: InitSummary }> {
  const started = Date.now();
  const ctx = await createContext(base, opts, { flags: opts.answers, required: INIT_REQUIRED, signal });
  const mode = opts.dryRun ? 'dry-run' : 'apply';
  let lock: StateLock | undefined;
  try {
    // Input is refused before any change: a --terraform-dir that is not a fork of the module.
    await checkTerraformDir(ctx);
    if (mode === 'apply') {
      // The state dir is ours alone (0700, owned by us, nothing readable by others), and one run
      // uses it at a time: the lock comes before any outside call. plan writes nothing, locks nothing.
      lock = await openStateDir(ctx.run.stateDir, 'init', ctx.log);
      const logs = join(ctx.run.stateDir, 'logs');
      await mkdirInside(ctx.run.stateDir, logs);
      ctx.log.teeTo(join(logs, `init-${new Date().toISOString().replace(/[:.]/g, '-')}.log`));
    }
    return await initSteps(opts, ctx, mode, started);
  } finally {
    ctx.ui.dispose();
    await lock?.release();
  }
}

async function initSteps(opts: InitOptions, ctx: Context, mode: 'apply' | 'dry-run', started: number): Promise<RunReport & { estimate?: CostEstimate; run?: RunOutcome; summary?: InitSummary }> {
  ctx.log.info(ctx.log.c.bold(`azure-mlops ${opts.dryRun ? 'plan' : 'init'}`) + ctx.log.c.dim(` — prefix ${ctx.answers.get('prefix')}, ${ctx.answers.get('location')}, ${ctx.answers.get('org')}/${ctx.answers.get('project')}`));
  // Prices are fetched while the steps are surveyed and shown under the plan, before any question.
  // The estimate never fails the run (see engine/estimate.ts); a dry run keeps its prices in memory.
  const pricing = estimateCost(ctx, { persist: mode === 'apply' });
  let estimate: CostEstimate | undefined;
  const afterSurvey = async () => {
    estimate = await pricing;
    ctx.log.info('');
    for (const line of renderEstimate(estimate, ctx.log.c)) ctx.log.info(line);
    if (mode === 'apply') ctx.log.info(''); // the dry run's last words have their own blank line
  };
  const report = await runSteps(buildSteps({ pushTo: opts.pushTo, purgeDeleted: opts.purgeDeleted, agentsHost: ctx.answers.get('agentsHost') }), ctx, mode, { afterSurvey });
  const withEstimate = estimate ? { ...report, estimate } : report;
  if (mode === 'dry-run') return withEstimate;
  let run: RunOutcome | undefined;
  if (opts.run) {
    run = await runAndFollow(ctx, { wait: opts.wait !== false });
    if (run.result === 'failed') throw new StepError(`The pipeline run failed: ${run.url}`, 'Open the run, fix the failing stage, and queue it again.', 'pipeline');
  }
  const summary = await buildSummary(ctx, report, run, Date.now() - started);
  for (const line of renderSummary(summary, ctx.log.c)) ctx.log.info(line);
  return { ...withEstimate, ...(run ? { run } : {}), summary };
}

/** What init made and where to see it (links need only what the state already holds). */
async function buildSummary(ctx: Context, report: RunReport, run: RunOutcome | undefined, durationMs: number): Promise<InitSummary> {
  const v = deploymentValues(ctx);
  const names = namesFor(ctx.answers.get('prefix'));
  const outputs = ctx.state.data.outputs as Record<string, unknown>;
  const cloud = await ctx.arm.endpoint().then((e) => e.cloud, () => undefined);
  const str = (k: string) => (typeof outputs[k] === 'string' && outputs[k] ? (outputs[k] as string) : undefined);
  const next = [
    ...(run ? [] : ['azure-mlops init --run      queue the pipeline: train, evaluate, register if better, deploy, smoke-test']),
    'azure-mlops doctor         check everything, with the fix for any gap',
    'azure-mlops destroy        remove what init created (asks first)',
  ];
  return {
    version: ctx.run.toolVersion,
    durationMs,
    created: report.steps.filter((s) => s.outcome === 'done').map((s) => s.id),
    found: report.steps.filter((s) => s.outcome === 'already').map((s) => s.id),
    links: summaryLinks({
      org: ctx.answers.get('org'),
      project: ctx.answers.get('project'),
      pipelineId: pipelineIdOf(ctx),
      runUrl: run?.url,
      cloud,
      subscriptionId: v.applied || loginOf(ctx).subscriptionId ? v.subscriptionId : undefined,
      tenantId: v.tenantId.startsWith('<') ? undefined : v.tenantId,
      resourceGroups: v.applied ? [v.resourceGroup, str('devops_resource_group_name') ?? names.devopsResourceGroup] : [],
      workspace: v.applied ? { resourceGroup: v.resourceGroup, name: v.workspace } : undefined,
    }),
    next,
    outputs,
  };
}
