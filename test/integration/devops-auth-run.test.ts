import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { DEVOPS_TOKEN, PAT, worldsPerTest, type World } from '../helpers/world.js';

const world = worldsPerTest();

/** The Entra token the fake az hands out for Azure DevOps' resource id. */

describe('Azure DevOps credentials and pipeline runs', () => {
  it('--pat-stdin: the PAT read from stdin works and appears nowhere', async () => {
    const w = await world();
    const env = { ...w.env };
    delete env.AZURE_DEVOPS_EXT_PAT;
    const r = await runCli(['init', '--yes', '--pat-stdin', ...w.args], { env, cwd: w.cwd, input: `${PAT}\n` });
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(PAT);
    expect(w.devops.world.agents.filter((a) => a.status === 'online')).toHaveLength(4);
  });

  it('--devops-auth entra: Azure DevOps and the agents with a token from the az login, no PAT needed', async () => {
    const w = await world();
    const env = { ...w.env };
    delete env.AZURE_DEVOPS_EXT_PAT;
    const ok = await runCli(['init', '--yes', '--devops-auth', 'entra', ...w.args], { env, cwd: w.cwd });
    expect(ok.code, ok.stderr.slice(-1500)).toBe(0);
    expect(w.az.calls().some((c) => c.cmd === 'account get-access-token' && c.argv.includes('499b84ac-1321-427f-aa17-267ca6975798'))).toBe(true);
    expect(ok.stdout + ok.stderr).not.toContain(DEVOPS_TOKEN);
    expect(w.devops.world.agents.filter((a) => a.status === 'online')).toHaveLength(4);
  });

  it('--devops-auth pat without a PAT in CI: exit 2 naming AZURE_DEVOPS_EXT_PAT, before anything is created', async () => {
    const w = await world();
    const env = { ...w.env };
    delete env.AZURE_DEVOPS_EXT_PAT;
    const refused = await runCli(['init', '--yes', '--devops-auth', 'pat', ...w.args], { env, cwd: w.cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/personal access token is needed/);
    expect(refused.stderr).toContain('AZURE_DEVOPS_EXT_PAT');
    expect(w.devops.mutating()).toEqual([]);
    expect(w.az.mutatingCalls()).toEqual([]);
  });

  it('--run queues a run and follows it to the end, printing the result, its URL and a "model not better" tag; --no-wait returns at once', async () => {
    // The run's Train stage tags it model-not-better (the new model was not better).
    const w = await world({ devops: { runCompleteAfterPolls: 2, runTags: ['model-not-better'] } });
    const r = await runCli(['init', '--yes', '--run', '--json', ...w.args], { env: w.env, cwd: w.cwd });
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.run).toMatchObject({ state: 'completed', result: 'succeeded', url: expect.stringContaining('/_build/results?buildId=') });
    expect(r.stderr).toMatch(/Queued run .* of azdo-ci-build-train/);
    expect(r.stderr).toMatch(/completed: succeeded/);
    expect(r.stderr).toContain('(the new model was not better; nothing deployed: run tagged model-not-better)');

    const again = await runCli(['init', '--yes', '--run', '--no-wait', '--json', ...w.args], { env: w.env, cwd: w.cwd });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).run).toMatchObject({ state: expect.stringMatching(/inprogress|notstarted|unknown/i) });
    expect(w.devops.world.builds.length).toBe(2);
  });
});
