import type { Colors } from './colors.js';
import type { Change } from '../engine/types.js';

const verb: Record<Change['action'], (c: Colors) => string> = {
  create: (c) => c.green('+ create'),
  update: (c) => c.yellow('~ update'),
  delete: (c) => c.red('- delete'),
  run: (c) => c.cyan('> run'),
  set: (c) => c.yellow('~ set'),
  install: (c) => c.green('+ install'),
  manual: (c) => c.magenta('! you'),
};

/** Details shown per change in the plan (the exact commands are always shown in full). */
const MAX_DETAILS = 6;

/**
 * Plan lines: what each change does and, indented, a few details and the exact commands (secrets
 * already ***). `compact`: only what each change does (a step re-planned during the apply, whose
 * plan was shown before the question).
 */
export function renderChanges(changes: readonly Change[], c: Colors, opts: { compact?: boolean } = {}): string[] {
  const lines: string[] = [];
  for (const ch of changes) {
    lines.push(`    ${verb[ch.action](c)} ${ch.what}`);
    if (opts.compact) continue;
    const details = ch.details ?? [];
    for (const d of details.slice(0, MAX_DETAILS)) lines.push(`        ${c.dim(d)}`);
    if (details.length > MAX_DETAILS) lines.push(`        ${c.dim(`… ${details.length - MAX_DETAILS} more`)}`);
    for (const cmd of ch.commands ?? []) lines.push(`        ${c.dim('$')} ${cmd}`);
  }
  return lines;
}
