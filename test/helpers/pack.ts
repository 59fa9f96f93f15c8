import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './cli.js';

/**
 * `npm pack` the repo (dist must be built: `npm test` builds first) and install the tarball into a
 * fresh prefix, like `npx` would. Returns the installed bin and the tarball.
 */
export function packAndInstall(): { bin: string; tarball: string; prefix: string } {
  const out = mkdtempSync(join(tmpdir(), 'aml-pack-'));
  const npm = process.env.npm_execpath && process.env.npm_execpath.endsWith('.js') ? [process.execPath, process.env.npm_execpath] : ['npm'];
  const run = (args: string[], cwd: string) => execFileSync(npm[0]!, [...npm.slice(1), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });
  run(['pack', '--pack-destination', out, '--ignore-scripts'], REPO);
  const tarball = join(out, readdirSync(out).find((f) => f.endsWith('.tgz'))!);
  const prefix = join(out, 'install');
  run(['install', '--prefix', prefix, '--no-save', '--offline', tarball], out);
  return { bin: join(prefix, 'node_modules', 'azure-mlops', 'bin', 'azure-mlops.js'), tarball, prefix };
}
