import { namesFor } from '../config/naming.js';
import { enumIs } from '../adapters/devops.js';
import { StepError } from '../engine/errors.js';
import { recordFound } from '../engine/ownership.js';
import { PRE_EXISTING } from '../engine/teardown.js';
import { defineStep, type CheckResult, type Context } from '../engine/types.js';
import { loginOf } from './azure-login.js';

/**
 * The seed's terraform registered the agents with the PAT inside the VM's bootstrap — which puts
 * the PAT into terraform's state (VM extension settings are stored there). Here terraform only
 * installs the agents; this step registers them through an Azure managed Run Command whose
 * protected parameter carries the token — the PAT, or without one a short-lived Microsoft Entra
 * access token from the az login (no PAT anywhere) —: over HTTPS to Azure only, never returned by Azure, handed to
 * the VM's register script as an environment variable, and the run command is deleted afterwards.
 * Done when the N agents of the VM are online in the pool.
 */
type Ctx = Pick<Context, 'devops' | 'devopsCredential' | 'arm' | 'answers' | 'state' | 'log' | 'ui' | 'signal' | 'run'>;

export const RUN_COMMAND_NAME = 'azure-mlops-register-agents';
const DEFAULT_SCRIPT = '/opt/azagent/register-agents.sh';

function target(ctx: Ctx) {
  const o = ctx.state.data.outputs as Record<string, unknown>;
  const prefix = ctx.answers.get('prefix');
  const vmName = namesFor(prefix).agentVm;
  const sub = loginOf(ctx).subscriptionId ?? '<subscription>';
  return {
    vmId: typeof o.agent_vm_id === 'string' ? o.agent_vm_id : `/subscriptions/${sub}/resourceGroups/${namesFor(prefix).devopsResourceGroup}/providers/Microsoft.Compute/virtualMachines/${vmName}`,
    script: typeof o.agent_register_script === 'string' ? o.agent_register_script : DEFAULT_SCRIPT,
    namePrefix: typeof o.agent_name_prefix === 'string' ? o.agent_name_prefix : vmName,
    count: typeof o.num_agents === 'number' ? o.num_agents : ctx.answers.get('agents'),
  };
}

async function ourAgents(ctx: Ctx) {
  const t = target(ctx);
  const pool = await ctx.devops.findPool(ctx.answers.get('pool'));
  if (!pool) return { t, pool, online: [] as string[], registered: [] as string[], agents: [] as Array<{ id: number; name: string }> };
  const wanted = new Set(Array.from({ length: t.count }, (_, i) => `${t.namePrefix}-${i + 1}`));
  const mine = (await ctx.devops.agents(pool.id)).filter((a) => wanted.has(a.name));
  const online = mine.filter((a) => enumIs(a.status, ['online'], [2]) /* TaskAgentStatus.Online */ && a.enabled !== false).map((a) => a.name);
  return { t, pool, online, registered: mine.map((a) => a.name), agents: mine.map((a) => ({ id: a.id, name: a.name })) };
}

/**
 * The run command goes, whatever happened (Azure keeps its protected parameters while it exists).
 * A DELETE is idempotent, so it is tried again when an attempt fails or gets no answer: the SDK's
 * retry policy does not retry a request that timed out (core-rest-pipeline: an aborted request is
 * final), and a run command left behind is never found again once the agents are online.
 */
async function removeRunCommand(ctx: Ctx, vmId: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await ctx.arm.compute.deleteRunCommand(vmId, RUN_COMMAND_NAME);
      return;
    } catch (e) {
      if (attempt >= 3) {
        ctx.log.warn(`Could not delete the run command ${RUN_COMMAND_NAME} on ${vmId}: ${(e as Error).message} — delete it with: az vm run-command delete --ids ${vmId}/runCommands/${RUN_COMMAND_NAME} --yes`);
        return;
      }
    }
  }
}

/**
 * The agents are recorded by id: an intent for each name not registered before the run command
 * (so a run killed after registering still knows they are ours), settled with the id afterwards.
 * Agents that were there before are recorded as found, and destroy never removes them.
 */
async function recordAgents(ctx: Ctx, poolId: number, before: ReadonlySet<string>, agents: Array<{ id: number; name: string }>): Promise<void> {
  for (const a of agents) {
    const rec = { kind: 'agent' as const, name: a.name, step: 'agents', id: String(a.id), meta: { poolId: String(poolId) } };
    if (before.has(a.name) && !ctx.state.resource('agent', a.name)?.createdByUs) await recordFound(ctx.state, rec);
    else await ctx.state.recordResource({ ...rec, createdByUs: true });
  }
}

export const agentsStep = defineStep({
  id: 'agents',
  title: 'Pipeline agents on the agent VM',
  dependsOn: ['terraform', 'agent-pool'],
  async check(ctx: Ctx): Promise<CheckResult> {
    const { t, pool, online, registered } = await ourAgents(ctx);
    if (!pool) return { status: 'missing', summary: `pool '${ctx.answers.get('pool')}' does not exist` };
    if (online.length >= t.count) return { status: 'ok', summary: `${online.length} of ${t.count} agents online in '${ctx.answers.get('pool')}' (${t.namePrefix}-1..${t.count})` };
    return { status: 'missing', summary: `${online.length} of ${t.count} agents online (${registered.length} registered) in '${ctx.answers.get('pool')}'` };
  },
  async plan(ctx) {
    const t = target(ctx);
    const token = ctx.devopsCredential.kind === 'pat' ? 'the PAT' : 'a short-lived Microsoft Entra access token from your az login';
    return [
      {
        action: 'run',
        what: `register ${t.count} agents (${t.namePrefix}-1..${t.count}) on the agent VM with an Azure Run Command; ${token} goes only into its protected parameters (HTTPS, never stored), and the run command is deleted afterwards`,
        details: [`VM ${t.vmId}`, `script ${t.script} (AZP_URL, AZP_POOL, AZP_AGENTS, AZP_AGENT_PREFIX; AZP_TOKEN protected)`],
      },
    ];
  },
  async apply(ctx) {
    const t = target(ctx);
    // Only at registration: the agents keep their own credentials afterwards.
    const token = await ctx.devopsCredential.registrationToken('the agents register with it');
    const known = await ourAgents(ctx);
    if (!known.pool) throw new StepError(`pool '${ctx.answers.get('pool')}' does not exist`, 'Re-run azure-mlops init (the agent-pool step creates it).', 'agents');
    const poolId = known.pool.id;
    const before = new Set(known.registered);
    for (let i = 1; i <= t.count; i++) {
      const name = `${t.namePrefix}-${i}`;
      if (!before.has(name) && !ctx.state.resource('agent', name)) {
        await ctx.state.recordResource({ kind: 'agent', name, step: 'agents', id: '', createdByUs: true, meta: { poolId: String(poolId), pending: 'true' } });
      }
    }
    const result = await ctx.ui.task(`registering ${t.count} agents on the VM`, async () => {
      try {
        return await ctx.arm.compute.runCommand(t.vmId, RUN_COMMAND_NAME, {
          location: ctx.answers.get('location'),
          script: `bash ${t.script}`,
          parameters: [
            { name: 'AZP_URL', value: ctx.answers.get('org') },
            { name: 'AZP_POOL', value: ctx.answers.get('pool') },
            { name: 'AZP_AGENTS', value: String(t.count) },
            { name: 'AZP_AGENT_PREFIX', value: t.namePrefix },
          ],
          protectedParameters: [{ name: 'AZP_TOKEN', value: token }],
          timeoutInSeconds: 1200,
        });
      } finally {
        await removeRunCommand(ctx, t.vmId);
      }
    });
    if (result.exitCode !== 0) {
      const tail = (result.error || result.output || '').trim().split('\n').slice(-5).join(' | ');
      throw new StepError(`registering the agents failed on the VM (exit ${result.exitCode ?? '?'}, ${result.state}): ${tail}`, ctx.devopsCredential.kind === 'pat' ? 'Check the PAT has Agent Pools (Read & manage); re-run azure-mlops init to retry.' : `Check that your account may administer agent pools in ${ctx.answers.get('org')} (Organization settings > Agent pools > Security); re-run azure-mlops init to retry.`, 'agents');
    }
    // The agents come online a few seconds after their services start.
    for (let i = 0; i < 60 && !ctx.signal.aborted; i++) {
      const now = await ourAgents(ctx);
      await recordAgents(ctx, poolId, before, now.agents);
      if (now.online.length >= t.count) return;
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** i)));
    }
  },
  teardown: {
    owns: { agent: 'agents' },
    async plan(kit) {
      const { devops } = kit.ctx;
      const all = kit.records('agent');
      for (const r of all.filter((x) => !x.createdByUs)) kit.keep(r, `${PRE_EXISTING} (registered before this deployment)`);
      // The VM's agents, each by its recorded id, before terraform destroys the VM.
      for (const r of all.filter((x) => x.createdByUs)) {
        kit.del(r, {
          reason: `deregistered from pool ${r.meta?.poolId ?? '?'}: init registered it on the agent VM, which terraform destroys`,
          run: async (a) => {
            const poolId = Number(r.meta?.poolId);
            if (!poolId) return 'gone';
            const present = await devops.agents(poolId);
            // An intent (the run was stopped before it read the id back): the name it registered.
            const id = await kit.idOf(a, async () => present.find((x) => x.name === r.name)?.id);
            if (!id || !present.some((x) => String(x.id) === id)) return 'gone';
            await devops.deleteAgent(poolId, Number(id));
            return 'deleted';
          },
        });
      }
    },
  },
});
