import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tfCalls } from '../fakes/fake-terraform.js';
import { runCli } from '../helpers/cli.js';
import { startWorld } from '../helpers/world.js';

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Ctrl-C during terraform apply', () => {
  it('forwards one SIGINT, terraform stops gracefully, exit 130 with a resume hint, state intact; a re-run finishes', async () => {
    const w = await startWorld({ env: { FIXTURE_APPLY_SLEEP: '60' } });
    const env = w.env;
    const ARGS = ['init', '--yes', ...w.args];
    let pid = 0;
    const run = runCli(ARGS, { env, cwd: w.cwd, onSpawn: (p) => (pid = p) });
    await waitFor(() => tfCalls(w.root).some((c) => c.argv[0] === 'apply'), 60_000);
    await new Promise((r) => setTimeout(r, 1500)); // let the slow resource start
    process.kill(pid, 'SIGINT');
    const r = await run;
    expect(r.code, r.stdout + r.stderr).toBe(130);
    expect(r.stderr).toContain('terraform stopped gracefully');
    expect(r.stderr).toContain('Re-run `azure-mlops init` to resume');
    const logs = join(w.cwd, '.azure-mlops', 'logs');
    const log = readdirSync(logs).map((f) => readFileSync(join(logs, f), 'utf8')).join('\n');
    expect(log).toMatch(/Interrupt received|Stopping operation|Gracefully shutting down/i);
    expect(log).not.toMatch(/Two interrupts received/i);
    expect(existsSync(join(w.cwd, '.azure-mlops', 'terraform', 'terraform.tfstate'))).toBe(true);
    // The state dir lock is released on this exit path too.
    expect(existsSync(join(w.cwd, '.azure-mlops', 'lock'))).toBe(false);
    expect(JSON.parse(readFileSync(join(w.cwd, '.azure-mlops', 'state.json'), 'utf8')).steps.terraform?.status).not.toBe('done');

    const again = await runCli(ARGS, { env: { ...env, FIXTURE_APPLY_SLEEP: '0' }, cwd: w.cwd });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(w.cwd, '.azure-mlops', 'state.json'), 'utf8')).steps.terraform.status).toBe('done');
    await w.stop();
  }, 120_000);
});
