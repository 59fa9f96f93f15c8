import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ArmAdapter } from '../../src/adapters/arm/index.js';
import { DevOpsAdapter } from '../../src/adapters/devops.js';
import { teardown, type TeardownOptions, type TeardownReport } from '../../src/engine/teardown.js';
import { buildSteps } from '../../src/steps/index.js';
import type { Context } from '../../src/engine/types.js';
import type { World as DevOpsWorld } from '../fakes/devops/world.js';
import { tfCalls } from '../fakes/fake-terraform.js';
import { runCli } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';
import { PREFIX, SUB, pipelineIdentityId, startWorld, type World } from '../helpers/world.js';

export const ALL_FLAGS = ['--delete-repo', '--delete-project', '--delete-state-backend'];
export const EVERYTHING: TeardownOptions = { dryRun: false, deleteRepo: true, deleteProject: true, deleteStateBackend: true };

export function readState(w: World): any {
  return JSON.parse(readFileSync(join(w.stateDir, 'state.json'), 'utf8'));
}

/** Resources of terraform's local state in the deployment's working dir. */
export function tfResources(w: World): string[] {
  const f = join(w.stateDir, 'terraform', 'terraform.tfstate');
  if (!existsSync(f)) return [];
  return (JSON.parse(readFileSync(f, 'utf8')).resources ?? []).map((r: { type: string; name: string }) => `${r.type}.${r.name}`);
}

/** Deep copy that keeps Buffers (git blobs of the fake; never mutated) by reference. */
function clone<T>(v: T): T {
  if (Buffer.isBuffer(v)) return v;
  if (Array.isArray(v)) return v.map(clone) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)])) as T;
  return v;
}

const WORLD_FIELDS = ['projects', 'operations', 'pools', 'agents', 'queues', 'extensions', 'endpoints', 'variableGroups', 'repos', 'definitions', 'builds', 'permissions'] as const;

/**
 * Snapshot of a world after `init`: the state dir (terraform's working dir and state included),
 * the fake az's world, the fake ARM's resources (the resource groups terraform wrote included) and
 * the fake Azure DevOps world. `restore()` puts them all back, which is
 * much cheaper than a new init.
 */
export function snapshot(w: World): { restore(): void } {
  const dir = mkdtempSync(join(w.root, 'snap-'));
  cpSync(w.stateDir, join(dir, 'state'), { recursive: true });
  copyFileSync(w.az.stateFile, join(dir, 'az-state.json'));
  const devops = Object.fromEntries(WORLD_FIELDS.map((k) => [k, clone(w.devops.world[k])])) as Pick<DevOpsWorld, (typeof WORLD_FIELDS)[number]>;
  const armResources = clone(w.arm.world.resources);
  // The resource groups terraform's apply wrote for the fake ARM (FIXTURE_ARM_DIR).
  const armDir = w.arm.resourceDir;
  if (armDir) cpSync(armDir, join(dir, 'arm-resources'), { recursive: true });
  return {
    restore() {
      if (armDir) {
        rmSync(armDir, { recursive: true, force: true });
        cpSync(join(dir, 'arm-resources'), armDir, { recursive: true });
      }
      w.arm.world.resources = clone(armResources);
      rmSync(w.stateDir, { recursive: true, force: true });
      cpSync(join(dir, 'state'), w.stateDir, { recursive: true });
      copyFileSync(join(dir, 'az-state.json'), w.az.stateFile);
      for (const k of WORLD_FIELDS) (w.devops.world as unknown as Record<string, unknown>)[k] = clone(devops[k]);
    },
  };
}

/** An in-process context on the world's state dir (answers come from the state), with env overrides. */
export async function destroyContext(w: World, env: Record<string, string> = {}, opts: { retries?: boolean } = {}): Promise<{ ctx: Context; out: () => string }> {
  const { ctx, io } = await testContext({ env: { ...w.env, ...env }, cwd: w.cwd, global: { yes: true, stateDir: w.stateDir } });
  // In process the fake ARM's certificate is trusted through its HTTP client (NODE_EXTRA_CA_CERTS only reaches children).
  ctx.arm = new ArmAdapter(ctx.az, { httpClient: w.arm.httpClient(), redactor: ctx.redactor, pollIntervalMs: 10, ...(opts.retries === false ? { retry: { maxRetries: 0 } } : {}) });
  // Without retries a single injected fault stops the run (what the resume test is about).
  if (opts.retries === false) ctx.devops = new DevOpsAdapter({ ...ctx.devops.opts, retry: { attempts: 1 } });
  return { ctx, out: io.all };
}

export async function destroyIn(w: World, env: Record<string, string> = {}, opts: { retries?: boolean } = {}): Promise<{ report?: TeardownReport; error?: Error; out: string }> {
  const { ctx, out } = await destroyContext(w, env, opts);
  try {
    return { report: await teardown(ctx, buildSteps(), EVERYTHING), out: out() };
  } catch (e) {
    return { error: e as Error, out: out() };
  } finally {
    ctx.ui.dispose();
  }
}

/**
 * What is left in the fakes of what a fresh `init` (world of startWorld, nothing pre-existing)
 * created; [] when everything is gone. The fake's project deletion completes when someone polls
 * it: a project in state `deleting` is gone for every API.
 */
export function leftovers(w: World): string[] {
  const d = w.devops.world;
  const out: string[] = [];
  for (const p of d.projects) if (p.name === 'mlops' && p.state !== 'deleting') out.push(`project ${p.name} (${p.state})`);
  for (const p of d.pools) if (p.name === 'pool001') out.push(`pool ${p.name}`);
  for (const a of d.agents) if (a.name.startsWith(`vm-${PREFIX}-agents`)) out.push(`agent ${a.name}`);
  for (const q of d.queues) if (q.name === 'pool001') out.push(`queue ${q.name}`);
  for (const e of d.endpoints) out.push(`service connection ${e.name}`);
  for (const g of d.variableGroups) out.push(`variable group ${g.name}`);
  const live = new Set(d.projects.filter((p) => p.state !== 'deleting').map((p) => p.id));
  for (const r of d.repos) if (live.has(r.projectId)) out.push(`repository ${r.name}`);
  for (const x of d.definitions) if (live.has(x.projectId)) out.push(`pipeline ${x.name}`);
  const az = w.az.world();
  for (const a of az.apps ?? []) out.push(`app ${a.displayName}`);
  for (const s of az.servicePrincipals ?? []) out.push(`service principal ${s.displayName}`);
  for (const f of w.arm.ficsOf(pipelineIdentityId(SUB))) out.push(`federated credential ${f.name} on the pipeline's managed identity`);
  for (const r of tfResources(w)) out.push(`terraform ${r}`);
  return out;
}

/** Outside calls so far: az invocations, terraform commands, Azure DevOps non-discovery requests. */
export function counters(w: World): { az: number; tf: number; devops: number; arm: number } {
  return { az: w.az.calls().length, tf: tfCalls(w.root).length, devops: w.devops.countCalls(), arm: w.arm.requests.length };
}

export const SP_NAME = `azure-mlops-${PREFIX}-pipeline`;

/** What the user had before init, in `preExistingWorld`. */
export interface Theirs {
  appId: string;
  spObjectId: string;
  fic: { id: string; name: string; issuer: string; subject: string; audiences: string[] };
  projectId: string;
  poolId: number;
  agentId: number;
  repoId: string;
}

/**
 * A world where the user already has the project (its repository with a commit on main), the pool
 * (with an agent of theirs) and the app registration + service principal named like init's
 * (with a secret and a federated credential of theirs). Init then runs with --push-to.
 */
export async function preExistingWorld(): Promise<{ w: World; theirs: Theirs }> {
  const appId = 'aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa';
  const spObjectId = 'aaaaaaaa-3333-4333-8333-aaaaaaaaaaaa';
  const fic = { id: 'aaaaaaaa-4444-4444-8444-aaaaaaaaaaaa', name: 'github-actions', issuer: 'https://token.actions.githubusercontent.com', subject: 'repo:contoso/ml:ref:refs/heads/main', audiences: ['api://AzureADTokenExchange'] };
  const w = await startWorld({
    az: {
      apps: [{ id: 'aaaaaaaa-2222-4222-8222-aaaaaaaaaaaa', appId, displayName: SP_NAME, passwordCredentials: [{ keyId: 'k1', displayName: 'theirs' }], federatedCredentials: [fic] }],
      servicePrincipals: [{ id: spObjectId, appId, displayName: SP_NAME }],
    },
  });
  const project = w.devops.addProject('mlops');
  const pool = w.devops.addPool('pool001', [{ name: 'build-box-1', status: 'online' }]);
  w.devops.pushFiles('mlops', 'mlops', { '/README.md': 'mine' });
  const theirs: Theirs = {
    appId,
    spObjectId,
    fic,
    projectId: project.id,
    poolId: pool.id,
    agentId: w.devops.world.agents.find((a) => a.name === 'build-box-1')!.id,
    repoId: w.devops.world.repos.find((r) => r.projectId === project.id && r.name === 'mlops')!.id,
  };
  return { w, theirs };
}

/** Problems with what the user had (must be untouched) and with what init added (must be gone). */
export function preExistingProblems(w: World, t: Theirs): string[] {
  const d = w.devops.world;
  const out: string[] = [];
  if (d.projects.find((p) => p.id === t.projectId)?.state !== 'wellFormed') out.push('their project is gone');
  if (!d.pools.some((p) => p.id === t.poolId)) out.push('their pool is gone');
  const inPool = d.agents.filter((a) => a.poolId === t.poolId).map((a) => a.name);
  if (inPool.join() !== 'build-box-1') out.push(`agents in their pool: ${inPool.join(', ')}`);
  if (!d.repos.some((r) => r.id === t.repoId)) out.push('their repository is gone');
  else if (w.devops.readFile('mlops', 'mlops', '/README.md', 'main') !== 'mine') out.push('their main branch changed');
  const app = (w.az.world().apps ?? []).find((a: { appId: string }) => a.appId === t.appId);
  if (!app) out.push('their app is gone');
  else {
    if (JSON.stringify(app.federatedCredentials) !== JSON.stringify([t.fic])) out.push(`federated credentials of their app: ${app.federatedCredentials.map((f: { name: string }) => f.name).join(', ')}`);
    if (app.passwordCredentials.map((c: { keyId: string }) => c.keyId).join() !== 'k1') out.push('their app secrets changed');
  }
  if (!(w.az.world().servicePrincipals ?? []).some((s: { id: string }) => s.id === t.spObjectId)) out.push('their service principal is gone');
  if (d.definitions.some((x) => x.projectId === t.projectId)) out.push('the pipeline is left');
  if (d.variableGroups.length) out.push('the variable group is left');
  if (d.endpoints.length) out.push('the service connection is left');
  if (d.queues.some((q) => q.projectId === t.projectId && q.poolId === t.poolId)) out.push('the queue is left');
  for (const r of tfResources(w)) out.push(`terraform ${r}`);
  return out;
}

type Call = { source: 'az' | 'arm' | 'terraform' | 'devops'; index: number; what: string; mutating: boolean };

/**
 * One init, snapshotted; a clean destroy lists its N outside calls (az invocations, Azure DevOps
 * non-discovery requests, terraform commands). Then for each call: restore the snapshot, destroy
 * with a fault at that call (one at a time; no Azure DevOps retries, so the fault stops the run),
 * check the state says what is left, destroy again without faults, and check the outcome.
 * Azure DevOps writes also get a second fault after the service acted (the answer is lost).
 */
export async function faultEveryCall(w: World, problems: () => string[], extraInit: string[] = []): Promise<{ N: number; runs: number; stopped: number; converged: number; failures: string[]; by: string }> {
  const init = await runCli(['init', '--yes', ...w.args, ...extraInit], { env: w.env, cwd: w.cwd });
  expect(init.code, init.stdout + init.stderr).toBe(0);
  const snap = snapshot(w);
  const finalRecords = () => readState(w).resources.filter((r: { createdByUs: boolean }) => r.createdByUs).map((r: { kind: string }) => r.kind);

  const before = counters(w);
  const clean = await destroyIn(w);
  expect(clean.error, clean.out).toBeUndefined();
  expect(clean.report?.ok, clean.out).toBe(true);
  expect(problems()).toEqual([]);
  const expectedRecords = finalRecords();
  const calls: Call[] = [
    ...w.az.calls().slice(before.az).map((c, i) => ({ source: 'az' as const, index: i + 1, what: `az ${c.cmd}`, mutating: c.mutating })),
    ...w.devops.requests.filter((r) => r.call > before.devops).map((r) => ({ source: 'devops' as const, index: r.call - before.devops, what: `${r.method} ${r.path}`, mutating: r.method !== 'GET' })),
    ...tfCalls(w.root).slice(before.tf).map((c, i) => ({ source: 'terraform' as const, index: i + 1, what: `terraform ${c.argv[0]}`, mutating: c.argv[0] === 'apply' })),
    ...w.arm.requests.slice(before.arm).map((r, i) => ({ source: 'arm' as const, index: i + 1, what: `ARM ${r.method} ${r.path}`, mutating: r.method !== 'GET' })),
  ];
  const runs = [...calls.map((call) => ({ call, afterCommit: false })), ...calls.filter((c) => c.source === 'devops' && c.mutating).map((call) => ({ call, afterCommit: true }))];
  let converged = 0;
  let stopped = 0;
  const failures: string[] = [];
  for (const { call, afterCommit } of runs) {
    snap.restore();
    const resources = readState(w).resources.length;
    const base = counters(w);
    const env: Record<string, string> = {};
    if (call.source === 'az') env.FAKE_AZ_FAIL_AT = String(base.az + call.index);
    if (call.source === 'terraform') env.TF_SHIM_FAIL_AT = String(base.tf + call.index);
    if (call.source === 'devops') w.devops.failAt(base.devops + call.index, 'error', { afterCommit });
    if (call.source === 'arm') w.arm.failAtRequest = { k: base.arm + call.index, mode: 'error' };
    const label = `${call.source} #${call.index} (${call.what}${afterCommit ? ', answer lost' : ''})`;
    const faulted = await destroyIn(w, env, { retries: false });
    w.arm.failAtRequest = undefined;
    const bad: string[] = [];
    if (faulted.error || faulted.report?.ok === false) stopped++;
    else bad.push('the fault did not stop the run');
    // The state says what is left: the failed object is still recorded, the destroy record incomplete.
    const mid = readState(w);
    if (faulted.report?.failed) {
      const f = faulted.report.failed;
      if (mid.data.destroy?.status !== 'incomplete') bad.push(`destroy record ${mid.data.destroy?.status}`);
      if (!mid.data.destroy?.left?.some((l: { kind: string; name: string }) => l.kind === f.kind && l.name === f.name)) bad.push('the failed object is not in `left`');
      if (!mid.resources.some((r: { kind: string; name: string }) => r.kind === f.kind && r.name === f.name)) bad.push('the failed object was forgotten');
    } else if (faulted.error && mid.resources.length !== resources) bad.push('a failure while planning changed the records');
    // A plain re-run finishes the job, without errors.
    const again = await destroyIn(w);
    if (again.error || again.report?.ok !== true) bad.push(`re-run failed: ${again.error?.message ?? again.report?.failed?.error}`);
    bad.push(...problems());
    const st = readState(w);
    if (finalRecords().join() !== expectedRecords.join()) bad.push(`records left: ${finalRecords().join(', ')}`);
    if (st.data.destroy?.status !== 'done') bad.push(`destroy record ${st.data.destroy?.status}`);
    if (bad.length) failures.push(`${label}: ${bad.join('; ')}`);
    else converged++;
  }
  const n = (s: Call['source']) => calls.filter((c) => c.source === s).length;
  return { N: calls.length, runs: runs.length, stopped, converged, failures, by: `${n('az')} az, ${n('arm')} ARM, ${n('devops')} Azure DevOps, ${n('terraform')} terraform` };
}
