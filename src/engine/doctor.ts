import { CliError } from './errors.js';
import { walk } from './runner.js';
import type { CheckResult, CheckStatus, Context, Step } from './types.js';

/**
 * The doctor's runner: every check at once (a check waits only for the checks it needs), each with
 * its own timeout. A check whose prerequisite is not ok is `skipped` with the reason; one that needs
 * an answer nobody gave is `skipped` naming the flag; one that throws or times out is `missing`
 * with the error — a slow or failing service marks its checks and never hangs the doctor.
 */
export const GROUPS = ['local', 'azure', 'devops', 'deployment'] as const;
export type Group = (typeof GROUPS)[number];
export const GROUP_TITLES: Record<Group, string> = { local: 'Local', azure: 'Azure', devops: 'Azure DevOps', deployment: 'Deployment' };

export interface DoctorCheck {
  id: string;
  group: Group;
  title: string;
  dependsOn: readonly string[];
  /** Its finding (a step's check may carry facts: the doctor shows status, summary and fix only). */
  run(ctx: Context): Promise<CheckResult<unknown>>;
}

export interface CheckReport {
  id: string;
  group: Group;
  title: string;
  status: CheckStatus;
  finding: string;
  fix?: string;
  /** The checks this one needs (it is skipped when one of them is not ok). */
  needs: string[];
  durationMs: number;
}

export interface DoctorReport {
  ok: boolean;
  checks: CheckReport[];
  summary: Record<CheckStatus, number>;
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

/** A step's read-only check as a doctor check. */
export function fromStep(step: Step, id: string, group: Group, dependsOn: readonly string[] = []): DoctorCheck {
  return {
    id,
    group,
    title: step.title,
    dependsOn,
    run: async (ctx) => {
      const r = await step.check(ctx);
      // A gap a step fixes by itself: the fix is to let it.
      return r.status === 'missing' && !r.fix ? { ...r, fix: `Run \`azure-mlops init\`: its "${step.title}" step (${step.id}) does this.` } : r;
    },
  };
}

export async function runChecks(checks: readonly DoctorCheck[], ctx: Context, timeoutMs = CHECK_TIMEOUT_MS): Promise<DoctorReport> {
  const results = new Map<string, CheckReport>();
  const titles = new Map(checks.map((c) => [c.id, c.title]));
  await walk(checks, async (check, depsOk, waitingFor) => {
    const started = Date.now();
    const base = { id: check.id, group: check.group, title: check.title, needs: [...check.dependsOn] };
    let r: Omit<CheckReport, 'durationMs'>;
    if (!depsOk) {
      r = { ...base, status: 'skipped', finding: `skipped: needs ${waitingFor.map((d) => titles.get(d) ?? d).join(', ')} first` };
    } else {
      try {
        const c = await withTimeout(check.run(ctx), timeoutMs, check.title);
        r = { ...base, status: c.status, finding: c.summary, ...(c.fix ? { fix: c.fix } : {}) };
      } catch (e) {
        const message = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
        const fix = (e as { fix?: unknown })?.fix;
        r = e instanceof CliError && e.exitCode === 2
          ? { ...base, status: 'skipped', finding: `skipped: ${message}`, ...(typeof fix === 'string' ? { fix } : {}) }
          : { ...base, status: 'missing', finding: `could not check: ${message}`, ...(typeof fix === 'string' ? { fix } : {}) };
      }
    }
    results.set(check.id, { ...r, durationMs: Date.now() - started });
    return r.status === 'ok' || r.status === 'warning';
  });
  const list = checks.map((c) => results.get(c.id)!).filter(Boolean);
  const summary: Record<CheckStatus, number> = { ok: 0, missing: 0, warning: 0, skipped: 0 };
  for (const c of list) summary[c.status]++;
  return { ok: summary.missing === 0, checks: list, summary };
}
