import { CancelledError } from '../engine/errors.js';
import type { Logger } from './logger.js';

/**
 * Prompts and progress. Prompts are serialised (steps may run concurrently) and lazily import
 * @inquirer/prompts; Ctrl-C at a prompt becomes a CancelledError (exit 130). In non-interactive
 * mode asking is a bug: callers check `interactive` and raise a UsageError naming the flag instead.
 */
export interface Choice<T> {
  name: string;
  value: T;
  description?: string;
}

type Spinner = { text: string; start(): Spinner; stop(): Spinner; clear(): Spinner; render(): Spinner; isSpinning: boolean };

export class Ui {
  private lock: Promise<unknown> = Promise.resolve();
  private readonly active = new Map<number, { title: string; started: number }>();
  private nextId = 1;
  private spinner: Spinner | undefined;
  private ticker: NodeJS.Timeout | undefined;
  /** A prompt owns the terminal: no spinner, no timer, no log line until it closes. */
  private prompting = false;
  /**
   * Set by the engine while steps run concurrently: a question first waits until no other step is
   * running and none may start (a question is a barrier), then the returned function lets them go on.
   */
  barrier: (() => Promise<() => void>) | undefined;
  /** Set by the engine when it starts changing things (until then a cancel has changed nothing). */
  workStarted = false;

  constructor(
    readonly interactive: boolean,
    private readonly log: Logger,
    /** Spinners only on a TTY and never under --json. */
    private readonly spinners: boolean,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    log.beforeWrite = () => this.spinner?.isSpinning && this.spinner.clear();
    log.afterWrite = () => this.spinner?.isSpinning && this.spinner.render();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    // The barrier first, then the queue of questions: a step waiting here counts as asking, so two
    // steps asking during the apply never wait for each other.
    const barrier = this.barrier?.() ?? Promise.resolve(undefined);
    const run = Promise.all([barrier, this.lock]).then(async ([resume]) => {
      this.prompting = true;
      this.stopSpinner();
      this.log.hold();
      try {
        return await fn();
      } catch (e) {
        if (e instanceof Error && (e.name === 'ExitPromptError' || e.name === 'AbortPromptError')) {
          throw new CancelledError(this.workStarted ? 'Cancelled at the prompt (Ctrl-C).' : 'Cancelled (Ctrl-C): nothing was created or changed.');
        }
        throw e;
      } finally {
        this.prompting = false;
        this.log.release();
        if (this.active.size) void this.ensureSpinner();
        resume?.();
      }
    });
    this.lock = run.catch(() => undefined);
    return run;
  }

  private assertInteractive(what: string): void {
    if (!this.interactive) throw new Error(`internal: prompt "${what}" in non-interactive mode`);
  }

  confirm(message: string, defaultValue = true): Promise<boolean> {
    this.assertInteractive(message);
    return this.serial(async () => (await import('@inquirer/prompts')).confirm({ message, default: defaultValue }));
  }

  input(message: string, opts: { default?: string; validate?: (v: string) => true | string } = {}): Promise<string> {
    this.assertInteractive(message);
    return this.serial(async () =>
      (await import('@inquirer/prompts')).input({ message, ...(opts.default !== undefined ? { default: opts.default } : {}), ...(opts.validate ? { validate: opts.validate } : {}) }),
    );
  }

  password(message: string): Promise<string> {
    this.assertInteractive(message);
    return this.serial(async () => (await import('@inquirer/prompts')).password({ message, mask: '*', toggleMask: false }));
  }

  select<T>(message: string, choices: Choice<T>[], defaultValue?: T): Promise<T> {
    this.assertInteractive(message);
    return this.serial(async () =>
      (await import('@inquirer/prompts')).select<T>({ message, choices, ...(defaultValue !== undefined ? { default: defaultValue } : {}), pageSize: 12 }),
    );
  }

  /** Pick one of `options`; typing filters the list. The cursor starts on `defaultValue` when it is one of them. */
  search(message: string, options: readonly string[], defaultValue?: string): Promise<string> {
    this.assertInteractive(message);
    return this.serial(async () =>
      (await import('@inquirer/prompts')).search<string>({
        message,
        source: (term) => options.filter((o) => !term || o.includes(term.toLowerCase().replace(/\s+/g, ''))).map((o) => ({ name: o, value: o })),
        ...(defaultValue !== undefined && options.includes(defaultValue) ? { default: defaultValue } : {}),
      }),
    );
  }

  /**
   * Runs `fn` while showing `title`; a spinner appears only when it takes over a second and we are
   * on a TTY. Several tasks may run at once: the spinner line lists them with their elapsed time.
   */
  async task<T>(title: string, fn: (update: (title: string) => void) => Promise<T>): Promise<T> {
    const id = this.nextId++;
    this.active.set(id, { title, started: Date.now() });
    const update = (t: string) => {
      const a = this.active.get(id);
      if (a) a.title = t;
    };
    const showTimer = this.spinners ? setTimeout(() => void this.ensureSpinner(), 1000) : undefined;
    try {
      return await fn(update);
    } finally {
      if (showTimer) clearTimeout(showTimer);
      this.active.delete(id);
      if (this.active.size === 0) this.stopSpinner();
    }
  }

  private async ensureSpinner(): Promise<void> {
    if (!this.active.size || this.prompting) return;
    if (!this.spinner) {
      const { default: ora } = await import('ora');
      this.spinner = ora({ stream: this.stream, discardStdin: false }) as unknown as Spinner;
    }
    if (this.prompting || !this.active.size) return;
    this.renderText();
    if (!this.spinner.isSpinning) this.spinner.start();
    this.ticker ??= setInterval(() => this.renderText(), 1000);
    this.ticker.unref();
  }

  private renderText(): void {
    if (!this.spinner || this.prompting) return;
    const now = Date.now();
    this.spinner.text = [...this.active.values()].map((a) => `${a.title} (${formatDuration(now - a.started)})`).join(' · ');
  }

  /** Stops the spinner and its timer (a prompt opens, or nothing runs); ensureSpinner() brings them back. */
  private stopSpinner(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    this.spinner?.stop();
  }

  dispose(): void {
    this.stopSpinner();
  }
}

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(s % 60).padStart(2, '0')}s`;
}
