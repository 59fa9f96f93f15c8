import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSteps } from '../../src/engine/runner.js';
import { buildSteps } from '../../src/steps/index.js';
import { tfCalls } from '../fakes/fake-terraform.js';
import { PREFIX, SUB, pipelineIdentityId, startWorld, worldContext, type World } from '../helpers/world.js';

/**
 * Fault convergence: a full `init` broken at outside call k, then a clean re-run, must end in the
 * same world as an unbroken run — exactly one of every object.
 */
export type Kind = 'az' | 'arm' | 'devops' | 'terraform';

/** Short timeouts so "never answers" faults end quickly. */
const FAST = { AZURE_MLOPS_AZ_TIMEOUT_MS: '8000', AZURE_MLOPS_HTTP_TIMEOUT_MS: '5000' };

async function init(w: World, env: Record<string, string | undefined> = {}): Promise<unknown> {
  const { ctx } = await worldContext(w, {}, {}, { ...FAST, ...env });
  try {
    await runSteps(buildSteps(), ctx, 'apply');
    return undefined;
  } catch (e) {
    return e;
  }
}

/** The outside calls of one unbroken run, per kind. */
export async function callCounts(): Promise<Record<Kind, number> & { fingerprint: string }> {
  const w = await startWorld();
  try {
    const e = await init(w);
    if (e) throw e;
    return { az: w.az.calls().length, arm: w.arm.requests.length, devops: w.devops.countCalls(), terraform: tfCalls(w.root).length, fingerprint: fingerprint(w) };
  } finally {
    await w.stop();
  }
}

/** Everything that must exist exactly once, counted. Ids and timestamps are left out. */
export function fingerprint(w: World): string {
  const d = w.devops.world;
  const az = w.az.world();
  const state = JSON.parse(readFileSync(join(w.stateDir, 'state.json'), 'utf8')) as { steps: Record<string, { status: string }>; outputs: Record<string, unknown> };
  const count = <T>(xs: T[], p: (x: T) => boolean) => xs.filter(p).length;
  const app = (az.apps ?? []).find((a: { displayName: string }) => a.displayName === `azure-mlops-${PREFIX}-pipeline`);
  return JSON.stringify({
    projects: count(d.projects, (p) => p.name === 'mlops'),
    pools: count(d.pools, (p) => p.name === 'pool001'),
    queues: count(d.queues, (q) => q.name === 'pool001'),
    agents: d.agents.filter((a) => a.name.startsWith(`vm-${PREFIX}-agents-`)).map((a) => `${a.name}:${a.status}`).sort(),
    extensions: d.extensions.length,
    endpoints: count(d.endpoints, (e) => e.name === 'AzureMLWorkspace'),
    groups: count(d.variableGroups, (g) => g.name === 'devopsforai-aml-vg'),
    repos: count(d.repos, (r) => r.name === 'mlops'),
    files: Object.keys(w.devops.files('mlops', 'mlops', 'main')).length,
    pipelines: count(d.definitions, (x) => x.name === 'azdo-ci-build-train'),
    authorized: d.permissions.filter((p) => p.pipelines.some((x) => x.authorized)).map((p) => p.resourceType).sort(),
    apps: count(az.apps ?? [], (a: { displayName: string }) => a.displayName === `azure-mlops-${PREFIX}-pipeline`),
    sps: count(az.servicePrincipals ?? [], (s: { appId: string }) => s.appId === app?.appId),
    federated: (app?.federatedCredentials ?? []).length,
    // The default pipeline identity's federated credentials (ARM): exactly one, never duplicated.
    identityFederated: w.arm.ficsOf(pipelineIdentityId(SUB)).length,
    secrets: (app?.passwordCredentials ?? []).length,
    runCommandsLeft: Object.keys(w.arm.world.runCommands).length,
    steps: Object.entries(state.steps).map(([k, v]) => `${k}:${v.status}`).sort(),
    outputs: Object.keys(state.outputs).length,
  });
}

const modes: Record<Kind, string[]> = { az: ['error', 'kill', 'timeout'], arm: ['error', 'reset', 'timeout'], devops: ['error', 'reset', 'timeout'], terraform: ['error', 'kill'] };

/** Breaks the run at call k of `kind`, re-runs cleanly, and compares with the reference. */
export async function breakAt(kind: Kind, k: number, reference: string): Promise<{ ok: boolean; mode: string; detail: string }> {
  const mode = modes[kind][k % modes[kind].length]!;
  const w = await startWorld();
  try {
    let env: Record<string, string> = {};
    if (kind === 'az') env = { FAKE_AZ_FAIL_AT: String(k), FAKE_AZ_FAIL_MODE: mode };
    if (kind === 'terraform') env = { TF_SHIM_FAIL_AT: String(k), TF_SHIM_FAIL_MODE: mode };
    if (kind === 'arm') w.arm.failAtRequest = { k, mode: mode as 'error' };
    if (kind === 'devops') w.devops.failAt(k, mode as 'error', { afterCommit: k % 2 === 0 });
    const first = await init(w, env);
    w.arm.failAtRequest = undefined;
    const second = await init(w);
    if (second) return { ok: false, mode, detail: `re-run failed: ${(second as Error).message.split('\n')[0]} (first run: ${first ? (first as Error).message.split('\n')[0] : 'ok'})` };
    const fp = fingerprint(w);
    return { ok: fp === reference, mode, detail: fp === reference ? '' : `differs: ${fp}` };
  } finally {
    await w.stop();
  }
}

/** Runs breakAt for k = 1..n with a little concurrency; returns the failures. */
export async function sweep(kind: Kind, n: number, reference: string, concurrency = 3): Promise<{ n: number; converged: number; failures: string[] }> {
  const failures: string[] = [];
  let converged = 0;
  let next = 1;
  const worker = async () => {
    for (let k = next++; k <= n; k = next++) {
      const r = await breakAt(kind, k, reference);
      if (r.ok) converged++;
      else failures.push(`${kind} call ${k} (${r.mode}): ${r.detail}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { n, converged, failures };
}
