import { execa } from 'execa';
import { PAT_ENV } from '../config/fields.js';
import { ExternalError } from '../engine/errors.js';
import type { Logger } from '../ui/logger.js';
import type { Redactor } from '../ui/redact.js';

export interface RunOptions {
  /** Extra environment for the child (secrets go here, never into args). */
  env?: Record<string, string | undefined>;
  /** Written to the child's stdin (secrets may go here). */
  input?: string;
  cwd?: string;
  timeoutMs?: number;
  /** stdout carries a secret (e.g. a new client secret): never logged, not even redacted. */
  secretStdout?: boolean;
}

export interface RunResult {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** A command line for humans and logs: quoted, secrets masked. */
export function formatCommand(file: string, args: readonly string[], redactor?: Redactor): string {
  const quoted = [file, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
  return redactor ? redactor.redact(quoted) : quoted;
}

/**
 * Env vars that hold secrets wherever they come from: registered for redaction at start-up, and
 * never passed on to a child process.
 */
export const SECRET_ENV: readonly string[] = [PAT_ENV, 'ARM_CLIENT_SECRET', 'AZURE_CLIENT_SECRET', 'TF_VAR_devops_pat', 'SYSTEM_ACCESSTOKEN'];

/**
 * The only code that starts child processes (besides terraform streaming, which builds on it, and
 * runAttached below: both take their environment from env()).
 * Guarantees: a registered secret in argv is refused before spawning; children get only what they
 * need — the inherited environment without the secret env vars (SECRET_ENV) and without any
 * variable whose value holds a registered secret (the PAT under another name), so no child (az,
 * terraform, git, ssh-keygen: none needs one) sees the PAT; output reaching logs and errors is
 * redacted; every invocation is counted (benchmarks report the number of az processes).
 */
export class ProcessRunner {
  readonly counts = new Map<string, number>();

  constructor(
    private readonly log: Logger,
    private readonly redactor: Redactor,
    private readonly baseEnv: NodeJS.ProcessEnv = process.env,
    private readonly secretEnv: readonly string[] = SECRET_ENV,
  ) {}

  assertNoSecretInArgs(file: string, args: readonly string[]): void {
    const line = [file, ...args].join('\u0000');
    if (this.redactor.redact(line) !== line) {
      throw new Error(`refusing to pass a secret on the command line of ${file} (this is a bug in azure-mlops; please report it)`);
    }
  }

  /**
   * A child's environment: the inherited one scrubbed of secrets, plus `extra` (what the adapter
   * decided this child needs; a registered secret there is refused, as on a command line).
   */
  env(extra?: Record<string, string | undefined>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(this.baseEnv)) {
      if (v === undefined || this.secretEnv.includes(k) || this.redactor.redact(v) !== v) continue;
      env[k] = v;
    }
    for (const [k, v] of Object.entries(extra ?? {})) {
      if (v === undefined) delete env[k];
      else if (this.redactor.redact(v) !== v) throw new Error(`refusing to pass a secret in ${k} to a child process (this is a bug in azure-mlops; please report it)`);
      else env[k] = v;
    }
    return env;
  }

  async run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    this.assertNoSecretInArgs(file, args);
    const command = formatCommand(file, args, this.redactor);
    this.counts.set(file, (this.counts.get(file) ?? 0) + 1);
    this.log.debug(`$ ${command}`);
    const started = Date.now();
    const r = await execa(file, args, {
      env: this.env(opts.env),
      extendEnv: false,
      input: opts.input ?? '',
      cwd: opts.cwd,
      timeout: opts.timeoutMs,
      reject: false,
      stripFinalNewline: false,
      windowsHide: true,
      encoding: 'utf8',
    });
    const stdout = typeof r.stdout === 'string' ? r.stdout : '';
    const stderr = typeof r.stderr === 'string' ? r.stderr : '';
    const code = (r as { code?: string }).code;
    if (code === 'ENOENT') {
      throw new ExternalError(`${file} is not installed or not on PATH`, { command });
    }
    const exitCode = typeof r.exitCode === 'number' ? r.exitCode : r.timedOut ? 124 : 1;
    this.log.debug(`  exit ${exitCode} in ${Date.now() - started} ms${r.timedOut ? ' (timed out)' : ''}`);
    if (!opts.secretStdout && stdout) this.log.toFile(indent(stdout));
    if (stderr) this.log.toFile(indent(stderr));
    return { command, exitCode, stdout, stderr: this.redactor.redact(stderr), timedOut: Boolean(r.timedOut) };
  }
}

/** Runs a command attached to the user's terminal (az login, ssh-keygen): nothing is captured. */
export async function runAttached(runner: ProcessRunner, file: string, args: readonly string[]): Promise<number> {
  runner.assertNoSecretInArgs(file, args);
  const r = await execa(file, args, { stdio: 'inherit', reject: false, env: runner.env() , extendEnv: false });
  return typeof r.exitCode === 'number' ? r.exitCode : 1;
}

function indent(text: string): string {
  return text.replace(/\n$/, '').split('\n').map((l) => `  | ${l}`).join('\n');
}
