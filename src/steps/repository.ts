import { repositoryFiles, PIPELINE_YAML, type RepoFile } from '../adapters/bundle.js';
import { StepError } from '../engine/errors.js';
import { createTracked, recordFound } from '../engine/ownership.js';
import { defineStep, type CheckResult, type Context } from '../engine/types.js';
import { PRE_EXISTING } from '../engine/teardown.js';
import { pipelinePool } from './deployment-values.js';
import { projectIdOf } from './devops-project.js';

/**
 * The code must be in a repository for the pipeline to run. Finds or creates the Azure Repos
 * repository and, when it has no commits, pushes `devops_pipelines/` and the ML project as the
 * first commit on `main` through the pushes API (no local git needed). A repository with commits is
 * never overwritten: differences are reported, and `--push-to <branch>` pushes to a new branch.
 */
type StepCtx = Pick<Context, 'devops' | 'answers' | 'state' | 'run' | 'log'>;
/** The step's context with its one option. */
type Ctx = StepCtx & { pushTo?: string | undefined };

export const DEFAULT_BRANCH = 'main';
const ZERO = '0000000000000000000000000000000000000000';

/** Files of ours that are absent or different on `branch`. */
async function differences(ctx: Ctx, repoId: string, branch: string, files: RepoFile[]): Promise<string[]> {
  const project = ctx.answers.get('project');
  const out: string[] = [];
  await Promise.all(
    files.map(async (f) => {
      const remote = await ctx.devops.fileContent(project, repoId, f.path, branch);
      if (remote === undefined) out.push(`${f.path} (absent)`);
      else if (remote.replace(/\r\n/g, '\n') !== f.content.toString('utf8').replace(/\r\n/g, '\n')) out.push(`${f.path} (differs)`);
    }),
  );
  return out.sort();
}

/**
 * This version's files, with the pool the pipeline runs on written into azdo-variables.yml (the
 * agent VM's, or the Managed DevOps Pool's, known from the prefix before terraform has run).
 */
function ourFiles(ctx: Ctx): Promise<RepoFile[]> {
  return repositoryFiles(ctx.run.packageRoot, { pool: pipelinePool(ctx), auth: ctx.answers.get('auth') });
}

export function branchOf(ctx: Pick<Ctx, 'pushTo'>): string {
  return ctx.pushTo ?? DEFAULT_BRANCH;
}

/** What check() found, for plan(). */
export interface RepositoryFacts {
  /** The repository, when it exists. */
  existing?: { id: string };
  /** It has commits (some branch): it is never overwritten. */
  hasCommits: boolean;
}

export function createRepositoryStep(opts: { pushTo?: string } = {}) {
  return defineStep({
    id: 'repository',
    title: 'Repository with the pipeline and ML code',
    dependsOn: ['devops-project'],
    async check(c: StepCtx): Promise<CheckResult<RepositoryFacts>> {
      const ctx: Ctx = { ...c, pushTo: opts.pushTo };
      const name = ctx.answers.get('repo');
      const project = ctx.answers.get('project');
      const repo = await ctx.devops.findRepo(project, name);
      if (!repo) return { status: 'missing', summary: `no repository '${name}' in project '${project}'`, facts: { hasCommits: false } };
      const heads = await ctx.devops.refs(project, repo.id);
      const facts = { existing: { id: repo.id }, hasCommits: heads.length > 0 };
      if (heads.length === 0) return { status: 'missing', summary: `repository '${name}' is empty`, facts };
      const branch = branchOf(ctx);
      const record = { repositoryId: repo.id, branch, webUrl: repo.webUrl ?? '' };
      if (!heads.some((h) => h.name === `refs/heads/${branch}`)) {
        return opts.pushTo
          ? { status: 'missing', summary: `branch '${branch}' does not exist yet in '${name}'`, facts }
          : { status: 'missing', summary: `repository '${name}' has commits but no '${branch}' branch`, fix: 'Pass --push-to <new branch> to push the pipeline there.', facts };
      }
      const diff = await differences(ctx, repo.id, branch, await ourFiles(ctx));
      if (diff.length === 0) return { status: 'ok', summary: `'${name}' has the pipeline and ML code on '${branch}'`, record, facts };
      const hasPipeline = !diff.some((d) => d.startsWith(`${PIPELINE_YAML} (absent)`));
      return {
        status: hasPipeline ? 'warning' : 'missing',
        summary: `'${name}' has commits; ${diff.length} file(s) differ from this version of azure-mlops on '${branch}'`,
        details: diff.slice(0, 20),
        fix: `Nothing is overwritten. To get this version's files, push them to a new branch with --push-to <branch> and merge what you want.`,
        record,
        facts,
      };
    },
    async plan(c, found) {
      const ctx: Ctx = { ...c, pushTo: opts.pushTo };
      const name = ctx.answers.get('repo');
      const files = await ourFiles(ctx);
      if (found.facts?.hasCommits && !opts.pushTo) {
        throw new StepError(`${found.summary}: the pipeline file ${PIPELINE_YAML} is not there, and a repository with commits is never overwritten.`, 'Pass --push-to <new branch> to push the pipeline and ML code to a new branch.', 'repository');
      }
      return [
        ...(!found.facts?.existing ? [{ action: 'create' as const, what: `Azure Repos repository '${name}'` }] : []),
        { action: 'create' as const, what: `first commit on '${branchOf(ctx)}': ${files.length} files (devops_pipelines/, src/, tests/, aml/, ...)`, details: files.map((f) => f.path) },
      ];
    },
    async apply(c) {
      const ctx: Ctx = { ...c, pushTo: opts.pushTo };
      const name = ctx.answers.get('repo');
      const project = ctx.answers.get('project');
      let repo = await ctx.devops.findRepo(project, name);
      if (repo) await recordFound(ctx.state, { kind: 'repository', name, step: 'repository', id: repo.id, meta: { project } });
      else {
        const pid = await projectIdOf(ctx, 'repository');
        repo = await createTracked(ctx.state, { kind: 'repository', name, step: 'repository', meta: { project } }, async () => (await ctx.devops.createRepo(project, pid, name)).value);
      }
      const heads = await ctx.devops.refs(project, repo.id);
      const branch = branchOf(ctx);
      if (heads.some((h) => h.name === `refs/heads/${branch}`)) return; // never overwrite
      const files = await ourFiles(ctx);
      const base = opts.pushTo ? heads.find((h) => h.name === `refs/heads/${DEFAULT_BRANCH}`)?.objectId : undefined;
      // On a new branch from main: add what main lacks, edit what differs, leave the rest.
      const change = new Map((base ? await differences(ctx, repo.id, DEFAULT_BRANCH, files) : []).map((d) => [d.split(' ')[0]!, d.endsWith('(absent)') ? 'add' : 'edit']));
      await ctx.devops.push(project, repo.id, branch, {
        // A new branch starts from `base` (its old object id); an empty repository from zeros.
        refUpdates: [{ name: `refs/heads/${branch}`, oldObjectId: base ?? ZERO }],
        commits: [
          {
            comment: `MLOps pipeline and ML project (azure-mlops ${ctx.run.toolVersion})`,
            changes: files
              .filter((f) => !base || change.has(f.path))
              .map((f) => ({ changeType: base ? change.get(f.path) : 'add', item: { path: f.path }, newContent: { content: f.content.toString('base64'), contentType: 'base64encoded' } })),
          },
        ],
      });
      await ctx.state.setStepData('repository', { repositoryId: repo.id, branch });
    },
    teardown: {
      owns: { repository: 'repository' },
      async plan(kit) {
        const { devops, state, answers } = kit.ctx;
        const data = state.stepData<{ repositoryId: string; branch: string }>('repository');
        const found = { step: 'repository' as const, name: answers.maybe('repo'), id: data.repositoryId, meta: kit.projectMeta() };
        for (const r of kit.recordsOrFound('repository', found)) {
          const ours = r.createdByUs || kit.inOurProject(r);
          if (!ours) kit.keep(r, `${PRE_EXISTING}${data.branch ? `; the branch '${data.branch}' init pushed stays in it` : ''}`);
          else if (!kit.opts.deleteRepo && !kit.deletingProject) kit.keep(r, 'pass --delete-repo to delete it (it holds the pipeline and ML code, and any work pushed since)');
          else
            kit.del(r, {
              reason: r.createdByUs ? undefined : `created with project '${kit.projectOf(r)}', which azure-mlops created`,
              records: [r],
              run: async (a) => {
                const project = kit.projectOf(r);
                const id = await kit.idOf(a, async () => (await devops.findRepo(project, r.name))?.id);
                if (!id) return 'gone';
                await devops.deleteRepo(project, id);
                return 'deleted';
              },
            });
        }
      },
    },
  });
}

export const repositoryStep = createRepositoryStep();
