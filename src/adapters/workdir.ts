import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile, copyFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';

/**
 * The terraform working directory `<state-dir>/terraform/`: a copy of the module (bundled or
 * --terraform-dir), refreshed when its content changes (a new package version, an edited fork),
 * without touching terraform's own files (.terraform/, the lock file, state, the saved plan).
 */
const MANIFEST = '.azure-mlops-module.json';
const TERRAFORM_OWN = /^(\.terraform(\/|$)|\.terraform\.lock\.hcl$|terraform\.tfstate(\..*)?$|tfplan$|terraform\.tfvars\.json$|backend_azurerm\.tf$|\.azure-mlops-module\.json$)/;

async function listModuleFiles(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = relative(base, join(dir, e.name));
    if (TERRAFORM_OWN.test(rel) || e.name === '.terraform' || e.name.endsWith('.tfstate') || e.name === 'README.md') continue;
    if (e.isDirectory()) out.push(...(await listModuleFiles(join(dir, e.name), base)));
    else if (e.isFile()) out.push(rel);
  }
  return out.sort();
}

export async function moduleHash(source: string): Promise<{ hash: string; files: string[] }> {
  const files = await listModuleFiles(source);
  const h = createHash('sha256');
  for (const f of files) {
    h.update(f).update('\0').update(await readFile(join(source, f))).update('\0');
  }
  return { hash: h.digest('hex'), files };
}

/** Copies the module into `workdir` when it changed; returns whether anything was copied. */
export async function syncModule(source: string, workdir: string): Promise<{ changed: boolean; hash: string }> {
  try {
    if (!(await stat(source)).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new Error(`the terraform module directory ${source} does not exist`);
  }
  const { hash, files } = await moduleHash(source);
  await mkdir(workdir, { recursive: true, mode: 0o700 });
  let previous: { hash?: string; files?: string[] } = {};
  try {
    previous = JSON.parse(await readFile(join(workdir, MANIFEST), 'utf8')) as typeof previous;
  } catch {
    // first sync
  }
  if (previous.hash === hash) return { changed: false, hash };
  for (const old of previous.files ?? []) if (!files.includes(old)) await rm(join(workdir, old), { force: true });
  for (const f of files) {
    await mkdir(dirname(join(workdir, f)), { recursive: true });
    await copyFile(join(source, f), join(workdir, f));
  }
  await writeFile(join(workdir, MANIFEST), JSON.stringify({ source, hash, files }, null, 2));
  return { changed: true, hash };
}


/** Writes a file readable by the owner only (tfvars, backend config). */
export async function writePrivate(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, text, { mode: 0o600 });
  await chmod(file, 0o600);
}


export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
