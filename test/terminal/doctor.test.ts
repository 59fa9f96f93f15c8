import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startWorld, worldsPerTest, type World } from '../helpers/world.js';
import { terminalsPerTest } from '../helpers/terminal.js';

// doctor in a person's terminal (a pty, no CI, no NO_COLOR): it never prompts, and Ctrl-C is a cancel.
const term = terminalsPerTest();
const world = worldsPerTest();

async function until(what: string, ok: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('doctor in a terminal', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
    const r = await runCli(['init', '--yes', ...w.args], { env: w.env, cwd: w.cwd });
    if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`);
  }, 120_000);
  afterAll(async () => w?.stop());

  it('--devops-auth pat without a PAT: no prompt; the Azure DevOps checks are skipped naming AZURE_DEVOPS_EXT_PAT / --pat-stdin; exit 3', async () => {
    const env: Record<string, string> = { ...w.env, AZURE_MLOPS_DEVOPS_AUTH: 'pat' };
    delete env.AZURE_DEVOPS_EXT_PAT;
    w.devops.clearRequests();
    const t = term(['doctor'], { env, cwd: w.cwd });
    // It ends by itself with its summary: nothing waits for an answer.
    await t.waitFor(/\d+ ok, \d+ warnings?, \d+ missing, \d+ skipped/, 30_000);
    const { code } = await t.exit;
    const all = t.transcript();
    expect(all).not.toMatch(/personal access token|^\? /im);
    expect(all).toMatch(/Azure DevOps organization and credential: skipped: no Azure DevOps credential \(--devops-auth pat, but AZURE_DEVOPS_EXT_PAT is not set and --pat-stdin was not given\)/);
    expect(all).toMatch(/fix: Set AZURE_DEVOPS_EXT_PAT or pipe the PAT to --pat-stdin/);
    expect(all).toMatch(/Azure DevOps project: skipped: needs Azure DevOps organization and credential first/);
    expect(all.split('\n').pop()).toMatch(/\d+ ok, \d+ warnings?, 0 missing, \d+ skipped — Azure DevOps was not checked: set AZURE_DEVOPS_EXT_PAT or use --pat-stdin$/);
    expect(code).toBe(3);
    // Azure DevOps was not called at all.
    expect(w.devops.requests).toEqual([]);
  });

  it('with the PAT in AZURE_DEVOPS_EXT_PAT: every check runs, exit 0', async () => {
    const t = term(['doctor'], { env: w.env, cwd: w.cwd });
    const { code } = await t.exit;
    expect(t.lastLine()).toMatch(/\d+ ok, 1 warning, 0 missing, 0 skipped$/);
    expect(code).toBe(0);
  });
});

describe('Ctrl-C during doctor', () => {
  it('exits 130 saying Cancelled — not a missing check advising init', async () => {
    const w = await world();
    w.devops.failAt(1, 'timeout'); // connectionData is never answered: doctor is busy when Ctrl-C comes
    const t = term(['doctor', ...w.args], { env: w.env, cwd: w.cwd });
    await until('doctor to call Azure DevOps', () => w.devops.requests.some((r) => /connectionData/i.test(r.path)));
    await t.press('ctrl-c');
    await t.waitFor('Cancelled', 10_000); // at once: not after the hanging check's 60 s timeout
    const { code } = await t.exit;
    const all = t.transcript();
    expect(t.lastLine()).toMatch(/Cancelled/);
    expect(all).not.toMatch(/could not check|run azure-mlops init|missing/);
    expect(code).toBe(130);
  });
});
