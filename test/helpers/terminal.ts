// The CLI in a real pseudo-terminal, rendered by a real terminal emulator: tests assert on the
// screen a person sees (DESIGN.md section 4, "The terminal"), not on the bytes written.
//   const term = terminalsPerTest();                 // at the top of a test file
//   const t = term(['init', ...world.args], { env: world.env, cwd: world.cwd });
//   await t.waitFor('Apply this plan?');  await t.press('ctrl-c');  expect((await t.exit).code).toBe(130);
import { createRequire } from 'node:module';
import type { IPty } from '@lydell/node-pty';
import type { Terminal as XTerm } from '@xterm/headless';
import { afterEach } from 'vitest';
import { BIN } from './cli.js';

// Both packages are CommonJS; require() keeps their named exports intact under any ESM interop.
const require = createRequire(import.meta.url);
const pty = require('@lydell/node-pty') as typeof import('@lydell/node-pty');
const { Terminal } = require('@xterm/headless') as typeof import('@xterm/headless');

export const COLS = 100;
export const ROWS = 30;

/** What a key sends. Arrows follow the terminal's cursor-key mode, as a real terminal's do. */
const KEYS = {
  enter: '\r',
  tab: '\t',
  backspace: '\x7f',
  escape: '\x1b',
  space: ' ',
  'ctrl-c': '\x03',
  'ctrl-d': '\x04',
  up: 'A',
  down: 'B',
  right: 'C',
  left: 'D',
} as const;
export type Key = keyof typeof KEYS;
const ARROWS = new Set<Key>(['up', 'down', 'right', 'left']);

export interface TerminalExit {
  /** The process's exit code (node-pty reports 0 with a signal when it was killed by one). */
  code: number;
  signal: number | undefined;
}

export interface TerminalSession {
  /** The visible screen: ROWS lines, each trimmed on the right, trailing empty lines dropped. */
  screen(): string;
  /** Everything printed so far that is still in the emulator (scrollback and screen), rows the terminal wrapped joined back into one line. */
  transcript(): string;
  /** The last non-empty line of the screen. */
  lastLine(): string;
  /** Resolves with the screen once it shows `what` (also matched with wrapped rows joined); rejects with the screen dumped after `timeoutMs`, or when the process ended without showing it. */
  waitFor(what: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Types text, as a person would (no Enter). */
  type(text: string): Promise<void>;
  press(key: Key): Promise<void>;
  /** Resolves when the process has ended and all its output is on the screen. */
  readonly exit: Promise<TerminalExit>;
  /** Kills the process (SIGKILL) if it still runs. */
  kill(): void;
  /** Kills the process and frees the pty and the emulator; safe to call twice. */
  dispose(): void;
}

export interface TerminalOptions {
  env: Record<string, string>;
  cwd: string;
  bin?: string;
  cols?: number;
  rows?: number;
}

/**
 * A person's terminal: the world's environment (fake az, terraform shim, ARM CA, ...) without what
 * makes the CLI behave like CI (`CI`, `NO_COLOR`, `FORCE_COLOR`), with an xterm TERM.
 */
export function personEnv(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = { ...env, TERM: 'xterm-256color', COLORTERM: 'truecolor' };
  for (const k of ['CI', 'NO_COLOR', 'FORCE_COLOR', 'COLUMNS', 'LINES']) delete out[k];
  return out;
}

/** Rows `from`..`to` of the buffer, trimmed right; with `unwrap`, a row the terminal wrapped is joined to the one before (one logical line). */
function renderLines(term: XTerm, from: number, to: number, unwrap = false): string[] {
  const buf = term.buffer.active;
  const rows: string[] = [];
  for (let i = from; i < to; i++) {
    const line = buf.getLine(i);
    const text = line?.translateToString(false) ?? '';
    if (unwrap && line?.isWrapped && rows.length > 0) rows[rows.length - 1] += text;
    else rows.push(text);
  }
  const lines = rows.map((r) => r.trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function describe(what: string | RegExp): string {
  return typeof what === 'string' ? JSON.stringify(what) : String(what);
}

/** Starts `azure-mlops <args>` (the built bin) in a pty of COLS x ROWS, as a person would. */
export function openTerminal(args: string[], opts: TerminalOptions): TerminalSession {
  const cols = opts.cols ?? COLS;
  const rows = opts.rows ?? ROWS;
  const term = new Terminal({ cols, rows, allowProposedApi: true, scrollback: 5000 });
  const child: IPty = pty.spawn(process.execPath, [opts.bin ?? BIN, ...args], {
    name: 'xterm-256color',
    cols,
    rows,
    cwd: opts.cwd,
    env: personEnv(opts.env),
  });

  let disposed = false;
  let ended = false;
  // xterm parses writes asynchronously: `flushed` resolves once every chunk received so far is rendered.
  let flushed: Promise<void> = Promise.resolve();
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of [...listeners]) l();
  };

  const onData = child.onData((data) => {
    if (disposed) return;
    flushed = new Promise<void>((resolve) => term.write(data, resolve)).then(notify);
  });
  // The terminal's answers to the program's queries (cursor position, device attributes) go back, as in a real one.
  const onReply = term.onData((reply) => {
    if (!disposed && !ended) child.write(reply);
  });

  const exit = new Promise<TerminalExit>((resolve) => {
    child.onExit(({ exitCode, signal }) => {
      ended = true;
      // node-pty emits exit after the pty's last data; wait for the emulator to render it.
      void flushed.then(() => {
        notify();
        resolve({ code: exitCode, signal: signal || undefined });
      });
    });
  });

  const screen = () => {
    const base = term.buffer.active.baseY;
    return renderLines(term, base, base + rows).join('\n');
  };
  const transcript = () => renderLines(term, 0, term.buffer.active.length, true).join('\n');
  const lastLine = () => screen().split('\n').filter((l) => l.trim() !== '').pop() ?? '';

  const waitFor = (what: string | RegExp, timeoutMs = 15_000): Promise<string> => {
    const test = (s: string) => (typeof what === 'string' ? s.includes(what) : what.test(s));
    const matches = () => {
      const s = screen();
      if (test(s)) return s;
      const base = term.buffer.active.baseY;
      return test(renderLines(term, base, base + rows, true).join('\n')) ? s : undefined;
    };
    return new Promise<string>((resolve, reject) => {
      let exitedCode: number | undefined;
      const finish = (err?: Error, s?: string) => {
        clearTimeout(timer);
        listeners.delete(check);
        if (err) reject(err);
        else resolve(s!);
      };
      const check = () => {
        const s = matches();
        if (s !== undefined) return finish(undefined, s);
        if (exitedCode !== undefined) finish(new Error(`the process exited (code ${exitedCode}) without showing ${describe(what)}. Screen:\n${frame(screen())}`));
      };
      const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${describe(what)}. Screen:\n${frame(screen())}`)), timeoutMs);
      listeners.add(check);
      void exit.then(({ code }) => {
        exitedCode = code;
        check();
      });
      // What is already written may already show it.
      void flushed.then(check);
    });
  };

  const send = async (data: string) => {
    if (ended) throw new Error(`cannot type ${JSON.stringify(data)}: the process has exited. Screen:\n${frame(screen())}`);
    child.write(data);
  };

  const kill = () => {
    if (ended) return;
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  };

  return {
    screen,
    transcript,
    lastLine,
    waitFor,
    type: (text) => send(text),
    press: (key) => {
      const k = KEYS[key];
      if (ARROWS.has(key)) return send(`${term.modes.applicationCursorKeysMode ? '\x1bO' : '\x1b['}${k}`);
      return send(k);
    },
    exit,
    kill,
    dispose: () => {
      if (disposed) return;
      kill();
      disposed = true;
      listeners.clear();
      onData.dispose();
      onReply.dispose();
      term.dispose();
    },
  };
}

/** A screen framed for an error message, so its blank lines and right edge show. */
export function frame(screen: string): string {
  return screen
    .split('\n')
    .map((l) => `  | ${l}`)
    .join('\n');
}

/** `openTerminal` whose sessions are all killed and disposed after each test of the calling file. */
export function terminalsPerTest(): (args: string[], opts: TerminalOptions) => TerminalSession {
  const open: TerminalSession[] = [];
  afterEach(async () => {
    const sessions = open.splice(0);
    for (const s of sessions) s.kill();
    // Let each pty close before freeing it, so no handle outlives the test.
    await Promise.all(sessions.map((s) => Promise.race([s.exit, new Promise((r) => setTimeout(r, 2000))])));
    for (const s of sessions) s.dispose();
  });
  return (args, opts) => {
    const s = openTerminal(args, opts);
    open.push(s);
    return s;
  };
}
