import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { removeInside } from '../adapters/safe-fs.js';
import { join, resolve } from 'node:path';
import { AzAdapter } from '../adapters/az.js';
import { errorDiagnostics, type TfEvent, type TfPlanJson } from '../adapters/terraform.js';
import { compareInterfaces, readModuleInterface } from '../adapters/tf-module.js';
import { exists, moduleHash, syncModule, writePrivate } from '../adapters/workdir.js';
import { CancelledError, StepError, UsageError } from '../engine/errors.js';
import { defineStep, type Change, type CheckResult, type Context } from '../engine/types.js';
import type { TeardownKit } from '../engine/teardown.js';
import { formatDuration } from '../ui/prompts.js';
import { loginOf } from './azure-login.js';
import { locatePublicKey } from './ssh-key.js';
import { backendSettings } from './terraform-backend.js';
import { deploymentId } from './deployment-values.js';
import { identityKind, pipelineIdentity } from './service-principal.js';

/**
 * README: "terraform plan -out=out.tfstate -var prefix=... -var pat=... ; terraform apply out.tfstate".
 *
 * Works in `<state-dir>/terraform/` (a copy of the bundled module, or of --terraform-dir), with the
 * non-secret answers in terraform.tfvars.json (0600); terraform never sees a secret. init -> plan -out=tfplan -detailed-exitcode -> summary -> confirm ->
 * apply tfplan -> output -json into state. No changes: says so and does not apply.
 */

type Ctx = Pick<Context, 'terraform' | 'answers' | 'state' | 'ssh' | 'log' | 'ui' | 'run' | 'signal' | 'az'>;

export const PLAN_FILE = 'tfplan';
export const TFVARS_FILE = 'terraform.tfvars.json';

export function workdir(ctx: Pick<Context, 'run'>): string {
  return join(ctx.run.stateDir, 'terraform');
}

export function moduleSource(ctx: Pick<Context, 'run' | 'answers'>): string {
  const custom = ctx.answers.maybe('terraformDir');
  return custom ? resolve(ctx.run.cwd, custom) : join(ctx.run.packageRoot, 'terraform');
}

// ---- the DevOpsInfrastructure service principal (--agents-host managed-pool) ----------------------

/**
 * Microsoft's DevOpsInfrastructure application: its service principal in the tenant places a Managed
 * DevOps Pool's machines in the subnet, and the module grants it Reader and Network Contributor on
 * the VNET (variable devops_infrastructure_principal_id; "Configure Managed DevOps Pools networking").
 * No Microsoft Learn page states this application id; the Azure Verified Module's networking example
 * (Azure/terraform-azurerm-avm-res-devopsinfrastructure-pool) and other public templates look it up by it
 * (terraform/README.md). Looking it up by id rather than by display name avoids az's prefix filter.
 */
export const DEVOPS_INFRASTRUCTURE_APP_ID = '31687f79-5e43-4c1e-8c63-d9f4bff5cf8b';
const MISSING_PRINCIPAL = '<object id of the DevOpsInfrastructure service principal: not in this tenant yet>';

/**
 * Its object id: one lookup per run (the run's az adapter keeps what it found, no module state); a
 * miss is not kept, so a later check looks again (the preflight may register the provider meanwhile).
 */
export async function devopsInfrastructurePrincipal(ctx: Pick<Context, 'az'>): Promise<string | undefined> {
  const sp = await ctx.az.servicePrincipalOf(DEVOPS_INFRASTRUCTURE_APP_ID, { keepFound: true });
  return sp?.objectId || undefined;
}

const PRINCIPAL_FIX =
  'Azure creates that service principal in the tenant when the subscription registers the resource provider: run `az provider register --namespace Microsoft.DevOpsInfrastructure` (azure-mlops init does it in its preflight; an Owner or Contributor of the subscription may), wait a minute, and run azure-mlops init again.';

/**
 * `--terraform-dir` must be a fork of the bundled module: every variable azure-mlops sets and every
 * output it reads, and no variable it cannot set (no default). Checked by init and plan before
 * anything is copied or called (exit 2 naming what is missing); the bundled module itself is the
 * reference. See src/adapters/tf-module.ts for how the files are read.
 */
export async function checkTerraformDir(ctx: Pick<Context, 'run' | 'answers'>): Promise<void> {
  if (!ctx.answers.maybe('terraformDir')) return;
  const dir = moduleSource(ctx);
  const bundledDir = join(ctx.run.packageRoot, 'terraform');
  if (resolve(dir) === resolve(bundledDir)) return;
  const where = `--terraform-dir ${dir} (${ctx.answers.sourceOf('terraformDir') ?? 'given'})`;
  const fix = `Point --terraform-dir (env AZURE_MLOPS_TERRAFORM_DIR) at a copy of the bundled module (${bundledDir}) with your changes, or drop it to use the bundled one.`;
  const fork = await readModuleInterface(dir);
  if (!fork.files.length) throw new UsageError(`${where} holds no terraform module (no *.tf file${(await exists(dir)) ? '' : ': the directory does not exist'}).`, fix);
  const d = compareInterfaces(fork, await readModuleInterface(bundledDir));
  const gaps = [
    d.missingVariables.length ? `variable${d.missingVariables.length > 1 ? 's' : ''} ${d.missingVariables.join(', ')} (azure-mlops sets them)` : '',
    d.missingOutputs.length ? `output${d.missingOutputs.length > 1 ? 's' : ''} ${d.missingOutputs.join(', ')} (azure-mlops reads them)` : '',
  ].filter(Boolean);
  if (gaps.length) throw new UsageError(`${where} is not a fork of the bundled module: it lacks ${gaps.join(' and ')}.`, fix);
  if (d.unsetRequired.length) {
    throw new UsageError(`${where} declares variable${d.unsetRequired.length > 1 ? 's' : ''} ${d.unsetRequired.join(', ')} without a default; azure-mlops does not set ${d.unsetRequired.length > 1 ? 'them' : 'it'}, so terraform would stop at plan.`, `Give ${d.unsetRequired.length > 1 ? 'them defaults' : 'it a default'} in the module, or remove ${d.unsetRequired.length > 1 ? 'them' : 'it'}.`);
  }
}

/** Subscription and pipeline identity from earlier steps; placeholders when they have not run (plans). */
export async function tfvars(ctx: Ctx): Promise<Record<string, string | number>> {
  const key = (await locatePublicKey(ctx)).key;
  const sub = loginOf(ctx).subscriptionId;
  const host = ctx.answers.get('agentsHost');
  return {
    prefix: ctx.answers.get('prefix'),
    location: ctx.answers.get('location'),
    subscription_id: sub ?? '<subscription id from azure-login>',
    devops_url: ctx.answers.get('org'),
    agents_host: host,
    // Tag azure-mlops-deployment on every resource: another state dir on this prefix is refused (azure-preflight).
    deployment_id: deploymentId(ctx),
    num_agents: ctx.answers.get('agents'),
    // The agent VM's pool and size; a managed pool has its own (the service's pool, managed_pool_vm_size).
    ...(host === 'managed-pool'
      ? {
          devops_project: ctx.answers.get('project'),
          devops_infrastructure_principal_id: (await devopsInfrastructurePrincipal(ctx)) ?? MISSING_PRINCIPAL,
        }
      : { devops_pool: ctx.answers.get('pool'), agent_vm_size: ctx.answers.get('agentVmSize') }),
    ssh_public_key: key?.line ?? '<ssh public key>',
    // A service principal's object id (app registration); none: the module creates the managed identity.
    ...(identityKind(ctx) === 'app-registration' ? { pipeline_sp_object_id: pipelineIdentity(ctx).objectId ?? '<object id from service-principal>' } : {}),
  };
}

async function fingerprint(ctx: Ctx, vars: Record<string, unknown>): Promise<string> {
  const { hash } = await moduleHash(moduleSource(ctx));
  return createHash('sha256').update(hash).update(JSON.stringify(vars)).digest('hex');
}

/**
 * Environment of every terraform child. No secret at all: the module's optional `devops_pat` is
 * left unset, because terraform would store it in its state (VM extension protected settings are
 * kept there). The agents are registered after apply by the `agents` step, through an Azure Run
 * Command whose protected parameters carry the PAT over HTTPS only.
 */
export function providerEnv(vars: Record<string, unknown>): Record<string, string> {
  return { ARM_SUBSCRIPTION_ID: String(vars.subscription_id) };
}

export const BACKEND_FILE = 'backend_azurerm.tf';

/** `-backend-config` values for --state-backend azurerm (none for the local backend). */
export function backendConfig(ctx: Ctx, vars: Record<string, unknown>): string[] {
  if (ctx.answers.get('stateBackend') !== 'azurerm') return [];
  const b = backendSettings(ctx);
  return [`resource_group_name=${b.resourceGroup}`, `storage_account_name=${b.account}`, `container_name=${b.container}`, `key=${b.key}`, `subscription_id=${String(vars.subscription_id)}`];
}

/**
 * What this step records of its last apply (its state data): the fingerprint of the module and
 * variables it applied, when, in which working dir, and by which run (the re-check right after an
 * apply of this same run trusts it).
 */
export type TerraformApply = { fingerprint: string; appliedAt: string; workdir: string; runId: string };

/** The last apply as recorded; empty when terraform was never applied from this state dir. */
export function lastApply(ctx: Pick<Context, 'state'>): Partial<TerraformApply> {
  return ctx.state.stepData<TerraformApply>('terraform');
}

const PLAN_ARGS = ['plan', '-input=false', `-out=${PLAN_FILE}`, '-detailed-exitcode', '-json'];
const APPLY_ARGS = ['apply', '-input=false', '-json', PLAN_FILE];

export interface PlanSummary {
  add: string[];
  change: string[];
  destroy: string[];
  replace: string[];
}

export function summarizePlan(plan: TfPlanJson): PlanSummary {
  const s: PlanSummary = { add: [], change: [], destroy: [], replace: [] };
  for (const rc of plan.resource_changes) {
    const a = rc.change.actions.join(',');
    if (a === 'create') s.add.push(rc.address);
    else if (a === 'update') s.change.push(rc.address);
    else if (a === 'delete') s.destroy.push(rc.address);
    else if (a === 'delete,create' || a === 'create,delete') s.replace.push(rc.address);
  }
  return s;
}

/**
 * terraform's plan, summarised: what it adds, changes, replaces and destroys, destroys highlighted.
 * `when`: 'now' for a plan about to be applied ("will be destroyed"; `asks` says whether a question
 * follows), 'dry-run' for one that never is ("would be destroyed", and nothing to confirm).
 */
export function renderSummary(ctx: Pick<Context, 'log'>, s: PlanSummary, opts: { when: 'now' | 'dry-run'; asks: boolean }): void {
  const { c } = ctx.log;
  const will = opts.when === 'dry-run' ? 'would be' : 'will be';
  ctx.log.info(`  terraform plan: ${c.green(`${s.add.length} to add`)}, ${c.yellow(`${s.change.length} to change`)}, ${c.red(`${s.destroy.length + s.replace.length} to destroy`)}${s.replace.length ? c.red(` (${s.replace.length} replaced)`) : ''}`);
  for (const a of s.add) ctx.log.info(`    ${c.green('+')} ${a}`);
  for (const a of s.change) ctx.log.info(`    ${c.yellow('~')} ${a}`);
  for (const a of s.replace) ctx.log.info(`    ${c.red('-/+')} ${a} ${c.red(`(${will} replaced: destroyed, then created again)`)}`);
  for (const a of s.destroy) ctx.log.info(`    ${c.red('-')} ${a} ${c.red(`(${will} destroyed)`)}`);
  const n = s.destroy.length + s.replace.length;
  if (n === 0) return;
  if (opts.when === 'dry-run') ctx.log.warn(`This plan would destroy or replace ${n} resource(s).`);
  else ctx.log.warn(`This plan destroys or replaces ${n} resource(s).${opts.asks ? ' Read the list above before you confirm.' : ''}`);
}

const PAST: Record<string, string> = { create: 'created', update: 'updated', delete: 'destroyed', replace: 'replaced', read: 'read' };

const ING: Record<string, string> = { create: 'creating', update: 'updating', delete: 'destroying', replace: 'replacing', read: 'reading' };

/**
 * The spinner's title while terraform applies: "terraform apply: 3 done, creating azurerm_x.y +2 more".
 * No time in it: Ui.task appends the one timer of the line (the time since the apply started).
 */
export function progressTitle(title: string, done: number, active: ReadonlyMap<string, { action: string }>): string {
  const [first, info] = [...active.entries()][0] ?? [];
  if (!first || !info) return `${title}: ${done} done`;
  return `${title}: ${done} done, ${ING[info.action] ?? info.action} ${first}${active.size > 1 ? ` +${active.size - 1} more` : ''}`;
}

/** Streams a plan/apply with progress and returns the result; Ctrl-C becomes a CancelledError. */
export async function streamWithProgress(ctx: Ctx, cwd: string, args: string[], env: Record<string, string>, title: string) {
  const started = Date.now();
  const active = new Map<string, { action: string }>();
  let done = 0;
  const r = await ctx.ui.task(title, async (update) =>
    ctx.terraform.stream(args, {
      cwd,
      env,
      signal: ctx.signal,
      onEvent: (e: TfEvent) => {
        const addr = e.hook?.resource?.addr;
        if (e.type === 'apply_start' && addr) active.set(addr, { action: e.hook?.action ?? 'apply' });
        if (e.type === 'apply_complete' && addr) {
          const a = active.get(addr);
          active.delete(addr);
          done++;
          ctx.log.info(`    ${ctx.log.c.green('✔')} ${PAST[a?.action ?? ''] ?? 'applied'} ${addr} ${ctx.log.c.dim(`(${formatDuration((e.hook?.elapsed_seconds ?? 0) * 1000)})`)}`);
        }
        if (e.type === 'apply_errored' && addr) {
          active.delete(addr);
          ctx.log.error(`    failed: ${addr}`);
        }
        if (active.size) update(progressTitle(title, done, active));
      },
    }),
  );
  if (r.interrupted) {
    throw new CancelledError(
      `Interrupted: terraform stopped gracefully after ${formatDuration(Date.now() - started)}; its state in ${cwd} is intact.`,
      'Re-run `azure-mlops init` to resume: terraform plans again from what exists.',
    );
  }
  return r;
}

async function readOutputs(ctx: Ctx, cwd: string, env: Record<string, string>): Promise<Record<string, unknown>> {
  return ctx.terraform.outputs(cwd, env);
}

export const terraformStep = defineStep({
  id: 'terraform',
  title: 'Azure infrastructure (terraform)',
  createsAzureResources: true,
  dependsOn: ['tools', 'ssh-key', 'azure-login', 'service-principal', 'azure-preflight', 'terraform-backend'],
  async check(ctx: Ctx): Promise<CheckResult> {
    const dir = workdir(ctx);
    const data = lastApply(ctx);
    const local = ctx.answers.get('stateBackend') === 'local';
    if (!data.appliedAt || (local && !(await exists(join(dir, 'terraform.tfstate'))))) {
      return { status: 'missing', summary: 'not applied yet' };
    }
    const vars = await tfvars(ctx);
    if ((await fingerprint(ctx, vars)) !== data.fingerprint) {
      return { status: 'missing', summary: 'the module or its variables changed since the last apply' };
    }
    // Applied by this very run (the re-check right after apply): apply's own success is the check, no second full plan.
    if (data.runId === ctx.run.runId) return { status: 'ok', summary: `applied; ${Object.keys(ctx.state.data.outputs).length} outputs recorded` };
    // Read-only drift check: no saved plan, no lock taken.
    const r = await ctx.terraform.stream(['plan', '-input=false', '-detailed-exitcode', '-lock=false', '-json'], { cwd: dir, env: providerEnv(vars), signal: ctx.signal });
    if (r.exitCode === 0) return { status: 'ok', summary: `applied ${data.appliedAt.slice(0, 16).replace('T', ' ')}; terraform plan shows no changes` };
    if (r.exitCode === 2) {
      const counts = r.events.find((e) => e.type === 'change_summary')?.changes;
      return { status: 'missing', summary: `terraform plan shows changes (drift): ${counts ? `${counts.add} to add, ${counts.change} to change, ${counts.remove} to destroy` : 'see the plan'}` };
    }
    throw new StepError(`terraform plan failed: ${errorDiagnostics(r.events).join('; ') || r.stderr.trim().split('\n').pop()}`, undefined, 'terraform');
  },
  async plan(ctx): Promise<Change[]> {
    const dir = workdir(ctx);
    const vars = await tfvars(ctx);
    const t = ctx.terraform;
    const managed = vars.agents_host === 'managed-pool';
    const principal = vars.devops_infrastructure_principal_id;
    return [
      // The lookup this plan made (read-only, once per run), and what it found.
      ...(managed
        ? [
            {
              action: 'run' as const,
              what:
                principal === MISSING_PRINCIPAL
                  ? `devops_infrastructure_principal_id: Microsoft's DevOpsInfrastructure service principal (app id ${DEVOPS_INFRASTRUCTURE_APP_ID}) is not in the tenant yet (Azure creates it when the subscription registers Microsoft.DevOpsInfrastructure); looked up again before terraform runs`
                  : `devops_infrastructure_principal_id = ${String(principal)}: Microsoft's DevOpsInfrastructure service principal (app id ${DEVOPS_INFRASTRUCTURE_APP_ID}), which terraform grants Reader and Network Contributor on the VNET`,
              commands: [ctx.az.commandLine(AzAdapter.servicePrincipalQuery(DEVOPS_INFRASTRUCTURE_APP_ID))],
              confirm: false,
            },
          ]
        : []),
      {
        action: 'run',
        what: `prepare ${dir}: copy of ${moduleSource(ctx)}, ${TFVARS_FILE} (mode 0600)`,
        details: [
          ...Object.entries(vars).map(([k, v]) => `${k} = ${k === 'ssh_public_key' ? `${String(v).slice(0, 24)}…` : JSON.stringify(v)}`),
          managed ? 'devops_pat: none (a Managed DevOps Pool registers its agents itself)' : 'devops_pat: not given to terraform (it would be stored in its state); the agents step registers the agents',
        ],
        confirm: false,
      },
      {
        action: 'run',
        what: `terraform init, plan, show you the plan and ask, apply that saved plan, read the outputs${lastApply(ctx).appliedAt ? '' : ' (the first apply takes 15–25 minutes: AKS and the Azure ML extension; the Azure DevOps steps run meanwhile)'}`,
        commands: [t.commandLine(['init', '-input=false', '-no-color', ...backendConfig(ctx, vars).map((b) => `-backend-config=${b}`)]), t.commandLine(PLAN_ARGS), t.commandLine(['show', '-json', '-no-color', PLAN_FILE]), t.commandLine(APPLY_ARGS), t.commandLine(['output', '-json', '-no-color'])],
        confirm: false,
      },
    ];
  },
  async apply(ctx) {
    const dir = workdir(ctx);
    const vars = await tfvars(ctx);
    if (vars.devops_infrastructure_principal_id === MISSING_PRINCIPAL) {
      throw new StepError(
        `Microsoft's DevOpsInfrastructure service principal (app id ${DEVOPS_INFRASTRUCTURE_APP_ID}) is not in your Microsoft Entra tenant: the Managed DevOps Pool needs it to join the VNET (\`${ctx.az.commandLine(AzAdapter.servicePrincipalQuery(DEVOPS_INFRASTRUCTURE_APP_ID))}\` found none).`,
        PRINCIPAL_FIX,
        'terraform',
      );
    }
    for (const [k, v] of Object.entries(vars)) if (String(v).startsWith('<')) throw new StepError(`terraform needs ${k}, which an earlier step did not provide`, 'Re-run `azure-mlops init`.', 'terraform');
    const env = providerEnv(vars);
    const root = ctx.run.stateDir;
    const synced = await syncModule(moduleSource(ctx), dir, root);
    if (synced.changed) ctx.log.info(`  module copied to ${dir}`);
    await writePrivate(root, join(dir, TFVARS_FILE), `${JSON.stringify(vars, null, 2)}\n`);
    const backend = backendConfig(ctx, vars);
    if (!backend.length) await removeInside(root, join(dir, BACKEND_FILE));
    else await writePrivate(root, join(dir, BACKEND_FILE), '# written by azure-mlops for --state-backend azurerm; settings come from -backend-config\nterraform {\n  backend "azurerm" {}\n}\n');

    await ctx.ui.task('terraform init', () => ctx.terraform.init(dir, providerEnv(vars), backend));
    const plan = await streamWithProgress(ctx, dir, PLAN_ARGS, env, 'terraform plan');
    if (plan.exitCode === 1) {
      throw new StepError(`terraform plan failed:\n  ${errorDiagnostics(plan.events).join('\n  ') || plan.stderr.trim()}`, `Full log in ${join(ctx.run.stateDir, 'logs')}.`, 'terraform');
    }
    if (plan.exitCode === 0) {
      ctx.log.info('  terraform plan: no changes; nothing to apply.');
    } else {
      const summary = summarizePlan(await ctx.terraform.showPlan(dir, PLAN_FILE));
      renderSummary(ctx, summary, { when: 'now', asks: !ctx.run.yes });
      if (!ctx.run.yes) {
        const n = summary.add.length + summary.change.length + summary.destroy.length + summary.replace.length;
        // Terraform's own question (the run's second and last): its real plan is known only now.
        // As terraform and azd do, creating Azure resources is never the default answer.
        if (!ctx.ui.interactive) throw new CancelledError('Terraform plan not applied: this run is non-interactive and --yes was not given.', 'Re-run with --yes.');
        if (!(await ctx.ui.confirm(`Apply this terraform plan (${n} resource change${n === 1 ? '' : 's'})?`, false))) {
          throw new CancelledError('Stopped: you declined the terraform plan. Terraform changed nothing in Azure.', 'Re-run `azure-mlops init` when ready.');
        }
      }
      const applied = await streamWithProgress(ctx, dir, APPLY_ARGS, env, 'terraform apply');
      if (applied.exitCode !== 0) {
        throw new StepError(
          `terraform apply failed:\n  ${errorDiagnostics(applied.events).join('\n  ') || applied.stderr.trim()}`,
          `Terraform kept its state in ${dir}; fix the cause and re-run \`azure-mlops init\` (full log in ${join(ctx.run.stateDir, 'logs')}).`,
          'terraform',
        );
      }
      const tally = applied.events.find((e) => e.type === 'change_summary')?.changes;
      if (tally) ctx.log.info(`  terraform apply: ${tally.add} added, ${tally.change} changed, ${tally.remove} destroyed.`);
    }
    const outputs = await readOutputs(ctx, dir, env);
    await ctx.state.setOutputs(outputs);
    await ctx.state.recordResource({ kind: 'terraform-deployment', name: ctx.answers.get('prefix'), id: dir, createdByUs: true, step: 'terraform', meta: { backend: ctx.answers.get('stateBackend') } });
    const applied: TerraformApply = { fingerprint: await fingerprint(ctx, vars), appliedAt: new Date().toISOString(), workdir: dir, runId: ctx.run.runId };
    await ctx.state.setStepData('terraform', applied);
  },
  teardown: {
    owns: { 'terraform-deployment': 'terraform deployment' },
    plan: (kit) => planDestroy(kit),
  },
});

// ---- destroy: terraform plan -destroy, shown in destroy's list, then apply -------------------------

export const DESTROY_PLAN_FILE = 'tfplan-destroy';
const RESUME = 'Re-run `azure-mlops destroy` to finish: what is already deleted counts as done.';

/** Terraform's local state holds resources (a run interrupted before it recorded its deployment). */
export function localStateHasResources(dir: string): boolean {
  try {
    const s = JSON.parse(readFileSync(join(dir, 'terraform.tfstate'), 'utf8')) as { resources?: unknown[] };
    return (s.resources ?? []).length > 0;
  } catch {
    return false;
  }
}

/**
 * Destroy's part: everything terraform created goes with one `terraform apply` of a saved
 * `plan -destroy` (the pipeline's managed identity and the agent VM included); the plan is shown in
 * destroy's list before the confirmation. A dry run plans without the lock and removes the file.
 */
async function planDestroy(kit: TeardownKit): Promise<void> {
  const ctx = kit.ctx;
  const rec = kit.record('terraform-deployment');
  // The working dir of this state dir (the recorded path may be stale if the folder was moved).
  const dir = workdir(ctx);
  if (!rec && !ctx.state.data.steps.terraform && !localStateHasResources(dir)) return;
  const tf = await planTerraformDestroy(ctx, dir, kit.opts.dryRun);
  kit.onCancel(() => removeInside(ctx.run.stateDir, join(dir, DESTROY_PLAN_FILE)));
  const summary = tf.summary;
  if (summary) kit.extra.terraform = { destroy: [...summary.destroy, ...summary.replace] };
  const n = summary ? summary.destroy.length + summary.replace.length : 0;
  const base = rec ?? { kind: 'terraform-deployment', name: ctx.answers.get('prefix'), id: dir };
  // A Managed DevOps Pool's Azure DevOps pool and queue go with the pool resource (its service removes them).
  const managedPool = (ctx.state.data.outputs as Record<string, unknown>).agents_host === 'managed-pool';
  kit.del(base, {
    reason: summary ? `terraform destroy of ${n} resource(s), ${managedPool ? 'the Managed DevOps Pool' : 'the agent VM'} with them` : "terraform's state holds no resources",
    records: rec ? [rec] : [],
    ...(summary ? { show: () => renderSummary(ctx, summary, { when: kit.opts.dryRun ? 'dry-run' : 'now', asks: !kit.opts.dryRun && !ctx.run.yes }) } : {}),
    run: async () => {
      if (!summary) return 'gone';
      await applyDestroy(ctx, dir, tf.env);
      return 'deleted';
    },
    after: () => ctx.state.setOutputs({}),
    // The pipeline's managed identity (the default) is one of terraform's resources; the VM's agents went
    // with the VM; a managed pool's Azure DevOps pool (the agent-pool step's data) with the pool.
    forget: ['terraform', 'agents', ...(managedPool ? (['agent-pool'] as const) : []), ...(ctx.answers.maybe('pipelineIdentity') === 'managed-identity' ? (['service-principal'] as const) : [])],
  });
}

function rethrowInterrupt(e: unknown): never {
  if (e instanceof CancelledError) throw new CancelledError(e.message, `${RESUME} Terraform plans the destroy again from what is left.`);
  throw e;
}

/** `terraform plan -destroy` into tfplan-destroy. No summary: terraform's state holds nothing. */
async function planTerraformDestroy(ctx: Context, dir: string, dryRun: boolean): Promise<{ summary?: PlanSummary; env: Record<string, string> }> {
  let vars: Record<string, unknown>;
  try {
    vars = JSON.parse(await readFile(join(dir, TFVARS_FILE), 'utf8')) as Record<string, unknown>;
  } catch {
    // Nothing to destroy only when the local state says so; a remote state (--state-backend azurerm)
    // cannot be read without the variables, so that is never taken for "empty".
    if (ctx.answers.maybe('stateBackend') !== 'azurerm' && !localStateHasResources(dir)) return { env: {} };
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
