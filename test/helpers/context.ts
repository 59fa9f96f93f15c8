import { PassThrough } from 'node:stream';
import { createBase, createContext, type GlobalOptions, type Io } from '../../src/engine/context.js';
import type { Context } from '../../src/engine/types.js';
import type { AnswerKey } from '../../src/config/fields.js';

export interface Captured {
  out: () => string;
  err: () => string;
  all: () => string;
}

function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  const s = new PassThrough();
  let text = '';
  s.on('data', (d) => (text += d));
  return { stream: s as unknown as NodeJS.WriteStream, text: () => text };
}

/** A real Context (real adapters) with captured output, for in-process step tests. */
export async function testContext(opts: {
  env: Record<string, string>;
  cwd: string;
  flags?: Partial<Record<AnswerKey, string>>;
  required?: AnswerKey[];
  global?: GlobalOptions;
}): Promise<{ ctx: Context; io: Captured }> {
  const out = sink();
  const err = sink();
  const stdin = new PassThrough() as unknown as NodeJS.ReadStream;
  const io: Io = { stdout: out.stream, stderr: err.stream, stdin, env: opts.env, cwd: opts.cwd };
  const global: GlobalOptions = { nonInteractive: true, ...opts.global };
  const base = createBase(global, io);
  const ctx = await createContext(base, global, { flags: opts.flags ?? {}, required: opts.required ?? [], signal: new AbortController().signal });
  return { ctx, io: { out: out.text, err: err.text, all: () => out.text() + err.text() } };
}
