import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { removeInside } from '../adapters/safe-fs.js';
import { join } from 'node:path';
import { AzError } from '../adapters/az.js';
import { errorDiagnostics } from '../adapters/terraform.js';
import { EXTENSION } from '../steps/extension.js';
import { PIPELINE_NAME } from '../steps/pipeline.js';
import { backendConfig, providerEnv, renderSummary, streamWithProgress, summarizePlan, TFVARS_FILE, workdir, type PlanSummary } from '../steps/terraform.js';
import { backendSettings } from '../steps/terraform-backend.js';
import { CancelledError, CliError, StepError, UsageError } from './errors.js';
import type { ResourceRecord } from './state.js';
import type { Context } from './types.js';

/**
 * `azure-mlops destroy`: deletes what the steps recorded as created by us, in the reverse order of
 * their creation, and nothing else:
 *
 *   pipeline (its pipeline permissions go with it) → variable group → service connection → the
 *   federated credential it added → repository (--delete-repo) → terraform destroy (its
 *   `plan -destroy` shown first) → app registration / service principal → the VM's agents left in
 *   a kept pool → agent queue → agent pool (ours, and no other agents) → project
 *   (--delete-project) → terraform state storage (--delete-state-backend)
 *
 * The whole plan is assembled first (state records, one read of the pool's agents, a terraform
 * `plan -destroy`) and shown; then every delete is idempotent (already gone = done). Each object
 * confirmed gone is forgotten in state with a history entry, so a failure leaves the state saying
 * what is left, and a re-run finishes the job. Pre-existing objects are listed as kept; so is the
 * Azure DevOps extension (organization-wide).
 */

export interface TeardownOptions {
  dryRun: boolean;
  deleteRepo: boolean;
  deleteProject: boolean;
  deleteStateBackend: boolean;
}

export interface TeardownItem {
  kind: string;
  name: string;
  id: string;
  action: 'delete' | 'keep';
  /** keep: why; delete: what goes with it. */
  reason?: string;
}

export interface RemovedItem {
  kind: string;
  name: string;
  id: string;
  at: string;
}

export interface TeardownReport {
  ok: boolean;
  dryRun: boolean;
  /** The state dir records nothing azure-mlops created. */
  nothingToDo: boolean;
  plan: TeardownItem[];
  removed: RemovedItem[];
  kept: TeardownItem[];
  /** Deletions not done (after a failure; a re-run does them). */
  left: TeardownItem[];
  failed?: { kind: string; name: string; id: string; error: string; fix?: string };
  terraform?: { destroy: string[] };
}

/** What destroy leaves in `state.data.destroy` (no secret: kinds, names and ids only). */
interface DestroyRecord {
  at: string;
  status: 'in-progress' | 'done' | 'incomplete';
  removed: RemovedItem[];
  kept: TeardownItem[];
  left: TeardownItem[];
  error?: string | undefined;
  /** The VM's agents are named `<prefix>-N`; kept here because terraform's outputs go with the VM. */
  agentNamePrefix: string;
}

type Outcome = 'deleted' | 'gone' | `kept: ${string}`;

interface Action extends TeardownItem {
  /** State records this action settles: forgotten once it is done. */
  records: ResourceRecord[];
  /** Deletes idempotently: 'gone' when there was nothing left, 'kept: why' when it must not after all. */
  run?: () => Promise<Outcome>;
}

export const DESTROY_PLAN_FILE = 'tfplan-destroy';
const RESUME = 'Re-run `azure-mlops destroy` to finish: what is already deleted counts as done.';
const PRE_EXISTING = 'it existed before azure-mlops: never deleted';

const LABEL: Record<string, string> = {
  pipeline: 'pipeline',
  'variable-group': 'variable group',
  'service-connection': 'service connection',
  'federated-credential': 'federated credential',
  repository: 'repository',
  'terraform-deployment': 'terraform deployment',
  'entra-app': 'app registration',
  'entra-sp': 'service principal',
  agents: 'agents',
  'agent-queue': 'agent queue',
  'agent-pool': 'agent pool',
  'devops-project': 'Azure DevOps project',
  'tfstate-storage-account': 'terraform state storage account',
  'tfstate-resource-group': 'terraform state resource group',
  'devops-extension': 'Azure DevOps extension',
};

/** The order of deletion (the reverse of creation); kinds not listed come last (kept). */
const ORDER = [
  'pipeline',
  'variable-group',
  'service-connection',
  'federated-credential',
  'repository',
  'terraform-deployment',
  'entra-app',
  'entra-sp',
  'agents',
  'agent-queue',
  'agent-pool',
  'devops-project',
  'tfstate-storage-account',
  'tfstate-resource-group',
  'devops-extension',
];

export function describeItem(i: Pick<TeardownItem, 'kind' | 'name' | 'id'>): string {
  return `${LABEL[i.kind] ?? i.kind} '${i.name}'${i.id ? ` (${i.id})` : ''}`;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const itemOf = (a: TeardownItem): TeardownItem => ({ kind: a.kind, name: a.name, id: a.id, action: a.action, ...(a.reason ? { reason: a.reason } : {}) });

/** Terraform's local state holds resources (a run interrupted before it recorded its deployment). */
function localStateHasResources(dir: string): boolean {
  try {
    const s = JSON.parse(readFileSync(join(dir, 'terraform.tfstate'), 'utf8')) as { resources?: unknown[] };
    return (s.resources ?? []).length > 0;
  } catch {
    return false;
  }
}

export async function teardown(ctx: Context, opts: TeardownOptions): Promise<TeardownReport> {
  const { log, state } = ctx;
  const { c } = log;
  const tfRecord = state.resource('terraform-deployment');
  // The working dir of this state dir (the recorded path may be stale if the folder was moved).
  const tfDir = workdir(ctx);
  const hasTerraform = Boolean(tfRecord) || Boolean(state.data.steps.terraform) || localStateHasResources(tfDir);
  if (!state.persisted || (state.data.resources.length === 0 && !hasTerraform)) {
    log.info(`Nothing to destroy: ${ctx.run.stateDir} records nothing that azure-mlops created.`);
    return { ok: true, dryRun: opts.dryRun, nothingToDo: true, plan: [], removed: [], kept: [], left: [] };
  }
  if (!opts.dryRun && !ctx.run.yes && !ctx.run.interactive) {
    throw new UsageError(
      'destroy deletes cloud resources and asks first, but this run is non-interactive (--non-interactive, CI is set, or stdin is not a terminal); nothing was deleted.',
      'Pass --yes to confirm; see first what would be deleted with `azure-mlops destroy --dry-run`.',
    );
  }

  const prefix = ctx.answers.get('prefix');
  log.info(c.bold(`azure-mlops destroy${opts.dryRun ? ' --dry-run' : ''}`) + c.dim(` — prefix ${prefix}, state dir ${ctx.run.stateDir}`));
  const previous = state.stepData<DestroyRecord & Record<string, unknown>>('destroy');
  const outputPrefix = ctx.state.data.outputs.agent_name_prefix;
  const agentNamePrefix = (typeof outputPrefix === 'string' && outputPrefix) || previous.agentNamePrefix || `vm-${prefix}-agents`;

  const { actions, summary } = await assemble(ctx, opts, { tfDir, hasTerraform, agentNamePrefix });
  const deletes = actions.filter((a) => a.action === 'delete');
  const report: TeardownReport = {
    ok: true,
    dryRun: opts.dryRun,
    nothingToDo: false,
    plan: actions.map(itemOf),
    removed: [],
    kept: actions.filter((a) => a.action === 'keep').map(itemOf),
    left: deletes.map(itemOf),
    ...(summary ? { terraform: { destroy: [...summary.destroy, ...summary.replace] } } : {}),
  };

  log.info('');
  if (deletes.length) log.info(c.bold(`To delete, in this order (${deletes.length}):`));
  for (const a of deletes) {
    log.info(`  ${c.red('- delete')} ${describeItem(a)}${a.reason ? c.dim(` — ${a.reason}`) : ''}`);
    if (a.kind === 'terraform-deployment' && summary) renderSummary(ctx, summary);
  }
  if (report.kept.length) {
    log.info(c.bold(`Kept (${report.kept.length}):`));
    for (const k of report.kept) log.info(`  ${c.dim('= keep')}   ${describeItem(k)}${c.dim(` — ${k.reason ?? ''}`)}`);
  }

  if (opts.dryRun) {
    log.info('');
    log.info(`${c.bold('Dry run: nothing was changed.')} Run \`azure-mlops destroy\` to delete what is listed above.`);
    return report;
  }
  if (deletes.length === 0) {
    log.success('Nothing left to delete: everything azure-mlops created is gone.');
    return report;
  }
  if (!ctx.run.yes) {
    const typed = (await ctx.ui.input(`Type the prefix '${prefix}' to delete the ${deletes.length} object(s) above (anything else cancels)`)).trim();
    if (typed !== prefix) {
      await removeInside(ctx.run.stateDir, join(tfDir, DESTROY_PLAN_FILE));
      throw new CancelledError(`The prefix did not match ('${typed}' is not '${prefix}'); nothing was deleted.`, 'Run `azure-mlops destroy` again and type the prefix exactly, or look first with --dry-run.');
    }
  }

  // ---- act, in order --------------------------------------------------------------------------
  // An earlier destroy that did not finish: its removals stay in the record.
  const carried = previous.status === 'incomplete' || previous.status === 'in-progress' ? (previous.removed ?? []) : [];
  const save = (status: DestroyRecord['status'], error?: string) =>
    state.setStepData('destroy', { at: new Date().toISOString(), status, removed: [...carried, ...report.removed], kept: report.kept, left: report.left, error, agentNamePrefix } satisfies DestroyRecord);
  await save('in-progress');
  await state.addHistory('destroy-started', `${deletes.length} to delete, ${report.kept.length} kept`);

  for (const a of deletes) {
    if (ctx.signal.aborted) {
      await save('incomplete', 'interrupted');
      throw new CancelledError(`Interrupted before deleting ${describeItem(a)}; nothing after it was touched.`, RESUME);
    }
    let outcome: Outcome;
    try {
      outcome = a.run ? await ctx.ui.task(`deleting ${describeItem(a)}`, () => a.run!()) : 'deleted';
    } catch (e) {
      const message = ctx.redactor.redact(e instanceof Error ? e.message : String(e));
      if (e instanceof CancelledError || ctx.signal.aborted) {
        await save('incomplete', message);
        throw e instanceof CancelledError ? e : new CancelledError(`Interrupted while deleting ${describeItem(a)}: ${message}`, RESUME);
      }
      const fix = fixFor(e);
      report.ok = false;
      report.failed = { kind: a.kind, name: a.name, id: a.id, error: message, ...(fix ? { fix } : {}) };
      await save('incomplete', `${describeItem(a)}: ${message}`);
      await state.addHistory('destroy-failed', `${a.kind} ${a.name} ${a.id}`.trim());
      log.error(`Could not delete ${describeItem(a)}: ${message}`);
      log.hint(`  ${c.bold('fix:')} ${fix ? `${fix} ` : 'Fix the cause. '}${RESUME}`);
      log.hint(`  ${c.bold('left:')} ${report.left.map(describeItem).join(', ')}`);
      return report;
    }
    report.left = report.left.filter((l) => !(l.kind === a.kind && l.name === a.name));
    if (outcome.startsWith('kept: ')) {
      const why = outcome.slice('kept: '.length);
      log.warn(`Kept ${describeItem(a)}: ${why}`);
      report.kept.push({ ...itemOf(a), action: 'keep', reason: why });
      continue;
    }
    const at = new Date().toISOString();
    const touched = new Set<string>();
    // Something with no record that turned out to be gone already (an empty terraform state): nothing to note.
    const settled = a.records.length ? a.records : outcome === 'gone' ? [] : [{ kind: a.kind, name: a.name, id: a.id, step: '' } as ResourceRecord];
    // An intent whose create never happened (no id, nothing found by name): only the record goes.
    const neverCreated = outcome === 'gone' && !a.id && a.records.length > 0;
    for (const r of settled) {
      const id = r.kind === a.kind && r.name === a.name ? a.id || r.id : r.id;
      if (a.records.length) {
        await state.forgetResource(r.kind, r.name);
        touched.add(r.step);
      }
      if (neverCreated) {
        await state.addHistory('forgotten', `${r.kind} ${r.name}: its create was interrupted before it happened`);
        continue;
      }
      await state.addHistory('destroyed', `${r.kind} ${r.name} ${id}`.trim());
      report.removed.push({ kind: r.kind, name: r.name, id, at });
    }
    if (a.kind === 'terraform-deployment') {
      await state.setOutputs({});
      touched.add('terraform');
      touched.add('agents');
      // The pipeline's managed identity (the default) is one of terraform's resources.
      if (ctx.answers.maybe('pipelineIdentity') === 'managed-identity') touched.add('service-principal');
    }
    // A step whose every object is gone is forgotten (status and data): init would create it again.
    for (const s of touched) if (s && !state.data.resources.some((r) => r.step === s) && (state.data.steps[s] || state.data.data[s])) await state.clearStep(s);
    log.success(`${neverCreated ? 'never created (only its record is forgotten)' : outcome === 'gone' ? 'already gone' : 'deleted'}: ${describeItem(a)}`);
  }

  await save('done');
  await state.addHistory('destroy-finished', `${report.removed.length} removed, ${report.kept.length} kept`);
  log.info('');
  log.success(
    c.bold(`Destroy finished: ${report.removed.length} object(s) removed${report.kept.length ? `, ${report.kept.length} kept (listed above)` : ''}.`) +
      c.dim(` What was removed and when: ${join(ctx.run.stateDir, 'state.json')} (data.destroy, history).`),
  );
  return report;
}

/** The fix of an outside failure: the error's own, or what to do for az's usual ones. */
function fixFor(e: unknown): string | undefined {
  if (e instanceof CliError) return e.fix;
  if (e instanceof AzError && e.kind === 'not-logged-in') return 'Sign in with `az login` (the account init used).';
  if (e instanceof AzError && e.kind === 'forbidden') return 'Your Azure account may not delete this object; ask its owner or an administrator.';
  return (e as { fix?: string } | null)?.fix;
}

// ---- the plan ---------------------------------------------------------------------------------

interface AssembleEnv {
  tfDir: string;
  hasTerraform: boolean;
  agentNamePrefix: string;
}

/**
 * Objects init found already there: a step whose check was satisfied at once records nothing but
 * its step data (ids). They are listed as kept, and never touched.
 */
function foundBefore(ctx: Context): ResourceRecord[] {
  const { state, answers } = ctx;
  const out: ResourceRecord[] = [];
  const add = (kind: string, step: string, name: string | undefined, id: unknown, meta?: Record<string, string>) => {
    if (!name || id === undefined || id === null || id === '' || state.data.resources.some((r) => r.kind === kind)) return;
    out.push({ kind, name, id: String(id), createdByUs: false, step, at: '', ...(meta ? { meta } : {}) });
  };
  const projectName = answers.maybe('project');
  const project = projectName ? { project: projectName } : undefined;
  const data = <T extends Record<string, unknown>>(step: string) => state.stepData<T>(step);
  const p = data<{ projectId: string; projectName: string }>('devops-project');
  add('devops-project', 'devops-project', p.projectName ?? projectName, p.projectId);
  const sp = data<{ appId: string; objectId: string; displayName: string }>('service-principal');
  add('entra-app', 'service-principal', sp.displayName ?? answers.maybe('spName'), sp.appId);
  add('entra-sp', 'service-principal', sp.displayName ?? answers.maybe('spName'), sp.objectId, sp.appId ? { appId: sp.appId } : undefined);
  const pool = data<{ poolId: number; queueId: number }>('agent-pool');
  add('agent-pool', 'agent-pool', answers.maybe('pool'), pool.poolId);
  add('agent-queue', 'agent-pool', answers.maybe('pool'), pool.queueId, project);
  add('repository', 'repository', answers.maybe('repo'), data<{ repositoryId: string }>('repository').repositoryId, project);
  add('variable-group', 'variable-group', answers.maybe('variableGroup'), data<{ groupId: number }>('variable-group').groupId, project);
  add('service-connection', 'service-connection', answers.maybe('serviceConnection'), data<{ endpointId: string }>('service-connection').endpointId, project);
  add('pipeline', 'pipeline', PIPELINE_NAME, data<{ pipelineId: number }>('pipeline').pipelineId, project);
  if (state.data.steps.extension?.status === 'done' && !data<{ declined: boolean }>('extension').declined) {
    add('devops-extension', 'extension', `${EXTENSION.publisher}.${EXTENSION.name}`, `${EXTENSION.publisher}.${EXTENSION.name}`);
  }
  if (answers.maybe('stateBackend') === 'azurerm' && state.data.steps['terraform-backend']?.status === 'done') {
    const b = backendSettings(ctx);
    add('tfstate-resource-group', 'terraform-backend', b.resourceGroup, b.resourceGroup);
    add('tfstate-storage-account', 'terraform-backend', b.account, b.account, { resourceGroup: b.resourceGroup });
  }
  return out;
}

async function assemble(ctx: Context, opts: TeardownOptions, env: AssembleEnv): Promise<{ actions: Action[]; summary?: PlanSummary }> {
  const { state, answers, devops, az, arm } = ctx;
  const all = [...state.data.resources, ...foundBefore(ctx)];
  const resource = (kind: string) => all.find((r) => r.kind === kind);
  const of = (kind: string) => all.filter((r) => r.kind === kind);
  const actions: Action[] = [];
  const keep = (r: Pick<ResourceRecord, 'kind' | 'name' | 'id'>, reason: string) => actions.push({ kind: r.kind, name: r.name, id: r.id, action: 'keep', reason, records: [] });
  /** A delete. A record without id (its create was interrupted) is looked up by name when deleting. */
  const del = (r: ResourceRecord, reason: string | undefined, records: ResourceRecord[], run: (a: Action) => Promise<Outcome>) => {
    const a: Action = { kind: r.kind, name: r.name, id: r.id, action: 'delete', records, ...(reason ? { reason } : {}) };
    if (!r.id) a.reason = `${reason ? `${reason}; ` : ''}its create was interrupted: found by name when deleting`;
    a.run = () => run(a);
    actions.push(a);
  };
  /** The action's id, or the id of the object found by name; undefined = it does not exist. */
  const idOf = async (a: Action, find: () => Promise<string | number | undefined>): Promise<string | undefined> => {
    if (a.id) return a.id;
    const found = await find();
    if (found === undefined || found === '') return undefined;
    a.id = String(found);
    return a.id;
  };

  const projectRec = resource('devops-project');
  const projectOf = (r: ResourceRecord) => r.meta?.project ?? answers.get('project');
  /** Nothing inside a project azure-mlops created can have existed before it. */
  const inOurProject = (r: ResourceRecord) => Boolean(projectRec?.createdByUs && projectOf(r).toLowerCase() === projectRec.name.toLowerCase());
  const deletingProject = opts.deleteProject && projectRec?.createdByUs === true;
  const projectIdOf = async (name: string, known?: string): Promise<string | undefined> => {
    if (known) return known;
    if (projectRec?.id && projectRec.name.toLowerCase() === name.toLowerCase()) return projectRec.id;
    const saved = state.stepData<{ projectId: string; projectName: string }>('devops-project');
    if (saved.projectId && saved.projectName?.toLowerCase() === name.toLowerCase()) return saved.projectId;
    return (await devops.findProject(name))?.id;
  };

  for (const r of of('pipeline')) {
    if (!r.createdByUs) keep(r, PRE_EXISTING);
    else
      del(r, 'its pipeline permissions (queue, service connection, variable group) go with it', [r], async (a) => {
        const project = projectOf(r);
        const id = await idOf(a, async () => (await devops.findPipeline(project, r.name))?.id);
        if (!id) return 'gone';
        await devops.deletePipeline(project, Number(id));
        return 'deleted';
      });
  }

  for (const r of of('variable-group')) {
    if (!r.createdByUs) keep(r, PRE_EXISTING);
    else
      del(r, undefined, [r], async (a) => {
        const project = projectOf(r);
        const id = await idOf(a, async () => (await devops.findVariableGroup(project, r.name))?.id);
        const pid = id ? await projectIdOf(project, r.meta?.projectId) : undefined;
        if (!id || !pid) return 'gone';
        await devops.deleteVariableGroup(Number(id), [pid]);
        return 'deleted';
      });
  }

  for (const r of of('service-connection')) {
    if (!r.createdByUs) keep(r, PRE_EXISTING);
    else
      del(r, undefined, [r], async (a) => {
        const project = projectOf(r);
        const id = await idOf(a, async () => (await devops.findEndpoint(project, r.name))?.id);
        const pid = id ? await projectIdOf(project) : undefined;
        if (!id || !pid) return 'gone';
        await devops.deleteEndpoint(id, [pid]);
        return 'deleted';
      });
  }

  const spData = state.stepData<{ appId: string }>('service-principal');
  for (const r of of('federated-credential')) {
    if (!r.createdByUs) keep(r, PRE_EXISTING);
    else
      del(r, `trust of the service connection on ${r.meta?.identityId ? `managed identity ${r.meta.identityId.split('/').pop()}` : `app ${r.meta?.appId ?? spData.appId ?? '?'}`}`, [r], async () => {
        // On the pipeline's managed identity: an ARM child resource, by its name.
        if (r.meta?.identityId) return (await arm.deleteFederatedCredential(r.meta.identityId, r.name)) ? 'deleted' : 'gone';
        const appId = r.meta?.appId ?? spData.appId;
        if (!appId) return 'gone';
        // By id, or by name when the create was interrupted (az takes either).
        return (await az.deleteFederatedCredential(appId, r.id || r.name)) ? 'deleted' : 'gone';
      });
  }

  const branch = state.stepData<{ branch: string }>('repository').branch;
  for (const r of of('repository')) {
    const ours = r.createdByUs || inOurProject(r);
    if (!ours) keep(r, `${PRE_EXISTING}${branch ? `; the branch '${branch}' init pushed stays in it` : ''}`);
    else if (!opts.deleteRepo && !deletingProject) keep(r, 'pass --delete-repo to delete it (it holds the pipeline and ML code, and any work pushed since)');
    else
      del(r, r.createdByUs ? undefined : `created with project '${projectOf(r)}', which azure-mlops created`, [r], async (a) => {
        const project = projectOf(r);
        const id = await idOf(a, async () => (await devops.findRepo(project, r.name))?.id);
        if (!id) return 'gone';
        await devops.deleteRepo(project, id);
        return 'deleted';
      });
  }

  let summary: PlanSummary | undefined;
  if (env.hasTerraform) {
    const rec = state.resource('terraform-deployment');
    const tf = await planTerraform(ctx, env.tfDir, opts.dryRun);
    summary = tf.summary;
    const n = tf.summary ? tf.summary.destroy.length + tf.summary.replace.length : 0;
    const base: ResourceRecord = rec ?? { kind: 'terraform-deployment', name: answers.get('prefix'), id: env.tfDir, createdByUs: true, step: 'terraform', at: '' };
    del(base, tf.summary ? `terraform destroy of ${n} resource(s), the agent VM and its agents with them` : "terraform's state holds no resources", rec ? [rec] : [], async () => {
      if (!tf.summary) return 'gone';
      await applyDestroy(ctx, env.tfDir, tf.env);
      return 'deleted';
    });
  }

  const app = resource('entra-app');
  const sp = resource('entra-sp');
  if (app) {
    if (!app.createdByUs) keep(app, PRE_EXISTING);
    else {
      const withSp = sp && (sp.createdByUs || sp.meta?.appId === app.id) ? [sp] : [];
      del(app, withSp.length ? 'its service principal goes with it' : undefined, [app, ...withSp], async (a) => {
        const appId = await idOf(a, async () => {
          const apps = await az.appsByName(app.name);
          if (apps.length > 1) throw new StepError(`${apps.length} app registrations are named '${app.name}' (${apps.map((x) => x.appId).join(', ')}); destroy cannot tell which one init created`, `Delete the right one yourself (az ad app delete --id <appId>), then re-run \`azure-mlops destroy\`.`);
          return apps[0]?.appId;
        });
        if (!appId) return 'gone';
        return (await az.deleteApp(appId)) ? 'deleted' : 'gone';
      });
    }
  }
  if (sp && !app?.createdByUs) {
    if (!sp.createdByUs) keep(sp, PRE_EXISTING);
    else
      del(sp, undefined, [sp], async (a) => {
        const appId = sp.meta?.appId ?? app?.id;
        const id = await idOf(a, async () => (appId ? (await az.servicePrincipalOf(appId))?.objectId : undefined));
        if (!id) return 'gone';
        return (await az.deleteServicePrincipal(id)) ? 'deleted' : 'gone';
      });
  }

  const poolRec = resource('agent-pool');
  const vmAgent = new RegExp(`^${escapeRe(env.agentNamePrefix)}-\\d+$`, 'i');
  let poolKeptFor: string | undefined;
  if (poolRec) {
    const poolId = poolRec.id ? Number(poolRec.id) : (await devops.findPool(poolRec.name))?.id;
    const agents = poolId !== undefined ? await devops.agents(poolId) : [];
    const vm = agents.filter((x) => vmAgent.test(x.name));
    const others = agents.filter((x) => !vmAgent.test(x.name));
    if (!poolRec.createdByUs) keep(poolRec, PRE_EXISTING);
    else if (others.length) {
      poolKeptFor = `it has ${others.length} agent(s) azure-mlops did not register (${others.slice(0, 5).map((x) => x.name).join(', ')}${others.length > 5 ? ', …' : ''}); delete it yourself once nobody needs it`;
      keep(poolRec, poolKeptFor);
    } else
      del(poolRec, vm.length ? `with the ${vm.length} agent(s) of the agent VM` : undefined, [poolRec], async (a) => {
        const id = await idOf(a, async () => (await devops.findPool(poolRec.name))?.id);
        if (!id) return 'gone';
        // A last look: someone may have registered an agent since the plan was shown.
        const late = (await devops.agents(Number(id))).filter((x) => !vmAgent.test(x.name));
        if (late.length) return `kept: agents azure-mlops did not register joined it (${late.map((x) => x.name).join(', ')}); delete it yourself once nobody needs it`;
        await devops.deletePool(Number(id));
        return 'deleted';
      });
    if (poolId !== undefined && vm.length && (!poolRec.createdByUs || others.length)) {
      // The pool stays: deregister the agents init registered on the VM that terraform destroys.
      actions.push({
        kind: 'agents',
        name: vm.map((x) => x.name).join(', '),
        id: '',
        action: 'delete',
        reason: `deregistered from pool '${poolRec.name}': init registered them on the agent VM, which terraform destroys; the pool and its other agents stay`,
        records: [],
        run: async () => {
          const mine = (await devops.agents(poolId)).filter((x) => vmAgent.test(x.name));
          for (const x of mine) await devops.deleteAgent(poolId, x.id);
          return mine.length ? 'deleted' : 'gone';
        },
      });
    }
  }

  for (const r of of('agent-queue')) {
    const ours = r.createdByUs || inOurProject(r);
    if (!ours) keep(r, PRE_EXISTING);
    else if (poolKeptFor && !deletingProject) keep(r, `its pool '${poolRec?.name}' is kept: it has agents azure-mlops did not register`);
    else
      del(r, undefined, [r], async (a) => {
        const project = projectOf(r);
        const id = await idOf(a, async () => (await devops.findQueue(project, r.name))?.id);
        if (!id) return 'gone';
        await devops.deleteQueue(project, Number(id));
        return 'deleted';
      });
  }

  if (projectRec) {
    if (!projectRec.createdByUs) keep(projectRec, PRE_EXISTING);
    else if (!opts.deleteProject) keep(projectRec, 'pass --delete-project to delete it, with everything still in it (work items, repositories, wikis)');
    else
      del(projectRec, 'with everything still in it', [projectRec], async (a) => {
        const id = await idOf(a, async () => (await devops.findProject(projectRec.name))?.id);
        if (!id) return 'gone';
        await devops.deleteProject(id);
        return 'deleted';
      });
  }

  const subscription = state.stepData<{ subscriptionId: string }>('azure-login').subscriptionId;
  const group = resource('tfstate-resource-group');
  const BACKEND = "pass --delete-state-backend to delete it (it keeps every version of terraform's state)";
  for (const r of of('tfstate-storage-account')) {
    const inOurGroup = group?.createdByUs && group.name === r.meta?.resourceGroup;
    if (!r.createdByUs) keep(r, PRE_EXISTING);
    else if (!opts.deleteStateBackend) keep(r, BACKEND);
    else if (!inOurGroup)
      del(r, undefined, [r], async () => ((await az.deleteStorageAccount(r.name, r.meta?.resourceGroup ?? group?.name ?? '', subscription)) ? 'deleted' : 'gone'));
  }
  if (group) {
    const inside = of('tfstate-storage-account').filter((r) => r.createdByUs && r.meta?.resourceGroup === group.name);
    if (!group.createdByUs) keep(group, PRE_EXISTING);
    else if (!opts.deleteStateBackend) keep(group, BACKEND);
    else
      del(group, inside.length ? `with the storage account ${inside.map((x) => x.name).join(', ')} in it` : undefined, [group, ...inside], async () =>
        (await az.deleteGroup(group.name, subscription)) ? 'deleted' : 'gone',
      );
  }

  for (const r of of('devops-extension')) keep(r, 'organization-wide: other projects may use it; uninstall it in Organization settings > Extensions if nothing does');
  for (const r of all) if (!ORDER.includes(r.kind)) keep(r, 'destroy does not know this kind of object');

  const rank = (k: string) => (ORDER.includes(k) ? ORDER.indexOf(k) : ORDER.length);
  actions.sort((x, y) => rank(x.kind) - rank(y.kind));
  return { actions, ...(summary ? { summary } : {}) };
}

// ---- terraform ----------------------------------------------------------------------------------

function rethrowInterrupt(e: unknown): never {
  if (e instanceof CancelledError) throw new CancelledError(e.message, `${RESUME} Terraform plans the destroy again from what is left.`);
  throw e;
}

/**
 * `terraform plan -destroy` into tfplan-destroy (a dry run: without the lock, and the file is
 * removed afterwards). No summary: terraform's state holds nothing.
 */
async function planTerraform(ctx: Context, dir: string, dryRun: boolean): Promise<{ summary?: PlanSummary; env: Record<string, string> }> {
  let vars: Record<string, unknown>;
  try {
    vars = JSON.parse(await readFile(join(dir, TFVARS_FILE), 'utf8')) as Record<string, unknown>;
  } catch {
    if (!existsSync(join(dir, 'terraform.tfstate')) || !localStateHasResources(dir)) return { env: {} };
    throw new StepError(`Cannot plan the terraform destroy: ${join(dir, TFVARS_FILE)} is missing.`, `Run \`terraform destroy\` in ${dir} yourself (with the deployment's variables), then re-run \`azure-mlops destroy\`.`, 'terraform');
  }
  const env = providerEnv(vars);
  if (!dryRun) await ctx.ui.task('terraform init', () => ctx.terraform.init(dir, env, backendConfig(ctx, vars)));
  const args = ['plan', '-destroy', '-input=false', `-out=${DESTROY_PLAN_FILE}`, '-detailed-exitcode', '-json', ...(dryRun ? ['-lock=false'] : [])];
  const plan = await streamWithProgress(ctx, dir, args, env, 'terraform plan -destroy').catch(rethrowInterrupt);
  try {
    if (plan.exitCode === 1) {
      throw new StepError(`terraform plan -destroy failed:\n  ${errorDiagnostics(plan.events).join('\n  ') || plan.stderr.trim()}`, `Fix the cause (full log in ${join(ctx.run.stateDir, 'logs')}), then re-run \`azure-mlops destroy\`.`, 'terraform');
    }
    if (plan.exitCode === 0) return { env };
    return { summary: summarizePlan(await ctx.terraform.showPlan(dir, DESTROY_PLAN_FILE)), env };
  } finally {
    if (dryRun || plan.exitCode !== 2) await removeInside(ctx.run.stateDir, join(dir, DESTROY_PLAN_FILE));
  }
}

/** `apply tfplan-destroy` with live progress; Ctrl-C: one SIGINT, terraform stops gracefully (exit 130). */
async function applyDestroy(ctx: Context, dir: string, env: Record<string, string>): Promise<void> {
  const applied = await streamWithProgress(ctx, dir, ['apply', '-input=false', '-json', DESTROY_PLAN_FILE], env, 'terraform destroy').catch(rethrowInterrupt);
  if (applied.exitCode !== 0) {
    throw new StepError(
      `terraform destroy failed:\n  ${errorDiagnostics(applied.events).join('\n  ') || applied.stderr.trim()}`,
      `Terraform kept its state in ${dir}; fix the cause (full log in ${join(ctx.run.stateDir, 'logs')}).`,
      'terraform',
    );
  }
  const tally = applied.events.find((e) => e.type === 'change_summary')?.changes;
  if (tally) ctx.log.info(`  terraform destroy: ${tally.remove} destroyed.`);
  await removeInside(ctx.run.stateDir, join(dir, DESTROY_PLAN_FILE));
}
