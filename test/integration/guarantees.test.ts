import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { childEnvShims, childEnvs } from '../fakes/env-shims.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { CLIENT_SECRET, DEVOPS_TOKEN, PAT, worldsPerTest, type World } from '../helpers/world.js';

/**
 * The guarantees of issue 17 that the CLI process as a whole keeps, against the fake world (fake az,
 * fake ARM, fake Azure DevOps, the real terraform on the fixture module): one run per state dir, a
 * state dir that is the user's alone, and no secret in any child process's environment.
 */
const world = worldsPerTest();
const init = (w: World, env: Record<string, string> = w.env, extra: string[] = []) => runCli(['init', '--yes', ...w.args, ...extra], { env, cwd: w.cwd });
const lockFile = (w: World) => join(w.stateDir, 'lock');
const mode = (p: string) => statSync(p).mode & 0o777;

function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

/** Every file and directory under `dir` with group/other permission bits (links excluded). */
function looseEntries(dir: string): string[] {
  const out: string[] = [];
  if (mode(dir) & 0o077) out.push(`. ${mode(dir).toString(8)}`);
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const p = join(e.parentPath, e.name);
    if (lstatSync(p).isSymbolicLink()) continue;
    if (mode(p) & 0o077) out.push(`${p.slice(dir.length + 1)} ${mode(p).toString(8)}`);
  }
  return out;
}

describe('one run per state dir', () => {
  it('two inits started together on one state dir: one refuses at once (exit 1) naming the lock and the pid holding it; the other finishes', async () => {
    const w = await world();
    // A slow terraform apply keeps the winner busy long after the loser has started.
    const env = { ...w.env, FIXTURE_APPLY_SLEEP: '4' };
    const pids: number[] = [];
    const started = Date.now();
    const ended: number[] = [];
    const track = (p: Promise<CliResult>, i: number) => p.then((r) => ((ended[i] = Date.now() - started), r));
    const [a, b] = await Promise.all([0, 1].map((i) => track(runCli(['init', '--yes', ...w.args], { env, cwd: w.cwd, onSpawn: (pid) => (pids[i] = pid) }), i)));
    const results = [a!, b!];
    const loser = results.findIndex((r) => r.code === 1);
    expect(results.map((r) => r.code).sort(), results.map((r) => r.stderr.slice(-800)).join('\n----\n')).toEqual([0, 1]);
    const winner = 1 - loser;
    const refused = results[loser]!;
    expect(refused.stderr).toContain(`Another azure-mlops run is using the state dir ${w.stateDir}`);
    expect(refused.stderr).toContain(lockFile(w));
    expect(refused.stderr).toContain(`pid ${pids[winner]} on host ${hostname()}`);
    // At once: long before the winner, which still had terraform's slow apply ahead of it.
    expect(ended[loser]!).toBeLessThan(ended[winner]! - 3000);
    // The winner released its lock; the loser did not remove it meanwhile (the winner finished cleanly).
    expect(existsSync(lockFile(w))).toBe(false);
    const state = JSON.parse(readFileSync(join(w.stateDir, 'state.json'), 'utf8'));
    expect(Object.values(state.steps).every((s) => (s as { status: string }).status === 'done')).toBe(true);
  });

  it('a stale lock (a crashed run: its pid is gone) is taken over with a warning; plan and doctor neither take nor need the lock', async () => {
    const w = await world();
    mkdirSync(w.stateDir, { recursive: true, mode: 0o700 });
    const pid = deadPid();
    writeFileSync(lockFile(w), JSON.stringify({ pid, host: hostname(), startedAt: new Date().toISOString(), command: 'init', token: 'crashed' }));
    const plan = await runCli(['plan', ...w.args], { env: w.env, cwd: w.cwd });
    expect(plan.code, plan.stderr).toBe(0);
    const doctor = await runCli(['doctor', ...w.args], { env: w.env, cwd: w.cwd });
    expect(doctor.stderr).not.toMatch(/lock/);
    expect(JSON.parse(readFileSync(lockFile(w), 'utf8')).token).toBe('crashed');
    const r = await init(w);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`Taking over the state dir lock: .*pid ${pid} on host ${hostname()}.*no longer running`));
    expect(existsSync(lockFile(w))).toBe(false);
  });

  it('a fresh lock from another host is respected (exit 1, nothing called); the lock is released when a run fails', async () => {
    const w = await world();
    mkdirSync(w.stateDir, { recursive: true, mode: 0o700 });
    writeFileSync(lockFile(w), JSON.stringify({ pid: 4242, host: 'ci-agent-7', startedAt: new Date().toISOString(), command: 'destroy', token: 'theirs' }));
    const r = await init(w);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${lockFile(w)} is held by pid 4242 on host ci-agent-7`);
    expect(r.stderr).toMatch(/24 hours/);
    expect(w.az.calls()).toEqual([]);
    expect(w.devops.requests).toEqual([]);
    expect(JSON.parse(readFileSync(lockFile(w), 'utf8')).token).toBe('theirs');

    // A run that fails (a bad PAT: exit 1) still releases its lock.
    writeFileSync(lockFile(w), JSON.stringify({ pid: 4242, host: 'ci-agent-7', startedAt: new Date(Date.now() - 25 * 3600_000).toISOString(), command: 'destroy', token: 'theirs' }));
    const bad = await init(w, { ...w.env, AZURE_DEVOPS_EXT_PAT: `${PAT}x` });
    expect(bad.code, bad.stderr.slice(-1000)).toBe(1);
    expect(bad.stderr).toMatch(/more than 24 hours ago/);
    expect(existsSync(lockFile(w))).toBe(false);
  });
});

describe('the state dir is ours alone', () => {
  it('a 0777 state dir with links and a tampered manifest: tightened to 0700, the outside files unchanged, nothing outside deleted; every file ends 0600, terraform.tfstate and tfplan included', async () => {
    const w = await world();
    const tf = join(w.stateDir, 'terraform');
    mkdirSync(tf, { recursive: true });
    chmodSync(w.stateDir, 0o777);
    // A crafted state dir (e.g. from a cloned repository): links to files outside, and a module
    // manifest naming paths outside.
    const bashrc = join(w.home, '.bashrc');
    writeFileSync(bashrc, 'alias ll="ls -l"\n');
    const elsewhere = join(w.root, 'precious.txt');
    writeFileSync(elsewhere, 'precious\n');
    symlinkSync(bashrc, join(w.stateDir, '.gitignore'));
    symlinkSync(elsewhere, join(tf, 'terraform.tfvars.json'));
    writeFileSync(join(tf, '.azure-mlops-module.json'), JSON.stringify({ hash: 'older', files: ['../../../precious.txt', elsewhere, '../../../home/.bashrc'] }));

    const r = await init(w);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    expect(r.stderr).toMatch(/readable by others: removed group\/other permissions/);
    expect(readFileSync(bashrc, 'utf8')).toBe('alias ll="ls -l"\n');
    expect(readFileSync(elsewhere, 'utf8')).toBe('precious\n');
    expect(lstatSync(join(w.stateDir, '.gitignore')).isFile()).toBe(true);
    expect(lstatSync(join(tf, 'terraform.tfvars.json')).isFile()).toBe(true);
    expect(JSON.parse(readFileSync(join(tf, 'terraform.tfvars.json'), 'utf8')).prefix).toBe('mlops01');

    expect(mode(w.stateDir)).toBe(0o700);
    for (const f of ['terraform.tfstate', 'tfplan', 'terraform.tfvars.json', '.terraform.lock.hcl']) if (existsSync(join(tf, f)) || f !== '.terraform.lock.hcl') expect(mode(join(tf, f)), f).toBe(0o600);
    expect(looseEntries(w.stateDir)).toEqual([]);
  });
});

describe('children get only what they need', () => {
  it('after a full init (with the PAT also under other names), no child process — az, terraform, git, ssh-keygen — had the PAT in its environment', async () => {
    const w = await world();
    const env = { ...w.env, ...childEnvShims(w.root, w.env), MY_COPY_OF_THE_PAT: PAT, TF_VAR_devops_pat: PAT };
    const r = await init(w, env);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    const children = childEnvs(w.root);
    const tools = new Set(children.map((c) => c.tool));
    for (const t of ['az', 'terraform', 'git', 'ssh-keygen']) expect(tools, `${t} was run through its recording shim`).toContain(t);
    for (const c of children) {
      const leaks = Object.entries(c.env).filter(([, v]) => v.includes(PAT)).map(([k]) => k);
      expect(leaks, `${c.tool} ${c.argv.slice(0, 3).join(' ')}`).toEqual([]);
      expect(Object.keys(c.env)).not.toContain('AZURE_DEVOPS_EXT_PAT');
      expect(Object.keys(c.env)).not.toContain('TF_VAR_devops_pat');
    }
    // What they do need is still there.
    expect(children.find((c) => c.tool === 'terraform' && c.argv[0] === 'apply')?.env.ARM_SUBSCRIPTION_ID).toBeTruthy();
    expect(children.find((c) => c.tool === 'az')?.env.AZURE_CONFIG_DIR).toBe(w.env.AZURE_CONFIG_DIR);
  });

  it.each([
    ['no PAT (the Entra token of the az login)', [] as string[], false],
    ['--auth secret (an app with a client secret)', ['--auth', 'secret'], true],
  ])('%s: no child process had the Entra token or the client secret in its environment', async (_name, extra, withPat) => {
    const w = await world();
    const env: Record<string, string> = { ...w.env, ...childEnvShims(w.root, w.env) };
    if (!withPat) delete env.AZURE_DEVOPS_EXT_PAT;
    const r = await init(w, env, extra);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    const children = childEnvs(w.root);
    expect(children.length).toBeGreaterThan(0);
    for (const c of children) {
      const leaks = Object.entries(c.env).filter(([, v]) => [PAT, DEVOPS_TOKEN, CLIENT_SECRET].some((secret) => v.includes(secret))).map(([k]) => k);
      expect(leaks, `${c.tool} ${c.argv.slice(0, 3).join(' ')}`).toEqual([]);
    }
  });
});
