import { createTracked, recordFound } from '../engine/ownership.js';
import { defineStep, type Context } from '../engine/types.js';
import { PRE_EXISTING } from '../engine/teardown.js';

/**
 * README: "In Azure DevOps, create an Agent Pool. Name the pool pool001."
 * The pool lives in the organization; the project reaches it through a queue of the same name.
 */
type Ctx = Pick<Context, 'devops' | 'answers' | 'state'>;

export const agentPoolStep = defineStep({
  id: 'agent-pool',
  title: 'Agent pool',
  dependsOn: ['devops-project'],
  async check(ctx: Ctx) {
    const name = ctx.answers.get('pool');
    const project = ctx.answers.get('project');
    const pool = await ctx.devops.findPool(name);
    if (!pool) return { status: 'missing', summary: `no agent pool '${name}' in the organization` };
    if (pool.isHosted) return { status: 'missing', summary: `'${name}' is a Microsoft-hosted pool; a self-hosted pool is needed`, fix: 'Choose another name with --pool (env AZURE_MLOPS_POOL).' };
    const queue = await ctx.devops.findQueue(project, name);
    if (!queue) return { status: 'missing', summary: `pool '${name}' (id ${pool.id}) is not yet available in project '${project}'` };
    return { status: 'ok', summary: `'${name}' (pool ${pool.id}, queue ${queue.id} in ${project})`, record: { poolId: pool.id, queueId: queue.id } };
  },
  async plan(ctx) {
    const name = ctx.answers.get('pool');
    const pool = await ctx.devops.findPool(name).catch(() => undefined);
    return [
      ...(pool ? [] : [{ action: 'create' as const, what: `self-hosted agent pool '${name}' in the organization` }]),
      { action: 'create' as const, what: `queue '${name}' in project '${ctx.answers.get('project')}' (not open to all pipelines: the pipeline step authorizes its own)` },
    ];
  },
  async apply(ctx) {
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
  teardown: {
    owns: { 'agent-pool': 'agent pool', 'agent-queue': 'agent queue' },
    async plan(kit) {
      const { devops, state, answers } = kit.ctx;
      const data = state.stepData<{ poolId: number; queueId: number }>('agent-pool');
      // The agents this deployment registered (the agents step deletes them by id first).
      const ours = new Set(kit.records('agent').filter((r) => r.createdByUs && r.id).map((r) => r.id));
      // The pool's fate first (its queue follows it); the queue is deleted before the pool.
      let keptFor: string | undefined;
      const pools: Array<() => void> = [];
      for (const pool of kit.recordsOrFound('agent-pool', { step: 'agent-pool', name: answers.maybe('pool'), id: data.poolId })) {
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
      const found = { step: 'agent-pool' as const, name: answers.maybe('pool'), id: data.queueId, meta: kit.projectMeta() };
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
    },
  },
});
