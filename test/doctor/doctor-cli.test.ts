import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { DEVOPS_TOKEN, startWorld, type World } from '../helpers/world.js';

/** The schema documented in the README ("doctor --json"), so the two cannot drift apart. */
function readmeSchema(): object {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = readme.split('```json').map((b) => b.split('```')[0]!).find((b) => b.includes('"title": "azure-mlops doctor --json"'));
  if (!block) throw new Error('README has no doctor --json schema');
  return JSON.parse(block) as object;
}

let w: World;
beforeAll(async () => {
  w = await startWorld();
  const r = await runCli(['init', '--yes', ...w.args], { env: w.env, cwd: w.cwd });
  if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`);
}, 120_000);
afterAll(async () => w?.stop());

describe('azure-mlops doctor (the CLI process)', () => {
  it('--json in the folder where init ran: valid against the README schema, exit 0', async () => {
    const r = await runCli(['doctor', '--json'], { env: w.env, cwd: w.cwd });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    const ajv = new Ajv({ strict: false });
    const validate = ajv.compile(readmeSchema());
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc.summary.missing).toBe(0);
    expect(doc.checks.length).toBeGreaterThan(20);
    expect(r.stdout + r.stderr).not.toContain(w.env.AZURE_DEVOPS_EXT_PAT);
    // a broken document is refused by the same schema (the test can fail)
    expect(validate({ ...doc, checks: [{ id: 'x', status: 'fine' }] })).toBe(false);
  });

  it('human output is grouped, with a summary line', async () => {
    const r = await runCli(['doctor'], { env: w.env, cwd: w.cwd });
    expect(r.code).toBe(0);
    const headers = r.stdout.split('\n').filter((l) => /^(Local|Azure|Azure DevOps|Deployment)$/.test(l));
    expect(headers).toEqual(['Local', 'Azure', 'Azure DevOps', 'Deployment']);
    expect(r.stdout).toMatch(/\d+ ok, 1 warning, 0 missing, 0 skipped/);
  });

  it('--only devops shows that group only; an unknown group is exit 2', async () => {
    const r = await runCli(['doctor', '--only', 'devops', '--json'], { env: w.env, cwd: w.cwd });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).checks.every((c: { group: string }) => c.group === 'devops')).toBe(true);
    const bad = await runCli(['doctor', '--only', 'network'], { env: w.env, cwd: w.cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Unknown --only group 'network'");
  });

  it('something missing: exit 3 with the fix', async () => {
    const r = await runCli(['doctor', '--json'], { env: { ...w.env, AZURE_DEVOPS_EXT_PAT: 'wrongPAT000000000000000000' }, cwd: w.cwd });
    expect(r.code).toBe(3);
    const org = JSON.parse(r.stdout).checks.find((c: { id: string }) => c.id === 'devops.org');
    expect(org).toMatchObject({ status: 'missing', fix: expect.stringContaining('Agent Pools') });
  });

  it('--devops-auth pat and no PAT: its Azure DevOps checks are skipped naming AZURE_DEVOPS_EXT_PAT and --pat-stdin, ok is false, exit 3', async () => {
    const env: Record<string, string> = { ...w.env, AZURE_MLOPS_DEVOPS_AUTH: 'pat' };
    delete env.AZURE_DEVOPS_EXT_PAT;
    const r = await runCli(['doctor', '--json'], { env, cwd: w.cwd });
    expect(r.code, r.stderr).toBe(3);
    const doc = JSON.parse(r.stdout);
    expect(new Ajv({ strict: false }).compile(readmeSchema())(doc)).toBe(true);
    expect(doc).toMatchObject({ ok: false, summary: { missing: 0 } });
    const devops = doc.checks.filter((c: { group: string }) => c.group === 'devops');
    expect(devops.map((c: { status: string }) => c.status)).toEqual(devops.map(() => 'skipped'));
    expect(devops[0]).toMatchObject({ id: 'devops.org', finding: expect.stringMatching(/AZURE_DEVOPS_EXT_PAT.*--pat-stdin/), fix: expect.stringContaining('_usersSettings/tokens') });
    // --only local does not need Azure DevOps: nothing unchecked, exit 0
    const local = await runCli(['doctor', '--only', 'local'], { env, cwd: w.cwd });
    expect(local.code, local.stdout).toBe(0);
  });

  it('no PAT at all: the Entra token of the az login, every Azure DevOps check runs', async () => {
    const env = { ...w.env };
    delete env.AZURE_DEVOPS_EXT_PAT;
    const r = await runCli(['doctor', '--json', '--only', 'devops'], { env, cwd: w.cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(DEVOPS_TOKEN);
    const doc = JSON.parse(r.stdout);
    const devops = doc.checks.filter((c: { group: string }) => c.group === 'devops');
    expect(devops.length).toBeGreaterThan(3);
    expect(devops.filter((c: { status: string }) => c.status === 'skipped')).toEqual([]);
    expect(devops.find((c: { id: string }) => c.id === 'devops.org').status).toBe('ok');
  });
});
