import { randomBytes } from 'node:crypto';
import { constants, openSync } from 'node:fs';
import { lstat, mkdir, open, realpath, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/**
 * File writes inside the state dir that never follow a link and never leave it.
 *
 * A state dir can come from somewhere else (a cloned repository may carry a crafted
 * `.azure-mlops/`): a `.gitignore` or `terraform.tfvars.json` there may be a symbolic link to
 * `~/.bashrc`, a manifest may name `../` paths. So:
 * - a file is written to a fresh temporary file beside it (created with O_CREAT | O_EXCL, which
 *   refuses any existing path, a link included) and renamed over the destination: rename replaces
 *   the directory entry — a link is replaced by the file, its target is never opened;
 * - every path written or deleted is first checked to resolve, physically (symbolic links of its
 *   parents followed), inside the root it belongs to.
 */

export class OutsideStateDirError extends Error {
  constructor(readonly path: string, readonly root: string, why: string) {
    super(`refusing to touch ${path}: ${why}, outside ${root} (azure-mlops only writes and deletes inside its state dir)`);
    this.name = 'OutsideStateDirError';
  }
}

/** `rel` is a plain relative path below its root: not absolute, no `..` segment, not empty. */
export function isPlainRelative(rel: string): boolean {
  if (!rel || isAbsolute(rel) || /^[A-Za-z]:/.test(rel)) return false;
  return !rel.split(/[\\/]+/).some((s) => s === '..');
}

/** The deepest existing ancestor of `path` (itself when it exists), physically resolved. */
async function realAncestor(path: string): Promise<string> {
  let p = resolve(path);
  for (;;) {
    try {
      return await realpath(p);
    } catch {
      const up = dirname(p);
      if (up === p) return p;
      p = up;
    }
  }
}

const within = (root: string, p: string) => p === root || p.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);

/**
 * Throws unless `path` lies inside `root`, both lexically and physically: its parent directory (or
 * the deepest part of it that exists) resolves, links followed, inside the real `root`. The entry
 * itself may be a link: writes replace it and deletes unlink it, neither follows it.
 */
export async function assertInside(root: string, path: string): Promise<void> {
  const rel = relative(resolve(root), resolve(path));
  if (!rel || !isPlainRelative(rel)) throw new OutsideStateDirError(path, root, 'the path leads');
  const realRoot = await realAncestor(root);
  const parent = await realAncestor(dirname(resolve(path)));
  if (!within(realRoot, parent)) throw new OutsideStateDirError(path, root, `its directory resolves to ${parent}`);
}

/** mkdir -p, then checks the directory really is inside `root` (no link in its path leads out). */
export async function mkdirInside(root: string, dir: string): Promise<void> {
  await assertInside(root, join(dir, 'x'));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  if (!st.isDirectory()) throw new OutsideStateDirError(dir, root, 'it is not a directory (a link?)');
  await assertInside(root, join(dir, 'x'));
}

/**
 * Writes `text` to `file` (mode `mode`, default 0600) atomically and without following a link:
 * temp file (O_EXCL) + fsync + rename over the destination. `root` bounds where it may be.
 */
export async function writeFileSafe(root: string, file: string, text: string | Uint8Array, mode = 0o600): Promise<void> {
  await assertInside(root, file);
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), mode);
  try {
    await fh.writeFile(text);
    await fh.chmod(mode); // exact, whatever the umask
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Deletes `file` (a link is unlinked, not followed) after checking it is inside `root`. */
export async function removeInside(root: string, file: string): Promise<void> {
  await assertInside(root, file);
  await rm(file, { force: true });
}

/**
 * Opens a new file for appending (logs) with O_EXCL | O_NOFOLLOW: a name that already exists, a
 * link included, is refused rather than written through. Synchronous: the logger writes lines
 * synchronously so the log is complete even when the process exits abruptly.
 */
export function openNewFileSync(file: string, mode = 0o600): number {
  return openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), mode);
}
