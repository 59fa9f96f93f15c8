import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { PAT, startWorld, type World } from '../helpers/world.js';

const worlds: World[] = [];
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.stop()));
});
let ANSWERS: string[] = [];
async function world(azWorld: Record<string, unknown> = {}) {
  const w = await startWorld({ az: azWorld });
  worlds.push(w);
  ANSWERS = w.args;
  return w;
}

describe('the CLI process', () => {
  it('--help lists the commands and every answer flag with its env var', async () => {
    const w = await world();
    const r = await runCli(['init', '--help'], { env: w.env, cwd: w.cwd });
    expect(r.code).toBe(0);
    for (const s of ['--prefix', 'AZURE_MLOPS_PREFIX', '--subscription', 'ARM_SUBSCRIPTION_ID', '--dry-run', '--auth']) expect(r.stdout).toContain(s);
    const top = await runCli(['--help'], { env: w.env, cwd: w.cwd });
    for (const s of ['init', 'plan', 'doctor', '--yes', '--non-interactive', '--json', '--state-dir', '--no-color']) expect(top.stdout).toContain(s);
  });

  it('an unknown flag exits 2', async () => {
    const w = await world();
    const r = await runCli(['init', '--prefx', 'abc'], { env: w.env, cwd: w.cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--prefx'");
  });

  it('a missing answer in CI exits 2 naming flags and env vars, and creates nothing', async () => {
    const w = await world();
    const r = await runCli(['init', '--prefix', 'mlops01'], { env: w.env, cwd: w.cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--location (env AZURE_MLOPS_LOCATION)');
    expect(r.stderr).toContain('--org (env AZURE_MLOPS_ORG)');
    expect(existsSync(join(w.cwd, '.azure-mlops'))).toBe(false);
    expect(w.az.calls()).toEqual([]);
  });

  it('a bad answer exits 2 before any az call', async () => {
    const w = await world();
    const r = await runCli(['init', ...ANSWERS, '--prefix', 'Bad_Prefix'], { env: w.env, cwd: w.cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Invalid --prefix 'Bad_Prefix'/);
    expect(r.stderr).toContain('AZURE_MLOPS_PREFIX');
    expect(w.az.calls()).toEqual([]);
  });

  it('plan prints the plan, changes nothing and creates no state dir', async () => {
    const w = await world();
    const r = await runCli(['plan', ...ANSWERS, '--subscription', 'Contoso Prod'], { env: w.env, cwd: w.cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('az account set --subscription 33333333-3333-3333-3333-333333333333');
    expect(r.stdout).toContain('Dry run: nothing was changed');
    expect(r.stdout).toMatch(/Cost estimate: about [\d,.]+ USD a month in westeurope/); // from the world's fake price list
    expect(w.az.mutatingCalls()).toEqual([]);
    expect(existsSync(join(w.cwd, '.azure-mlops'))).toBe(false);
  });

  it('plan --json prints one JSON document on stdout, human text on stderr', async () => {
    const w = await world();
    const r = await runCli(['plan', '--json', ...ANSWERS], { env: w.env, cwd: w.cwd });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ command: 'plan', ok: true, dryRun: true });
    expect(doc.steps.map((s: { id: string }) => s.id)).toEqual(['tools', 'ssh-key', 'azure-login', 'service-principal', 'azure-preflight', 'devops-project', 'agent-pool', 'extension', 'terraform-backend', 'terraform', 'agents', 'service-connection', 'variable-group', 'repository', 'pipeline']);
    expect(JSON.stringify(doc)).toContain('terraform apply -input=false -json tfplan');
    expect(r.stderr).toContain('Dry run');
  });

  it('init walks the steps, writes 0600 state with the answers and no secret, and resumes', async () => {
    const w = await world();
    const pat = PAT;
    const env = w.env;
    const r = await runCli(['init', '--yes', ...ANSWERS, '--subscription', 'Contoso Prod'], { env, cwd: w.cwd });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const stateFile = join(w.cwd, '.azure-mlops', 'state.json');
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    expect(state.answers).toMatchObject({ prefix: 'mlops01', location: 'westeurope', org: w.devops.orgUrl });
    expect(Object.values(state.steps).every((s) => (s as { status: string }).status === 'done')).toBe(true);
    expect(state.steps['azure-login'].status).toBe('done');
    expect(state.data['azure-login'].subscriptionId).toBe('33333333-3333-3333-3333-333333333333');
    expect(readFileSync(join(w.cwd, '.azure-mlops', '.gitignore'), 'utf8')).toContain('*');
    expect(JSON.stringify(state) + r.stdout + r.stderr).not.toContain(pat);

    // Re-run with only the state: answers come from it; nothing mutates.
    const mutations = w.az.mutatingCalls().length;
    const devopsMutations = w.devops.mutating().length;
    const again = await runCli(['init', '--yes'], { env, cwd: w.cwd });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('nothing to do');
    expect(w.az.mutatingCalls().length).toBe(mutations);
    expect(w.devops.mutating().length).toBe(devopsMutations);
  });

  it('a pinned subscription survives a change of az default (no silent redirect)', async () => {
    const w = await world();
    await runCli(['init', '--yes', ...ANSWERS, '--subscription', 'Contoso Prod'], { env: w.env, cwd: w.cwd });
    // Someone switches az back to Dev in another terminal.
    const st = w.az.world();
    st.defaultSubscription = '22222222-2222-2222-2222-222222222222';
    writeFileSync(w.az.stateFile, JSON.stringify(st));
    const r = await runCli(['plan'], { env: w.env, cwd: w.cwd });
    expect(r.stdout).toContain('this deployment uses Contoso Prod');
    expect(r.stdout).toContain('az account set --subscription 33333333-3333-3333-3333-333333333333');
  });

  it('doctor --json reports each check; exit 3 when something is missing', async () => {
    const w = await world({ loggedIn: false });
    const r = await runCli(['doctor', '--json'], { env: w.env, cwd: w.cwd });
    expect(r.code).toBe(3);
    const doc = JSON.parse(r.stdout);
    expect(doc.command).toBe('doctor');
    const login = doc.checks.find((c: { id: string }) => c.id === 'azure.login');
    expect(login).toMatchObject({ status: 'missing', fix: expect.stringContaining('az login') });
    expect(w.az.mutatingCalls()).toEqual([]);

    const ok = await world();
    const r2 = await runCli(['doctor', '--json', '--only', 'local'], { env: ok.env, cwd: ok.cwd });
    expect(r2.code, r2.stdout).toBe(0);
  });

  it('--no-color and NO_COLOR give plain output; FORCE_COLOR gives colour', async () => {
    const w = await world();
    const plain = await runCli(['doctor'], { env: w.env, cwd: w.cwd });
    expect(plain.stdout).not.toMatch(/\u001b\[/);
    const colored = await runCli(['doctor'], { env: { ...w.env, NO_COLOR: '', FORCE_COLOR: '1' }, cwd: w.cwd });
    expect(colored.stdout).toMatch(/\u001b\[/);
    const flag = await runCli(['doctor', '--no-color'], { env: { ...w.env, NO_COLOR: '', FORCE_COLOR: '1' }, cwd: w.cwd });
    expect(flag.stdout).not.toMatch(/\u001b\[/);
  });
});
