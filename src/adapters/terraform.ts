import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { ExternalError } from '../engine/errors.js';
import type { Logger } from '../ui/logger.js';
import type { Redactor } from '../ui/redact.js';
import type { ProcessRunner } from './process.js';
import { formatCommand } from './process.js';

/**
 * Terraform, run as a child process with `-input=false` everywhere. Secrets travel only as
 * `TF_VAR_*` in the child's environment. Long commands (plan, apply, destroy) stream terraform's
 * machine-readable UI (`-json`) so the CLI can show which resource is being created and for how
 * long. Only stdout is parsed: terraform may print warnings on stderr (e.g. about the CLI config
 * file) and they must not break anything.
 *
 * Ctrl-C: terraform is started in its own process group, so the terminal's SIGINT reaches only
 * the CLI, which forwards exactly one SIGINT (terraform's graceful stop: it finishes the running
 * resource operations and writes its state). A second SIGINT would make terraform exit at once and
 * can corrupt state — the CLI warns instead of sending it.
 */

export interface TfEvent {
  '@level'?: string;
  '@message'?: string;
  type: string;
  hook?: { resource?: { addr?: string }; action?: string; elapsed_seconds?: number; id_key?: string; id_value?: string };
  changes?: { add: number; change: number; remove: number; import?: number; operation?: string };
  diagnostic?: { severity: string; summary: string; detail?: string; address?: string };
}

export const planSchema = z.object({
  resource_changes: z
    .array(z.object({ address: z.string(), type: z.string(), change: z.object({ actions: z.array(z.string()) }) }))
    .optional()
    .default([]),
  output_changes: z.record(z.string(), z.object({ actions: z.array(z.string()) })).optional(),
});
export type TfPlanJson = z.infer<typeof planSchema>;

export const outputsSchema = z.record(z.string(), z.object({ value: z.unknown(), type: z.unknown().optional(), sensitive: z.boolean().optional() }));

export interface TfRunResult {
  exitCode: number;
  events: TfEvent[];
  stderr: string;
  /** true when the run ended because we forwarded a SIGINT. */
  interrupted: boolean;
}

export class TerraformAdapter {
  /** The running streamed terraform child, if any (the CLI's Ctrl-C handler asks). */
  active: { command: string; kill: () => void } | undefined;

  constructor(
    private readonly proc: ProcessRunner,
    private readonly log: Logger,
    private readonly redactor: Redactor,
    readonly file = 'terraform',
  ) {}

  /** Environment for every terraform child: automation mode, no colour, plus the given vars. */
  private env(extra: Record<string, string | undefined>): Record<string, string | undefined> {
    return { TF_IN_AUTOMATION: '1', TF_INPUT: '0', CHECKPOINT_DISABLE: '1', ...extra };
  }

  /** Short commands: parsed result, errors carry terraform's error text (redacted). */
  async exec(args: string[], opts: { cwd: string; env?: Record<string, string | undefined>; okCodes?: number[] }): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const r = await this.proc.run(this.file, args, { cwd: opts.cwd, env: this.env(opts.env ?? {}) });
    if (!(opts.okCodes ?? [0]).includes(r.exitCode)) {
      throw new ExternalError(`terraform ${args[0]} failed (exit ${r.exitCode}): ${firstError(r.stderr + r.stdout)}`, { command: r.command, exitCode: r.exitCode, stderr: r.stderr });
    }
    return r;
  }

  async init(cwd: string, env: Record<string, string | undefined>, backendConfig: string[] = []): Promise<void> {
    await this.exec(['init', '-input=false', '-no-color', ...backendConfig.map((b) => `-backend-config=${b}`)], { cwd, env });
  }

  /** Command lines for plans/dry runs (exact, secrets already masked by formatCommand). */
  commandLine(args: string[]): string {
    return formatCommand(this.file, args, this.redactor);
  }

  /**
   * Streams a long command with `-json`. `onEvent` sees every event; the full output goes to the
   * log file. `signal` aborted -> one SIGINT to terraform, then wait for it to stop.
   */
  stream(args: string[], opts: { cwd: string; env: Record<string, string | undefined>; signal: AbortSignal; onEvent?: (e: TfEvent) => void }): Promise<TfRunResult> {
    this.proc.assertNoSecretInArgs(this.file, args);
    const command = formatCommand(this.file, args, this.redactor);
    this.log.debug(`$ ${command}`);
    this.proc.counts.set(this.file, (this.proc.counts.get(this.file) ?? 0) + 1);
    return new Promise((resolve, reject) => {
      const child = spawn(this.file, args, {
        cwd: opts.cwd,
        env: this.proc.env(this.env(opts.env)),
        stdio: ['ignore', 'pipe', 'pipe'],
        // Own process group: a Ctrl-C in the terminal reaches the CLI only; we forward one SIGINT.
        detached: true,
      });
      const events: TfEvent[] = [];
      let stderr = '';
      let interrupted = false;
      const onAbort = () => {
        if (interrupted || child.exitCode !== null) return;
        interrupted = true;
        this.log.warn(`Stopping terraform gracefully (one SIGINT sent); its state is kept. Waiting for it to finish the operations in progress...`);
        child.kill('SIGINT');
      };
      if (opts.signal.aborted) onAbort();
      else opts.signal.addEventListener('abort', onAbort, { once: true });
      this.active = { command, kill: () => child.kill('SIGKILL') };

      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        this.log.toFile(line);
        if (!line.startsWith('{')) return;
        try {
          const e = JSON.parse(line) as TfEvent;
          events.push(e);
          opts.onEvent?.(e);
        } catch {
          // not an event line
        }
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        this.log.toFile(d.toString());
      });
      child.on('error', (e) => {
        this.active = undefined;
        opts.signal.removeEventListener('abort', onAbort);
        const code = (e as NodeJS.ErrnoException).code;
        reject(new ExternalError(code === 'ENOENT' ? `${this.file} is not installed or not on PATH` : `cannot run terraform: ${e.message}`, { command }));
      });
      child.on('close', (code, sig) => {
        this.active = undefined;
        opts.signal.removeEventListener('abort', onAbort);
        lines.close();
        const exitCode = code ?? (sig ? 128 : 1);
        this.log.debug(`  exit ${exitCode}`);
        resolve({ exitCode, events, stderr: this.redactor.redact(stderr), interrupted });
      });
    });
  }

  async showPlan(cwd: string, planFile: string): Promise<TfPlanJson> {
    const r = await this.exec(['show', '-json', '-no-color', planFile], { cwd });
    return planSchema.parse(JSON.parse(r.stdout));
  }

  async outputs(cwd: string, env: Record<string, string | undefined> = {}): Promise<Record<string, unknown>> {
    const r = await this.exec(['output', '-json', '-no-color'], { cwd, env });
    const parsed = outputsSchema.parse(JSON.parse(r.stdout || '{}'));
    return Object.fromEntries(Object.entries(parsed).filter(([, o]) => !o.sensitive).map(([k, o]) => [k, o.value]));
  }
}

/** The first error diagnostic in terraform's text or JSON output, for a one-line message. */
export function firstError(text: string): string {
  for (const line of text.split('\n')) {
    if (line.startsWith('{')) {
      try {
        const e = JSON.parse(line) as TfEvent;
        if (e.diagnostic?.severity === 'error') return `${e.diagnostic.summary}${e.diagnostic.detail ? `: ${e.diagnostic.detail.split('\n')[0]}` : ''}`;
      } catch {
        // ignore
      }
    }
  }
  const m = text.match(/Error: ([^\n]+)(?:\n+([^\n]+))?/);
  if (m) return `${m[1]}${m[2] && !m[2].startsWith('│ ') ? '' : m[2] ? `: ${m[2].replace(/^│\s*/, '')}` : ''}`.trim();
  return text.trim().split('\n').filter((l) => l.trim() && !/warning/i.test(l)).slice(-1)[0] ?? 'no error message';
}

/** Error diagnostics of a streamed run, one line each. */
export function errorDiagnostics(events: TfEvent[]): string[] {
  return events
    .filter((e) => e.type === 'diagnostic' && e.diagnostic?.severity === 'error')
    .map((e) => `${e.diagnostic!.address ? `${e.diagnostic!.address}: ` : ''}${e.diagnostic!.summary}${e.diagnostic!.detail ? ` — ${e.diagnostic!.detail.split('\n')[0]}` : ''}`);
}
