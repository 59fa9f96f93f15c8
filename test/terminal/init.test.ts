import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tfCalls } from '../fakes/fake-terraform.js';
import { terminalsPerTest } from '../helpers/terminal.js';
import { DEVOPS_TOKEN, PAT, SUB2, worldsPerTest, type World } from '../helpers/world.js';

/**
 * `init` as a person runs it: in a real pseudo-terminal, rendered by a real terminal emulator,
 * answering its prompts (DESIGN.md section 4). Asserts on the screen, never on raw bytes.
 */
const world = worldsPerTest();
const term = terminalsPerTest();

/** Nothing changed anywhere: no mutating Azure DevOps, az or ARM call, and no terraform state. */
function nothingCreated(w: World): void {
  expect(w.devops.mutating()).toEqual([]);
  expect(w.az.mutatingCalls()).toEqual([]);
  expect(w.arm.mutatingRequests()).toEqual([]);
  expect(tfCalls(w.root).filter((c) => c.argv[0] === 'apply')).toEqual([]);
  expect(existsSync(join(w.stateDir, 'terraform', 'terraform.tfstate'))).toBe(false);
}

/** The env of a person without a PAT in their environment. */
const noPat = (w: World) => ({ ...w.env, AZURE_DEVOPS_EXT_PAT: '' });

describe('init in a terminal: one plan, one question', () => {
  it('declining the plan exits 130 at once and nothing is created anywhere', async () => {
    const w = await world();
    const t = term(['init', ...w.args, '--subscription', SUB2], { env: w.env, cwd: w.cwd });
    await t.waitFor(/Apply this plan .*\(y\/N\)/, 60_000);
    expect(t.transcript()).toMatch(/Plan: \d+ to create, \d+ to change, 0 to destroy in Azure and Azure DevOps/);
    // Nothing writes while the question waits: it stays the last line (no spinner, no timer).
    expect(t.lastLine()).toMatch(/Apply this plan .*\(y\/N\)/);
    const before = t.screen();
    await new Promise((r) => setTimeout(r, 1500));
    expect(t.screen()).toBe(before);
    await t.type('n');
    await t.press('enter');
    const { code } = await t.exit;
    expect(code).toBe(130);
    expect(t.screen()).toMatch(/declined the plan\. Nothing was created or changed\./);
    nothingCreated(w);
    // Not even the state: a declined first run records nothing.
    expect(existsSync(join(w.stateDir, 'state.json'))).toBe(false);
  });

  it('Enter takes the default, which is No when Azure resources would be created', async () => {
    const w = await world();
    const t = term(['init', ...w.args, '--subscription', SUB2], { env: w.env, cwd: w.cwd });
    await t.waitFor(/Apply this plan .*\(y\/N\)/, 60_000);
    await t.press('enter');
    expect((await t.exit).code).toBe(130);
    nothingCreated(w);
  });

  it('Ctrl-C at the confirmation exits 130 with one press, nothing created', async () => {
    const w = await world();
    const t = term(['init', ...w.args, '--subscription', SUB2], { env: w.env, cwd: w.cwd });
    await t.waitFor(/Apply this plan .*\(y\/N\)/, 60_000);
    await t.press('ctrl-c');
    const ended = await Promise.race([t.exit, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 5000))]);
    expect(ended).not.toBe('still running');
    expect((ended as { code: number }).code).toBe(130);
    expect(t.screen()).toMatch(/Cancelled \(Ctrl-C\): nothing was created or changed\./);
    expect(t.screen()).not.toMatch(/terraform plan/);
    nothingCreated(w);
  });

  it('the PAT prompt says where and with which scopes, is the last line while it waits, and never shows the PAT', async () => {
    const w = await world();
    const t = term(['init', ...w.args, '--subscription', SUB2, '--devops-auth', 'pat'], { env: noPat(w), cwd: w.cwd });
    await t.waitFor(/Azure DevOps PAT for .* \(input hidden\):/, 60_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(t.lastLine()).toMatch(/Azure DevOps PAT for .* \(input hidden\):\s*$/);
    const screen = t.screen();
    expect(screen).toContain(`${w.devops.orgUrl}/_usersSettings/tokens`);
    expect(screen).toMatch(/Agent Pools \(Read & manage\)/);
    expect(screen).not.toMatch(/⠋|⠙|⠹|⠸|⠼|⠴|⠦|⠧|⠇|⠏/);
    await t.type(PAT);
    expect(t.screen()).not.toContain(PAT);
    await t.press('enter');
    await t.waitFor(/Apply this plan .*\(y\/N\)/, 60_000);
    expect(t.transcript()).not.toContain(PAT);
    await t.press('ctrl-c');
    expect((await t.exit).code).toBe(130);
    nothingCreated(w);
  });

  it('an organization that refuses the Entra token: the reason and the fix, then the PAT prompt, then the plan', async () => {
    const w = await world({ devops: { bearer: 'a-token-of-another-tenant' } });
    const t = term(['init', ...w.args, '--subscription', SUB2], { env: noPat(w), cwd: w.cwd });
    await t.waitFor(/Azure DevOps PAT for .* \(input hidden\):/, 60_000);
    const all = t.transcript().replace(/\n/g, ' ');
    expect(all).toMatch(/refused the Microsoft Entra token of your az login/);
    expect(all).toMatch(/not connected to your Microsoft Entra tenant, or your account is not a member of it/);
    expect(all).toMatch(/Organization settings > Users/);
    expect(t.lastLine()).toMatch(/Azure DevOps PAT for .* \(input hidden\):\s*$/);
    await t.type(PAT);
    expect(t.screen()).not.toContain(PAT);
    await t.press('enter');
    await t.waitFor(/Apply this plan .*\(y\/N\)/, 60_000);
    expect(t.transcript()).not.toContain(PAT);
    expect(t.transcript()).not.toContain(DEVOPS_TOKEN);
    await t.press('ctrl-c');
    expect((await t.exit).code).toBe(130);
    nothingCreated(w);
  });

  it('accepting: at most two questions (the plan, then terraform\'s own), init finishes and the summary shows the links', async () => {
    const w = await world();
    const t = term(['init', ...w.args, '--subscription', SUB2], { env: w.env, cwd: w.cwd });
    await t.waitFor(/Apply this plan .*\(y\/N\)/, 60_000);
    await t.type('y');
    await t.press('enter');
    await t.waitFor(/Apply this terraform plan \(\d+ resource changes?\)\? \(y\/N\)/, 90_000);
    // terraform's question is a barrier: it is the last line, no other step printing after it.
    await new Promise((r) => setTimeout(r, 1000));
    expect(t.lastLine()).toMatch(/Apply this terraform plan .*\(y\/N\)/);
    await t.type('y');
    await t.press('enter');
    const { code } = await t.exit;
    const all = t.transcript();
    expect(code, all).toBe(0);
    // Every question, answered, stays on screen as "✔ <question>? <answer>": two at most.
    const questions = all.split('\n').filter((l) => /^[✔?] .+\? (Yes|No)$/.test(l.trim()));
    expect(questions).toHaveLength(2);
    expect(all).toMatch(/Done in \d+/);
    expect(all).toContain(`${w.devops.orgUrl}/mlops`);
    expect(all).toMatch(/_build\?definitionId=\d+/);
    // Long links wrap at the terminal's edge: read them as one line.
    const flat = all.replace(/\n/g, '');
    expect(flat).toMatch(/https:\/\/ml\.azure\.com\/\?wsid=\/subscriptions\/33333333-3333-3333-3333-333333333333\/resourceGroups\/rg-mlops01-ml\//);
    expect(flat).toMatch(/https:\/\/portal\.azure\.com\/#@[^/]+\/resource\/subscriptions\/33333333-3333-3333-3333-333333333333\/resourceGroups\/rg-mlops01-devops\/overview/);
    expect(all).toContain('azure-mlops init --run');
    // The world gives a PAT here: it is used, and shown nowhere.
    expect(all).not.toContain(PAT);
    expect(all).toContain('azure-mlops doctor');
    const state = JSON.parse(readFileSync(join(w.stateDir, 'state.json'), 'utf8'));
    expect(state.data['azure-login'].subscriptionId).toBe(SUB2);
  });
});
