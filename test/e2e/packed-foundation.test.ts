import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { packAndInstall } from '../helpers/pack.js';
import { startWorld } from '../helpers/world.js';

let installed: ReturnType<typeof packAndInstall>;
beforeAll(() => {
  installed = packAndInstall();
}, 180_000);

describe('the packed CLI, installed from its tarball', () => {
  it('ships only bin, dist and the bundled folders, with no runtime dependencies', () => {
    const root = join(installed.prefix, 'node_modules', 'azure-mlops');
    const top = readdirSync(root).sort();
    for (const f of top) expect(['README.md', 'LICENSE', 'package.json', 'bin', 'dist', 'terraform', 'devops_pipelines', 'templates']).toContain(f);
    expect(readdirSync(join(installed.prefix, 'node_modules')).filter((d) => !d.startsWith('.'))).toEqual(['azure-mlops']);
    expect(statSync(installed.tarball).size).toBeLessThan(2 * 1024 * 1024);
  });

  it('--help, plan --non-interactive and doctor --json run against the fake world', async () => {
    const w = await startWorld();
    const { az, env } = w;
    const help = await runCli(['--help'], { env, cwd: w.cwd, bin: installed.bin });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: azure-mlops');

    const plan = await runCli(['plan', '--non-interactive', ...w.args], { env, cwd: w.cwd, bin: installed.bin });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('Dry run: nothing was changed');
    expect(az.mutatingCalls()).toEqual([]);

    expect(az.mutatingCalls()).toEqual([]);
    expect(w.devops.mutating()).toEqual([]);

    // Nothing deployed yet: doctor finds what is missing (exit 3) and says how to fix it.
    const doctor = await runCli(['doctor', '--json', ...w.args], { env, cwd: w.cwd, bin: installed.bin });
    expect(doctor.code, doctor.stderr).toBe(3);
    const doc = JSON.parse(doctor.stdout);
    expect(doc.checks.map((c: { id: string; status: string }) => [c.id, c.status])).toContainEqual(['azure.login', 'ok']);
    expect(doc.checks.find((c: { id: string }) => c.id === 'devops.project')).toMatchObject({ status: 'missing', fix: expect.stringContaining('azure-mlops init') });
    await w.stop();
  });
});
