import { randomBytes } from 'node:crypto';
import { constants, readFileSync, unlinkSync } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileSafe } from '../adapters/safe-fs.js';
import type { Logger } from '../ui/logger.js';
import { CliError, ExitCode, UsageError } from './errors.js';

/**
 * The state dir is this user's alone, and one run at a time uses it.
 *
 * init and destroy call `openStateDir`: check, lock, then tighten — nothing is written into the dir
 * before the lock is held.
 * - `checkStateDir` / `secureStateDir`: created 0700; an existing one must be a real directory (not a link) owned by
 *   the user running azure-mlops (else exit 2 with the fix), group/other bits are removed from it and
 *   from everything in it (links are never followed), and `.gitignore` (`*`) is written without
 *   following a link. Every file azure-mlops writes there is 0600; its child processes run with a
 *   077 umask (src/cli.ts) so terraform's state and plan files are too.
 * - `acquireLock`: `<state-dir>/lock`, created with O_CREAT | O_EXCL (two runs starting together
 *   cannot both win), holding {pid, host, startedAt, command}. Taken by init and destroy before any
 *   outside call that changes something; released on every exit path (the runs' `finally`, and a
 *   process `exit` handler for an exit from the Ctrl-C handler). A lock whose process is gone (same
 *   host, pid not alive) is taken over with a warning; a lock from another host is respected unless
 *   it is older than 24 hours (then taken over with a warning). Otherwise the run stops at once
 *   (exit 1) naming the lock file, the pid and the host.
 */

export const LOCK_FILE = 'lock';
/** A lock from another host older than this is taken to be left behind by a crashed run. */
export const FOREIGN_LOCK_MAX_AGE_MS = 24 * 60 * 60 * 1000;

const GITIGNORE = '# azure-mlops state: never commit\n*\n';

/**
 * What init and destroy do first: check (or create) the state dir, take its lock, then tighten what
 * is in it and write its .gitignore — the lock comes before anything is written there.
 */
export async function openStateDir(dir: string, command: string, log: Pick<Logger, 'warn'>): Promise<StateLock> {
  await checkStateDir(dir);
  const lock = await acquireLock(dir, command, log);
  try {
    await secureStateDir(dir, log);
  } catch (e) {
    await lock.release();
    throw e;
  }
  return lock;
}

/** Check (or create) the state dir, then tighten it and write its .gitignore (no lock). */
export async function prepareStateDir(dir: string, log: Pick<Logger, 'warn'>): Promise<void> {
  await checkStateDir(dir);
  await secureStateDir(dir, log);
}

/** Creates the state dir 0700, or checks that the existing one is a real directory of this user's. */
async function checkStateDir(dir: string): Promise<void> {
  let st;
  try {
    st = await lstat(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    st = await lstat(dir);
  }
  const fix = 'Pass a directory of your own with --state-dir <dir> (env AZURE_MLOPS_STATE_DIR).';
  if (st.isSymbolicLink()) {
    throw new UsageError(`The state dir ${dir} is a symbolic link; azure-mlops writes its state, logs and terraform files only into a real directory of yours.`, `${fix} (the link's target, if it is yours, works too)`);
  }
  if (!st.isDirectory()) throw new UsageError(`The state dir ${dir} exists and is not a directory.`, fix);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new UsageError(`The state dir ${dir} belongs to another user (uid ${st.uid}; you are uid ${uid}): its state, logs and terraform state would be shared with them.`, `${fix} Or take it over: sudo chown -R ${uid} ${dir} && chmod -R go= ${dir}`);
  }
}

/** Removes group/other permissions from the state dir and its contents (with a warning), writes .gitignore. */
async function secureStateDir(dir: string, log: Pick<Logger, 'warn'>): Promise<void> {
  const uid = process.getuid?.();
  const tightened = await tighten(dir, uid);
  if (tightened.length) {
    log.warn(`The state dir ${dir} was readable by others: removed group/other permissions from ${tightened.length === 1 ? tightened[0] : `${tightened.length} entries (${tightened.slice(0, 3).join(', ')}${tightened.length > 3 ? ', …' : ''})`} (it holds terraform's state, with the cluster's credentials).`);
  }
  await writeGitignore(dir);
}

/** `<dir>/.gitignore` of `*`, so nothing of the state dir is ever committed (never through a link). */
export async function writeGitignore(dir: string): Promise<void> {
  await writeFileSafe(dir, join(dir, '.gitignore'), GITIGNORE);
}

/** Removes group/other bits from `dir` and everything below it that the user owns; links untouched. */
async function tighten(dir: string, uid: number | undefined): Promise<string[]> {
  const changed: string[] = [];
  const visit = async (path: string, label: string): Promise<void> => {
    const st = await lstat(path);
    if (st.isSymbolicLink()) return; // chmod would follow it
    if (uid !== undefined && st.uid !== uid) return;
    if (st.mode & 0o077) {
      await chmod(path, st.mode & 0o700);
      changed.push(label);
    }
    if (st.isDirectory()) for (const e of await readdir(path)) await visit(join(path, e), label === '.' ? e : `${label}/${e}`);
  };
  await visit(dir, '.');
  return changed.map((l) => (l === '.' ? dir : l));
}

// ---- the lock ------------------------------------------------------------------------------------

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
  /** Random: release() removes the lock only while it is still this run's. */
  token: string;
}

export class LockedError extends CliError {
  constructor(message: string, fix: string) {
    super(message, ExitCode.stepFailed, fix);
  }
}

export interface StateLock {
  file: string;
  info: LockInfo;
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLock(file: string): Promise<{ info?: LockInfo; mtimeMs: number } | undefined> {
  let st;
  try {
    st = await lstat(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  if (!st.isFile()) return { mtimeMs: st.mtimeMs };
  try {
    const v = JSON.parse(await readFile(file, 'utf8')) as Partial<LockInfo>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.startedAt === 'string') return { info: v as LockInfo, mtimeMs: st.mtimeMs };
  } catch {
    // being written, or not ours
  }
  return { mtimeMs: st.mtimeMs };
}

/** Creates the lock file with O_EXCL (never through a link); false when it exists. */
async function create(file: string, info: LockInfo): Promise<boolean> {
  let fh;
  try {
    fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    await fh.writeFile(`${JSON.stringify(info, null, 2)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return true;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const describe = (i: LockInfo) => `pid ${i.pid} on host ${i.host}, \`${i.command}\` started ${i.startedAt}`;

/**
 * Takes `<dir>/lock` for `command`, or throws LockedError (exit 1) naming the holder. `now` and
 * `host` are parameters for tests.
 */
export async function acquireLock(dir: string, command: string, log: Pick<Logger, 'warn'>, opts: { host?: string; now?: () => number } = {}): Promise<StateLock> {
  const file = join(dir, LOCK_FILE);
  const host = opts.host ?? hostname();
  const now = opts.now ?? Date.now;
  const info: LockInfo = { pid: process.pid, host, startedAt: new Date(now()).toISOString(), command, token: randomBytes(8).toString('hex') };
  for (let attempt = 0; ; attempt++) {
    if (await create(file, info)) return held(file, info);
    const found = await readLock(file);
    if (!found) continue; // released meanwhile: try again
    const other = found.info;
    if (!other) {
      // Unreadable: a run writing it this very moment, or junk. Give a writer a moment first.
      if (attempt < 20 && now() - found.mtimeMs < 5000) {
        await sleep(50);
        continue;
      }
      await takeOver(file, found, `${file} is not a lock azure-mlops can read`, log, info);
      continue;
    }
    const age = now() - Date.parse(other.startedAt);
    if (other.host === host) {
      if (alive(other.pid)) {
        throw new LockedError(
          `Another azure-mlops run is using the state dir ${dir}: ${file} is held by ${describe(other)}.`,
          `Wait for it to finish (one run per state dir), or use another --state-dir. If pid ${other.pid} is not azure-mlops, delete ${file}.`,
        );
      }
      await takeOver(file, found, `${file} was left by ${describe(other)}, which is no longer running`, log, info);
      continue;
    }
    if (age > FOREIGN_LOCK_MAX_AGE_MS || Number.isNaN(age)) {
      await takeOver(file, found, `${file} was taken by ${describe(other)}, more than 24 hours ago; taken to be left behind by a crashed run`, log, info);
      continue;
    }
    throw new LockedError(
      `Another azure-mlops run may be using the state dir ${dir}: ${file} is held by ${describe(other)} (another host: azure-mlops cannot see whether it still runs; it respects such a lock for 24 hours).`,
      `Wait for that run to finish. If it is gone, delete ${file} and re-run.`,
    );
  }
}

/**
 * Removes a stale lock so the caller can create its own — safely when several runs find the same
 * stale lock: a second O_EXCL file `lock.takeover` admits one of them at a time, and the lock is
 * removed only if it is still the stale one that was read.
 */
async function takeOver(file: string, stale: { info?: LockInfo; mtimeMs: number }, why: string, log: Pick<Logger, 'warn'>, mine: LockInfo): Promise<void> {
  const gate = `${file}.takeover`;
  if (!(await create(gate, mine))) {
    const g = await lstat(gate).catch(() => undefined);
    // A takeover takes milliseconds: an old gate was left by a run killed in the middle of one.
    if (g && Date.now() - g.mtimeMs > 10_000) await unlink(gate).catch(() => undefined);
    else await sleep(50);
    return;
  }
  try {
    const again = await readLock(file);
    const same = again && (stale.info ? again.info?.token === stale.info.token && again.info?.pid === stale.info.pid : again.mtimeMs === stale.mtimeMs && !again.info);
    if (same) {
      await unlink(file);
      log.warn(`Taking over the state dir lock: ${why}.`);
    }
  } finally {
    await unlink(gate).catch(() => undefined);
  }
}

function held(file: string, info: LockInfo): StateLock {
  let released = false;
  // Backstop for exits that skip the runs' finally blocks (the Ctrl-C handler's process.exit).
  const onExit = () => releaseSync();
  const releaseSync = () => {
    if (released) return;
    released = true;
    process.off('exit', onExit);
    try {
      const cur = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockInfo>;
      if (cur.token === info.token) unlinkSync(file);
    } catch {
      // gone already
    }
  };
  process.on('exit', onExit);
  return {
    file,
    info,
    release: async () => {
      if (released) return;
      released = true;
      process.off('exit', onExit);
      try {
        const cur = JSON.parse(await readFile(file, 'utf8')) as Partial<LockInfo>;
        if (cur.token === info.token) await unlink(file);
      } catch {
        // gone already
      }
    },
  };
}
