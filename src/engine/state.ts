import { randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileSafe } from '../adapters/safe-fs.js';
import { UUID_RE } from './deployment.js';
import { writeGitignore } from './state-dir.js';
import { UsageError } from './errors.js';
import type { Redactor } from '../ui/redact.js';

/**
 * `<state-dir>/state.json`: the answers, what each step found or created, terraform outputs.
 * Never a secret (every write is checked against the redactor), written atomically
 * (temp file + rename, never through a link) with mode 0600. The state dir gets a `.gitignore` of
 * `*` (src/engine/state-dir.ts).
 */

export const resourceSchema = z.object({
  kind: z.string(),
  id: z.string(),
  name: z.string(),
  /** false: it existed before; destroy keeps it. */
  createdByUs: z.boolean(),
  step: z.string(),
  /** When it was recorded; for an object a step created (createTracked), when its create call returned. */
  at: z.string(),
  /** Extra non-secret coordinates needed to find it again (project id, app id…). */
  meta: z.record(z.string(), z.string()).optional(),
});
export type ResourceRecord = z.infer<typeof resourceSchema>;

const stepRecordSchema = z.object({
  status: z.enum(['done', 'failed']),
  at: z.string(),
  summary: z.string().optional(),
});

export const stateSchema = z.object({
  version: z.literal(1),
  toolVersion: z.string(),
  /**
   * This state dir's deployment id (src/engine/deployment.ts), a random UUID made once: with the
   * file (or, for a file written before deployment ids, at its next save). Not a secret.
   */
  deploymentId: z.string().regex(UUID_RE, 'not a UUID').optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  answers: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  steps: z.record(z.string(), stepRecordSchema),
  /** Per-step data other steps read (ids, object ids, tenant…). */
  data: z.record(z.string(), z.record(z.string(), z.unknown())),
  resources: z.array(resourceSchema),
  outputs: z.record(z.string(), z.unknown()),
  history: z.array(z.object({ at: z.string(), event: z.string(), detail: z.string().optional() })),
});
export type StateData = z.infer<typeof stateSchema>;

export const STATE_FILE = 'state.json';

export function emptyState(toolVersion: string): StateData {
  const now = new Date().toISOString();
  return { version: 1, toolVersion, deploymentId: randomUUID(), createdAt: now, updatedAt: now, answers: {}, steps: {}, data: {}, resources: [], outputs: {}, history: [] };
}

export class StateStore {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private state: StateData,
    private readonly redactor: Redactor,
    /** false until the first save: doctor/plan never create the state dir. */
    private exists: boolean,
  ) {}

  static async load(dir: string, toolVersion: string, redactor: Redactor): Promise<StateStore> {
    const file = join(dir, STATE_FILE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new StateStore(dir, emptyState(toolVersion), redactor, false);
      throw new UsageError(`Cannot read ${file}: ${(e as Error).message}`, 'Fix its permissions, or pass another --state-dir (env AZURE_MLOPS_STATE_DIR).');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new UsageError(`${file} is not valid JSON.`, `Move it away (it will be recreated) or pass another --state-dir.`);
    }
    const result = stateSchema.safeParse(parsed);
    if (!result.success) {
      throw new UsageError(`${file} does not look like an azure-mlops state file (${result.error.issues[0]?.path.join('.')}: ${result.error.issues[0]?.message}).`, 'Move it away or pass another --state-dir.');
    }
    // A file from before deployment ids gets one now, written at its next save: a state dir that
    // created a deployment untagged still owns it (azure-preflight: its records say it created it).
    result.data.deploymentId ??= randomUUID();
    return new StateStore(dir, result.data, redactor, true);
  }

  get data(): Readonly<StateData> {
    return this.state;
  }

  /** This state dir's deployment id (with the azurerm backend the deployment's own is derived: see deploymentId in steps/deployment-values.ts). */
  get deploymentId(): string {
    return (this.state.deploymentId ??= randomUUID());
  }

  get persisted(): boolean {
    return this.exists;
  }

  stepData<T extends Record<string, unknown>>(step: string): Partial<T> {
    return { ...(this.state.data[step] ?? {}), ...(this.anticipated[step] ?? {}) } as Partial<T>;
  }

  /** Facts a step will have once applied (CheckResult.anticipated): memory only, until it is applied. */
  private anticipated: Record<string, Record<string, unknown>> = {};

  anticipate(step: string, values: Record<string, unknown>): void {
    this.anticipated[step] = { ...values };
  }

  async setStepData(step: string, values: Record<string, unknown>): Promise<void> {
    delete this.anticipated[step];
    this.state.data[step] = { ...(this.state.data[step] ?? {}), ...values };
    await this.save();
  }

  async markStep(step: string, status: 'done' | 'failed', summary?: string): Promise<void> {
    this.state.steps[step] = { status, at: new Date().toISOString(), ...(summary ? { summary } : {}) };
    await this.save();
  }

  async setAnswers(answers: Record<string, string | number | boolean | undefined>): Promise<void> {
    for (const [k, v] of Object.entries(answers)) if (v !== undefined) this.state.answers[k] = v;
    await this.save();
  }

  async setOutputs(outputs: Record<string, unknown>): Promise<void> {
    this.state.outputs = outputs;
    await this.save();
  }

  resource(kind: string, name?: string): ResourceRecord | undefined {
    return this.state.resources.find((r) => r.kind === kind && (name === undefined || r.name === name));
  }

  /** Records an object a step found or created (one record per kind+name; `createdByUs` is sticky). */
  async recordResource(r: Omit<ResourceRecord, 'at'> & { at?: string }): Promise<void> {
    const existing = this.state.resources.find((x) => x.kind === r.kind && x.name === r.name);
    if (existing) {
      if (r.id) existing.id = r.id;
      if (r.at) existing.at = r.at;
      existing.createdByUs = existing.createdByUs || r.createdByUs;
      const meta = { ...existing.meta, ...r.meta };
      // A real id settles an intent recorded before the create call.
      if (r.id && !r.meta?.pending) delete meta.pending;
      if (Object.keys(meta).length) existing.meta = meta;
      else delete existing.meta;
    } else {
      this.state.resources.push({ ...r, at: r.at ?? new Date().toISOString() });
    }
    await this.save();
  }

  async forgetResource(kind: string, name: string): Promise<void> {
    this.state.resources = this.state.resources.filter((x) => !(x.kind === kind && x.name === name));
    await this.save();
  }

  /** Forgets a step's status and data (destroy: everything the step created is gone). */
  async clearStep(step: string): Promise<void> {
    delete this.state.steps[step];
    delete this.state.data[step];
    await this.save();
  }

  async addHistory(event: string, detail?: string): Promise<void> {
    this.state.history.push({ at: new Date().toISOString(), event, ...(detail ? { detail } : {}) });
    await this.save();
  }

  /** Serialised, atomic, 0600. Refuses to write if a registered secret would land on disk. */
  save(): Promise<void> {
    const next = this.writing.then(() => this.write());
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async write(): Promise<void> {
    this.state.updatedAt = new Date().toISOString();
    await writeStateFile(this.dir, STATE_FILE, `${JSON.stringify(this.state, null, 2)}\n`, this.redactor, !this.exists);
    this.exists = true;
  }
}

/**
 * Writes a file of the state dir (state.json, the price cache…): refused if a registered secret
 * would land on disk; a temp file renamed over the name, mode 0600, never through a link (a file
 * that is a link is replaced, not followed). The commands prepare the dir first (0700, owned,
 * nothing loose: src/engine/state-dir.ts); the first write also makes sure of the .gitignore.
 */
export async function writeStateFile(dir: string, name: string, text: string, redactor: Redactor, first = false): Promise<void> {
  if (redactor.redact(text) !== text) {
    throw new Error(`refusing to write a secret into ${name} (this is a bug in azure-mlops; please report it)`);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (first) await writeGitignore(dir);
  await writeFileSafe(dir, join(dir, name), text, 0o600);
}
