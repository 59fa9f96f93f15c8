import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArmAdapter } from '../adapters/arm/index.js';
import { AzAdapter } from '../adapters/az.js';
import { DevOpsAdapter } from '../adapters/devops.js';
import { DevOpsCredential } from './devops-credential.js';
import { ProcessRunner, SECRET_ENV } from '../adapters/process.js';
import { SshAdapter } from '../adapters/ssh.js';
import { ToolsAdapter } from '../adapters/tools.js';
import { TerraformAdapter } from '../adapters/terraform.js';
import { PricesAdapter, PRICES_URL_ENV } from '../adapters/prices.js';
import { PAT_ENV, type AnswerKey } from '../config/fields.js';
import { resolveAnswers } from '../config/resolve.js';
import { colorEnabled } from '../ui/colors.js';
import { Logger } from '../ui/logger.js';
import { Ui } from '../ui/prompts.js';
import { Redactor } from '../ui/redact.js';
import { Secrets } from './secrets.js';
import { StateStore, STATE_FILE } from './state.js';
import type { Context, RunFlags } from './types.js';

/** The global options every command accepts (see src/cli.ts). */
export interface GlobalOptions {
  yes?: boolean;
  nonInteractive?: boolean;
  json?: boolean;
  config?: string;
  stateDir?: string;
  verbose?: boolean;
  color?: boolean;
  dryRun?: boolean;
  /** Read the Azure DevOps PAT from stdin. */
  patStdin?: boolean;
}

/** Where a command's output and input go; tests pass their own. */
export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export const defaultIo = (): Io => ({ stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() });

import { TOOL_VERSION } from './version.js';
export { TOOL_VERSION };

/** The installed package's root (holds terraform/, devops_pipelines/, templates/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'azure-mlops') return dir;
      } catch {
        // keep looking
      }
    }
    dir = dirname(dir);
  }
  throw new Error('cannot find the azure-mlops package root');
}

const truthy = (v: string | undefined) => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';

/** Non-interactive when --yes/--non-interactive, when CI is set, or stdin is not a TTY. */
export function isInteractive(opts: GlobalOptions, io: Io): boolean {
  return !opts.yes && !opts.nonInteractive && !truthy(io.env.CI) && Boolean(io.stdin.isTTY);
}


export interface Base {
  log: Logger;
  ui: Ui;
  redactor: Redactor;
  run: RunFlags;
  io: Io;
  proc: ProcessRunner;
  /** Created here so the Ctrl-C handler in cli.ts can see a running terraform. */
  terraform: TerraformAdapter;
}

/** Logger, UI, redactor and run flags: what even a failing argument parse needs. */
export function createBase(opts: GlobalOptions, io: Io = defaultIo()): Base {
  const redactor = new Redactor();
  for (const k of SECRET_ENV) redactor.add(io.env[k]);
  const json = Boolean(opts.json);
  const color = colorEnabled(json ? io.stderr : io.stdout, io.env, opts.color === false);
  const log = new Logger({ out: io.stdout, err: io.stderr, color, verbose: Boolean(opts.verbose), json, redactor });
  const interactive = isInteractive(opts, io);
  const ui = new Ui(interactive, log, Boolean(io.stderr.isTTY) && !json, io.stderr);
  const stateDir = resolve(io.cwd, opts.stateDir ?? io.env.AZURE_MLOPS_STATE_DIR ?? '.azure-mlops');
  const run: RunFlags = {
    dryRun: Boolean(opts.dryRun),
    yes: Boolean(opts.yes),
    interactive,
    json,
    verbose: Boolean(opts.verbose),
    stateDir,
    cwd: io.cwd,
    homeDir: io.env.HOME || homedir(),
    packageRoot: packageRoot(),
    toolVersion: TOOL_VERSION,
    runId: randomUUID(),
  };
  const proc = new ProcessRunner(log, redactor, io.env);
  return { log, ui, redactor, run, io, proc, terraform: new TerraformAdapter(proc, log, redactor) };
}

export interface ContextOptions {
  flags: Partial<Record<AnswerKey, string | number | undefined>>;
  required: readonly AnswerKey[];
  signal: AbortSignal;
}

/** Loads state, resolves answers (validating them) and wires the adapters. */
export async function createContext(base: Base, opts: GlobalOptions, co: ContextOptions): Promise<Context> {
  const { log, ui, redactor, run, io, proc } = base;
  const state = await StateStore.load(run.stateDir, run.toolVersion, redactor);
  const answers = await resolveAnswers({
    flags: co.flags,
    env: io.env,
    configFile: opts.config ?? (io.env.AZURE_MLOPS_CONFIG || undefined),
    saved: state.data.answers,
    stateFile: join(run.stateDir, STATE_FILE),
    required: co.required,
    interactive: run.interactive,
    ui,
  });
  // Timeouts for outside calls: generous defaults, tunable for slow networks (and for tests).
  const azTimeout = Number(io.env.AZURE_MLOPS_AZ_TIMEOUT_MS) || undefined;
  const httpTimeout = Number(io.env.AZURE_MLOPS_HTTP_TIMEOUT_MS) || undefined;
  const az = new AzAdapter(proc, 'az', azTimeout);
  const secrets = new Secrets(redactor, { env: io.env, patStdin: Boolean(opts.patStdin), stdin: io.stdin, ui });
  const devopsCredential = new DevOpsCredential({ answers, secrets, az, redactor });
  const devops = new DevOpsAdapter({
    orgUrl: answers.maybe('org') ?? '',
    log,
    ...(httpTimeout ? { timeoutMs: httpTimeout } : {}),
    signal: co.signal,
    auth: () => devopsCredential.auth(answers.maybe('org') ?? 'Azure DevOps'),
  });
  return {
    answers,
    state,
    log,
    ui,
    proc,
    az,
    arm: new ArmAdapter(az, { redactor, ...(httpTimeout ? { attemptTimeoutMs: httpTimeout } : {}) }),
    terraform: base.terraform,
    secrets,
    devops,
    devopsCredential,
    tools: new ToolsAdapter(proc),
    prices: new PricesAdapter({ endpoint: io.env[PRICES_URL_ENV] || undefined, onRequest: (url) => log.debug(`GET ${url}`) }),
    ssh: new SshAdapter(proc, run.homeDir),
    redactor,
    run,
    env: io.env,
    signal: co.signal,
  };
}
