import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertInside, writeFileSafe } from '../../src/adapters/safe-fs.js';
import { syncModule, writePrivate } from '../../src/adapters/workdir.js';
import { UsageError } from '../../src/engine/errors.js';
import { acquireLock, LockedError, LOCK_FILE, openStateDir, prepareStateDir } from '../../src/engine/state-dir.js';
import { FIXTURE_MODULE } from '../fakes/fake-terraform.js';

function sandbox() {
  const root = mkdtempSync(join(tmpdir(), 'aml-statedir-'));
  const state = join(root, 'work', '.azure-mlops');
  const outside = join(root, 'outside');
  mkdirSync(outside, { recursive: true });
  return { root, state, outside };
}

const warnings = () => {
  const lines: string[] = [];
  return { lines, log: { warn: (t: string) => void lines.push(t) } };
};

/** The pid of a process that has exited (nothing runs under it any more, for a while). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

const mode = (p: string) => statSync(p).mode & 0o777;

describe('writes never follow a link, never leave the state dir', () => {
  it('a state file that is a link to a file outside: the link is replaced, the outside file unchanged', async () => {
    const s = sandbox();
    mkdirSync(s.state, { recursive: true });
    const victim = join(s.outside, 'bashrc');
    writeFileSync(victim, 'export PS1=mine\n');
    for (const name of ['.gitignore', 'state.json', 'terraform.tfvars.json']) symlinkSync(victim, join(s.state, name));
    await writeFileSafe(s.state, join(s.state, '.gitignore'), '*\n');
    await writeFileSafe(s.state, join(s.state, 'state.json'), '{}\n');
    await writePrivate(s.state, join(s.state, 'terraform.tfvars.json'), '{}\n');
    expect(readFileSync(victim, 'utf8')).toBe('export PS1=mine\n');
    for (const name of ['.gitignore', 'state.json', 'terraform.tfvars.json']) {
      expect(lstatSync(join(s.state, name)).isFile(), name).toBe(true);
      expect(mode(join(s.state, name)), name).toBe(0o600);
    }
  });

  it('paths that lead out (../, absolute, through a linked directory) are refused', async () => {
    const s = sandbox();
    mkdirSync(s.state, { recursive: true });
    symlinkSync(s.outside, join(s.state, 'terraform'));
    for (const p of [join(s.state, '..', 'x'), '/etc/passwd', join(s.state, 'terraform', 'terraform.tfvars.json'), s.state]) {
      await expect(assertInside(s.state, p), p).rejects.toThrow(/refusing to touch/);
    }
    await expect(writePrivate(s.state, join(s.state, 'terraform', 'terraform.tfvars.json'), '{}')).rejects.toThrow(/outside/);
    expect(existsSync(join(s.outside, 'terraform.tfvars.json'))).toBe(false);
    await expect(assertInside(s.state, join(s.state, 'logs', 'init.log'))).resolves.toBeUndefined();
  });

  it('syncModule: a manifest naming ../ paths, absolute paths or paths through a link deletes nothing outside', async () => {
    const s = sandbox();
    const work = join(s.state, 'terraform');
    mkdirSync(work, { recursive: true });
    const victims = [join(s.root, 'work', 'victim.txt'), join(s.outside, 'victim2.txt'), join(s.outside, 'victim3.txt')];
    for (const v of victims) writeFileSync(v, 'keep me');
    symlinkSync(s.outside, join(work, 'linked'));
    writeFileSync(join(work, 'old-module-file.tf'), '# from the previous copy');
    writeFileSync(
      join(work, '.azure-mlops-module.json'),
      JSON.stringify({ hash: 'previous', files: ['../../victim.txt', victims[1], 'sub/../../../outside/victim3.txt', 'linked/victim3.txt', 'terraform.tfstate', 'old-module-file.tf'] }),
    );
    writeFileSync(join(work, 'terraform.tfstate'), '{"keep":"terraform state"}');
    const r = await syncModule(FIXTURE_MODULE, work, s.state);
    expect(r.changed).toBe(true);
    for (const v of victims) expect(readFileSync(v, 'utf8'), v).toBe('keep me');
    expect(readFileSync(join(work, 'terraform.tfstate'), 'utf8')).toContain('terraform state');
    expect(existsSync(join(work, 'old-module-file.tf'))).toBe(false); // a real leftover of ours: removed
    expect(existsSync(join(work, 'main.tf'))).toBe(true);
    expect(mode(join(work, 'main.tf'))).toBe(0o600);
  });

  it('syncModule refuses a working dir that leads out of the state dir', async () => {
    const s = sandbox();
    mkdirSync(s.state, { recursive: true });
    symlinkSync(s.outside, join(s.state, 'terraform'));
    await expect(syncModule(FIXTURE_MODULE, join(s.state, 'terraform'), s.state)).rejects.toThrow(/outside/);
    expect(existsSync(join(s.outside, 'main.tf'))).toBe(false);
  });
});

describe('the state dir is ours alone', () => {
  it('is created 0700 with a .gitignore (0600)', async () => {
    const s = sandbox();
    const w = warnings();
    await prepareStateDir(s.state, w.log);
    expect(mode(s.state)).toBe(0o700);
    expect(mode(join(s.state, '.gitignore'))).toBe(0o600);
    expect(readFileSync(join(s.state, '.gitignore'), 'utf8')).toContain('*');
    expect(w.lines).toEqual([]);
  });

  it('an existing 0777 one is tightened to 0700, its files to 0600, with a warning; links are not followed', async () => {
    const s = sandbox();
    mkdirSync(join(s.state, 'terraform'), { recursive: true });
    chmodSync(s.state, 0o777);
    writeFileSync(join(s.state, 'terraform', 'terraform.tfstate'), '{}', { mode: 0o644 });
    chmodSync(join(s.state, 'terraform', 'terraform.tfstate'), 0o644);
    const theirs = join(s.outside, 'theirs');
    writeFileSync(theirs, 'x');
    chmodSync(theirs, 0o644);
    symlinkSync(theirs, join(s.state, 'link'));
    const w = warnings();
    await prepareStateDir(s.state, w.log);
    expect(mode(s.state)).toBe(0o700);
    expect(mode(join(s.state, 'terraform', 'terraform.tfstate'))).toBe(0o600);
    expect(mode(theirs)).toBe(0o644);
    expect(w.lines.join('\n')).toMatch(/readable by others: removed group\/other permissions/);
  });

  it('a state dir that is a link, or not a directory, is refused (exit 2)', async () => {
    const s = sandbox();
    mkdirSync(join(s.root, 'work'), { recursive: true });
    symlinkSync(s.outside, s.state);
    const e = await prepareStateDir(s.state, warnings().log).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as UsageError).message).toMatch(/symbolic link/);
    expect((e as UsageError).fix).toMatch(/AZURE_MLOPS_STATE_DIR/);
    expect(existsSync(join(s.outside, '.gitignore'))).toBe(false);
    const f = join(s.root, 'file');
    writeFileSync(f, '');
    await expect(prepareStateDir(f, warnings().log)).rejects.toThrow(/not a directory/);
  });

  it.skipIf(process.getuid?.() !== 0)('a state dir owned by another user is refused (exit 2) with the fix', async () => {
    const s = sandbox();
    mkdirSync(s.state, { recursive: true });
    spawnSync('chown', ['12345', s.state]);
    const e = await prepareStateDir(s.state, warnings().log).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as UsageError).message).toMatch(/belongs to another user \(uid 12345/);
    expect((e as UsageError).fix).toMatch(/--state-dir/);
  });
});

describe('one run per state dir: the lock', () => {
  it('a second run is refused at once, naming the lock file, the pid and the host; release removes it', async () => {
    const s = sandbox();
    mkdirSync(s.state, { recursive: true });
    const lock = await acquireLock(s.state, 'init', warnings().log);
    expect(mode(join(s.state, LOCK_FILE))).toBe(0o600);
    expect(JSON.parse(readFileSync(join(s.state, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname(), command: 'init' });
    const e = await acquireLock(s.state, 'destroy', warnings().log).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LockedError);
    expect((e as LockedError).exitCode).toBe(1);
    expect((e as LockedError).message).toContain(join(s.state, LOCK_FILE));
    expect((e as LockedError).message).toContain(`pid ${process.pid} on host ${hostname()}`);
    await lock.release();
    expect(existsSync(join(s.state, LOCK_FILE))).toBe(false);
    const again = await acquireLock(s.state, 'destroy', warnings().log);
    await again.release();
  });

  it('a stale lock (its pid is gone, same host) is taken over with a warning', async () => {
    const s = sandbox();
    mkdirSync(s.state, { recursive: true });
    const pid = deadPid();
    writeFileSync(join(s.state, LOCK_FILE), JSON.stringify({ pid, host: hostname(), startedAt: new Date().toISOString(), command: 'init', token: 'old' }));
    const w = warnings();
    const lock = await acquireLock(s.state, 'init', w.log);
    expect(w.lines.join('\n')).toMatch(new RegExp(`Taking over the state dir lock: .*pid ${pid} .*no longer running`));
    expect(JSON.parse(readFileSync(join(s.state, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('a lock from another host is respected for 24 hours, then taken over with a warning', async () => {
    const s = sandbox();
    mkdirSync(s.state, { recursive: true });
    const write = (hoursAgo: number) => writeFileSync(join(s.state, LOCK_FILE), JSON.stringify({ pid: 4242, host: 'build-agent-7', startedAt: new Date(Date.now() - hoursAgo * 3600_000).toISOString(), command: 'destroy', token: `t${hoursAgo}` }));
    write(2);
    const e = await acquireLock(s.state, 'init', warnings().log).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LockedError);
    expect((e as LockedError).message).toMatch(/pid 4242 on host build-agent-7/);
    expect((e as LockedError).message).toMatch(/24 hours/);
    expect((e as LockedError).fix).toContain(`delete ${join(s.state, LOCK_FILE)}`);
    write(25);
    const w = warnings();
    const lock = await acquireLock(s.state, 'init', w.log);
    expect(w.lines.join('\n')).toMatch(/more than 24 hours ago/);
    await lock.release();
  });

  it('several runs finding the same stale lock: exactly one wins', async () => {
    const s = sandbox();
    mkdirSync(s.state, { recursive: true });
    writeFileSync(join(s.state, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: hostname(), startedAt: new Date().toISOString(), command: 'init', token: 'old' }));
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => acquireLock(s.state, 'init', warnings().log)));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(LockedError);
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLock>>>).value.release();
  });

  it('openStateDir: nothing is written into the state dir before the lock is held', async () => {
    const s = sandbox();
    mkdirSync(s.state, { recursive: true });
    chmodSync(s.state, 0o755);
    writeFileSync(join(s.state, LOCK_FILE), JSON.stringify({ pid: 4242, host: 'elsewhere', startedAt: new Date().toISOString(), command: 'init', token: 't' }));
    await expect(openStateDir(s.state, 'init', warnings().log)).rejects.toBeInstanceOf(LockedError);
    expect(existsSync(join(s.state, '.gitignore'))).toBe(false);
    expect(mode(s.state)).toBe(0o755);
    writeFileSync(join(s.state, LOCK_FILE), JSON.stringify({ pid: 4242, host: 'elsewhere', startedAt: new Date(0).toISOString(), command: 'init', token: 't' }));
    const lock = await openStateDir(s.state, 'init', warnings().log);
    expect(mode(s.state)).toBe(0o700);
    expect(existsSync(join(s.state, '.gitignore'))).toBe(true);
    await lock.release();
  });

  it('a lock file that is a link is never written through', async () => {
    const s = sandbox();
    mkdirSync(s.state, { recursive: true });
    const victim = join(s.outside, 'victim');
    writeFileSync(victim, 'keep');
    symlinkSync(victim, join(s.state, LOCK_FILE));
    const w = warnings();
    const lock = await acquireLock(s.state, 'init', w.log, { now: () => Date.now() + 60_000 });
    expect(readFileSync(victim, 'utf8')).toBe('keep');
    expect(lstatSync(join(s.state, LOCK_FILE)).isFile()).toBe(true);
    await lock.release();
  });
});
