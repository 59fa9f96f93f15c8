import type { Colors } from './colors.js';
import type { Change } from '../engine/types.js';
import { parseUnit, type CostEstimate } from '../config/cost.js';

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

const money = (n: number) => n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const price = (n: number) => n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 });
const UNIT_WORD: Record<string, string> = { hour: 'hour', day: 'day', month: 'month', gb: 'GB' };

/** "1 Hour" → "hour", "1/Month" → "month", "1 GB" → "GB" (what one unit price buys). */
function perUnit(unitOfMeasure: string): string {
  const unit = parseUnit(unitOfMeasure);
  return unit ? UNIT_WORD[unit.unit]! : unitOfMeasure;
}

/**
 * The cost estimate under the plan: the monthly total, one line per item (amount first), what rests
 * on an assumption, what is left out, and what kind of number it is.
 */
export function renderEstimate(e: CostEstimate, c: Colors): string[] {
  // "Prices shown in USD currency are Microsoft retail prices. Other non-USD prices returned by the
  // API are for your reference" (learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices).
  const basis = `${e.basis}${e.currency === 'USD' ? '' : `; Microsoft prices in USD, ${e.currency} prices are for reference`}`;
  if (e.unavailable || e.monthly === null) {
    const why = (e.unavailable ?? 'no item could be priced').replace(/\.+$/, '');
    return [`${c.bold('Cost estimate unavailable:')} ${why}. ${c.dim('(Nothing else depends on it; the plan goes on.)')}`];
  }
  const missing = e.items.filter((i) => i.monthly === null).length;
  const fetched = e.fetchedAt ? `prices fetched ${e.fetchedAt.slice(0, 16).replace('T', ' ')} UTC` : '';
  const lines = [
    `${c.bold('Cost estimate:')} ${missing ? 'at least ' : 'about '}${c.bold(`${money(e.monthly)} ${e.currency}`)} a month in ${e.region}` +
      c.dim(` (${e.hoursPerMonth} h; ${basis}; ${fetched}${missing ? `; ${missing} item${missing === 1 ? '' : 's'} without a price` : ''})`),
  ];
  const width = Math.max(...e.items.map((i) => (i.monthly === null ? 1 : money(i.monthly).length)));
  for (const i of e.items) {
    if (i.monthly === null || i.unitPrice === null || !i.unit) {
      lines.push(`    ${'?'.padStart(width)}  ${i.what}: ${i.sku} ${c.yellow(`— unavailable: ${i.unavailable ?? 'no price'}`)}`);
      continue;
    }
    // Nothing running at rest (the training cluster): its price per unit is the news, not "0 × 730 h".
    const idle = i.quantity === 0;
    const each = `${price(i.unitPrice)} ${e.currency}/${perUnit(i.unit)}${i.hours !== null && !idle ? ` × ${i.hours} h` : ''}`;
    const amount = idle ? i.sku : perUnit(i.unit) === 'GB' ? `${i.quantity} GB of ${i.sku}` : `${i.quantity} × ${i.sku}`;
    const extra = [i.note, i.assumption ? `assumed: ${i.assumption}` : undefined].filter(Boolean).join('; ');
    lines.push(`    ${money(i.monthly).padStart(width)}  ${i.what}: ${amount} at ${each}${extra ? c.dim(` — ${extra}`) : ''}`);
  }
  for (const n of e.notIncluded) lines.push(c.dim(`    not included: ${n}`));
  return lines;
}
