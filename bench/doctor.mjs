// Doctor benchmark (issue 7): a deployed fake world where every outside call takes 200 ms — each
// az invocation, each Azure DevOps and ARM response, each terraform command. Prints doctor's wall
// time against its slowest single chain of dependent checks (target <= 1.5x: everything else runs
// concurrently) and how many az processes it started (target <= 3: version, cloud, token).
import { spawn } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadWorld } from './world.mjs';

const BIN = fileURLToPath(new URL('../bin/azure-mlops.js', import.meta.url));
const LATENCY = 200;

/** Runs the CLI without blocking this process, which serves the fakes. */
export function run(args, env, cwd) {
  return new Promise((resolve, reject) => {
    const t = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr, ms: Date.now() - t }));
  });
}

export async function benchDoctor() {
  const { startWorld } = await loadWorld();
  const w = await startWorld();
  try {
    const init = await run(['init', '--yes', ...w.args], w.env, w.cwd);
    if (init.status !== 0) throw new Error(`init failed: ${init.stderr}`);
    const azLog = w.env.FAKE_AZ_LOG;
    const before = existsSync(azLog) ? readFileSync(azLog, 'utf8').split('\n').filter(Boolean).length : 0;
    w.devops.setLatency(LATENCY);
    w.arm.latencyMs = LATENCY;
    const env = { ...w.env, FAKE_AZ_LATENCY_MS: String(LATENCY), TF_SHIM_LATENCY_MS: String(LATENCY) };
    const doctor = await run(['doctor', '--json'], env, w.cwd);
    const doc = JSON.parse(doctor.stdout);
    const azCalls = readFileSync(azLog, 'utf8').split('\n').filter(Boolean).slice(before).map((l) => JSON.parse(l).cmd);
    // Slowest chain: a check's own duration plus the slowest chain among the checks it needs.
    const deps = Object.fromEntries(doc.checks.map((c) => [c.id, c.needs]));
    const dur = new Map(doc.checks.map((c) => [c.id, c.durationMs]));
    const memo = new Map();
    const chain = (id) => {
      if (memo.has(id)) return memo.get(id);
      const v = (dur.get(id) ?? 0) + Math.max(0, ...(deps[id] ?? []).map(chain));
      memo.set(id, v);
      return v;
    };
    const slowest = Math.max(...doc.checks.map((c) => chain(c.id)));
    return { wallMs: doctor.ms, slowestChainMs: slowest, ratio: doctor.ms / slowest, azProcesses: azCalls.length, azCalls, exit: doctor.status };
  } finally {
    await w.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await benchDoctor();
  console.log(`doctor: ${r.wallMs} ms wall, slowest check chain ${r.slowestChainMs} ms, ratio ${r.ratio.toFixed(2)} (target <= 1.5); az processes ${r.azProcesses} (target <= 3): ${r.azCalls.join(', ')}`);
}
