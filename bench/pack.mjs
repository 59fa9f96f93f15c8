// Packed tarball size (target <= 2 MB) and the time from `npx <tarball> --help` to the help text.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));

export function benchPack() {
  const out = mkdtempSync(join(tmpdir(), 'aml-pack-bench-'));
  execFileSync('npm', ['pack', '--pack-destination', out, '--ignore-scripts', '--silent'], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = join(out, readdirSync(out).find((f) => f.endsWith('.tgz')));
  const size = statSync(tarball).size;
  const cache = join(out, 'npm-cache');
  const npx = (label) => {
    const t = Date.now();
    const r = spawnSync('npx', ['--yes', '--offline', `--cache=${cache}`, `--package=${tarball}`, 'azure-mlops', '--help'], { cwd: out, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
    if (r.status !== 0) throw new Error(`npx ${label} failed: ${r.stderr}`);
    return Date.now() - t;
  };
  const cold = npx('cold');
  const warm = npx('warm');
  return { size, coldMs: cold, warmMs: warm };
}
