import { closeSync, writeSync } from 'node:fs';
import { openNewFileSync } from '../adapters/safe-fs.js';
import { makeColors, symbols, type Colors } from './colors.js';
import type { Redactor } from './redact.js';

export interface LoggerOptions {
  /** Where human text goes: stdout normally, stderr under --json (stdout is then data only). */
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  color: boolean;
  verbose: boolean;
  /** --json: everything human goes to `err`. */
  json: boolean;
  redactor: Redactor;
}

/**
 * Human output. Every line goes through the redactor. Nothing else in the code base writes to
 * process.stdout/stderr directly (except the JSON result printed by cli.ts).
 */
export class Logger {
  readonly c: Colors;
  private logFd: number | undefined;
  /** Set by the spinner so log lines do not tear through it. */
  beforeWrite: (() => void) | undefined;
  afterWrite: (() => void) | undefined;
  /** Lines written while a prompt owns the terminal: shown when it closes (see hold()). */
  private held: Array<{ stream: NodeJS.WritableStream; text: string }> | undefined;

  constructor(readonly opts: LoggerOptions) {
    this.c = makeColors(opts.color);
  }

  get verbose(): boolean {
    return this.opts.verbose;
  }

  /**
   * Also append every line (uncoloured, redacted) to a new log file, e.g. <state-dir>/logs/init-….log:
   * created 0600 with O_EXCL | O_NOFOLLOW (an existing name, a link included, is never written
   * through; the run then goes on without a log file, saying so).
   */
  teeTo(file: string | undefined): void {
    if (this.logFd !== undefined) closeSync(this.logFd);
    this.logFd = undefined;
    if (!file) return;
    try {
      this.logFd = openNewFileSync(file, 0o600);
    } catch (e) {
      this.warn(`Cannot create the log file ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); this run is not logged to a file.`);
    }
  }

  /**
   * A prompt owns the terminal (inquirer redraws its question in place): from hold() until
   * release(), lines are kept (the log file still gets them at once) and printed after the prompt.
   */
  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const lines = this.held ?? [];
    this.held = undefined;
    for (const l of lines) this.emit(l.stream, l.text);
  }

  private write(stream: NodeJS.WritableStream, text: string): void {
    const clean = this.opts.redactor.redact(text);
    this.toFile(clean);
    if (this.held) this.held.push({ stream, text: clean });
    else this.emit(stream, clean);
  }

  private emit(stream: NodeJS.WritableStream, clean: string): void {
    this.beforeWrite?.();
    stream.write(clean.endsWith('\n') ? clean : `${clean}\n`);
    this.afterWrite?.();
  }

  /** Writes to the log file only (full command output, terraform logs…). */
  toFile(text: string): void {
    if (this.logFd === undefined) return;
    try {
      // eslint-disable-next-line no-control-regex
      const plain = this.opts.redactor.redact(text).replace(/\u001b\[[0-9;]*m/g, '');
      writeSync(this.logFd, plain.endsWith('\n') ? plain : `${plain}\n`);
    } catch {
      // a log file that cannot be written must not break the run
    }
  }

  private get human(): NodeJS.WritableStream {
    return this.opts.json ? this.opts.err : this.opts.out;
  }

  info(text: string): void {
    this.write(this.human, text);
  }
  success(text: string): void {
    this.write(this.human, `${this.c.green(symbols.ok)} ${text}`);
  }
  step(text: string): void {
    this.write(this.human, `${this.c.cyan(symbols.arrow)} ${text}`);
  }
  warn(text: string): void {
    this.write(this.opts.err, `${this.c.yellow(symbols.warning)} ${text}`);
  }
  error(text: string): void {
    this.write(this.opts.err, `${this.c.red(symbols.missing)} ${text}`);
  }
  /** A follow-up line to an error (the fix), on stderr like the error. */
  hint(text: string): void {
    this.write(this.opts.err, text);
  }
  /** Only with --verbose (always into the log file). */
  debug(text: string): void {
    if (this.opts.verbose) this.write(this.opts.err, this.c.dim(text));
    else this.toFile(text);
  }
}
