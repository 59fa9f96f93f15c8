import { CliError } from './errors.js';
import { walk } from './runner.js';
import type { CheckStatus, Context, Step } from './types.js';

export interface CheckReport {
  id: string;
  title: string;
  status: CheckStatus;
  summary: string;
  fix?: string;
  durationMs: number;
}

export interface DoctorReport {
  ok: boolean;
  checks: CheckReport[];
  counts: Record<CheckStatus, number>;
}

export const CHECK_TIMEOUT_MS = 60_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${Math.round(ms / 1000)} s`)), ms);
      timer.unref();
    }),
  ]);
}

/**
 * Runs every check concurrently (respecting dependencies). A check whose prerequisite is not ok is
 * `skipped` with the reason; a check that needs an answer nobody gave is `skipped` naming the
 * flag; a check that throws or times out is `missing` with the error.
 */
export async function checkAll(steps: readonly Step[], ctx: Context, timeoutMs = CHECK_TIMEOUT_MS): Promise<DoctorReport> {
  const results = new Map<string, CheckReport>();
  const titles = new Map(steps.map((s) => [s.id, s.title]));
  await walk(steps, async (step, depsOk, waitingFor) => {
    const started = Date.now();
    let r: Omit<CheckReport, 'durationMs'>;
    if (!depsOk) {
      r = { id: step.id, title: step.title, status: 'skipped', summary: `skipped: needs ${waitingFor.map((d) => titles.get(d) ?? d).join(', ')} first` };
    } else {
      try {
        const c = await withTimeout(step.check(ctx), timeoutMs, step.title);
        r = { id: step.id, title: step.title, status: c.status, summary: c.summary, ...(c.fix ? { fix: c.fix } : {}) };
      } catch (e) {
        if (e instanceof CliError && e.exitCode === 2) {
          r = { id: step.id, title: step.title, status: 'skipped', summary: `skipped: ${e.message.split('\n')[0]}`, ...(e.fix ? { fix: e.fix } : {}) };
        } else {
          r = { id: step.id, title: step.title, status: 'missing', summary: `could not check: ${e instanceof Error ? e.message : String(e)}`, ...(e instanceof CliError && e.fix ? { fix: e.fix } : {}) };
        }
      }
    }
    results.set(step.id, { ...r, durationMs: Date.now() - started });
    return r.status === 'ok' || r.status === 'warning';
  });
  const checks = steps.map((s) => results.get(s.id)!).filter(Boolean);
  const counts: Record<CheckStatus, number> = { ok: 0, missing: 0, warning: 0, skipped: 0 };
  for (const c of checks) counts[c.status]++;
  return { ok: counts.missing === 0, checks, counts };
}
