import { createContext, type Base, type GlobalOptions } from '../engine/context.js';
import { GROUPS, GROUP_TITLES, runChecks, type DoctorCheck, type DoctorReport, type Group } from '../engine/doctor.js';
import { CancelledError, UsageError } from '../engine/errors.js';
import { PAT_ENV } from '../config/fields.js';
import type { AnswerKey } from '../config/fields.js';
import { symbols } from '../ui/colors.js';
import { doctorChecks, hasDevOpsCredential } from './doctor-checks.js';

export interface DoctorOptions extends GlobalOptions {
  answers: Partial<Record<AnswerKey, string | undefined>>;
  only?: string;
}

/** Version of the `doctor --json` document (README: "doctor --json"). Bumped on incompatible change. */
export const DOCTOR_JSON_VERSION = 1;

/** The checks of `--only <group>`, plus the checks they need (run, not shown). */
export function selectChecks(all: DoctorCheck[], only?: string): { run: DoctorCheck[]; shown: Set<string> } {
  if (!only) return { run: all, shown: new Set(all.map((c) => c.id)) };
  if (!(GROUPS as readonly string[]).includes(only)) throw new UsageError(`Unknown --only group '${only}'.`, `Use one of: ${GROUPS.join(', ')}.`);
  const byId = new Map(all.map((c) => [c.id, c]));
  const need = new Set<string>();
  const add = (id: string) => {
    if (need.has(id)) return;
    need.add(id);
    for (const d of byId.get(id)?.dependsOn ?? []) add(d);
  };
  for (const c of all) if (c.group === (only as Group)) add(c.id);
  return { run: all.filter((c) => need.has(c.id)), shown: new Set(all.filter((c) => c.group === only).map((c) => c.id)) };
}

/** Rejects with a CancelledError when `signal` aborts (Ctrl-C): an interrupted check is not a missing one. */
function cancelled(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const stop = () => reject(new CancelledError('Cancelled: doctor stopped before its checks finished (it changes nothing).'));
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
}

/**
 * `azure-mlops doctor`: is this environment ready (or set up)? Every check concurrently, a grouped
 * checklist with the fix for each gap. Changes nothing, never prompts (src/cli.ts runs it
 * non-interactive): without an Azure DevOps credential those checks are skipped, and the report is
 * not ok (exit 3). Ctrl-C stops it at once (CancelledError, exit 130).
 */
export async function runDoctor(opts: DoctorOptions, base: Base, signal: AbortSignal): Promise<DoctorReport & { version: number }> {
  const interrupted = cancelled(signal);
  interrupted.catch(() => undefined);
  const ctx = await Promise.race([createContext(base, { ...opts, nonInteractive: true }, { flags: opts.answers, required: [], signal }), interrupted]);
  const { run, shown } = selectChecks(doctorChecks(ctx), opts.only);
  const timeout = Number(ctx.env.AZURE_MLOPS_CHECK_TIMEOUT_MS) || undefined;
  const full = await Promise.race([runChecks(run, ctx, timeout), interrupted]);
  const checks = full.checks.filter((c) => shown.has(c.id));
  const summary = { ok: 0, warning: 0, missing: 0, skipped: 0 };
  for (const c of checks) summary[c.status]++;
  // Azure DevOps left unchecked for want of a credential is not a clean bill of health.
  const devopsUnchecked = full.checks.some((c) => c.id === 'devops.org' && c.status === 'skipped') && !hasDevOpsCredential(ctx);
  const report = { version: DOCTOR_JSON_VERSION, ok: summary.missing === 0 && !devopsUnchecked, checks, summary };

  const { c } = ctx.log;
  const mark = { ok: c.green(symbols.ok), missing: c.red(symbols.missing), warning: c.yellow(symbols.warning), skipped: c.dim(symbols.skipped) };
  for (const g of GROUPS) {
    const inGroup = checks.filter((x) => x.group === g);
    if (!inGroup.length) continue;
    ctx.log.info(c.bold(GROUP_TITLES[g]));
    for (const r of inGroup) {
      ctx.log.info(`  ${mark[r.status]} ${r.title}: ${r.status === 'skipped' ? c.dim(r.finding) : r.finding}`);
      if (r.fix && r.status !== 'ok') for (const line of r.fix.split('\n')) ctx.log.info(`      ${c.dim('fix:')} ${line}`);
    }
  }
  ctx.log.info('');
  const next = summary.missing > 0 ? ' — fix the missing ones and run azure-mlops init' : devopsUnchecked ? ` — Azure DevOps was not checked: set ${PAT_ENV} or use --pat-stdin` : '';
  ctx.log.info(`${summary.ok} ok, ${summary.warning} warning${summary.warning === 1 ? '' : 's'}, ${summary.missing} missing, ${summary.skipped} skipped${next}`);
  return report;
}
