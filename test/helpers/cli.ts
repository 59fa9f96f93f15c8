import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(REPO, 'bin', 'azure-mlops.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A fresh HOME and working dir, like a new user's machine. */
export function tempWorld(prefix = 'aml-test-'): { home: string; cwd: string; root: string } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const home = join(root, 'home');
  const cwd = join(root, 'work');
  mkdirSync(join(home, '.ssh'), { recursive: true });
  mkdirSync(cwd, { recursive: true });
  return { home, cwd, root };
}

/** Env for running the CLI like CI would: no colour, CI=true, nothing from the developer's shell. */
export function baseEnv(home: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    CI: 'true',
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    AZURE_CONFIG_DIR: join(home, '.azure'),
    // No test reaches the network: the Retail Prices API defaults to a local port nothing should
    // listen on (refused at once); startWorld points it at the fake prices server.
    AZURE_MLOPS_PRICES_URL: 'http://127.0.0.1:9/api/retail/prices',
    // `--run` waits for a federated credential created moments ago to propagate (2 minutes by
    // default): not in tests, unless a test sets a window (test/integration/fic-propagation.test.ts).
    AZURE_MLOPS_FIC_PROPAGATION_MS: '0',
  };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs the CLI (the built bin by default) as a child process. */
export function runCli(
  args: string[],
  opts: { env: Record<string, string>; cwd: string; input?: string; bin?: string; onSpawn?: (pid: number) => void; timeoutMs?: number },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [opts.bin ?? BIN, ...args], { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (child.pid) opts.onSpawn?.(child.pid);
    child.stdin.end(opts.input ?? '');
  });
}
