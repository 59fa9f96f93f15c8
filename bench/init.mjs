// init benchmarks (issue 9):
//  - with a fixture apply that takes 10 s, init's wall time minus terraform's (target <= 10% of the
//    total): the DevOps work that needs no terraform output runs while terraform applies;
//  - the Azure DevOps steps alone against the fake server, no injected latency (target < 1.3 s).
import { loadWorld } from './world.mjs';
import { run } from './doctor.mjs';

export async function benchInitOverlap() {
  const { startWorld } = await loadWorld();
  const w = await startWorld({ env: { FIXTURE_APPLY_SLEEP: '10' } });
  try {
    const r = await run(['init', '--yes', '--json', ...w.args], w.env, w.cwd);
    if (r.status !== 0) throw new Error(`init failed: ${r.stderr.slice(-1000)}`);
    const report = JSON.parse(r.stdout);
    const tf = report.steps.find((s) => s.id === 'terraform').durationMs;
    return { totalMs: r.ms, terraformMs: tf, otherMs: r.ms - tf, share: (r.ms - tf) / r.ms };
  } finally {
    await w.stop();
  }
}

export async function benchDevOpsSteps() {
  const { startWorld } = await loadWorld();
  const { runSteps } = await import('../src/engine/runner.ts');
  const { buildSteps } = await import('../src/steps/index.ts');
  const { createBase, createContext } = await import('../src/engine/context.ts');
  const { PassThrough } = await import('node:stream');
  const w = await startWorld();
  try {
    const sink = () => Object.assign(new PassThrough().resume(), { isTTY: false });
    const io = { stdout: sink(), stderr: sink(), stdin: new PassThrough(), env: w.env, cwd: w.cwd };
    const global = { yes: true, stateDir: w.stateDir };
    // --auth secret keeps az (Entra) out of this measurement: it is the Azure DevOps side alone.
    const flags = { ...w.flags, auth: 'secret' };
    const ctx = await createContext(createBase(global, io), global, { flags, required: [], signal: new AbortController().signal });
    // What the Azure side would have recorded (the DevOps steps read it from state).
    await ctx.state.setStepData('azure-login', { subscriptionId: '22222222-2222-2222-2222-222222222222', subscriptionName: 'Contoso Dev', tenantId: '11111111-1111-1111-1111-111111111111' });
    await ctx.state.setStepData('service-principal', { appId: 'aaaaaaaa-0000-0000-0000-000000000001', objectId: 'bbbbbbbb-0000-0000-0000-000000000002', tenantId: '11111111-1111-1111-1111-111111111111' });
    await ctx.state.setOutputs({ ml_resource_group_name: 'rg-mlops01-ml', workspace_name: 'aml-mlops01', workspace_location: 'westeurope', subscription_id: '22222222-2222-2222-2222-222222222222', aks_compute_name: 'aks-compute', training_compute_name: 'cpu-cluster' });
    const ids = ['devops-project', 'agent-pool', 'extension', 'service-connection', 'variable-group', 'repository', 'pipeline'];
    const steps = buildSteps().filter((s) => ids.includes(s.id)).map((s) => (s.id === 'service-connection' ? { ...s, dependsOn: ['devops-project'] } : s.id === 'variable-group' ? { ...s, dependsOn: ['devops-project'] } : s));
    ctx.secrets.setClientSecret('benchSecret0123456789abcdef');
    const t = Date.now();
    await runSteps(steps, ctx, 'apply');
    return { ms: Date.now() - t, requests: w.devops.countCalls() };
  } finally {
    await w.stop();
  }
}
