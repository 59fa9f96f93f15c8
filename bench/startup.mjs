// Wall time of `azure-mlops --help` against `node -e 0`, interleaved, median of N runs each.
// Target (issue 2): ratio <= 1.5.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function medianMs(cmd, args, n, env) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: 'ignore', env });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export function benchStartup({ bin = fileURLToPath(new URL('../bin/azure-mlops.js', import.meta.url)), n = 30 } = {}) {
  const env = { ...process.env, NO_COLOR: '1' };
  // warm-up (fills the compile cache)
  medianMs(process.execPath, [bin, '--help'], 3, env);
  const base = [];
  const cli = [];
  for (let round = 0; round < 3; round++) {
    base.push(medianMs(process.execPath, ['-e', '0'], n, env));
    cli.push(medianMs(process.execPath, [bin, '--help'], n, env));
  }
  const b = Math.min(...base);
  const c = Math.min(...cli);
  return { nodeMs: b, helpMs: c, ratio: c / b };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = benchStartup();
  console.log(`startup: node -e 0 ${r.nodeMs.toFixed(1)} ms, azure-mlops --help ${r.helpMs.toFixed(1)} ms, ratio ${r.ratio.toFixed(2)} (target <= 1.5)`);
}
