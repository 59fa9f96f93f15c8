import { createTracked, recordFound } from '../engine/ownership.js';
import { defineStep } from '../engine/types.js';

/**
 * README: "Create an Azure DevOps project" and "create a Personal Access Token".
 * Validates the organization URL and the credential first (connectionData: a bad PAT, including
 * the 203 + sign-in page case, stops the run before anything is created), then finds the project
 * by name or queues its creation and polls the operation to the end.
 */
export const devopsProjectStep = defineStep<'devops' | 'answers' | 'state'>({
  id: 'devops-project',
  title: 'Azure DevOps project',
  dependsOn: [],
  async check(ctx) {
    const who = await ctx.devops.validate();
    const name = ctx.answers.get('project');
    const p = await ctx.devops.findProject(name);
    if (!p) return { status: 'missing', summary: `signed in to ${ctx.devops.orgUrl} as ${who.user}; no project '${name}'` };
    return { status: 'ok', summary: `${ctx.devops.orgUrl}/${encodeURIComponent(p.name)} (signed in as ${who.user})`, record: { projectId: p.id, projectName: p.name } };
  },
  async plan(ctx) {
    return [{ action: 'create', what: `private project '${ctx.answers.get('project')}' (Git, Agile process) in ${ctx.answers.get('org')}` }];
  },
  async apply(ctx) {
    const name = ctx.answers.get('project');
    const existing = await ctx.devops.findProject(name);
    if (existing) {
      await recordFound(ctx.state, { kind: 'devops-project', name, step: 'devops-project', id: existing.id });
      return;
    }
    await createTracked(ctx.state, { kind: 'devops-project', name, step: 'devops-project' }, async () => {
      const { project } = await ctx.devops.createProject(name, 'MLOps with Azure ML, AKS and Azure Pipelines (created by azure-mlops)');
      return project;
    });
  },
});
