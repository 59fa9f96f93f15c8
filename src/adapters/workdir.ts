import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { isPlainRelative, mkdirInside, removeInside, writeFileSafe } from './safe-fs.js';

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

/**
 * Copies the module into `workdir` when it changed; returns whether anything was copied. `root` is
 * the state dir: every file written or deleted must stay inside it. The manifest of the previous
 * copy is read from the working dir, which may have been tampered with: a listed path that is not a
 * plain relative path (`../x`, `/etc/x`) or that leads out through a link is never deleted.
 * Files are written (0600) by temp file + rename, never through a link.
 */
export async function syncModule(source: string, workdir: string, root: string): Promise<{ changed: boolean; hash: string }> {
  try {
    if (!(await stat(source)).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new Error(`the terraform module directory ${source} does not exist`);
  }
  const { hash, files } = await moduleHash(source);
  await mkdirInside(root, workdir);
  let previous: { hash?: unknown; files?: unknown } = {};
  try {
    previous = JSON.parse(await readFile(join(workdir, MANIFEST), 'utf8')) as typeof previous;
  } catch {
    // first sync
  }
  if (previous.hash === hash) return { changed: false, hash };
  const old = Array.isArray(previous.files) ? previous.files.filter((f): f is string => typeof f === 'string') : [];
  for (const f of old) {
    if (files.includes(f)) continue;
    if (!isPlainRelative(f) || TERRAFORM_OWN.test(f)) continue; // not a module file of ours: never deleted
    try {
      await removeInside(root, join(workdir, f));
    } catch {
      // outside the state dir through a link: left alone
    }
  }
  for (const f of files) {
    await mkdirInside(root, dirname(join(workdir, f)));
    await writeFileSafe(root, join(workdir, f), await readFile(join(source, f)), 0o600);
  }
  await writeFileSafe(root, join(workdir, MANIFEST), JSON.stringify({ source, hash, files }, null, 2));
  return { changed: true, hash };
}

/** Writes a file readable by the owner only (tfvars, backend config), inside `root`, never through a link. */
export async function writePrivate(root: string, file: string, text: string): Promise<void> {
  await mkdirInside(root, dirname(file));
  await writeFileSafe(root, file, text, 0o600);
}


export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
