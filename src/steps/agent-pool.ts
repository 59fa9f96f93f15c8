import type { AgentsHost } from '../config/schema.js';
import { StepError } from '../engine/errors.js';
import { createTracked, recordFound } from '../engine/ownership.js';
import { defineStep, type CheckResult, type Context, type StepTeardown } from '../engine/types.js';
import { PRE_EXISTING } from '../engine/teardown.js';
import { pipelinePool } from './deployment-values.js';

/**
 * README: "In Azure DevOps, create an Agent Pool. Name the pool pool001."
 * The pool lives in the organization; the project reaches it through a queue of the same name.
 *
 * With a Managed DevOps Pool (--agents-host managed-pool) the pool and its project queue are the
 * service's: "the account you use to sign in to the Azure subscription that contains your Managed
 * DevOps Pool is used to create a corresponding agent pool in your Azure DevOps organization"
 * ("Prerequisites for Managed DevOps Pools", Verify Azure DevOps permissions), named like the pool
 * resource, for the projects of its organization profile (DESIGN.md 2a; terraform/managed_devops_pool.tf).
 * This step then only finds them, after terraform, and never creates or deletes them.
 */
type Ctx = Pick<Context, 'devops' | 'answers' | 'state' | 'signal'>;

/** What init records of a managed pool's Azure DevOps pool (step data; no resource record: not ours). */
type PoolData = {
  poolId: number;
  queueId: number;
  /** Set with a Managed DevOps Pool: its name, which the Azure DevOps pool carries. */
  managedPool?: string;
};

function managedPoolFix(ctx: Ctx, name: string): string {
  const org = ctx.answers.get('org');
  return (
    `The Managed DevOps Pools service creates it when terraform creates the pool resource ${name}, as the identity that applied terraform: check that the pool exists ` +
    `(terraform output managed_pool_id), that its organization profile names ${org} and the project '${ctx.answers.get('project')}' (terraform sets them from devops_url and devops_project), ` +
    `and that your account is an organization-level Agent pools administrator or a Project Collection Administrator of ${org} ("Prerequisites for Managed DevOps Pools"); then run azure-mlops init again.`
  );
}

async function checkManaged(ctx: Ctx): Promise<CheckResult> {
  const name = pipelinePool(ctx);
  const project = ctx.answers.get('project');
  const pool = await ctx.devops.findPool(name);
  if (!pool) return { status: 'missing', summary: `no agent pool '${name}' in the organization: the Managed DevOps Pool's, which its service creates`, fix: managedPoolFix(ctx, name) };
  const queue = await ctx.devops.findQueue(project, name);
  if (!queue) {
    return {
      status: 'missing',
      summary: `the Managed DevOps Pool's agent pool '${name}' (id ${pool.id}) is not available in project '${project}'`,
      fix: `The pool's organization profile must name the project '${project}' (terraform sets it from devops_project; the pool's Security settings in the Azure portal show it); then run azure-mlops init again.`,
    };
  }
  const record: PoolData = { poolId: pool.id, queueId: queue.id, managedPool: name };
  return { status: 'ok', summary: `'${name}' (pool ${pool.id}, queue ${queue.id} in ${project}), the Managed DevOps Pool's, created and kept by its service`, record: { ...record } };
}

/** How long the service may take to show a new pool in Azure DevOps ("a few moments", the quickstart says). */
const MANAGED_POOL_WAIT_MS = 90_000;

const managed = {
  dependsOn: ['devops-project', 'terraform'] as const,
  check: checkManaged,
  async plan(ctx: Ctx) {
    const name = pipelinePool(ctx);
    return [
      {
        action: 'run' as const,
        what: `find agent pool '${name}' and its queue in project '${ctx.answers.get('project')}': the Managed DevOps Pools service creates them with the pool terraform creates (never created or deleted here)`,
      },
    ];
  },
  /**
   * Nothing to create: waits a little for the service ("If you just created the Managed DevOps Pool,
   * it can take a few moments for the new pool to appear in the agents list": Managed DevOps Pools
   * quickstart, View the agent pool in Azure DevOps), then says what to check.
   */
  async apply(ctx: Ctx) {
    const started = Date.now();
    let last = await checkManaged(ctx);
    for (let i = 0; last.status !== 'ok' && !ctx.signal.aborted && Date.now() - started < MANAGED_POOL_WAIT_MS; i++) {
      await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** i)));
      last = await checkManaged(ctx);
    }
    if (last.status !== 'ok') throw new StepError(last.summary, last.fix, 'agent-pool');
  },
};

const vm = {
  dependsOn: ['devops-project'] as const,
  async check(ctx: Ctx): Promise<CheckResult> {
    const name = ctx.answers.get('pool');
    const project = ctx.answers.get('project');
    const pool = await ctx.devops.findPool(name);
    if (!pool) return { status: 'missing', summary: `no agent pool '${name}' in the organization` };
    if (pool.isHosted) return { status: 'missing', summary: `'${name}' is a Microsoft-hosted pool; a self-hosted pool is needed`, fix: 'Choose another name with --pool (env AZURE_MLOPS_POOL).' };
    const queue = await ctx.devops.findQueue(project, name);
    if (!queue) return { status: 'missing', summary: `pool '${name}' (id ${pool.id}) is not yet available in project '${project}'` };
    return { status: 'ok', summary: `'${name}' (pool ${pool.id}, queue ${queue.id} in ${project})`, record: { poolId: pool.id, queueId: queue.id } };
  },
  async plan(ctx: Ctx) {
    const name = ctx.answers.get('pool');
    const pool = await ctx.devops.findPool(name).catch(() => undefined);
    return [
      ...(pool ? [] : [{ action: 'create' as const, what: `self-hosted agent pool '${name}' in the organization` }]),
      { action: 'create' as const, what: `queue '${name}' in project '${ctx.answers.get('project')}' (not open to all pipelines: the pipeline step authorizes its own)` },
    ];
  },
  async apply(ctx: Ctx) {
    const name = ctx.answers.get('pool');
    const project = ctx.answers.get('project');
    const found = await ctx.devops.findPool(name);
    let poolId: number;
    if (found) {
      poolId = found.id;
      await recordFound(ctx.state, { kind: 'agent-pool', name, step: 'agent-pool', id: String(found.id) });
    } else {
      const made = await createTracked(ctx.state, { kind: 'agent-pool', name, step: 'agent-pool' }, async () => {
        const { value } = await ctx.devops.createPool(name);
        return { ...value, id: String(value.id) };
      });
      poolId = Number(made.id);
    }
    const queue = await ctx.devops.findQueue(project, name);
    if (!queue) {
      await createTracked(ctx.state, { kind: 'agent-queue', name, step: 'agent-pool', meta: { project } }, async () => {
        const { value } = await ctx.devops.createQueue(project, name, poolId);
        return { ...value, id: String(value.id) };
      });
    } else {
      await recordFound(ctx.state, { kind: 'agent-queue', name, step: 'agent-pool', id: String(queue.id), meta: { project } });
    }
  },
};

/**
 * The end of the pools' life, whichever host init used (a deployment may have switched hosts: the
 * agent VM's pool recorded then is still deleted here, its queue with it). A Managed DevOps Pool's
 * Azure DevOps pool and queue are kept: its service removes them with the pool resource, which
 * terraform destroys.
 */
const teardown: StepTeardown = {
  owns: { 'agent-pool': 'agent pool', 'agent-queue': 'agent queue' },
  async plan(kit) {
    const { devops, state, answers } = kit.ctx;
    const data = state.stepData<PoolData>('agent-pool');
    const byService = `the Managed DevOps Pools service created it for the pool '${data.managedPool}' and removes it with that pool, which terraform destroys; azure-mlops never deletes it`;
    // Step data of a managed pool is not an agent VM pool init found already there.
    const foundPool = data.managedPool ? undefined : data.poolId;
    const foundQueue = data.managedPool ? undefined : data.queueId;
    // The agents this deployment registered (the agents step deletes them by id first).
    const ours = new Set(kit.records('agent').filter((r) => r.createdByUs && r.id).map((r) => r.id));
    // The pool's fate first (its queue follows it); the queue is deleted before the pool.
    let keptFor: string | undefined;
    const pools: Array<() => void> = [];
    for (const pool of kit.recordsOrFound('agent-pool', { step: 'agent-pool', name: answers.maybe('pool'), id: foundPool })) {
      const poolId = pool.id ? Number(pool.id) : (await devops.findPool(pool.name))?.id;
      const others = poolId !== undefined ? (await devops.agents(poolId)).filter((x) => !ours.has(String(x.id))) : [];
      if (!pool.createdByUs) pools.push(() => kit.keep(pool, PRE_EXISTING));
      else if (others.length) {
        const why = `it has ${others.length} agent(s) azure-mlops did not register (${others.slice(0, 5).map((x) => x.name).join(', ')}${others.length > 5 ? ', …' : ''}); delete it yourself once nobody needs it`;
        keptFor = why;
        pools.push(() => kit.keep(pool, why));
      } else
        pools.push(() =>
          kit.del(pool, {
            run: async (a) => {
              const id = await kit.idOf(a, async () => (await devops.findPool(pool.name))?.id);
              if (!id) return 'gone';
              // A last look: someone may have registered an agent since the list was shown.
              const late = (await devops.agents(Number(id))).filter((x) => !ours.has(String(x.id)));
              if (late.length) return `kept: agents azure-mlops did not register joined it (${late.map((x) => x.name).join(', ')}); delete it yourself once nobody needs it`;
              await devops.deletePool(Number(id));
              return 'deleted';
            },
          }),
        );
    }
    const found = { step: 'agent-pool' as const, name: answers.maybe('pool'), id: foundQueue, meta: kit.projectMeta() };
    for (const r of kit.recordsOrFound('agent-queue', found)) {
      if (!(r.createdByUs || kit.inOurProject(r))) kit.keep(r, PRE_EXISTING);
      else if (keptFor && !kit.deletingProject) kit.keep(r, `its pool '${r.name}' is kept: it has agents azure-mlops did not register`);
      else
        kit.del(r, {
          records: [r],
          run: async (a) => {
            const project = kit.projectOf(r);
            const id = await kit.idOf(a, async () => (await devops.findQueue(project, r.name))?.id);
            if (!id) return 'gone';
            await devops.deleteQueue(project, Number(id));
            return 'deleted';
          },
        });
    }
    for (const p of pools) p();
    if (data.managedPool) {
      kit.keep({ kind: 'agent-queue', name: data.managedPool, id: data.queueId ? String(data.queueId) : '' }, byService);
      kit.keep({ kind: 'agent-pool', name: data.managedPool, id: data.poolId ? String(data.poolId) : '' }, byService);
    }
  },
};

/** The agent-pool step for an agents host: it creates the VM's pool, or finds the managed pool's after terraform. */
export function createAgentPoolStep(host: AgentsHost = 'vm') {
  const impl = host === 'managed-pool' ? managed : vm;
  return defineStep({
    id: 'agent-pool',
    title: host === 'managed-pool' ? "Agent pool (the Managed DevOps Pool's)" : 'Agent pool',
    dependsOn: impl.dependsOn,
    check: (ctx: Ctx) => impl.check(ctx),
    plan: (ctx) => impl.plan(ctx),
    apply: (ctx) => impl.apply(ctx),
    teardown,
  });
}

export const agentPoolStep = createAgentPoolStep('vm');
