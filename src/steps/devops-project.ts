import { DevOpsError, PAT_SCOPES } from '../adapters/devops.js';
import { PAT_ENV } from '../config/fields.js';
import { createdBy, describedConflict, refusedCheck } from '../engine/deployment.js';
import { createTracked, recordFound } from '../engine/ownership.js';
import { defineStep } from '../engine/types.js';
import { PRE_EXISTING } from '../engine/teardown.js';
import { deploymentId } from './deployment-values.js';

/**
 * README: "Create an Azure DevOps project" and "create a Personal Access Token".
 * Validates the organization URL and the credential first (connectionData: a bad PAT, including
 * the 203 + sign-in page case, stops the run before anything is created), then finds the project
 * by name or queues its creation and polls the operation to the end. The project's description
 * names this deployment's id; a project whose description names another deployment is refused.
 */
export const devopsProjectStep = defineStep<'devops' | 'devopsCredential' | 'answers' | 'state' | 'secrets' | 'log'>({
  id: 'devops-project',
  title: 'Azure DevOps project',
  dependsOn: [],
  /**
   * Before any work: the credential. A PAT that must be asked for is asked now (where to create it,
   * with which scopes). An Entra token is tried now: when the organization refuses it, say why and
   * how to fix that, then — automatic mode only — ask for a PAT instead.
   */
  async prepare(ctx) {
    const cred = ctx.devopsCredential;
    if (cred.kind === 'entra') {
      try {
        await ctx.devops.validate();
        return;
      } catch (e) {
        if (!(e instanceof DevOpsError) || !e.refused || !cred.automatic) throw e;
        ctx.log.warn(e.message);
        if (e.fix) ctx.log.hint(`  ${ctx.log.c.bold('fix:')} ${e.fix}`);
        ctx.log.info('You can go on now with a personal access token instead.');
        cred.usePat();
        ctx.devops.resetAuth();
      }
    }
    if (ctx.secrets.hasPat) return;
    const { c } = ctx.log;
    ctx.log.info('');
    ctx.log.info(`Azure DevOps needs a personal access token (PAT) for ${ctx.devops.orgUrl} (${PAT_ENV} is not set).`);
    ctx.log.info(`  Create one at ${c.bold(`${ctx.devops.orgUrl}/_usersSettings/tokens`)} with these scopes:`);
    ctx.log.info(`  ${PAT_SCOPES}.`);
    ctx.log.info(c.dim(`  It is used in memory only, never stored. Next time: ${PAT_ENV}=… or --pat-stdin.`));
    await ctx.secrets.pat(ctx.devops.orgUrl);
  },
  async check(ctx) {
    const who = await ctx.devops.validate();
    const name = ctx.answers.get('project');
    const p = await ctx.devops.findProject(name);
    if (!p) return { status: 'missing', summary: `signed in to ${ctx.devops.orgUrl} as ${who.user}; no project '${name}'` };
    const conflict = describedConflict(`Azure DevOps project '${p.name}'`, p.description, deploymentId(ctx));
    if (conflict) return refusedCheck(conflict, 'project');
    return { status: 'ok', summary: `${ctx.devops.orgUrl}/${encodeURIComponent(p.name)} (signed in as ${who.user})`, record: { projectId: p.id, projectName: p.name } };
  },
  async plan(ctx) {
    return [{ action: 'create', what: `private project '${ctx.answers.get('project')}' (Git, Agile process) in ${ctx.answers.get('org')}` }];
  },
  async apply(ctx) {
    const name = ctx.answers.get('project');
    const existing = await ctx.devops.findProject(name);
    const id = deploymentId(ctx);
    if (existing) {
      await recordFound(ctx.state, { kind: 'devops-project', name, step: 'devops-project', id: existing.id, owner: { what: `Azure DevOps project '${existing.name}'`, description: existing.description, deploymentId: id, rename: 'project' } });
      return;
    }
    await createTracked(ctx.state, { kind: 'devops-project', name, step: 'devops-project' }, async () => {
      const { project } = await ctx.devops.createProject(name, `MLOps with Azure ML, AKS and Azure Pipelines (${createdBy(id)})`);
      return project;
    });
  },
  teardown: {
    owns: { 'devops-project': 'Azure DevOps project' },
    async plan(kit) {
      const { devops, state, answers } = kit.ctx;
      const p = state.stepData<{ projectId: string; projectName: string }>('devops-project');
      for (const r of kit.recordsOrFound('devops-project', { step: 'devops-project', name: p.projectName ?? answers.maybe('project'), id: p.projectId })) {
        if (!r.createdByUs) kit.keep(r, PRE_EXISTING);
        else if (!kit.opts.deleteProject) kit.keep(r, 'pass --delete-project to delete it, with everything still in it (work items, repositories, wikis)');
        else
          kit.del(r, {
            reason: 'with everything still in it',
            run: async (a) => {
              const id = await kit.idOf(a, async () => (await devops.findProject(r.name))?.id);
              if (!id) return 'gone';
              await devops.deleteProject(id);
              return 'deleted';
            },
          });
      }
    },
  },
});
