import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tfCalls } from '../fakes/fake-terraform.js';
import { runCli } from '../helpers/cli.js';
import { startWorld, type World } from '../helpers/world.js';
import { ALL_FLAGS, leftovers, readState, tfResources } from './helpers.js';

let w: World | undefined;
afterAll(async () => {
  await w?.stop();
});

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Ctrl-C during terraform destroy', () => {
  it('forwards one SIGINT, terraform stops gracefully, exit 130 with a resume hint, state intact; a re-run finishes', async () => {
    w = await startWorld();
    const init = await runCli(['init', '--yes', ...w.args], { env: w.env, cwd: w.cwd });
    expect(init.code, init.stderr).toBe(0);
    const tfBefore = tfCalls(w.root).length;

    let pid = 0;
    const run = runCli(['destroy', '--yes', ...ALL_FLAGS], { env: { ...w.env, FIXTURE_DESTROY_SLEEP: '60' }, cwd: w.cwd, onSpawn: (p) => (pid = p) });
    await waitFor(() => tfCalls(w!.root).slice(tfBefore).some((c) => c.argv[0] === 'apply' && c.argv.includes('tfplan-destroy')), 60_000);
    await new Promise((r) => setTimeout(r, 1500)); // let the slow destroy start
    const interrupted = Date.now();
    process.kill(pid, 'SIGINT');
    const r = await run;
    expect(Date.now() - interrupted).toBeLessThan(20_000);
    expect(r.code, r.stdout + r.stderr).toBe(130);
    expect(r.stderr).toContain('terraform stopped gracefully');
    expect(r.stderr).toContain('Re-run `azure-mlops destroy`');
    const logs = join(w.stateDir, 'logs');
    const log = readdirSync(logs).filter((f) => f.startsWith('destroy-')).map((f) => readFileSync(join(logs, f), 'utf8')).join('\n');
    expect(log).toMatch(/Interrupt received|Stopping operation|Gracefully shutting down/i);
    expect(log).not.toMatch(/Two interrupts received/i);
    expect(existsSync(join(w.stateDir, 'lock')), 'the state dir lock is released').toBe(false);

    // What came before terraform is gone and forgotten; terraform's record, state and outputs are intact.
    const st = readState(w);
    const kinds = st.resources.map((x: { kind: string }) => x.kind);
    expect(kinds).not.toContain('pipeline');
    expect(kinds).toContain('terraform-deployment');
    expect(kinds).toContain('agent-pool');
    expect(st.steps.terraform?.status).toBe('done');
    expect(st.outputs.workspace_name).toBe('aml-mlops01');
    expect(st.data.destroy.status).toBe('incomplete');
    expect(st.data.destroy.left.map((x: { kind: string }) => x.kind)).toContain('terraform-deployment');
    expect(tfResources(w)).toContain('terraform_data.aks');

    const again = await runCli(['destroy', '--yes', ...ALL_FLAGS], { env: w.env, cwd: w.cwd });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(leftovers(w)).toEqual([]);
    const done = readState(w);
    expect(done.data.destroy.status).toBe('done');
    // The record keeps what the interrupted run removed as well.
    expect(done.data.destroy.removed.map((x: { kind: string }) => x.kind)).toEqual(expect.arrayContaining(['pipeline', 'terraform-deployment', 'devops-project']));
    expect(done.steps.terraform).toBeUndefined();
  }, 120_000);
});
