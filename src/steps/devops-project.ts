import { DevOpsError, PAT_SCOPES } from '../adapters/devops.js';
import { PAT_ENV } from '../config/fields.js';
import { createdBy, describedConflict, refusedCheck } from '../engine/deployment.js';
import { StepError } from '../engine/errors.js';
import { createTracked, recordFound } from '../engine/ownership.js';
import { defineStep, type Context, type StepId } from '../engine/types.js';
import { PRE_EXISTING } from '../engine/teardown.js';
import { deploymentId } from './deployment-values.js';

/**
 * README: "Create an Azure DevOps project" and "create a Personal Access Token".
 * Validates the organization URL and the credential first (connectionData: a bad PAT, including
 * the 203 + sign-in page case, stops the run before anything is created), then finds the project
 * by name or queues its creation and polls the operation to the end. The project's description
 * names this deployment's id; a project whose description names another deployment is refused.
 */
type Ctx = Pick<Context, 'devops' | 'devopsCredential' | 'answers' | 'state' | 'secrets' | 'log'>;

/** What this step records (its state data): the project's id, and its name as Azure DevOps spells it. */
export type DevOpsProject = { projectId: string; projectName: string };

/** The deployment's project: its id once this step found or created it, and its name. */
export function projectRefOf(ctx: Pick<Context, 'state' | 'answers'>): { id: string | undefined; name: string } {
  const p = ctx.state.stepData<DevOpsProject>('devops-project');
  return { id: p.projectId, name: p.projectName ?? ctx.answers.get('project') };
}

/** The project's id for a later step's apply: as recorded, else found by name; none is a StepError of `step`. */
export async function projectIdOf(ctx: Pick<Context, 'state' | 'answers' | 'devops'>, step: StepId): Promise<string> {
  const project = ctx.answers.get('project');
  const id = projectRefOf(ctx).id ?? (await ctx.devops.findProject(project))?.id;
  if (!id) throw new StepError(`project ${project} not found`, 'Re-run azure-mlops init.', step);
  return id;
}

/**
 * For destroy: the id of the project `name` an object lives in (its record may name another project
 * than the answer): `known` (the object's record), else this deployment's project when the name is
 * its name, else found by name; undefined when there is no such project.
 */
export async function projectIdNamed(ctx: Pick<Context, 'state' | 'devops'>, name: string, known?: string): Promise<string | undefined> {
  if (known) return known;
  const same = (other: string | undefined) => other?.toLowerCase() === name.toLowerCase();
  const rec = ctx.state.resource('devops-project');
  if (rec?.id && same(rec.name)) return rec.id;
  const saved = ctx.state.stepData<DevOpsProject>('devops-project');
  if (saved.projectId && same(saved.projectName)) return saved.projectId;
  return (await ctx.devops.findProject(name))?.id;
}

export const devopsProjectStep = defineStep({
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
  async check(ctx: Ctx) {
    const who = await ctx.devops.validate();
    const name = ctx.answers.get('project');
    const p = await ctx.devops.findProject(name);
    if (!p) return { status: 'missing', summary: `signed in to ${ctx.devops.orgUrl} as ${who.user}; no project '${name}'` };
    const conflict = describedConflict(`Azure DevOps project '${p.name}'`, p.description, deploymentId(ctx));
    if (conflict) return refusedCheck(conflict, 'project');
    const record: DevOpsProject = { projectId: p.id, projectName: p.name };
    return { status: 'ok', summary: `${ctx.devops.orgUrl}/${encodeURIComponent(p.name)} (signed in as ${who.user})`, record };
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
      const p = state.stepData<DevOpsProject>('devops-project');
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
