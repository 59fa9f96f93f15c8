import { setTimeout as delay } from 'node:timers/promises';
import { PIPELINE_YAML } from '../adapters/bundle.js';
import { runResult, runState, type Run, type TimelineRecord } from '../adapters/devops.js';
import { CancelledError, StepError } from '../engine/errors.js';
import { createTracked, recordFound } from '../engine/ownership.js';
import { defineStep, type CheckResult, type Context } from '../engine/types.js';
import { PRE_EXISTING } from '../engine/teardown.js';
import { formatDuration } from '../ui/prompts.js';
import { credentialCreatedAt, endpointIdOf } from './service-connection.js';
import { pipelinePool } from './deployment-values.js';

/**
 * README: "create a new Build pipeline and point to devops_pipelines/azdo-ci-build-train.yml".
 * Creates the YAML pipeline on the repository and authorizes it for the pool's queue, the service
 * connection and the variable group (pipeline permissions), so the first run does not stop at
 * "This pipeline needs permission to access a resource".
 */
type Ctx = Pick<Context, 'devops' | 'answers' | 'state'>;

export const PIPELINE_NAME = 'azdo-ci-build-train';
/**
 * The build tag a run gets (`##vso[build.addbuildtag]`) when its new model is not better than the
 * production model: the run then succeeds with nothing registered and nothing deployed.
 */
export const MODEL_NOT_BETTER_TAG = 'model-not-better';
/** What doctor and `--run` say about such a run. */
export const NOT_BETTER_FINDING = 'the new model was not better; nothing deployed';
type ResourceType = 'queue' | 'endpoint' | 'variablegroup';

/** What this step records (its state data) once the pipeline is in place. */
type PipelineRecord = { pipelineId: number };

/** The pipeline's id, as this step recorded it. */
export function pipelineIdOf(ctx: Pick<Context, 'state'>): number | undefined {
  return ctx.state.stepData<PipelineRecord>('pipeline').pipelineId;
}

/** The three resources the pipeline must be authorized for, with their ids. */
async function resources(ctx: Ctx): Promise<Array<{ type: ResourceType; id: string; name: string }>> {
  const project = ctx.answers.get('project');
  const queue = await ctx.devops.findQueue(project, pipelinePool(ctx));
  const endpoint = await ctx.devops.findEndpoint(project, ctx.answers.get('serviceConnection'));
  const group = await ctx.devops.findVariableGroup(project, ctx.answers.get('variableGroup'));
  if (!queue || !endpoint || !group) {
    const missing = [!queue && `queue ${pipelinePool(ctx)}`, !endpoint && `service connection ${ctx.answers.get('serviceConnection')}`, !group && `variable group ${ctx.answers.get('variableGroup')}`].filter(Boolean);
    throw new StepError(`the pipeline's resources are missing: ${missing.join(', ')}`, 'Re-run azure-mlops init.', 'pipeline');
  }
  return [
    { type: 'queue', id: String(queue.id), name: `agent queue ${queue.name}` },
    { type: 'endpoint', id: endpoint.id, name: `service connection ${endpoint.name}` },
    { type: 'variablegroup', id: String(group.id), name: `variable group ${group.name}` },
  ];
}

async function unauthorized(ctx: Ctx, pipelineId: number) {
  const project = ctx.answers.get('project');
  const out: Array<{ type: ResourceType; id: string; name: string }> = [];
  for (const r of await resources(ctx)) {
    const p = await ctx.devops.permissions(project, r.type, r.id);
    const ok = p?.allPipelines?.authorized === true || (p?.pipelines ?? []).some((x) => x.id === pipelineId && x.authorized);
    if (!ok) out.push(r);
  }
  return out;
}

/** What check() found, for plan(). */
export interface PipelineFacts {
  /** The pipeline, when it exists. */
  existing?: { id: number };
  /** The resources it may not use yet (none when it does not exist). */
  unauthorized: string[];
}

export const pipelineStep = defineStep({
  id: 'pipeline',
  title: 'Pipeline',
  dependsOn: ['repository', 'agent-pool', 'service-connection', 'variable-group'],
  async check(ctx: Ctx): Promise<CheckResult<PipelineFacts>> {
    const project = ctx.answers.get('project');
    const p = await ctx.devops.findPipeline(project, PIPELINE_NAME);
    if (!p) return { status: 'missing', summary: `no pipeline '${PIPELINE_NAME}' in '${project}'`, facts: { unauthorized: [] } };
    const cfg = await ctx.devops.pipelineConfigPath(project, p.id);
    if (cfg.path && cfg.path.replace(/^\/?/, '/') !== PIPELINE_YAML) {
      return { status: 'warning', summary: `pipeline '${PIPELINE_NAME}' exists but runs ${cfg.path}`, fix: `Point it at ${PIPELINE_YAML}, or delete it and re-run azure-mlops init.`, facts: { existing: { id: p.id }, unauthorized: [] } };
    }
    const todo = await unauthorized(ctx, p.id);
    const facts = { existing: { id: p.id }, unauthorized: todo.map((t) => t.name) };
    if (todo.length) return { status: 'missing', summary: `pipeline '${PIPELINE_NAME}' is not authorized for ${todo.map((t) => t.name).join(', ')}`, facts };
    return { status: 'ok', summary: `'${PIPELINE_NAME}' (id ${p.id}) on ${PIPELINE_YAML}, authorized for its queue, connection and group`, record: { pipelineId: p.id } satisfies PipelineRecord, facts };
  },
  async plan(ctx, found) {
    const changes = [] as Array<{ action: 'create' | 'update'; what: string }>;
    if (!found.facts?.existing) changes.push({ action: 'create', what: `YAML pipeline '${PIPELINE_NAME}' on ${ctx.answers.get('repo')}:${PIPELINE_YAML}` });
    // An existing pipeline: only what it may not use yet (the check listed it); a new one: all three.
    const missing = found.facts?.existing ? found.facts.unauthorized : [`agent queue ${pipelinePool(ctx)}`, `service connection ${ctx.answers.get('serviceConnection')}`, `variable group ${ctx.answers.get('variableGroup')}`];
    if (missing.length) changes.push({ action: 'update', what: `authorize it for ${missing.join(', ')}` });
    return changes;
  },
  async apply(ctx) {
    const project = ctx.answers.get('project');
    let pipeline = await ctx.devops.findPipeline(project, PIPELINE_NAME);
    if (pipeline) await recordFound(ctx.state, { kind: 'pipeline', name: PIPELINE_NAME, step: 'pipeline', id: String(pipeline.id), meta: { project } });
    else {
      const repo = await ctx.devops.findRepo(project, ctx.answers.get('repo'));
      if (!repo) throw new StepError(`repository ${ctx.answers.get('repo')} not found`, 'Re-run azure-mlops init.', 'pipeline');
      const made = await createTracked(ctx.state, { kind: 'pipeline', name: PIPELINE_NAME, step: 'pipeline', meta: { project } }, async () => {
        const { value } = await ctx.devops.createPipeline(project, {
          name: PIPELINE_NAME,
          folder: '\\',
          configuration: { type: 'yaml', path: PIPELINE_YAML, repository: { id: repo.id, name: repo.name, type: 'azureReposGit' } },
        });
        return { ...value, id: String(value.id) };
      });
      pipeline = { ...made, id: Number(made.id) } as typeof pipeline & object;
    }
    const id = pipeline!.id;
    for (const r of await unauthorized(ctx, id)) await ctx.devops.authorize(project, r.type, r.id, id);
  },
  teardown: {
    owns: { pipeline: 'pipeline' },
    async plan(kit) {
      const { devops } = kit.ctx;
      const found = { step: 'pipeline' as const, name: PIPELINE_NAME, id: pipelineIdOf(kit.ctx), meta: kit.projectMeta() };
      for (const r of kit.recordsOrFound('pipeline', found)) {
        if (!r.createdByUs) kit.keep(r, PRE_EXISTING);
        else
          kit.del(r, {
            reason: 'its pipeline permissions (queue, service connection, variable group) go with it',
            run: async (a) => {
              const project = kit.projectOf(r);
              const id = await kit.idOf(a, async () => (await devops.findPipeline(project, r.name))?.id);
              if (!id) return 'gone';
              await devops.deletePipeline(project, Number(id));
              return 'deleted';
            },
          });
      }
    },
  },
});


export interface RunOutcome {
  runId: number;
  url: string;
  state: string;
  result?: string;
  /** The run queued first, when its Azure login failed while the credential propagated and it was queued once more. */
  retriedRunId?: number;
}

/**
 * A new federated credential is not accepted at once. Microsoft Entra, "Important considerations
 * and restrictions for federated identity credentials", section "Time for federated credential
 * changes to propagate" (learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations;
 * MicrosoftDocs/entra-docs docs/workload-id/workload-identity-federation-considerations.md): "A token
 * request made several minutes after configuring the federated identity credential may fail ...
 * AADSTS70021: No matching federated identity record found for presented assertion ... wait a short
 * time after adding the federated identity credential before requesting a token ... We also recommend
 * adding retry logic".
 *
 * `--run` does both. (a) Before queuing, it waits until the credential this deployment created (its
 * ownership record's time) is the window old. It cannot wait "until the credential is usable"
 * instead: only Azure DevOps holds the token the credential trusts (the run's OIDC token for the
 * connection), so only a run can try the exchange. (b) It follows the run, and queues it once more,
 * after the window again, when the run's timeline shows that error (the failing AzureCLI@2 task's
 * login error is an issue of a timeline record; every record is searched). The page gives no figure: 2 minutes is this
 * tool's reading of "a short time", the retry covering a slower replication. FIC_PROPAGATION_ENV
 * changes the window (the tests shorten it; 0 waits neither before queuing nor before the retry).
 */
export const FIC_PROPAGATION_ENV = 'AZURE_MLOPS_FIC_PROPAGATION_MS';
export const FIC_PROPAGATION_DEFAULT_MS = 120_000;
/** The error Entra gives while the credential propagates (same page), as a run's timeline shows it. */
export const FIC_NOT_PROPAGATED = /AADSTS70021|No matching federated identity record found/i;

type RunCtx = Pick<Context, 'devops' | 'answers' | 'state' | 'log' | 'ui' | 'signal' | 'env'>;

export function ficPropagationMs(env: NodeJS.ProcessEnv): number {
  const raw = env[FIC_PROPAGATION_ENV];
  const n = raw === undefined || raw.trim() === '' ? NaN : Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : FIC_PROPAGATION_DEFAULT_MS;
}

/** A duration for messages: "40s", "1m20s"; below a second (the tests' short windows), "0.4s". */
function seconds(ms: number): string {
  return ms >= 1000 ? formatDuration(Math.round(ms / 1000) * 1000) : `${(Math.max(ms, 0) / 1000).toFixed(1)}s`;
}

/** Waits `ms` (Ctrl-C ends the wait: CancelledError, nothing queued). */
async function pause(ctx: RunCtx, title: string, ms: number): Promise<void> {
  if (ms > 0) await ctx.ui.task(title, () => delay(ms, undefined, { signal: ctx.signal }).catch(() => undefined));
  if (ctx.signal.aborted) throw new CancelledError('Interrupted before queuing the pipeline run; everything init set up is in place.', 'Run azure-mlops init --run to queue it.');
}

/** (a) Before queuing: wait until the credential this deployment created is `windowMs` old. */
async function waitForNewCredential(ctx: RunCtx, windowMs: number): Promise<void> {
  const created = credentialCreatedAt(ctx.state, endpointIdOf(ctx));
  if (created === undefined) return;
  const age = Math.max(0, Date.now() - created);
  const left = windowMs - age;
  if (left <= 0) return;
  ctx.log.info(`The pipeline's federated credential was created ${seconds(age)} ago; Microsoft Entra can take a few minutes to accept it: waiting ${seconds(left)} before queuing the run.`);
  await pause(ctx, 'waiting for the federated credential to propagate', left);
}

/** The message of a timeline issue saying the run's Azure login met a credential Entra does not know yet. */
export function federatedLoginFailure(records: TimelineRecord[]): string | undefined {
  for (const r of records) for (const i of r.issues) if (FIC_NOT_PROPAGATED.test(i.message)) return i.message;
  return undefined;
}

interface Followed {
  run: Run;
  url: string;
  result: string;
  records: TimelineRecord[];
}

async function queue(ctx: RunCtx, project: string, pipelineId: number): Promise<{ run: Run; url: string }> {
  const run = await ctx.devops.runPipeline(project, pipelineId);
  const url = run._links?.web?.href ?? `${ctx.devops.orgUrl}/${encodeURIComponent(project)}/_build/results?buildId=${run.id}`;
  ctx.log.step(`Queued run ${run.name ?? run.id} of ${PIPELINE_NAME}: ${url}`);
  return { run, url };
}

/** Follows a queued run stage by stage until it ends (or Ctrl-C), then reads its final timeline. */
async function follow(ctx: RunCtx, project: string, pipelineId: number, queued: { run: Run; url: string }, pollMs: number): Promise<Followed> {
  const { run, url } = queued;
  const seen = new Map<string, string>();
  const show = (records: TimelineRecord[]) => {
    for (const r of records.filter((x) => x.type === 'Stage').sort((a, b) => (a.order ?? 0) - (b.order ?? 0))) {
      const state = `${r.state}/${r.result}`;
      if (seen.get(r.name) === state) continue;
      seen.set(r.name, state);
      if (r.state === 'inprogress') ctx.log.info(`    ▶ ${r.name}`);
      else if (r.state === 'completed') ctx.log.info(`    ${r.result.startsWith('succeeded') ? ctx.log.c.green('✔') : r.result === 'skipped' ? ctx.log.c.dim('○') : ctx.log.c.red('✖')} ${r.name}: ${r.result}`);
    }
  };
  const read = (fallback: TimelineRecord[]) => ctx.devops.timeline(project, run.id).catch((): TimelineRecord[] => fallback);
  let current = run;
  let records: TimelineRecord[] = [];
  await ctx.ui.task(`pipeline run ${run.id}`, async (update) => {
    for (;;) {
      if (ctx.signal.aborted) break;
      records = await read([]);
      show(records);
      current = await ctx.devops.getRun(project, pipelineId, run.id);
      if (runState(current.state) === 'completed') break;
      update(`pipeline run ${run.id}: ${[...seen.entries()].filter(([, s]) => s.startsWith('inprogress')).map(([n]) => n).join(', ') || 'queued'}`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
    // The timeline read before the run completed may predate its end (which stage failed, and why).
    if (runState(current.state) === 'completed') show((records = await read(records)));
  });
  const result = runResult(current.result);
  ctx.log.info(`Run ${run.id} ${runState(current.state)}: ${result || 'no result yet'} — ${url}`);
  return { run: current, url, result, records };
}

/**
 * `--run`: queues a run of the pipeline and, unless `wait` is false, follows it stage by stage
 * until it ends. A run whose new model is not better succeeds, tagged MODEL_NOT_BETTER_TAG, with
 * Deploy and Smoke test skipped. Right after this deployment created the connection's federated
 * credential, it first waits for the credential to propagate, and queues once more a run whose
 * Azure login failed because it had not (see FIC_PROPAGATION_ENV); with `wait` false, only the first.
 */
export async function runAndFollow(ctx: RunCtx, opts: { wait: boolean; pollMs?: number }): Promise<RunOutcome> {
  const project = ctx.answers.get('project');
  const p = await ctx.devops.findPipeline(project, PIPELINE_NAME);
  if (!p) throw new StepError(`pipeline ${PIPELINE_NAME} not found`, 'Run azure-mlops init first.', 'pipeline');
  const windowMs = ficPropagationMs(ctx.env);
  await waitForNewCredential(ctx, windowMs);
  const first = await queue(ctx, project, p.id);
  if (!opts.wait) return { runId: first.run.id, url: first.url, state: runState(first.run.state) };
  let done = await follow(ctx, project, p.id, first, opts.pollMs ?? 5000);
  let retriedRunId: number | undefined;
  const login = done.result === 'failed' && !ctx.signal.aborted ? federatedLoginFailure(done.records) : undefined;
  if (login) {
    ctx.log.warn(
      `Run ${done.run.id} could not sign in to Azure with the service connection '${ctx.answers.get('serviceConnection')}': ${login} ` +
        `Microsoft Entra answers this way while a new federated credential is still propagating${windowMs > 0 ? `: waiting ${seconds(windowMs)}, then` : ';'} queuing the run once more.`,
    );
    await pause(ctx, 'waiting for the federated credential to propagate', windowMs);
    retriedRunId = done.run.id;
    done = await follow(ctx, project, p.id, await queue(ctx, project, p.id), opts.pollMs ?? 5000);
    const again = done.result === 'failed' ? federatedLoginFailure(done.records) : undefined;
    if (again) {
      throw new StepError(
        `The pipeline run failed twice to sign in to Azure with the service connection '${ctx.answers.get('serviceConnection')}' (${again}): ${done.url}`,
        `Check that the connection's workload identity issuer and subject (Project settings > Service connections > ${ctx.answers.get('serviceConnection')}) match a federated credential of the pipeline's identity (azure-mlops doctor compares them), wait a few minutes and re-run azure-mlops init --run.`,
        'pipeline',
      );
    }
  }
  const { run, url, result } = done;
  if (result === 'succeeded' && (await ctx.devops.runTags(project, run.id).catch((): string[] => [])).includes(MODEL_NOT_BETTER_TAG)) {
    ctx.log.info(`  (${NOT_BETTER_FINDING}: run tagged ${MODEL_NOT_BETTER_TAG})`);
  }
  return { runId: run.id, url, state: runState(run.state), ...(result ? { result } : {}), ...(retriedRunId !== undefined ? { retriedRunId } : {}) };
}
