import type { VariableGroup } from '../adapters/devops.js';
import { StepError } from '../engine/errors.js';
import { createdBy, describedConflict, refusedCheck } from '../engine/deployment.js';
import { createTracked, recordFound } from '../engine/ownership.js';
import { defineStep, type CheckResult, type Context } from '../engine/types.js';
import { deploymentId, deploymentValues, pipelinePool } from './deployment-values.js';
import { projectIdNamed, projectIdOf } from './devops-project.js';
import { PRE_EXISTING } from '../engine/teardown.js';

/**
 * README: "create a Variable Group. Name it devopsforai-aml-vg" with RESOURCE_GROUP,
 * WORKSPACE_NAME, WORKSPACE_SVC_CONNECTION and skipComponentGovernanceDetection, plus what the
 * pipeline reads (the Azure ML computes, the pool, a per-deployment endpoint name: online endpoint
 * names are unique per region). Values come from terraform's outputs. Variables a user added are
 * kept; ours are set to the wanted values. The description of a group this deployment created names
 * its id; a group whose description names another deployment is refused, never updated.
 */
type Ctx = Pick<Context, 'devops' | 'answers' | 'state'>;

export function desiredVariables(ctx: Ctx): Record<string, string> {
  const v = deploymentValues(ctx);
  return {
    RESOURCE_GROUP: v.resourceGroup,
    WORKSPACE_NAME: v.workspace,
    WORKSPACE_SVC_CONNECTION: ctx.answers.get('serviceConnection'),
    skipComponentGovernanceDetection: 'true',
    AKS_COMPUTE_NAME: v.aksCompute,
    TRAINING_COMPUTE_NAME: v.trainingCompute,
    // The pool the pipeline runs on: the agent VM's, or the Managed DevOps Pool's (deployment-values.ts).
    POOL_NAME: pipelinePool(ctx),
    ENDPOINT_NAME: `diabetes-${ctx.answers.get('prefix')}`,
  };
}

export function variableDrift(group: VariableGroup, want: Record<string, string>): string[] {
  return Object.entries(want)
    .filter(([k, v]) => group.variables?.[k]?.value !== v)
    .map(([k, v]) => (group.variables?.[k] ? `${k}=${group.variables[k]?.value ?? ''} (want ${v})` : `${k} missing`));
}

/** `ours`: created by this deployment (its description names our id); a group found there keeps its own. */
function body(ctx: Ctx, projectId: string, existing?: VariableGroup, ours = true): Record<string, unknown> {
  const name = ctx.answers.get('variableGroup');
  const variables: Record<string, { value: string; isSecret?: boolean }> = {};
  for (const [k, v] of Object.entries(existing?.variables ?? {})) if (v) variables[k] = { value: v.value ?? '', ...(v.isSecret ? { isSecret: true } : {}) };
  for (const [k, v] of Object.entries(desiredVariables(ctx))) variables[k] = { value: v };
  return {
    name,
    type: 'Vsts',
    description: existing && !ours ? (existing.description ?? '') : `Azure ML workspace and pipeline settings (${createdBy(deploymentId(ctx))})`,
    variables,
    // Updates must resend the project references, or the group is detached from the project.
    variableGroupProjectReferences: existing?.variableGroupProjectReferences?.length
      ? existing.variableGroupProjectReferences
      : [{ name, description: 'Azure ML workspace and pipeline settings', projectReference: { id: projectId, name: ctx.answers.get('project') } }],
  };
}

/** What check() found, for plan(). */
export interface VariableGroupFacts {
  /** The group named --variable-group in the project, when there is one. */
  existing?: { id: number };
  /** Our variables it lacks or holds with another value (none when it matches or does not exist). */
  drift: string[];
}

export const variableGroupStep = defineStep({
  id: 'variable-group',
  title: 'Variable group',
  dependsOn: ['devops-project', 'terraform'],
  async check(ctx: Ctx): Promise<CheckResult<VariableGroupFacts>> {
    const name = ctx.answers.get('variableGroup');
    const g = await ctx.devops.findVariableGroup(ctx.answers.get('project'), name);
    if (!g) return { status: 'missing', summary: `no variable group '${name}'`, facts: { drift: [] } };
    const conflict = describedConflict(`variable group '${g.name}'`, g.description, deploymentId(ctx));
    if (conflict) return refusedCheck(conflict, 'variableGroup');
    const drift = variableDrift(g, desiredVariables(ctx));
    const facts = { existing: { id: g.id }, drift };
    if (drift.length) return { status: 'missing', summary: `'${name}' differs: ${drift.join(', ')}`, facts };
    return { status: 'ok', summary: `'${name}' (${Object.keys(desiredVariables(ctx)).length} variables as wanted)`, record: { groupId: g.id }, facts };
  },
  async plan(ctx, found) {
    const want = desiredVariables(ctx);
    return [{ action: found.facts?.drift.length ? 'update' : 'create', what: `variable group '${ctx.answers.get('variableGroup')}'`, details: Object.entries(want).map(([k, v]) => `${k} = ${v}`) }];
  },
  async apply(ctx) {
    if (!deploymentValues(ctx).applied) throw new StepError('terraform outputs are missing from the state', 'Re-run azure-mlops init (the terraform step records them).', 'variable-group');
    const name = ctx.answers.get('variableGroup');
    const project = ctx.answers.get('project');
    const projectId = await projectIdOf(ctx, 'variable-group');
    const existing = await ctx.devops.findVariableGroup(project, name);
    if (existing) {
      const owner = { what: `variable group '${existing.name}'`, description: existing.description, deploymentId: deploymentId(ctx), rename: 'variableGroup' as const };
      const ours = await recordFound(ctx.state, { kind: 'variable-group', name, step: 'variable-group', id: String(existing.id), meta: { project, projectId }, owner });
      await ctx.devops.updateVariableGroup(existing.id, body(ctx, projectId, existing, ours));
    } else {
      await createTracked(ctx.state, { kind: 'variable-group', name, step: 'variable-group', meta: { project, projectId } }, async () => {
        const { value } = await ctx.devops.createVariableGroup(project, body(ctx, projectId));
        return { ...value, id: String(value.id) };
      });
    }
  },
  teardown: {
    owns: { 'variable-group': 'variable group' },
    async plan(kit) {
      const { devops, state, answers } = kit.ctx;
      const found = { step: 'variable-group' as const, name: answers.maybe('variableGroup'), id: state.stepData<{ groupId: number }>('variable-group').groupId, meta: kit.projectMeta() };
      for (const r of kit.recordsOrFound('variable-group', found)) {
        if (!r.createdByUs) kit.keep(r, PRE_EXISTING);
        else
          kit.del(r, {
            run: async (a) => {
              const project = kit.projectOf(r);
              const id = await kit.idOf(a, async () => (await devops.findVariableGroup(project, r.name))?.id);
              const pid = id ? await projectIdNamed(kit.ctx, project, r.meta?.projectId) : undefined;
              if (!id || !pid) return 'gone';
              await devops.deleteVariableGroup(Number(id), [pid]);
              return 'deleted';
            },
          });
      }
    },
  },
});
