import { PIPELINE_YAML } from '../adapters/bundle.js';
import { runResult, runState } from '../adapters/devops.js';
import { StepError } from '../engine/errors.js';
import { createTracked, recordFound } from '../engine/ownership.js';
import { defineStep, type CheckResult, type Context } from '../engine/types.js';
import { PRE_EXISTING } from '../engine/teardown.js';

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

/** The three resources the pipeline must be authorized for, with their ids. */
async function resources(ctx: Ctx): Promise<Array<{ type: ResourceType; id: string; name: string }>> {
  const project = ctx.answers.get('project');
  const queue = await ctx.devops.findQueue(project, ctx.answers.get('pool'));
  const endpoint = await ctx.devops.findEndpoint(project, ctx.answers.get('serviceConnection'));
  const group = await ctx.devops.findVariableGroup(project, ctx.answers.get('variableGroup'));
  if (!queue || !endpoint || !group) {
    const missing = [!queue && `queue ${ctx.answers.get('pool')}`, !endpoint && `service connection ${ctx.answers.get('serviceConnection')}`, !group && `variable group ${ctx.answers.get('variableGroup')}`].filter(Boolean);
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

export const pipelineStep = defineStep<'devops' | 'answers' | 'state'>({
  id: 'pipeline',
  title: 'Pipeline',
  dependsOn: ['repository', 'agent-pool', 'service-connection', 'variable-group'],
  async check(ctx): Promise<CheckResult> {
    const project = ctx.answers.get('project');
    const p = await ctx.devops.findPipeline(project, PIPELINE_NAME);
    if (!p) return { status: 'missing', summary: `no pipeline '${PIPELINE_NAME}' in '${project}'` };
    const cfg = await ctx.devops.pipelineConfigPath(project, p.id);
    if (cfg.path && cfg.path.replace(/^\/?/, '/') !== PIPELINE_YAML) {
      return { status: 'warning', summary: `pipeline '${PIPELINE_NAME}' exists but runs ${cfg.path}`, fix: `Point it at ${PIPELINE_YAML}, or delete it and re-run azure-mlops init.` };
    }
    const todo = await unauthorized(ctx, p.id);
    if (todo.length) return { status: 'missing', summary: `pipeline '${PIPELINE_NAME}' is not authorized for ${todo.map((t) => t.name).join(', ')}` };
    return { status: 'ok', summary: `'${PIPELINE_NAME}' (id ${p.id}) on ${PIPELINE_YAML}, authorized for its queue, connection and group`, record: { pipelineId: p.id } };
  },
  async plan(ctx, found) {
    const changes = [] as Array<{ action: 'create' | 'update'; what: string }>;
    if (!/not authorized/.test(found.summary)) changes.push({ action: 'create', what: `YAML pipeline '${PIPELINE_NAME}' on ${ctx.answers.get('repo')}:${PIPELINE_YAML}` });
    changes.push({ action: 'update', what: `authorize it for queue '${ctx.answers.get('pool')}', service connection '${ctx.answers.get('serviceConnection')}' and variable group '${ctx.answers.get('variableGroup')}'` });
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
      const { devops, state } = kit.ctx;
      const found = { step: 'pipeline' as const, name: PIPELINE_NAME, id: state.stepData<{ pipelineId: number }>('pipeline').pipelineId, meta: kit.projectMeta() };
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
}

/**
 * `--run`: queues a run of the pipeline and, unless `wait` is false, follows it stage by stage
 * until it ends. A run whose new model is not better succeeds, tagged MODEL_NOT_BETTER_TAG, with
 * Deploy and Smoke test skipped.
 */
export async function runAndFollow(ctx: Pick<Context, 'devops' | 'answers' | 'state' | 'log' | 'ui' | 'signal'>, opts: { wait: boolean; pollMs?: number }): Promise<RunOutcome> {
  const project = ctx.answers.get('project');
  const p = await ctx.devops.findPipeline(project, PIPELINE_NAME);
  if (!p) throw new StepError(`pipeline ${PIPELINE_NAME} not found`, 'Run azure-mlops init first.', 'pipeline');
  const run = await ctx.devops.runPipeline(project, p.id);
  const url = run._links?.web?.href ?? `${ctx.devops.orgUrl}/${encodeURIComponent(project)}/_build/results?buildId=${run.id}`;
  ctx.log.step(`Queued run ${run.name ?? run.id} of ${PIPELINE_NAME}: ${url}`);
  if (!opts.wait) return { runId: run.id, url, state: runState(run.state) };
  const seen = new Map<string, string>();
  let current = run;
  await ctx.ui.task(`pipeline run ${run.id}`, async (update) => {
    for (;;) {
      if (ctx.signal.aborted) break;
      const records = await ctx.devops.timeline(project, run.id).catch(() => []);
      for (const r of records.filter((x) => x.type === 'Stage').sort((a, b) => (a.order ?? 0) - (b.order ?? 0))) {
        const state = `${String(r.state)}/${String(r.result ?? '')}`.toLowerCase();
        if (seen.get(r.name) === state) continue;
        seen.set(r.name, state);
        const st = String(r.state).toLowerCase();
        const res = String(r.result ?? '').toLowerCase();
        if (st === 'inprogress' || st === '1') ctx.log.info(`    ▶ ${r.name}`);
        else if (st === 'completed' || st === '2') ctx.log.info(`    ${res === 'succeeded' || res === '0' ? ctx.log.c.green('✔') : res === 'skipped' || res === '4' ? ctx.log.c.dim('○') : ctx.log.c.red('✖')} ${r.name}: ${res}`);
      }
      current = await ctx.devops.getRun(project, p.id, run.id);
      if (runState(current.state) === 'completed') break;
      update(`pipeline run ${run.id}: ${[...seen.entries()].filter(([, s]) => s.startsWith('inprogress')).map(([n]) => n).join(', ') || 'queued'}`);
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 5000));
    }
  });
  const result = runResult(current.result);
  ctx.log.info(`Run ${run.id} ${runState(current.state)}: ${result || 'no result yet'} — ${url}`);
  if (result === 'succeeded' && (await ctx.devops.runTags(project, run.id).catch((): string[] => [])).includes(MODEL_NOT_BETTER_TAG)) {
    ctx.log.info(`  (${NOT_BETTER_FINDING}: run tagged ${MODEL_NOT_BETTER_TAG})`);
  }
  return { runId: run.id, url, state: runState(current.state), ...(result ? { result } : {}) };
}
