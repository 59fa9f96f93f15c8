import { createContext, type Base, type GlobalOptions } from '../engine/context.js';
import { checkAll, type DoctorReport } from '../engine/doctor.js';
import type { AnswerKey } from '../config/fields.js';
import { steps } from '../steps/index.js';
import { symbols } from '../ui/colors.js';

export interface DoctorOptions extends GlobalOptions {
  answers: Partial<Record<AnswerKey, string | undefined>>;
}

/**
 * `azure-mlops doctor`: every step's read-only check, concurrently; a checklist with the fix for
 * each gap. Changes nothing and never prompts.
 */
export async function runDoctor(opts: DoctorOptions, base: Base, signal: AbortSignal): Promise<DoctorReport> {
  const ctx = await createContext(base, opts, { flags: opts.answers, required: [], signal });
  const report = await checkAll(steps, ctx);
  const { c } = ctx.log;
  const mark = { ok: c.green(symbols.ok), missing: c.red(symbols.missing), warning: c.yellow(symbols.warning), skipped: c.dim(symbols.skipped) };
  for (const r of report.checks) {
    ctx.log.info(`${mark[r.status]} ${r.title}: ${r.summary}`);
    if (r.fix && r.status !== 'ok') for (const line of r.fix.split('\n')) ctx.log.info(`    ${c.dim('fix:')} ${line}`);
  }
  const n = report.counts;
  ctx.log.info('');
  ctx.log.info(`${n.ok} ok, ${n.warning} warning${n.warning === 1 ? '' : 's'}, ${n.missing} missing, ${n.skipped} skipped`);
  return report;
}
