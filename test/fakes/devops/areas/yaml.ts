// Reads a pipeline's YAML from the fake repo the way the service compiles it, far enough to know
// its stages/jobs, the pools they run on, the variable groups and the service connections it uses
// (the resources a run must be authorized for). Supported: `variables` lists and maps, variable
// templates, `group:`, stage/job/step templates with parameters (paths relative to the including
// file, `/x` from the repo root), `${{ variables.X }}` / `${{ parameters.X }}` expressions,
// `${{ if ... }}:` blocks (taken as true; `else`/`elseif` blocks dropped) and `$(X)` macros in
// service-connection inputs (resolved from YAML variables and the plain values of the groups).
import { parse } from 'yaml';
import type { PlannedStage } from '../types.js';

export interface UsedEndpoint {
  name: string;
  job: string;
  step: string;
  input: string;
}

export interface PipelineAnalysis {
  stages: PlannedStage[];
  groups: string[];
  endpoints: UsedEndpoint[];
  /** Compile errors (missing file, missing template, bad YAML): the run is refused with 400. */
  errors: string[];
}

const ENDPOINT_INPUTS = new Set([
  'azuresubscription',
  'connectedservicename',
  'connectedservicenamearm',
  'azureresourcemanagerconnection',
  'serviceconnection',
  'azureserviceconnection',
  'kubernetesserviceconnection',
  'kubernetesserviceendpoint',
  'dockerregistryserviceconnection',
  'externalendpoint',
  'environmentservicename',
  'environmentservicenameazurerm',
  'backendservicearm',
]);

type Json = Record<string, unknown>;

interface Ctx {
  file: string;
  variables: Map<string, string>;
  parameters: Record<string, unknown>;
}

function isObj(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function lookup(map: Map<string, string>, name: string): string | undefined {
  for (const [k, v] of map) if (k.toLowerCase() === name.toLowerCase()) return v;
  return undefined;
}

/** Evaluates `${{ ... }}` in a scalar; a whole-string expression may yield a non-string. */
function evalExpr(v: unknown, ctx: Ctx): unknown {
  if (typeof v !== 'string') return v;
  const ref = (expr: string): unknown => {
    const m = /^\s*(variables|parameters)(?:\.([A-Za-z0-9_.-]+)|\[\s*'([^']+)'\s*\])\s*$/.exec(expr);
    if (!m) return undefined;
    const name = m[2] ?? m[3] ?? '';
    if (m[1] === 'variables') return lookup(ctx.variables, name);
    const key = Object.keys(ctx.parameters).find((k) => k.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : ctx.parameters[key];
  };
  const whole = /^\s*\$\{\{(.*)\}\}\s*$/s.exec(v);
  if (whole && !whole[1]?.includes('}}')) {
    const r = ref(whole[1] ?? '');
    return r === undefined ? v : r;
  }
  return v.replace(/\$\{\{(.*?)\}\}/g, (all, expr: string) => {
    const r = ref(expr);
    return r === undefined || typeof r === 'object' ? all : String(r);
  });
}

export function resolvePath(from: string, ref: string): string {
  const clean = ref.split('@')[0] ?? ref;
  const parts = clean.startsWith('/') ? [] : from.split('/').slice(0, -1);
  for (const seg of clean.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return `/${parts.filter((p) => p !== '').join('/')}`;
}

export class PipelineReader {
  private readonly errors: string[] = [];
  private readonly groups: string[] = [];
  private readonly endpoints: UsedEndpoint[] = [];
  /** Variables for `$(X)` macros: YAML variables, then group values, in order. */
  private readonly runtime = new Map<string, string>();

  constructor(
    private readonly read: (path: string) => string | undefined,
    private readonly groupValues: (name: string) => Record<string, string> | undefined,
    private readonly where: string,
  ) {}

  private load(path: string): Json | undefined {
    const text = this.read(path);
    if (text === undefined) {
      this.errors.push(`${path}: File ${path} not found in repository ${this.where}.`);
      return undefined;
    }
    try {
      const doc: unknown = parse(text);
      return isObj(doc) ? doc : {};
    } catch (e) {
      this.errors.push(`${path}: ${(e as Error).message.split('\n')[0] ?? 'invalid YAML'}`);
      return undefined;
    }
  }

  private declaredParameters(doc: Json, passed: Json, ctx: Ctx | undefined): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const decl = doc['parameters'];
    if (Array.isArray(decl)) {
      for (const p of decl) if (isObj(p) && typeof p['name'] === 'string') out[p['name']] = p['default'];
    } else if (isObj(decl)) {
      Object.assign(out, decl);
    }
    for (const [k, v] of Object.entries(passed)) out[k] = ctx ? evalExpr(v, ctx) : v;
    return out;
  }

  /** Flattens a stages/jobs/steps list: templates, `${{ if }}` blocks. */
  private expand(items: unknown, kind: 'stages' | 'jobs' | 'steps', ctx: Ctx): Array<{ item: Json; ctx: Ctx }> {
    const out: Array<{ item: Json; ctx: Ctx }> = [];
    if (!Array.isArray(items)) return out;
    for (const raw of items) {
      if (!isObj(raw)) continue;
      const keys = Object.keys(raw);
      if (keys.length === 1 && keys[0]?.trim().startsWith('${{')) {
        if (/^\$\{\{\s*(else|elseif)\b/.test(keys[0].trim())) continue;
        out.push(...this.expand(raw[keys[0]], kind, ctx));
        continue;
      }
      if (typeof raw['template'] === 'string') {
        const path = resolvePath(ctx.file, String(evalExpr(raw['template'], ctx)));
        const doc = this.load(path);
        if (!doc) continue;
        const parameters = this.declaredParameters(doc, isObj(raw['parameters']) ? raw['parameters'] : {}, ctx);
        out.push(...this.expand(doc[kind], kind, { file: path, variables: ctx.variables, parameters }));
        continue;
      }
      out.push({ item: raw, ctx });
    }
    return out;
  }

  /** Processes a `variables` section (list or map) into the compile-time and runtime maps. */
  private variables(section: unknown, ctx: Ctx): void {
    if (isObj(section)) {
      for (const [k, v] of Object.entries(section)) {
        const val = String(evalExpr(v, ctx) ?? '');
        ctx.variables.set(k, val);
        this.runtime.set(k, val);
      }
      return;
    }
    if (!Array.isArray(section)) return;
    for (const raw of section) {
      if (!isObj(raw)) continue;
      const keys = Object.keys(raw);
      if (keys.length === 1 && keys[0]?.trim().startsWith('${{')) {
        if (!/^\$\{\{\s*(else|elseif)\b/.test(keys[0].trim())) this.variables(raw[keys[0]], ctx);
      } else if (typeof raw['group'] === 'string') {
        const name = String(evalExpr(raw['group'], ctx));
        if (!this.groups.includes(name)) this.groups.push(name);
        for (const [k, v] of Object.entries(this.groupValues(name) ?? {})) this.runtime.set(k, v);
      } else if (typeof raw['template'] === 'string') {
        const path = resolvePath(ctx.file, String(evalExpr(raw['template'], ctx)));
        const doc = this.load(path);
        if (doc) {
          const parameters = this.declaredParameters(doc, isObj(raw['parameters']) ? raw['parameters'] : {}, ctx);
          this.variables(doc['variables'], { file: path, variables: ctx.variables, parameters });
        }
      } else if (typeof raw['name'] === 'string') {
        const val = String(evalExpr(raw['value'], ctx) ?? '');
        ctx.variables.set(raw['name'], val);
        this.runtime.set(raw['name'], val);
      }
    }
  }

  private macro(v: string): string {
    return v.replace(/\$\(([A-Za-z0-9_.-]+)\)/g, (all, name: string) => lookup(this.runtime, name) ?? all);
  }

  private poolName(spec: unknown, ctx: Ctx): { pool: string | undefined; set: boolean } {
    const v = evalExpr(spec, ctx);
    if (typeof v === 'string') return { pool: this.macro(v), set: true };
    if (isObj(v)) {
      if (v['vmImage'] !== undefined && v['name'] === undefined) return { pool: undefined, set: true };
      const name = evalExpr(v['name'], ctx);
      if (typeof name === 'string') return { pool: this.macro(name), set: true };
    }
    return { pool: undefined, set: false };
  }

  private steps(job: Json, ctx: Ctx): Array<{ item: Json; ctx: Ctx }> {
    const out = this.expand(job['steps'], 'steps', ctx);
    // deployment jobs: strategy.<name>.<hook>.steps
    const strategy = job['strategy'];
    if (isObj(strategy)) {
      for (const s of Object.values(strategy)) {
        if (!isObj(s)) continue;
        for (const hook of Object.values(s)) if (isObj(hook)) out.push(...this.expand(hook['steps'], 'steps', ctx));
      }
    }
    return out;
  }

  analyze(rootPath: string, templateParameters: Record<string, unknown>, defaultPool: string | undefined): PipelineAnalysis {
    const root = this.load(rootPath);
    if (!root) return { stages: [], groups: [], endpoints: [], errors: this.errors };
    const ctx: Ctx = { file: rootPath, variables: new Map(), parameters: this.declaredParameters(root, templateParameters, undefined) };
    this.variables(root['variables'], ctx);
    const rootPool = this.poolName(root['pool'], ctx);
    let stageItems: Array<{ item: Json; ctx: Ctx }>;
    if (Array.isArray(root['stages'])) stageItems = this.expand(root['stages'], 'stages', ctx);
    else if (Array.isArray(root['jobs'])) stageItems = [{ item: { stage: '__default', jobs: root['jobs'] }, ctx }];
    else stageItems = [{ item: { stage: '__default', jobs: [{ job: 'Job', steps: root['steps'] ?? [] }] }, ctx }];
    const stages: PlannedStage[] = [];
    for (const { item: stage, ctx: sctx } of stageItems) {
      const sname = String(evalExpr(stage['stage'], sctx) ?? `Stage_${stages.length + 1}`);
      this.variables(stage['variables'], sctx);
      const stagePool = this.poolName(stage['pool'], sctx);
      const planned: PlannedStage = { name: sname, displayName: String(evalExpr(stage['displayName'], sctx) ?? sname), jobs: [] };
      for (const { item: job, ctx: jctx } of this.expand(stage['jobs'], 'jobs', sctx)) {
        const jname = String(evalExpr(job['job'] ?? job['deployment'], jctx) ?? `Job_${planned.jobs.length + 1}`);
        this.variables(job['variables'], jctx);
        const jobPool = this.poolName(job['pool'], jctx);
        const pool = jobPool.set ? jobPool.pool : stagePool.set ? stagePool.pool : rootPool.set ? rootPool.pool : defaultPool;
        const plannedJob = { name: jname, displayName: String(evalExpr(job['displayName'], jctx) ?? jname), pool, connections: [] as Array<{ name: string; task: string }> };
        planned.jobs.push(plannedJob);
        for (const { item: step, ctx: stctx } of this.steps(job, jctx)) {
          const inputs = step['inputs'];
          if (typeof step['task'] !== 'string' || !isObj(inputs)) continue;
          // the step's identifier: its name, else the task name without the version
          const stepName = String(step['name'] ?? String(step['task']).split('@')[0]);
          for (const [k, v] of Object.entries(inputs)) {
            if (!ENDPOINT_INPUTS.has(k.toLowerCase())) continue;
            const value = evalExpr(v, stctx);
            if (typeof value !== 'string' || value.trim() === '') continue;
            this.endpoints.push({ name: this.macro(value), job: jname, step: stepName, input: k });
            plannedJob.connections.push({ name: this.macro(value), task: String(step['task']) });
          }
        }
      }
      stages.push(planned);
    }
    return { stages, groups: [...this.groups], endpoints: [...this.endpoints], errors: [...this.errors] };
  }
}
