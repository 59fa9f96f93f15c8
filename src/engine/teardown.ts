import { join } from 'node:path';
import { AzError } from '../adapters/az.js';
import { CancelledError, CliError, UsageError } from './errors.js';
import type { ResourceRecord } from './state.js';
import type { Context, ResourceKind, Step, StepId } from './types.js';

/**
 * `azure-mlops destroy`, the generic part: it knows no step. Each step says what becomes of the
 * objects it recorded (its `teardown`); this runner asks the steps in the reverse of their order,
 * prints the one list (deletes in order, then what is kept and why), asks (the prefix typed, or
 * --yes), deletes in order, and keeps the records: each object confirmed gone is forgotten in state
 * with a history entry, so a failure leaves the state saying what is left and a re-run finishes.
 * Every delete is idempotent (already gone = done). Nothing is deleted that no record says
 * azure-mlops created.
 */

export interface TeardownOptions {
  dryRun: boolean;
  deleteRepo: boolean;
  deleteProject: boolean;
  deleteStateBackend: boolean;
}

export interface TeardownItem {
  kind: string;
  name: string;
  id: string;
  action: 'delete' | 'keep';
  /** keep: why; delete: what goes with it. */
  reason?: string;
}

export interface RemovedItem {
  kind: string;
  name: string;
  id: string;
  at: string;
}

export interface TeardownReport {
  ok: boolean;
  dryRun: boolean;
  /** The state dir records nothing azure-mlops created. */
  nothingToDo: boolean;
  plan: TeardownItem[];
  removed: RemovedItem[];
  kept: TeardownItem[];
  /** Deletions not done (after a failure; a re-run does them). */
  left: TeardownItem[];
  failed?: { kind: string; name: string; id: string; error: string; fix?: string };
  /** What a step's plan adds to the report (terraform: the addresses its destroy plan removes). */
  terraform?: { destroy: string[] };
}

/** What destroy leaves in `state.data.destroy` (no secret: kinds, names and ids only). */
interface DestroyRecord {
  at: string;
  status: 'in-progress' | 'done' | 'incomplete';
  removed: RemovedItem[];
  kept: TeardownItem[];
  left: TeardownItem[];
  error?: string | undefined;
}

/** How a delete ended: deleted now, already gone, or kept after all (with the reason). */
export type Outcome = 'deleted' | 'gone' | `kept: ${string}`;

export interface DeleteSpec {
  /** What goes with it, shown in the list. */
  reason?: string | undefined;
  /** State records this delete settles (forgotten once done); default: the object's own record. */
  records?: ResourceRecord[];
  /** Deletes idempotently: 'gone' when there was nothing left, 'kept: why' when it must not after all. */
  run: (a: DeleteAction) => Promise<Outcome>;
  /** Lines shown under it in the list (terraform shows its destroy plan). */
  show?: () => void;
  /** After it is gone (terraform: its outputs leave the state). */
  after?: () => Promise<void>;
  /** Steps forgotten with it, besides those whose records it settles. */
  forget?: StepId[];
}

export interface DeleteAction extends TeardownItem, Omit<DeleteSpec, 'records'> {
  action: 'delete';
  records: ResourceRecord[];
}

type Action = DeleteAction | (TeardownItem & { action: 'keep' });

export const PRE_EXISTING = 'it existed before azure-mlops: never deleted';
const RESUME = 'Re-run `azure-mlops destroy` to finish: what is already deleted counts as done.';

/**
 * What a step's teardown plan works with: its records, and the two verbs keep and del. Read-only
 * until the runner calls the deletes, in order, after the confirmation.
 */
export class TeardownKit {
  readonly actions: Action[] = [];
  /** Filled by a step's plan for the report (terraform). */
  readonly extra: Partial<Pick<TeardownReport, 'terraform'>> = {};

  constructor(
    readonly ctx: Context,
    readonly opts: TeardownOptions,
  ) {}

  /** What this state dir recorded of a kind (created by azure-mlops, or found). */
  records(kind: ResourceKind): ResourceRecord[] {
    return this.ctx.state.data.resources.filter((r) => r.kind === kind);
  }

  record(kind: ResourceKind): ResourceRecord | undefined {
    return this.records(kind)[0];
  }

  /**
   * The records of a kind; when there is none, the object init found already there, from the
   * owning step's data (a step whose check was satisfied at once records only its ids): listed as
   * not ours, so it is kept.
   */
  recordsOrFound(kind: ResourceKind, found: { step: StepId; name: string | undefined; id: unknown; meta?: Record<string, string> | undefined }): ResourceRecord[] {
    const recs = this.records(kind);
    if (recs.length || !found.name || found.id === undefined || found.id === null || found.id === '') return recs;
    return [{ kind, name: found.name, id: String(found.id), createdByUs: false, step: found.step, at: '', ...(found.meta ? { meta: found.meta } : {}) }];
  }

  /** Cleanup when the person cancels at the confirmation (a saved destroy plan). */
  onCancel(fn: () => Promise<void>): void {
    this.cancelHooks.push(fn);
  }

  readonly cancelHooks: Array<() => Promise<void>> = [];

  keep(r: Pick<ResourceRecord, 'kind' | 'name' | 'id'>, reason: string): void {
    this.actions.push({ kind: r.kind, name: r.name, id: r.id, action: 'keep', reason });
  }

  /** A delete. A record without id (its create was interrupted) is looked up by name when deleting. */
  del(r: Pick<ResourceRecord, 'kind' | 'name' | 'id'> & Partial<ResourceRecord>, spec: DeleteSpec): void {
    const records = spec.records ?? (r.step !== undefined ? [r as ResourceRecord] : []);
    let reason = spec.reason;
    if (!r.id) reason = `${reason ? `${reason}; ` : ''}its create was interrupted: found by name when deleting`;
    this.actions.push({ ...spec, kind: r.kind, name: r.name, id: r.id, action: 'delete', records, ...(reason ? { reason } : {}) });
  }

  /** The action's id, or the id of the object found by name; undefined = it does not exist. */
  async idOf(a: DeleteAction, find: () => Promise<string | number | undefined>): Promise<string | undefined> {
    if (a.id) return a.id;
    const found = await find();
    if (found === undefined || found === '') return undefined;
    a.id = String(found);
    return a.id;
  }

  // ---- the Azure DevOps project the objects live in (shared by every DevOps step) ------------

  /** The project an object lives in: its record's, else the answer. */
  projectOf(r: Pick<ResourceRecord, 'meta'>): string {
    return r.meta?.project ?? this.ctx.answers.get('project');
  }

  /** `meta` of an object found in the project (no project answer: none). */
  projectMeta(): Record<string, string> | undefined {
    const p = this.ctx.answers.maybe('project');
    return p ? { project: p } : undefined;
  }

  private get projectRecord(): ResourceRecord | undefined {
    return this.record('devops-project');
  }

  /** Nothing inside a project azure-mlops created can have existed before it. */
  inOurProject(r: Pick<ResourceRecord, 'meta'>): boolean {
    const p = this.projectRecord;
    return Boolean(p?.createdByUs && this.projectOf(r).toLowerCase() === p.name.toLowerCase());
  }

  /** --delete-project and the project is ours: everything in it goes with it. */
  get deletingProject(): boolean {
    return this.opts.deleteProject && this.projectRecord?.createdByUs === true;
  }
}

const itemOf = (a: TeardownItem): TeardownItem => ({ kind: a.kind, name: a.name, id: a.id, action: a.action, ...(a.reason ? { reason: a.reason } : {}) });

export async function teardown(ctx: Context, steps: readonly Step[], opts: TeardownOptions): Promise<TeardownReport> {
  const { log, state } = ctx;
  const { c } = log;
  const labels = new Map<string, string>();
  for (const s of steps) for (const [kind, label] of Object.entries(s.teardown?.owns ?? {})) labels.set(kind, label);
  const describe = (i: Pick<TeardownItem, 'kind' | 'name' | 'id'>) => `${labels.get(i.kind) ?? i.kind} '${i.name}'${i.id ? ` (${i.id})` : ''}`;

  if (!state.persisted || (state.data.resources.length === 0 && Object.keys(state.data.steps).length === 0)) {
    log.info(`Nothing to destroy: ${ctx.run.stateDir} records nothing that azure-mlops created.`);
    return { ok: true, dryRun: opts.dryRun, nothingToDo: true, plan: [], removed: [], kept: [], left: [] };
  }
  if (!opts.dryRun && !ctx.run.yes && !ctx.run.interactive) {
    throw new UsageError(
      'destroy deletes cloud resources and asks first, but this run is non-interactive (--non-interactive, CI is set, or stdin is not a terminal); nothing was deleted.',
      'Pass --yes to confirm; see first what would be deleted with `azure-mlops destroy --dry-run`.',
    );
  }

  const prefix = ctx.answers.get('prefix');
  log.info(c.bold(`azure-mlops destroy${opts.dryRun ? ' --dry-run' : ''}`) + c.dim(` — prefix ${prefix}, state dir ${ctx.run.stateDir}`));
  const previous = state.stepData<DestroyRecord & Record<string, unknown>>('destroy');

  // ---- the list: each step's part, in the reverse of the steps' order ----------------------
  const kit = new TeardownKit(ctx, opts);
  for (const s of [...steps].reverse()) await s.teardown?.plan(kit);
  const owned = new Set(labels.keys());
  for (const r of state.data.resources) if (!owned.has(r.kind)) kit.keep(r, 'destroy does not know this kind of object');
  const deletes = kit.actions.filter((a): a is DeleteAction => a.action === 'delete');
  const report: TeardownReport = {
    ok: true,
    dryRun: opts.dryRun,
    nothingToDo: false,
    plan: kit.actions.map(itemOf),
    removed: [],
    kept: kit.actions.filter((a) => a.action === 'keep').map(itemOf),
    left: deletes.map(itemOf),
    ...kit.extra,
  };

  log.info('');
  if (deletes.length) log.info(c.bold(`${opts.dryRun ? 'Would delete' : 'To delete'}, in this order (${deletes.length}):`));
  for (const a of deletes) {
    log.info(`  ${c.red('- delete')} ${describe(a)}${a.reason ? c.dim(` — ${a.reason}`) : ''}`);
    a.show?.();
  }
  if (report.kept.length) {
    log.info(c.bold(`Kept (${report.kept.length}):`));
    for (const k of report.kept) log.info(`  ${c.dim('= keep')}   ${describe(k)}${c.dim(` — ${k.reason ?? ''}`)}`);
  }

  if (opts.dryRun) {
    log.info('');
    log.info(`${c.bold('Dry run: nothing was changed.')} Run \`azure-mlops destroy\` to delete what is listed above.`);
    return report;
  }
  if (deletes.length === 0) {
    log.success('Nothing left to delete: everything azure-mlops created is gone.');
    return report;
  }
  if (!ctx.run.yes) {
    const typed = (await ctx.ui.input(`Type the prefix '${prefix}' to delete the ${deletes.length} object(s) above (anything else cancels)`)).trim();
    if (typed !== prefix) {
      for (const f of kit.cancelHooks) await f().catch(() => undefined);
      throw new CancelledError(`The prefix did not match ('${typed}' is not '${prefix}'); nothing was deleted.`, 'Run `azure-mlops destroy` again and type the prefix exactly, or look first with --dry-run.');
    }
  }
  ctx.ui.workStarted = true;

  // ---- act, in order --------------------------------------------------------------------------
  // An earlier destroy that did not finish: its removals stay in the record.
  const carried = previous.status === 'incomplete' || previous.status === 'in-progress' ? (previous.removed ?? []) : [];
  const save = (status: DestroyRecord['status'], error?: string) =>
    state.setStepData('destroy', { at: new Date().toISOString(), status, removed: [...carried, ...report.removed], kept: report.kept, left: report.left, error } satisfies DestroyRecord);
  await save('in-progress');
  await state.addHistory('destroy-started', `${deletes.length} to delete, ${report.kept.length} kept`);

  for (const a of deletes) {
    if (ctx.signal.aborted) {
      await save('incomplete', 'interrupted');
      throw new CancelledError(`Interrupted before deleting ${describe(a)}; nothing after it was touched.`, RESUME);
    }
    let outcome: Outcome;
    try {
      outcome = await ctx.ui.task(`deleting ${describe(a)}`, () => a.run(a));
    } catch (e) {
      const message = ctx.redactor.redact(e instanceof Error ? e.message : String(e));
      if (e instanceof CancelledError || ctx.signal.aborted) {
        await save('incomplete', message);
        throw e instanceof CancelledError ? new CancelledError(e.message, e.fix ?? RESUME) : new CancelledError(`Interrupted while deleting ${describe(a)}: ${message}`, RESUME);
      }
      const fix = fixFor(e);
      report.ok = false;
      report.failed = { kind: a.kind, name: a.name, id: a.id, error: message, ...(fix ? { fix } : {}) };
      await save('incomplete', `${describe(a)}: ${message}`);
      await state.addHistory('destroy-failed', `${a.kind} ${a.name} ${a.id}`.trim());
      log.error(`Could not delete ${describe(a)}: ${message}`);
      log.hint(`  ${c.bold('fix:')} ${fix ? `${fix} ` : 'Fix the cause. '}${RESUME}`);
      log.hint(`  ${c.bold('left:')} ${report.left.map(describe).join(', ')}`);
      return report;
    }
    report.left = report.left.filter((l) => !(l.kind === a.kind && l.name === a.name));
    if (outcome.startsWith('kept: ')) {
      const why = outcome.slice('kept: '.length);
      log.warn(`Kept ${describe(a)}: ${why}`);
      report.kept.push({ ...itemOf(a), action: 'keep', reason: why });
      continue;
    }
    const at = new Date().toISOString();
    const touched = new Set<string>(a.forget ?? []);
    // Something with no record that turned out to be gone already (an empty terraform state): nothing to note.
    const settled = a.records.length ? a.records : outcome === 'gone' ? [] : [{ kind: a.kind, name: a.name, id: a.id, step: '' } as ResourceRecord];
    // An intent whose create never happened (no id, nothing found by name): only the record goes.
    const neverCreated = outcome === 'gone' && !a.id && a.records.length > 0;
    for (const r of settled) {
      const id = r.kind === a.kind && r.name === a.name ? a.id || r.id : r.id;
      if (a.records.length) {
        await state.forgetResource(r.kind, r.name);
        touched.add(r.step);
      }
      if (neverCreated) {
        await state.addHistory('forgotten', `${r.kind} ${r.name}: its create was interrupted before it happened`);
        continue;
      }
      await state.addHistory('destroyed', `${r.kind} ${r.name} ${id}`.trim());
      report.removed.push({ kind: r.kind, name: r.name, id, at });
    }
    await a.after?.();
    // A step whose every object is gone is forgotten (status and data): init would create it again.
    for (const s of touched) if (s && !state.data.resources.some((r) => r.step === s) && (state.data.steps[s] || state.data.data[s])) await state.clearStep(s);
    log.success(`${neverCreated ? 'never created (only its record is forgotten)' : outcome === 'gone' ? 'already gone' : 'deleted'}: ${describe(a)}`);
  }

  await save('done');
  await state.addHistory('destroy-finished', `${report.removed.length} removed, ${report.kept.length} kept`);
  log.info('');
  log.success(
    c.bold(`Destroy finished: ${report.removed.length} object(s) removed${report.kept.length ? `, ${report.kept.length} kept (listed above)` : ''}.`) +
      c.dim(` What was removed and when: ${join(ctx.run.stateDir, 'state.json')} (data.destroy, history).`),
  );
  return report;
}

/** The fix of an outside failure: the error's own, or what to do for az's usual ones. */
function fixFor(e: unknown): string | undefined {
  if (e instanceof CliError) return e.fix;
  if (e instanceof AzError && e.kind === 'not-logged-in') return 'Sign in with `az login` (the account init used).';
  if (e instanceof AzError && e.kind === 'forbidden') return 'Your Azure account may not delete this object; ask its owner or an administrator.';
  return (e as { fix?: string } | null)?.fix;
}
