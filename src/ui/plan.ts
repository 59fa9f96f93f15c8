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

/** Plan lines: what each change does and, indented, the exact commands (secrets already ***). */
export function renderChanges(changes: readonly Change[], c: Colors): string[] {
  const lines: string[] = [];
  for (const ch of changes) {
    lines.push(`    ${verb[ch.action](c)} ${ch.what}`);
    for (const d of ch.details ?? []) lines.push(`        ${c.dim(d)}`);
    for (const cmd of ch.commands ?? []) lines.push(`        ${c.dim('$')} ${cmd}`);
  }
  return lines;
}
