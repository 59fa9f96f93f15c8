import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

/**
 * The files the CLI pushes into the user's repository: `devops_pipelines/` as is, and the content
 * of `templates/` at the repository root (templates/README.md becomes the repo's README.md).
 */
export interface RepoFile {
  path: string; // repository path, starting with '/'
  content: Buffer;
}

const SKIP = /(^|\/)(__pycache__|\.pytest_cache|node_modules)(\/|$)|\.pyc$/;

async function walk(dir: string, base: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    const rel = relative(base, full).split('\\').join('/');
    if (SKIP.test(rel)) continue;
    if (e.isDirectory()) out.push(...(await walk(full, base)));
    else if (e.isFile()) out.push(rel);
  }
  return out.sort();
}

/**
 * AzureCLI@2 fails before running its script when `keepAzSessionActive` is true and the service
 * connection is not workload identity federation (azure-pipelines-tasks
 * Tasks/AzureCLIV2/azureclitask.ts, message KeepingAzSessionActiveUnsupportedScheme): with a
 * client-secret connection the pushed pipeline has it false.
 */
const KEEP_SESSION = /^(\s*keepAzSessionActive:\s*)true\s*$/gm;

export async function repositoryFiles(packageRoot: string, opts: { pool: string; auth: 'federated' | 'secret' }): Promise<RepoFile[]> {
  const files: RepoFile[] = [];
  const pipelines = join(packageRoot, 'devops_pipelines');
  for (const rel of await walk(pipelines, pipelines)) {
    let content = await readFile(join(pipelines, rel));
    // The pool name is read at compile time from the variables template (see azdo-variables.yml).
    if (rel === 'azdo-variables.yml' && opts.pool !== 'pool001') {
      content = Buffer.from(content.toString('utf8').replace(/(- name: POOL_NAME\s*\n\s*value: )pool001\b/, `$1${opts.pool}`));
    }
    if (opts.auth === 'secret' && /\.ya?ml$/.test(rel)) {
      content = Buffer.from(content.toString('utf8').replace(KEEP_SESSION, '$1false'));
    }
    files.push({ path: `/devops_pipelines/${rel}`, content });
  }
  const templates = join(packageRoot, 'templates');
  for (const rel of await walk(templates, templates)) files.push({ path: `/${rel}`, content: await readFile(join(templates, rel)) });
  return files;
}

/** The pipeline definition inside the pushed repository. */
export const PIPELINE_YAML = '/devops_pipelines/azdo-ci-build-train.yml';
