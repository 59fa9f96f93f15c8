import { PAT_SCOPES, patFix } from '../adapters/devops.js';
import { PAT_ENV } from '../config/fields.js';
import { toolSpecs } from '../adapters/tools.js';
import { compareVersions } from '../adapters/az.js';
import { signedOut } from '../adapters/arm/client.js';
import { MANAGED_IDENTITY_API_VERSION } from '../adapters/arm/identity.js';
import { LOGIN_FIX, loginOf } from '../steps/azure-login.js';
import { fromStep, type DoctorCheck } from '../engine/doctor.js';
import type { CheckResult, Context } from '../engine/types.js';
import { agentPoolStep, createAgentPoolStep } from '../steps/agent-pool.js';
import { agentsHost, pipelinePool } from '../steps/deployment-values.js';
import { agentsStep } from '../steps/agents.js';
import { runPreflightChecks, type PreflightCheckId } from '../steps/azure-preflight.js';
import { devopsProjectStep } from '../steps/devops-project.js';
import { extensionStep } from '../steps/extension.js';
import { MODEL_NOT_BETTER_TAG, NOT_BETTER_FINDING, pipelineStep, PIPELINE_NAME } from '../steps/pipeline.js';
import { serviceConnectionStep } from '../steps/service-connection.js';
import { ambiguous, identityKind, pipelineIdentity, recordedIdentity, servicePrincipalStep } from '../steps/service-principal.js';
import { locatePublicKey } from '../steps/ssh-key.js';
import { lastApply, terraformStep, workdir } from '../steps/terraform.js';
import { variableGroupStep } from '../steps/variable-group.js';
import { exists } from '../adapters/workdir.js';
import { join } from 'node:path';

/**
 * Everything `azure-mlops doctor` checks, grouped. Most Azure DevOps and deployment checks are the
 * steps' own read-only checks (one definition of "done"); the rest are doctor-only.
 * Azure is reached with one token from the az login (then REST through the SDKs), Azure DevOps
 * with the PAT (or an Entra token with --devops-auth entra).
 */

const MIN_NODE = '22.12.0';

/**
 * Whether Azure DevOps can be called without asking: a PAT in AZURE_DEVOPS_EXT_PAT or on stdin
 * (--pat-stdin), or — automatically without a PAT, or with --devops-auth entra — a Microsoft Entra
 * token from the az login. Doctor never prompts: only `--devops-auth pat` without a PAT leaves its
 * Azure DevOps checks skipped (exit 3).
 */
export function hasDevOpsCredential(ctx: Pick<Context, 'devopsCredential'>): boolean {
  return ctx.devopsCredential.availableWithoutPrompt;
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

function tool(name: 'az' | 'terraform' | 'git'): (ctx: Context) => Promise<CheckResult> {
  return async (ctx) => {
    const spec = toolSpecs.find((s) => s.name === name)!;
    const f = await ctx.tools.find(spec);
    if (!f.found) return { status: spec.optional ? 'warning' : 'missing', summary: `${name} is not installed (${spec.why})`, fix: spec.install };
    if (f.tooOld) return { status: spec.minIsWarning ? 'warning' : 'missing', summary: `${name} ${f.version} is older than ${spec.min}`, fix: spec.install };
    return { status: 'ok', summary: `${name} ${f.version ?? ''}`.trim() };
  };
}

export function doctorChecks(ctx: Context): DoctorCheck[] {
  const preflight = once(() => runPreflightChecks(ctx));
  // The agents' host decides two checks and what they need (read without touching anything else of
  // the context, which the checks use only when they run).
  const managed = Boolean(ctx.answers) && agentsHost(ctx) === 'managed-pool';
  const pre = (id: PreflightCheckId, title: string): DoctorCheck => ({
    id,
    group: 'azure',
    title,
    dependsOn: ['azure.login'],
    run: async () => {
      const c = (await preflight()).find((x) => x.id === id)!;
      return { status: c.status, summary: c.summary, ...(c.fix ? { fix: c.fix } : {}) };
    },
  });

  return [
    // ---- Local --------------------------------------------------------------------------------
    {
      id: 'local.node',
      group: 'local',
      title: 'Node.js',
      dependsOn: [],
      run: async () =>
        compareVersions(process.versions.node, MIN_NODE) >= 0
          ? { status: 'ok', summary: `Node.js ${process.versions.node}` }
          : { status: 'missing', summary: `Node.js ${process.versions.node} is older than ${MIN_NODE}`, fix: 'Install a current LTS from https://nodejs.org' },
    },
    { id: 'local.az', group: 'local', title: 'Azure CLI', dependsOn: [], run: tool('az') },
    { id: 'local.terraform', group: 'local', title: 'Terraform', dependsOn: [], run: tool('terraform') },
    { id: 'local.git', group: 'local', title: 'git', dependsOn: [], run: tool('git') },
    {
      id: 'local.ssh-key',
      group: 'local',
      title: 'SSH public key',
      dependsOn: [],
      run: async (c) => {
        const { key, problems } = await locatePublicKey(c);
        return key
          ? { status: 'ok', summary: `${key.path} (${key.type})` }
          : { status: 'missing', summary: problems.join('; '), fix: 'ssh-keygen -t ed25519 -f ~/.ssh/id_ed25519, or pass --ssh-key (env AZURE_MLOPS_SSH_KEY)' };
      },
    },

    // ---- Azure --------------------------------------------------------------------------------
    {
      id: 'azure.login',
      group: 'azure',
      title: 'Azure sign-in and subscription',
      dependsOn: ['local.az'],
      run: async (c) => {
        const pinned = loginOf(c).subscriptionId;
        let subId = c.answers.maybe('subscription') ?? pinned;
        let sub: Awaited<ReturnType<typeof c.arm.resources.subscription>>;
        try {
          subId ??= (await c.az.account()).id;
          sub = await c.arm.resources.subscription(subId);
        } catch (e) {
          if (signedOut(e)) return { status: 'missing', summary: 'not signed in to Azure', fix: LOGIN_FIX };
          throw e;
        }
        if (!sub) return { status: 'missing', summary: `subscription ${subId} is not visible to your az login`, fix: 'Run `az login` with an account that can see it, or pass --subscription.' };
        if (sub.state !== 'Enabled') return { status: 'missing', summary: `subscription ${sub.displayName} (${sub.subscriptionId}) is ${sub.state}`, fix: 'Use an enabled subscription (--subscription).' };
        return { status: 'ok', summary: `${sub.displayName} (${sub.subscriptionId}), enabled` };
      },
    },
    pre('azure.providers', 'Resource providers'),
    pre('azure.quota', 'vCPU quota'),
    pre('azure.role-assignments', 'Rights to create role assignments'),
    pre('azure.names', 'Global names'),
    pre('azure.deleted-vault', 'Soft-deleted key vault'),
    // Another state dir's deployment on this prefix: missing, with the fix (init refuses it, exit 2).
    pre('azure.deployment', 'One deployment per prefix'),
    {
      id: 'azure.pipeline-identity',
      group: 'azure',
      title: 'Pipeline identity',
      dependsOn: ['azure.login'],
      run: async (c) => {
        if (identityKind(c) === 'managed-identity') {
          // All in ARM: no Microsoft Graph call, no directory rights (the role-assignment check covers its role).
          const id = pipelineIdentity(c);
          const name = id.displayName ?? 'id-{prefix}-pipeline';
          if (!id.resourceId) return { status: 'ok', summary: `managed identity ${name}: terraform creates it (no Microsoft Entra directory rights needed)` };
          const found = await c.arm.resources.getResource(id.resourceId, MANAGED_IDENTITY_API_VERSION);
          return found
            ? { status: 'ok', summary: `managed identity ${name} (client ${id.appId ?? '?'})` }
            : { status: 'missing', summary: `managed identity ${name} not found in Azure`, fix: 'Run `azure-mlops init`: terraform recreates it with its role, and the service-connection step adds its federated credential again.' };
        }
        const recorded = recordedIdentity(c);
        const existing = await servicePrincipalStep.check(c);
        if (recorded.objectId) {
          return existing.status === 'missing' && !existing.fix
            ? { ...existing, fix: 'Run `azure-mlops init`: it recreates the pipeline identity; terraform then grants it its role again.' }
            : existing;
        }
        // Not created yet: it can be reused by name, or created if the directory lets you register apps.
        if (existing.status === 'ok' || ambiguous(existing.facts)) return existing;
        const canCreate = await c.az.canRegisterApps();
        return canCreate.allowed
          ? { status: 'ok', summary: `not created yet; you may register applications (${canCreate.why})` }
          : { status: 'missing', summary: `not created yet, and you may not register applications (${canCreate.why})`, fix: 'Ask an admin for the Application Developer role, or have one create the app and pass its name with --sp-name.' };
      },
    },

    // ---- Azure DevOps -------------------------------------------------------------------------
    {
      id: 'devops.org',
      group: 'devops',
      title: 'Azure DevOps organization and credential',
      dependsOn: [],
      run: async (c) => {
        if (c.answers.maybe('org') && !hasDevOpsCredential(c)) {
          return {
            status: 'skipped',
            summary: `skipped: no Azure DevOps credential (--devops-auth pat, but ${PAT_ENV} is not set and --pat-stdin was not given)`,
            fix: `Set ${PAT_ENV} or pipe the PAT to --pat-stdin (doctor never prompts); without --devops-auth pat your az login's Microsoft Entra token is used instead.\n${patFix(c.answers.get('org'))}`,
          };
        }
        const who = await c.devops.validate();
        return { status: 'ok', summary: `${c.devops.orgUrl} reachable, signed in as ${who.user}` };
      },
    },
    {
      id: 'devops.scopes',
      group: 'devops',
      title: 'PAT scopes',
      dependsOn: ['devops.org'],
      run: async (c) => {
        const project = c.answers.maybe('project');
        const probes = await c.devops.probeScopes(project);
        const missing = probes.filter((p) => !p.ok);
        if (missing.length === 0) return { status: 'ok', summary: `read access to ${probes.map((p) => p.scope).join(', ')}` };
        return { status: 'missing', summary: `no access to: ${missing.map((p) => `${p.scope} (${p.why})`).join(', ')}`, fix: `Give the PAT these scopes: ${PAT_SCOPES}.` };
      },
    },
    { ...fromStep(devopsProjectStep, 'devops.project', 'devops', ['devops.org']) },
    // The agents' host: the agent VM's pool and agents, or the Managed DevOps Pool's pool (found once
    // terraform has created the pool) and no agents to check (the service starts them per job).
    ...(managed
      ? [
          { ...fromStep(createAgentPoolStep('managed-pool'), 'devops.pool', 'devops', ['devops.project', 'deployment.outputs']) },
          {
            id: 'devops.agents',
            group: 'devops' as const,
            title: agentsStep.title.replace('on the agent VM', 'of the Managed DevOps Pool'),
            dependsOn: ['devops.pool'],
            run: async (c: Context) => ({ status: 'ok' as const, summary: `managed by the Managed DevOps Pool ${pipelinePool(c)} (agents start on demand, one per job, at most ${c.answers.get('agents')} at a time)` }),
          },
        ]
      : [
          { ...fromStep(agentPoolStep, 'devops.pool', 'devops', ['devops.project']) },
          { ...fromStep(agentsStep, 'devops.agents', 'devops', ['devops.pool', 'deployment.outputs']) },
        ]),
    { ...fromStep(extensionStep, 'devops.extension', 'devops', ['devops.org']) },
    // Its federated credential is read from Azure (ARM, or Microsoft Graph for an app): it needs the sign-in too.
    { ...fromStep(serviceConnectionStep, 'devops.service-connection', 'devops', ['devops.project', 'deployment.outputs', 'azure.login']) },
    { ...fromStep(variableGroupStep, 'devops.variable-group', 'devops', ['devops.project', 'deployment.outputs']) },
    { ...fromStep(pipelineStep, 'devops.pipeline', 'devops', ['devops.project', 'devops.service-connection', 'devops.variable-group']) },
    {
      id: 'devops.last-run',
      group: 'devops',
      title: 'Last pipeline run',
      dependsOn: ['devops.pipeline'],
      run: async (c) => {
        const last = await c.devops.lastRun(c.answers.get('project'), PIPELINE_NAME);
        if (!last) return { status: 'warning', summary: 'the pipeline has not run yet', fix: 'Queue a run: azure-mlops init --run (or from Azure DevOps).' };
        const link = last.url ? ` — ${last.url}` : '';
        // A new model that is not better ends the run succeeded with this tag (the pipeline never
        // cancels itself), so a canceled run is one somebody canceled.
        if (last.result === 'succeeded' && last.tags.includes(MODEL_NOT_BETTER_TAG)) return { status: 'ok', summary: `run ${last.id}: succeeded: ${NOT_BETTER_FINDING}${link}` };
        const what = `run ${last.id}: ${last.result ?? last.state}${link}`;
        if (last.result === 'failed') return { status: 'warning', summary: what, fix: 'Open the run to see the failing stage.' };
        if (last.result === 'canceled') return { status: 'warning', summary: `${what} (somebody canceled it)`, fix: 'Queue a new run: azure-mlops init --run (or from Azure DevOps).' };
        return { status: 'ok', summary: what };
      },
    },

    // ---- Deployment ---------------------------------------------------------------------------
    {
      id: 'deployment.state',
      group: 'deployment',
      title: 'Terraform state',
      dependsOn: [],
      run: async (c) => {
        const applied = lastApply(c).appliedAt;
        if (!applied) return { status: 'missing', summary: 'terraform has not been applied from this state dir', fix: 'Run azure-mlops init.' };
        const local = c.answers.get('stateBackend') === 'local';
        if (local && !(await exists(join(workdir(c), 'terraform.tfstate')))) return { status: 'missing', summary: `no terraform.tfstate in ${workdir(c)}`, fix: 'Run azure-mlops init (it resumes).' };
        return { status: 'ok', summary: `applied ${applied.slice(0, 16).replace('T', ' ')} (${local ? 'local state' : 'azurerm backend'})` };
      },
    },
    {
      id: 'deployment.outputs',
      group: 'deployment',
      title: 'Terraform outputs',
      dependsOn: ['deployment.state'],
      run: async (c) => {
        const out = await c.terraform.outputs(workdir(c));
        const need = ['ml_resource_group_name', 'workspace_name', 'workspace_id', 'aks_id', 'aks_compute_name'];
        const absent = need.filter((k) => out[k] === undefined);
        if (absent.length) return { status: 'missing', summary: `outputs missing: ${absent.join(', ')}`, fix: 'Run azure-mlops init to apply the current module.' };
        return { status: 'ok', summary: `${Object.keys(out).length} outputs (workspace ${String(out.workspace_name)})` };
      },
    },
    { ...fromStep(terraformStep, 'deployment.drift', 'deployment', ['deployment.outputs']), title: 'No pending terraform changes' },
    {
      id: 'deployment.resources',
      group: 'deployment',
      title: 'ML workspace and AKS cluster',
      dependsOn: ['deployment.outputs', 'azure.login'],
      run: async (c) => {
        const o = c.state.data.outputs as Record<string, unknown>;
        const [ws, aks] = await Promise.all([c.arm.resources.getResource(String(o.workspace_id), '2024-10-01'), c.arm.resources.getResource(String(o.aks_id), '2024-09-01')]);
        const gone = [!ws && `workspace ${String(o.workspace_name)}`, !aks && `AKS cluster ${String(o.aks_name)}`].filter(Boolean);
        if (gone.length) return { status: 'missing', summary: `${gone.join(' and ')} not found in Azure`, fix: 'Run azure-mlops init: terraform will recreate what is missing.' };
        return { status: 'ok', summary: `${String(o.workspace_name)} and ${String(o.aks_name)} exist` };
      },
    },
  ];
}
