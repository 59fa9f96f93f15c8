import { ROLE_ASSIGNMENT_WRITE, isActionAllowed, type Permission } from '../adapters/arm/authorization.js';
import { ArmError } from '../adapters/arm/client.js';
import type { ArmAdapter } from '../adapters/arm/index.js';
import type { DeletedVault } from '../adapters/arm/names.js';
import type { RegistrationState } from '../adapters/arm/providers.js';
import type { Usage, VmSku } from '../adapters/arm/quota.js';
import { formatCommand } from '../adapters/process.js';
import { howToSet } from '../config/fields.js';
import { namesFor } from '../config/naming.js';
import type { AgentsHost } from '../config/schema.js';
import { plannedCompute, type PlannedCompute, type QuotaPool } from '../config/sizing.js';
import { DEPLOYMENT_TAG, conflictFix, conflictMessage, sharedDeploymentId, type Conflict } from '../engine/deployment.js';
import { StepError } from '../engine/errors.js';
import { defineStep, type Change, type CheckResult, type CheckStatus, type Context, type StepId } from '../engine/types.js';
import { subscriptionOf } from './azure-login.js';
import { deploymentId } from './deployment-values.js';
import { localStateHasResources, workdir } from './terraform.js';
import { backendSettings } from './terraform-backend.js';

/**
 * Azure preflight, before terraform plan (and part of `doctor`): everything terraform would trip
 * over half-way through, checked up front through ARM with one az token:
 * - the resource providers the module uses are registered (the step registers them itself);
 * - the global names (storage account, container registry, key vault) are free or already this
 *   deployment's, and no soft-deleted key vault holds the vault name (purged with --purge-deleted);
 * - the region has vCPU quota for the AKS nodes, the agent VM (or the Managed DevOps Pool's
 *   machines at its maximum concurrency, in that service's own quota) and the training cluster's maximum;
 * - the signed-in identity may create resource groups and role assignments;
 * - the prefix is not deployed from elsewhere: rg-{prefix}-ml and rg-{prefix}-devops do not exist,
 *   or carry this deployment's id in their tag azure-mlops-deployment (or, untagged, were made by
 *   this state dir's terraform before deployment ids existed). Another deployment's is a refusal
 *   (exit 2, before anything is created): src/engine/deployment.ts.
 * Problems the step cannot fix stop the run in plan(), before anything is created.
 */

export type PreflightCtx = Pick<Context, 'arm' | 'az' | 'answers' | 'state' | 'log' | 'run' | 'ui'>;

export interface PreflightOptions {
  /** Purge a soft-deleted key vault that holds the vault name (the --purge-deleted flag). */
  purgeDeleted: boolean;
}

/**
 * The resource providers the terraform module uses with the agent VM: `local.resource_providers` in
 * terraform/versions.tf (which the azurerm provider registers too; the module must stand alone, so
 * the list is written there as well, and test/preflight/azure-preflight.test.ts fails when the two
 * differ, for either agents host).
 */
export const REQUIRED_PROVIDERS = [
  'Microsoft.Compute',
  'Microsoft.ContainerRegistry',
  'Microsoft.ContainerService',
  'Microsoft.Insights',
  'Microsoft.KeyVault',
  'Microsoft.KubernetesConfiguration', // cluster extensions (the AzureML extension on AKS)
  'Microsoft.MachineLearningServices',
  'Microsoft.ManagedIdentity',
  'Microsoft.Network',
  'Microsoft.OperationalInsights',
  'Microsoft.Storage',
] as const;

/**
 * What a Managed DevOps Pool adds ("Prerequisites for Managed DevOps Pools": register
 * Microsoft.DevOpsInfrastructure, the pools, and Microsoft.DevCenter, the Dev Center and its project).
 */
export const MANAGED_POOL_PROVIDERS = ['Microsoft.DevCenter', 'Microsoft.DevOpsInfrastructure'] as const;

/** The providers the module needs for this agents host. */
export function requiredProviders(host: AgentsHost | undefined): readonly string[] {
  return host === 'managed-pool' ? [...REQUIRED_PROVIDERS, ...MANAGED_POOL_PROVIDERS] : REQUIRED_PROVIDERS;
}

export type PreflightCheckId = 'azure.providers' | 'azure.names' | 'azure.deleted-vault' | 'azure.quota' | 'azure.role-assignments' | 'azure.deployment';

/** One preflight check, as doctor shows it. */
export interface PreflightCheck {
  id: PreflightCheckId;
  title: string;
  status: Exclude<CheckStatus, 'skipped'>;
  summary: string;
  fix?: string;
  details?: string[];
}

/** Something wrong, why, and its fix; `change` when the step can fix it itself. */
export interface Problem {
  text: string;
  fix: string;
  change?: Change;
}

interface CheckOutcome extends PreflightCheck {
  problems: Problem[];
  /** Another deployment's resource group: the run is refused (CheckResult.refusal). */
  refusal?: { message: string; fix: string };
}

/** api-versions for reading this deployment's own resources (ownership of a taken name, quota on re-runs). */
const RESOURCE_API = {
  storage: '2023-05-01',
  registry: '2023-07-01',
  vault: '2023-07-01',
  aks: '2024-09-01',
  vm: '2024-07-01',
  managedPool: '2025-01-21',
} as const;

const QUOTA_PORTAL = 'https://portal.azure.com/#view/Microsoft_Azure_Capacity/QuotaMenuBlade/~/myQuotas';
const PREFIX_FIX = `choose another ${howToSet('prefix')} (it names st{prefix}, acr{prefix}, kv-{prefix})`;
const PREFIX_FIX_SENTENCE = `Choose another ${howToSet('prefix')} (it names st{prefix}, acr{prefix}, kv-{prefix}).`;
const RG_WRITE = 'Microsoft.Resources/subscriptions/resourceGroups/write';

const day = (d: Date | undefined) => (d ? d.toISOString().slice(0, 10) : 'unknown');

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * A check that could not run: missing, except a 403 on a read (a warning: rights are checked
 * apart) and an unregistered resource provider (a warning: the step registers it, and the check
 * after apply runs this check for real).
 */
function couldNotCheck(id: PreflightCheckId, title: string, e: unknown): CheckOutcome {
  if (e instanceof ArmError && e.code === 'MissingSubscriptionRegistration') {
    return { id, title, status: 'warning', summary: `${title}: checked once its resource provider is registered`, problems: [] };
  }
  if (e instanceof ArmError && e.details.statusCode === 403) {
    return { id, title, status: 'warning', summary: `${title}: could not check (${errorText(e)})`, problems: [] };
  }
  const text = `${title}: could not check: ${errorText(e)}`;
  const fix =
    e instanceof ArmError && e.code === 'CredentialUnavailable'
      ? 'Run `az login` (in CI: az login --service-principal / --identity, or the AzureCLI task), then run again.'
      : 'Check the connection to Azure Resource Manager (az cloud show shows its URL) and run again.';
  return { id, title, status: 'missing', summary: text, fix, problems: [{ text, fix }] };
}

function finish(id: PreflightCheckId, title: string, okSummary: string, problems: Problem[], warnings: string[] = []): CheckOutcome {
  if (problems.length === 0) {
    if (warnings.length === 0) return { id, title, status: 'ok', summary: okSummary, problems };
    return { id, title, status: 'warning', summary: `${okSummary}; ${warnings.join('; ')}`, details: warnings, problems };
  }
  const fixes = [...new Set(problems.map((p) => p.fix))];
  return {
    id,
    title,
    status: 'missing',
    summary: problems.length === 1 ? problems[0]!.text : `${problems.length} problems: ${problems.map((p) => p.text).join('; ')}`,
    fix: fixes.join(' '),
    details: [...problems.map((p) => p.text), ...warnings],
    problems,
  };
}

// ---- the survey: every check concurrently ----------------------------------------------------

interface Survey {
  subscriptionId: string;
  checks: CheckOutcome[];
}

async function survey(ctx: PreflightCtx, opts: PreflightOptions): Promise<Survey> {
  const prefix = ctx.answers.get('prefix');
  const location = ctx.answers.get('location');
  const subscriptionId = await subscriptionOf(ctx);
  const arm = ctx.arm;
  const names = namesFor(prefix);
  const rgId = (rg: string) => `/subscriptions/${subscriptionId}/resourceGroups/${rg}`;
  const ids = {
    storage: `${rgId(names.mlResourceGroup)}/providers/Microsoft.Storage/storageAccounts/${names.storageAccount}`,
    registry: `${rgId(names.mlResourceGroup)}/providers/Microsoft.ContainerRegistry/registries/${names.containerRegistry}`,
    vault: `${rgId(names.mlResourceGroup)}/providers/Microsoft.KeyVault/vaults/${names.keyVault}`,
    aks: `${rgId(names.mlResourceGroup)}/providers/Microsoft.ContainerService/managedClusters/${names.aks}`,
    // terraform/locals.tf: agent_vm = "vm-${prefix}-agents", managed_pool = "mdp-${prefix}", in rg-{prefix}-devops
    agentVm: `${rgId(names.devopsResourceGroup)}/providers/Microsoft.Compute/virtualMachines/${names.agentVm}`,
    managedPool: `${rgId(names.devopsResourceGroup)}/providers/Microsoft.DevOpsInfrastructure/pools/${names.managedPool}`,
  };
  const exists = async (id: string, apiVersion: string) => (await arm.resources.getResource(id, apiVersion)) !== null;

  // Shared by the names and deleted-vault checks.
  const vaultName = once(() => arm.names.keyVaultNameAvailable(subscriptionId, names.keyVault));
  const vaultOurs = once(() => exists(ids.vault, RESOURCE_API.vault));
  const deletedVault = once(async (): Promise<DeletedVault | null> => {
    const here = await arm.names.deletedVault(subscriptionId, location, names.keyVault);
    if (here) return here;
    // A vault deleted in another region of this subscription holds the name as well.
    const avail = await vaultName();
    if (avail.available || (await vaultOurs())) return null;
    return (await arm.names.deletedVaults(subscriptionId)).find((v) => v.name.toLowerCase() === names.keyVault.toLowerCase()) ?? null;
  });
  const permissions = once(() => arm.authorization.permissions(`/subscriptions/${subscriptionId}`));

  const guard = (id: PreflightCheckId, title: string, fn: () => Promise<CheckOutcome>) => fn().catch((e: unknown) => couldNotCheck(id, title, e));

  const checks = await Promise.all([
    guard('azure.providers', 'Resource providers', () => checkProviders(arm, subscriptionId, permissions, requiredProviders(ctx.answers.maybe('agentsHost')))),
    guard('azure.names', 'Global names', () =>
      checkNames([
        { what: 'storage account', name: names.storageAccount, available: () => arm.names.storageNameAvailable(subscriptionId, names.storageAccount), ours: () => exists(ids.storage, RESOURCE_API.storage) },
        { what: 'container registry', name: names.containerRegistry, available: () => arm.names.registryNameAvailable(subscriptionId, names.containerRegistry), ours: () => exists(ids.registry, RESOURCE_API.registry) },
        { what: 'key vault', name: names.keyVault, available: vaultName, ours: vaultOurs, softDeleted: deletedVault },
      ]),
    ),
    guard('azure.deleted-vault', 'Soft-deleted key vault', () => checkDeletedVault(names.keyVault, deletedVault, permissions, opts)),
    guard('azure.quota', 'vCPU quota', () =>
      checkQuota(ctx, arm, subscriptionId, location, {
        aksExists: () => exists(ids.aks, RESOURCE_API.aks),
        agentVmExists: () => exists(ids.agentVm, RESOURCE_API.vm),
        managedPoolExists: () => exists(ids.managedPool, RESOURCE_API.managedPool),
      }),
    ),
    guard('azure.role-assignments', 'Rights on the subscription', () => checkRights(subscriptionId, permissions)),
    guard('azure.deployment', 'One deployment per prefix', () => checkDeployment(ctx, arm, subscriptionId, [names.mlResourceGroup, names.devopsResourceGroup])),
  ]);
  return { subscriptionId, checks };
}

// ---- providers -------------------------------------------------------------------------------

async function checkProviders(arm: ArmAdapter, subscriptionId: string, permissions: () => Promise<Permission[]>, required: readonly string[]): Promise<CheckOutcome> {
  const states = await arm.providers.providerStates(subscriptionId, required);
  const notRegistered = required.filter((ns) => states[ns] !== 'Registered');
  if (notRegistered.length === 0) return finish('azure.providers', 'Resource providers', `${required.length} resource providers registered`, []);
  // Registering needs `<namespace>/register/action` (Contributor and Owner have it).
  const perms = await permissions().catch(() => undefined);
  const problems = notRegistered.map((ns): Problem => {
    const state: RegistrationState = states[ns] ?? 'Unknown';
    const command = formatCommand('az', ['provider', 'register', '--namespace', ns]);
    if (state === 'NotFound') {
      return { text: `resource provider ${ns} does not exist in this cloud/subscription`, fix: 'Use a cloud and subscription that offer it (az cloud show; az provider list -o table).' };
    }
    if (perms && !isActionAllowed(perms, `${ns}/register/action`).allowed) {
      return { text: `resource provider ${ns} is ${state} and you may not register it (needs ${ns}/register/action)`, fix: `Ask an Owner or Contributor of the subscription to run \`${command}\`.` };
    }
    if (state === 'Registering') {
      return {
        text: `resource provider ${ns} is still registering`,
        fix: 'azure-mlops init waits for it.',
        change: { action: 'run', what: `wait for resource provider ${ns} to finish registering`, commands: [formatCommand('az', ['provider', 'show', '--namespace', ns, '--query', 'registrationState'])], record: { namespace: ns, waitOnly: true } },
      };
    }
    return {
      text: `resource provider ${ns} is ${state}`,
      fix: `azure-mlops init registers it (\`${command}\`).`,
      change: { action: 'run', what: `register resource provider ${ns}`, commands: [command], record: { namespace: ns } },
    };
  });
  const out = finish('azure.providers', 'Resource providers', '', problems);
  const fixable = problems.filter((p) => p.change).length;
  out.summary = `${notRegistered.length} of ${required.length} resource providers not registered: ${notRegistered.join(', ')}`;
  if (fixable === problems.length) out.fix = `azure-mlops init registers them (${notRegistered.map((ns) => `az provider register --namespace ${ns}`).join('; ')}).`;
  return out;
}

// ---- global names ----------------------------------------------------------------------------

interface NameToCheck {
  what: string;
  name: string;
  available: () => Promise<{ available: boolean; reason?: string; message?: string }>;
  ours: () => Promise<boolean>;
  softDeleted?: () => Promise<DeletedVault | null>;
}

async function checkNames(list: NameToCheck[]): Promise<CheckOutcome> {
  const results = await Promise.all(
    list.map(async (n) => {
      const a = await n.available();
      if (a.available) return { n, state: 'free' as const };
      if (a.reason && /invalid/i.test(a.reason)) return { n, state: 'invalid' as const, message: a.message };
      if (await n.ours()) return { n, state: 'ours' as const };
      if (n.softDeleted && (await n.softDeleted())) return { n, state: 'soft-deleted' as const };
      return { n, state: 'taken' as const, message: a.message };
    }),
  );
  const problems: Problem[] = [];
  for (const r of results) {
    if (r.state === 'invalid') problems.push({ text: `the ${r.n.what} name ${r.n.name} is invalid: ${r.message ?? 'refused by Azure'}`, fix: PREFIX_FIX_SENTENCE });
    if (r.state === 'taken') {
      const vaultHint = r.n.softDeleted ? ' (or by a soft-deleted vault in a subscription you cannot see)' : '';
      problems.push({
        text: `the ${r.n.what} name ${r.n.name} is taken by another Azure resource outside this deployment${vaultHint}; ${r.n.what} names are globally unique`,
        fix: PREFIX_FIX_SENTENCE,
      });
    }
  }
  const ours = results.filter((r) => r.state === 'ours').map((r) => r.n.name);
  const held = results.filter((r) => r.state === 'soft-deleted').map((r) => `${r.n.name}: see the soft-deleted key vault`);
  const all = [results.filter((r) => r.state !== 'soft-deleted').map((r) => r.n.name).join(', '), ...held].join('; ');
  const summary = ours.length ? `names free or already this deployment's (${all})` : `names free (${all})`;
  return finish('azure.names', 'Global names', summary, problems);
}

// ---- soft-deleted key vault ------------------------------------------------------------------

async function checkDeletedVault(
  name: string,
  find: () => Promise<DeletedVault | null>,
  permissions: () => Promise<Permission[]>,
  opts: PreflightOptions,
): Promise<CheckOutcome> {
  const title = 'Soft-deleted key vault';
  const v = await find();
  if (!v) return finish('azure.deleted-vault', title, `no soft-deleted key vault named ${name}`, []);
  const why =
    `the key vault name ${name} is held by a soft-deleted vault (deleted ${day(v.deletionDate)} in ${v.location}); ` +
    `a deleted vault keeps its name for its retention period (up to 90 days, here until ${day(v.scheduledPurgeDate)}), so creating ${name} fails until it is purged`;
  if (v.purgeProtectionEnabled) {
    return finish('azure.deleted-vault', title, '', [{ text: `${why}; it has purge protection, so nobody can purge it earlier`, fix: `${PREFIX_FIX_SENTENCE.slice(0, -1)}, or wait until ${day(v.scheduledPurgeDate)}.` }]);
  }
  const purge = formatCommand('az', ['keyvault', 'purge', '--name', v.name, '--location', v.location]);
  if (!opts.purgeDeleted) {
    return finish('azure.deleted-vault', title, '', [{ text: why, fix: `Re-run with --purge-deleted to purge it (its keys and secrets are lost for good; same as \`${purge}\`), or ${PREFIX_FIX}.` }]);
  }
  const perms = await permissions().catch(() => undefined);
  const action = 'Microsoft.KeyVault/locations/deletedVaults/purge/action';
  if (perms && !isActionAllowed(perms, action).allowed) {
    return finish('azure.deleted-vault', title, '', [{ text: `${why}; you may not purge it (needs ${action})`, fix: `Ask a Contributor or Key Vault Contributor of the subscription to run \`${purge}\`, or ${PREFIX_FIX}.` }]);
  }
  return finish('azure.deleted-vault', title, '', [
    {
      text: why,
      fix: `--purge-deleted: azure-mlops purges it (\`${purge}\`).`,
      change: {
        action: 'delete',
        what: `purge the soft-deleted key vault ${v.name} (${v.location}, deleted ${day(v.deletionDate)}): its keys and secrets are lost for good`,
        commands: [purge],
        record: { vault: v.name, location: v.location },
      },
    },
  ]);
}

// ---- quota -----------------------------------------------------------------------------------

/** Who needs vCPUs of a quota. */
export interface QuotaUse {
  role: PlannedCompute['role'];
  /** e.g. "AKS nodes: 3 x Standard_D4s_v5 = 12" */
  text: string;
  vCPUs: number;
}

/** One quota the deployment draws on, and who needs it. */
export interface QuotaDemand {
  pool: QuotaPool;
  /** The usage name in the region's usage list (e.g. `cores`, `standardDSv5Family`). */
  key: string;
  uses: QuotaUse[];
  /** false: only checked when the region reports this quota (e.g. per-family low-priority limits). */
  required: boolean;
}

/** Azure ML names family quotas after the VM family: standardDSv2Family → "Standard DSv2 Family". */
function mlFamily(family: string): string {
  return `Standard ${family.replace(/^standard/i, '').replace(/family$/i, '')} Family`;
}

/**
 * The quotas `planned` draws on, given the region's SKUs. Sizes the region does not offer (or
 * restricts for this subscription) come back in `unavailable`.
 */
export function quotaDemand(
  planned: readonly PlannedCompute[],
  skus: Readonly<Record<string, VmSku>>,
): { demand: QuotaDemand[]; unavailable: { item: PlannedCompute; reason: string }[] } {
  const demand = new Map<string, QuotaDemand>();
  const unavailable: { item: PlannedCompute; reason: string }[] = [];
  const add = (pool: QuotaPool, key: string, use: QuotaUse, required = true) => {
    const d = demand.get(`${pool}:${key}`) ?? { pool, key, uses: [], required };
    d.uses.push(use);
    demand.set(`${pool}:${key}`, d);
  };
  for (const item of planned) {
    const sku = skus[item.vmSize] ?? Object.entries(skus).find(([k]) => k.toLowerCase() === item.vmSize.toLowerCase())?.[1];
    if (!sku) {
      unavailable.push({ item, reason: 'not offered in this region' });
      continue;
    }
    if (sku.restricted) {
      unavailable.push({ item, reason: `restricted for this subscription (${sku.restricted})` });
      continue;
    }
    const vCPUs = sku.vCPUs * item.count;
    const use: QuotaUse = { role: item.role, text: `${item.what}: ${item.count} x ${item.vmSize} = ${vCPUs}`, vCPUs };
    if (item.pool === 'managed-devops-pools') {
      // Its own quota, vCPUs per VM family, named like the family (matched without regard to case).
      add('managed-devops-pools', sku.family.toLowerCase(), use);
    } else if (item.pool === 'compute') {
      if (item.priority === 'lowPriority') add('compute', 'lowPriorityCores', use);
      else {
        add('compute', sku.family, use);
        add('compute', 'cores', use);
      }
    } else if (item.priority === 'lowPriority') {
      add('azureml', 'Total Cluster LowPriority Regional vCPUs', use);
      add('azureml', `${mlFamily(sku.family)} Cluster LowPriority vCPUs`, use, false);
    } else {
      add('azureml', 'Total Cluster Dedicated Regional vCPUs', use);
      add('azureml', `${mlFamily(sku.family)} Cluster Dedicated vCPUs`, use);
    }
  }
  return { demand: [...demand.values()], unavailable };
}

const POOL_NAME: Record<QuotaPool, string> = { compute: 'VM', azureml: 'Azure ML compute', 'managed-devops-pools': 'Managed DevOps Pools' };
/** Where the Azure portal's Quotas blade lists each quota. */
const PORTAL_QUOTA: Record<QuotaPool, string> = { compute: 'Compute', azureml: 'Azure Machine Learning', 'managed-devops-pools': 'Managed DevOps Pools' };

async function checkQuota(
  ctx: PreflightCtx,
  arm: ArmAdapter,
  subscriptionId: string,
  location: string,
  existing: { aksExists: () => Promise<boolean>; agentVmExists: () => Promise<boolean>; managedPoolExists: () => Promise<boolean> },
): Promise<CheckOutcome> {
  const title = 'vCPU quota';
  const planned = plannedCompute(ctx.answers);
  const managed = planned.some((p) => p.pool === 'managed-devops-pools');
  const none = async () => false;
  const [skus, compute, ml, mdp, aksExists, agentExists, poolExists] = await Promise.all([
    arm.quota.vmSkus(subscriptionId, location),
    arm.quota.computeUsages(subscriptionId, location).catch((e: unknown) => e as Error),
    arm.quota.mlComputeUsages(subscriptionId, location).catch((e: unknown) => e as Error),
    managed ? arm.quota.managedPoolUsages(subscriptionId, location).catch((e: unknown) => e as Error) : ({} as Record<string, Usage>),
    existing.aksExists(),
    managed ? none() : existing.agentVmExists(),
    // A pool that exists may already hold its machines' quota (the service checks the maximum at creation).
    managed ? existing.managedPoolExists().catch(none) : none(),
  ]);
  const { demand, unavailable } = quotaDemand(planned, skus);
  const problems: Problem[] = [];
  const warnings: string[] = [];
  for (const { item, reason } of unavailable) {
    const how =
      item.role === 'agent-vm'
        ? `choose another ${howToSet('agentVmSize')} or --location`
        : item.role === 'managed-pool'
          ? `choose another --location, or --agents-host vm (or change terraform variable ${item.tfVariables[0]} in your --terraform-dir fork)`
          : `choose another --location (or change terraform variable ${item.tfVariables[0]})`;
    problems.push({
      text: `VM size ${item.vmSize} (${item.what}) is ${reason} in ${location}`,
      fix: `List what the region offers with \`az vm list-skus --location ${location} --resource-type virtualMachines -o table\` and ${how}.`,
    });
  }
  // On a re-run after terraform apply, the AKS nodes and the agent VM (or the pool) already count as in use.
  const built = new Set<PlannedCompute['role']>([
    ...(aksExists ? (['aks-nodes'] as const) : []),
    ...(agentExists ? (['agent-vm'] as const) : []),
    ...(poolExists ? (['managed-pool'] as const) : []),
  ]);
  const usages: Record<QuotaPool, Record<string, Usage> | Error> = { compute, azureml: ml, 'managed-devops-pools': mdp };
  const shown: string[] = [];
  for (const d of demand) {
    const uses = d.uses.filter((u) => !built.has(u.role));
    const needed = uses.reduce((n, u) => n + u.vCPUs, 0);
    if (needed === 0) continue;
    const pool = usages[d.pool];
    if (pool instanceof Error) {
      if (pool instanceof ArmError && pool.code === 'MissingSubscriptionRegistration') {
        const msg = `${POOL_NAME[d.pool]} quota is checked once its resource provider is registered`;
        if (!warnings.includes(msg)) warnings.push(msg);
        continue;
      }
      throw pool;
    }
    const u = pool[d.key];
    if (!u) {
      if (d.required) warnings.push(`${location} reports no ${POOL_NAME[d.pool]} quota named '${d.key}' (${needed} vCPUs needed)`);
      continue;
    }
    const free = u.limit - u.current;
    const freeText = Number.isFinite(free) ? free : 'unlimited';
    if (['cores', 'lowPriorityCores', 'Total Cluster Dedicated Regional vCPUs', 'Total Cluster LowPriority Regional vCPUs'].includes(d.key)) {
      shown.push(`${d.pool === 'azureml' ? 'Azure ML ' : ''}${d.key.includes('LowPriority') || d.key === 'lowPriorityCores' ? 'low-priority ' : ''}vCPUs: ${needed} of ${freeText} free`);
    } else if (d.pool === 'managed-devops-pools') {
      shown.push(`Managed DevOps Pools ${u.label}: ${needed} of ${freeText} free`);
    }
    if (needed > free) {
      const agent = uses.some((x) => x.role === 'agent-vm');
      const pool = uses.find((x) => x.role === 'managed-pool');
      const perMachine = pool ? needed / (ctx.answers.maybe('agents') ?? 1) : 0;
      const smaller = agent
        ? ` or a smaller ${howToSet('agentVmSize')}`
        : pool && perMachine > 0 && free >= perMachine
          ? `, or fewer machines at a time: --agents ${Math.floor(free / perMachine)} (env AZURE_MLOPS_AGENTS) fits`
          : '';
      problems.push({
        text: `${u.label} (${POOL_NAME[d.pool]} quota) in ${location}: need ${needed}, only ${Math.max(0, free)} free (limit ${u.limit}, ${u.current} in use) for ${uses.map((x) => x.text).join('; ')}`,
        fix: `Request a quota increase for ${location} (Azure portal → Quotas → ${PORTAL_QUOTA[d.pool]}: ${QUOTA_PORTAL}), or choose another --location${smaller}.`,
      });
    }
  }
  return finish('azure.quota', title, `quota ok in ${location} (${shown.join('; ') || 'nothing new to create'})`, problems, warnings);
}

// ---- rights ------------------------------------------------------------------------------------

async function checkRights(subscriptionId: string, permissions: () => Promise<Permission[]>): Promise<CheckOutcome> {
  const title = 'Rights on the subscription';
  const perms = await permissions();
  const scope = `/subscriptions/${subscriptionId}`;
  const problems: Problem[] = [];
  const warnings: string[] = [];
  if (!isActionAllowed(perms, RG_WRITE).allowed) {
    problems.push({
      text: `the signed-in identity cannot create resource groups on subscription ${subscriptionId} (needs ${RG_WRITE})`,
      fix: `Ask an Owner of the subscription to grant you Contributor (or Owner): \`az role assignment create --assignee <you> --role Contributor --scope ${scope}\`.`,
    });
  }
  const ra = isActionAllowed(perms, ROLE_ASSIGNMENT_WRITE);
  if (!ra.allowed) {
    problems.push({
      text: `the signed-in identity cannot create role assignments on subscription ${subscriptionId} (needs ${ROLE_ASSIGNMENT_WRITE}); terraform grants the AKS, Azure ML and pipeline identities their roles (AcrPull, Network Contributor, Storage Blob Data Reader, AzureML Data Scientist)`,
      fix: `Ask an Owner of the subscription to grant you Owner or User Access Administrator on it: \`az role assignment create --assignee <you> --role "User Access Administrator" --scope ${scope}\`.`,
    });
  } else if (ra.conditional) {
    warnings.push(
      'you may create role assignments only under a condition (e.g. Role Based Access Control Administrator limited to some roles); terraform assigns AcrPull, Network Contributor, Storage Blob Data Reader and AzureML Data Scientist — Owner or User Access Administrator avoids surprises',
    );
  }
  return finish('azure.role-assignments', title, 'can create resource groups and role assignments', problems, warnings);
}

// ---- one deployment per prefix ------------------------------------------------------------------

/**
 * The prefix's resource groups belong to this deployment, or do not exist yet. A group tagged
 * azure-mlops-deployment with another id is another state dir's deployment; an untagged one is
 * ours only when this state dir's terraform made it (an azure-mlops before deployment ids tagged
 * nothing: its next apply adds the tag), otherwise someone else's.
 */
async function checkDeployment(ctx: PreflightCtx, arm: ArmAdapter, subscriptionId: string, groups: string[]): Promise<CheckOutcome> {
  const id = 'azure.deployment';
  const title = 'One deployment per prefix';
  const ours = deploymentId(ctx);
  const found = await Promise.all(groups.map((g) => arm.resources.resourceGroup(subscriptionId, g)));
  const createdHere = () =>
    Boolean(ctx.state.resource('terraform-deployment')?.createdByUs) || ctx.state.data.steps.terraform !== undefined || localStateHasResources(workdir(ctx));
  for (const g of found) {
    if (!g) continue;
    // "Tag names are case-insensitive for operations" (Azure Resource Manager docs, "Use tags to organize your Azure resources").
    const tag = Object.entries(g.tags).find(([k]) => k.toLowerCase() === DEPLOYMENT_TAG)?.[1];
    if (tag ? tag.toLowerCase() === ours.toLowerCase() : createdHere()) continue;
    const conflict: Conflict = { what: `The prefix '${ctx.answers.get('prefix')}' (resource group ${g.name})`, owner: tag, ours };
    const message = conflictMessage(conflict);
    const fix = conflictFix('prefix', backendHint(ctx, tag));
    return { id, title, status: 'missing', summary: message, fix, problems: [{ text: message, fix }], refusal: { message, fix } };
  }
  const present = found.filter((g): g is NonNullable<typeof g> => g !== null).map((g) => g.name);
  return finish(id, title, present.length ? `${present.join(' and ')}: this deployment's (${ours})` : `${groups.join(' and ')} not created yet`, []);
}

/** When the two deployments differ in where they keep terraform's state, the fix says so. */
function backendHint(ctx: PreflightCtx, owner: string | undefined): string | undefined {
  if (!owner) return undefined;
  const shared = sharedDeploymentId(backendSettings(ctx));
  const local = ctx.answers.get('stateBackend') !== 'azurerm';
  if (local && owner.toLowerCase() === shared) {
    return 'That deployment keeps its terraform state in Azure: to share it, run with --state-backend azurerm (env AZURE_MLOPS_STATE_BACKEND).';
  }
  if (!local) return "That deployment keeps its terraform state in its own state dir (the local backend): only that state dir can run it.";
  return undefined;
}

// ---- public API ------------------------------------------------------------------------------

/**
 * What check() found, for plan(): every problem of the survey, each with its fix and, when the
 * step can fix it itself, its change. plan() reads them instead of asking ARM again.
 */
export interface PreflightFacts {
  problems: Problem[];
}

/** Every preflight check, one entry each, for doctor. */
export async function runPreflightChecks(ctx: PreflightCtx, opts: PreflightOptions = { purgeDeleted: false }): Promise<PreflightCheck[]> {
  const s = await survey(ctx, opts);
  return s.checks.map(({ problems: _problems, refusal: _refusal, ...c }) => c);
}

function combine(checks: readonly CheckOutcome[], subscriptionId: string, location: string): CheckResult<PreflightFacts> {
  const failed = checks.filter((c) => c.status !== 'ok');
  const status: CheckStatus = checks.some((c) => c.status === 'missing') ? 'missing' : failed.length ? 'warning' : 'ok';
  const facts = { problems: checks.flatMap((c) => c.problems) };
  if (status === 'ok') return { status, summary: checks.map((c) => c.summary).join(', '), record: { subscriptionId, location }, facts };
  const details: string[] = [];
  for (const c of failed) {
    details.push(`${c.title}: ${c.summary}`);
    for (const d of c.details ?? []) if (d !== c.summary) details.push(`  ${d}`);
    if (c.fix) details.push(`  fix: ${c.fix}`);
  }
  const missing = checks.filter((c) => c.status === 'missing');
  // Another deployment's resource group: nothing else matters, the run is refused.
  const refused = checks.find((c) => c.refusal);
  if (refused?.refusal) return { status: 'missing', summary: refused.summary, fix: refused.refusal.fix, details, refusal: refused.refusal, facts };
  const fix = [...new Set(failed.map((c) => c.fix).filter((f): f is string => Boolean(f)))].join(' ');
  return {
    status,
    // One line: the failing check's own summary, or which checks failed (details has each one).
    summary:
      status === 'warning'
        ? failed.map((c) => c.summary).join('; ')
        : missing.length === 1
          ? missing[0]!.summary
          : `${missing.length} of ${checks.length} preflight checks failed: ${missing.map((c) => c.title.toLowerCase()).join(', ')}`,
    ...(fix ? { fix } : {}),
    details,
    ...(status === 'warning' ? { record: { subscriptionId, location } } : {}),
    facts,
  };
}

export function createAzurePreflightStep(opts: PreflightOptions) {
  return defineStep({
    // 'azure-preflight' belongs in the StepId union of src/engine/types.ts (the cast keeps this file
    // compiling whether or not the union has it yet).
    id: 'azure-preflight' as StepId,
    title: 'Azure preflight',
    dependsOn: ['azure-login'],
    async check(ctx: PreflightCtx): Promise<CheckResult<PreflightFacts>> {
      const s = await survey(ctx, opts);
      return combine(s.checks, s.subscriptionId, ctx.answers.get('location'));
    },
    async plan(ctx, found) {
      // Not checked yet (it waited for the sign-in): survey now.
      const problems = found.facts?.problems ?? (await survey(ctx, opts)).checks.flatMap((c) => c.problems);
      const blockers = problems.filter((p) => !p.change);
      if (blockers.length) {
        const lines = blockers.map((p) => `  - ${p.text}\n    fix: ${p.fix}`);
        throw new StepError(
          `Azure preflight found ${blockers.length === 1 ? 'a problem' : `${blockers.length} problems`} to fix before anything is created:\n${lines.join('\n')}`,
          blockers.length === 1 ? blockers[0]!.fix : 'Fix the problems above, then run azure-mlops init again.',
          'azure-preflight',
        );
      }
      return problems.map((p) => p.change!);
    },
    async apply(ctx, changes) {
      const subscriptionId = await subscriptionOf(ctx);
      await Promise.all(
        changes.map(async (ch) => {
          const ns = ch.record?.namespace;
          const vault = ch.record?.vault;
          const location = ch.record?.location;
          try {
            if (typeof ns === 'string') {
              await ctx.ui.task(`${ch.record?.waitOnly ? 'waiting for' : 'registering'} ${ns}`, () =>
                ch.record?.waitOnly ? ctx.arm.providers.waitForProvider(subscriptionId, ns) : ctx.arm.providers.registerProvider(subscriptionId, ns),
              );
              ctx.log.debug(`resource provider ${ns} registered`);
            } else if (typeof vault === 'string' && typeof location === 'string') {
              await ctx.ui.task(`purging soft-deleted key vault ${vault}`, () => ctx.arm.names.purgeDeletedVault(subscriptionId, location, vault));
              ctx.log.debug(`soft-deleted key vault ${vault} purged`);
            }
          } catch (e) {
            const command = ch.commands?.[0];
            const fix =
              e instanceof ArmError && e.details.statusCode === 403
                ? `Ask an Owner or Contributor of the subscription to run \`${command}\`, then run azure-mlops init again.`
                : `Run azure-mlops init again${command ? ` (or \`${command}\` yourself)` : ''}.`;
            throw new StepError(`${ch.what} failed: ${errorText(e)}`, fix, 'azure-preflight');
          }
        }),
      );
    },
  });
}

export const azurePreflightStep = createAzurePreflightStep({ purgeDeleted: false });
