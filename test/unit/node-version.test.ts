import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// `npm test` runs scripts/check-node.mjs first: on Node < 22.12 it says so instead of vitest crashing.
const SCRIPT = fileURLToPath(new URL('../../scripts/check-node.mjs', import.meta.url));
const OLD_NODE = '/usr/bin/node'; // Debian's node (20 on the machines this project runs on)
const oldVersion = existsSync(OLD_NODE) ? execFileSync(OLD_NODE, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim() : undefined;
const isOld = (v: string) => {
  const [a = 0, b = 0] = v.split('.').map(Number);
  return a < 22 || (a === 22 && b < 12);
};
const noOldNode = !oldVersion || !isOld(oldVersion);
if (noOldNode) console.warn(`[node-version] ${OLD_NODE} is ${oldVersion ?? 'missing'}, not older than 22.12: skipping the old-Node check`);

describe('npm test checks the Node version first', () => {
  it('package.json runs the check before the build and vitest', async () => {
    const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as { scripts: Record<string, string> };
    expect(pkg.scripts.test).toMatch(/^node scripts\/check-node\.mjs && /);
  });

  it('this Node passes silently', () => {
    const r = spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8' });
    expect([r.status, r.stderr]).toEqual([0, '']);
  });

  it.skipIf(noOldNode)(`${OLD_NODE} (older than 22.12) is told what is needed`, () => {
    const r = spawnSync(OLD_NODE, [SCRIPT], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(`Node >= 22.12 is needed (this is v${oldVersion}).`);
  });
});
