import { createTracked, recordFound } from '../engine/ownership.js';
import { defineStep } from '../engine/types.js';

/**
 * README: "In Azure DevOps, create an Agent Pool. Name the pool pool001."
 * The pool lives in the organization; the project reaches it through a queue of the same name.
 */
export const agentPoolStep = defineStep<'devops' | 'answers' | 'state'>({
  id: 'agent-pool',
  title: 'Agent pool',
  dependsOn: ['devops-project'],
  async check(ctx) {
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
});
