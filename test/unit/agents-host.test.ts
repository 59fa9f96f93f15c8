// --agents-host vm|managed-pool: the step list per host, the terraform variables per host (with the
// one lookup of the DevOpsInfrastructure service principal), and the pool the pipeline runs on.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StepError } from '../../src/engine/errors.js';
import { validateStepGraph } from '../../src/engine/runner.js';
import { pipelinePool } from '../../src/steps/deployment-values.js';
import { buildSteps } from '../../src/steps/index.js';
import { DEVOPS_INFRASTRUCTURE_APP_ID, terraformStep, tfvars } from '../../src/steps/terraform.js';
import { FakeAz } from '../fakes/fake-az.js';
import { FIXTURE_MODULE } from '../fakes/fake-terraform.js';
import { baseEnv, tempWorld } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';
import { makeKey } from '../helpers/keys.js';

const SUB = '22222222-2222-2222-2222-222222222222';
const FLAGS = { prefix: 'mlops01', location: 'westeurope', org: 'https://dev.azure.com/contoso', project: 'mlops', terraformDir: FIXTURE_MODULE };
/** The fake tenant's DevOpsInfrastructure service principal (test/fakes/fake-az-impl.mjs). */
const DEVOPS_INFRA_OBJECT_ID = 'd0e0f1a2-3b4c-4d5e-8f60-71829304a5b6';

async function ctxFor(flags: Record<string, string> = {}, azWorld: Record<string, unknown> = {}) {
  const w = tempWorld('aml-host-');
  makeKey(join(w.home, '.ssh'), 'id_ed25519');
  const az = new FakeAz(azWorld);
  const { ctx } = await testContext({ env: baseEnv(w.home, az.env()), cwd: w.cwd, flags: { ...FLAGS, ...flags }, global: { yes: true, stateDir: join(w.cwd, '.azure-mlops') } });
  await ctx.state.setStepData('azure-login', { subscriptionId: SUB, tenantId: '11111111-1111-1111-1111-111111111111' });
  const lookups = () => az.calls().filter((c) => c.cmd === 'ad sp list');
  return { ctx, az, lookups };
}

describe('the step list per agents host', () => {
  const ids = (opts: Parameters<typeof buildSteps>[0]) => buildSteps(opts).map((s) => s.id);

  it('vm (the default): the agent-pool step creates the pool before terraform, the agents step registers the agents after it', () => {
    expect(ids({})).toEqual(ids({ agentsHost: 'vm' }));
    expect(ids({ agentsHost: 'vm' })).toEqual([
      'tools', 'ssh-key', 'azure-login', 'service-principal', 'azure-preflight', 'devops-project', 'agent-pool', 'extension',
      'terraform-backend', 'terraform', 'agents', 'service-connection', 'variable-group', 'repository', 'pipeline',
    ]);
    const steps = buildSteps({ agentsHost: 'vm' });
    expect(steps.find((s) => s.id === 'agent-pool')!.dependsOn).toEqual(['devops-project']);
    expect(steps.find((s) => s.id === 'terraform')!.dependsOn).not.toContain('devops-project');
  });

  it('managed-pool: no agents step at all; terraform waits for the project; the agent-pool step finds the pool after terraform', () => {
    const steps = buildSteps({ agentsHost: 'managed-pool' });
    expect(steps.map((s) => s.id)).toEqual([
      'tools', 'ssh-key', 'azure-login', 'service-principal', 'azure-preflight', 'devops-project', 'extension',
      'terraform-backend', 'terraform', 'agent-pool', 'service-connection', 'variable-group', 'repository', 'pipeline',
    ]);
    expect(steps.find((s) => s.id === 'agent-pool')!.dependsOn).toEqual(['devops-project', 'terraform']);
    // The service adds the pool to the project of its organization profile: the project must exist first.
    expect(steps.find((s) => s.id === 'terraform')!.dependsOn).toContain('devops-project');
    expect(() => validateStepGraph(steps)).not.toThrow();
    // The shared terraform step is not changed for the agent-VM list.
    expect(buildSteps({}).find((s) => s.id === 'terraform')!.dependsOn).not.toContain('devops-project');
  });

  it("destroy plans with the full agent-VM list whatever the host: the agents step's teardown stays reachable, the order never depends on the environment", async () => {
    const { readFileSync } = await import('node:fs');
    const source = readFileSync(new URL('../../src/commands/destroy.ts', import.meta.url), 'utf8');
    expect(source).toMatch(/teardown\(ctx, buildSteps\(\),/);
    const steps = buildSteps();
    expect(steps.map((s) => s.id)).toContain('agents');
    expect(steps.find((s) => s.id === 'agents')!.teardown?.owns).toEqual({ agent: 'agents' });
    // Reverse order: the pool (and its queue) after terraform, the agents before it.
    const ids = steps.map((s) => s.id).reverse();
    expect(ids.indexOf('agents')).toBeLessThan(ids.indexOf('terraform'));
    expect(ids.indexOf('agent-pool')).toBeGreaterThan(ids.indexOf('terraform'));
  });
});

describe('terraform variables per agents host', () => {
  it('vm: agents_host "vm", the VM pool and size; no lookup of the DevOpsInfrastructure service principal', async () => {
    const { ctx, lookups } = await ctxFor();
    const vars = await tfvars(ctx);
    expect(vars).toMatchObject({ prefix: 'mlops01', agents_host: 'vm', devops_pool: 'pool001', agent_vm_size: 'Standard_D2s_v5', num_agents: 4, subscription_id: SUB });
    expect(vars).not.toHaveProperty('devops_project');
    expect(vars).not.toHaveProperty('devops_infrastructure_principal_id');
    expect(lookups()).toEqual([]);
  });

  it('managed-pool: the project and the service principal, looked up once by its app id; no VM pool or size', async () => {
    const { ctx, lookups } = await ctxFor({ agentsHost: 'managed-pool', agents: '3' });
    const vars = await tfvars(ctx);
    expect(vars).toMatchObject({ agents_host: 'managed-pool', devops_project: 'mlops', devops_infrastructure_principal_id: DEVOPS_INFRA_OBJECT_ID, num_agents: 3 });
    expect(vars).not.toHaveProperty('devops_pool');
    expect(vars).not.toHaveProperty('agent_vm_size');
    await tfvars(ctx);
    await terraformStep.plan(ctx, { status: 'missing', summary: '' });
    expect(lookups().map((c) => c.argv)).toEqual([['ad', 'sp', 'list', '--filter', `appId eq '${DEVOPS_INFRASTRUCTURE_APP_ID}'`, '-o', 'json', '--only-show-errors']]);
  });

  it('managed-pool: the plan shows the lookup (its command line) and the value', async () => {
    const { ctx } = await ctxFor({ agentsHost: 'managed-pool' });
    const [lookup, prepare] = await terraformStep.plan(ctx, { status: 'missing', summary: '' });
    expect(lookup!.what).toMatch(new RegExp(`^devops_infrastructure_principal_id = ${DEVOPS_INFRA_OBJECT_ID}: Microsoft's DevOpsInfrastructure service principal .*Reader and Network Contributor on the VNET`));
    expect(lookup!.commands).toEqual([`az ad sp list --filter 'appId eq '\\''${DEVOPS_INFRASTRUCTURE_APP_ID}'\\''' -o json --only-show-errors`]);
    expect(prepare!.details).toContain(`devops_infrastructure_principal_id = "${DEVOPS_INFRA_OBJECT_ID}"`);
    expect(prepare!.details).toContain('devops_project = "mlops"');
    // The agent VM's plan has no such line.
    const vm = await ctxFor();
    expect((await terraformStep.plan(vm.ctx, { status: 'missing', summary: '' })).map((c) => c.what)).not.toContainEqual(expect.stringMatching(/DevOpsInfrastructure/));
  });

  it('managed-pool, no DevOpsInfrastructure service principal in the tenant: the plan says so, apply stops before terraform with the provider registration as the fix, and a later call looks again', async () => {
    const { ctx, lookups } = await ctxFor({ agentsHost: 'managed-pool' }, { microsoftServicePrincipals: [] });
    const vars = await tfvars(ctx);
    expect(String(vars.devops_infrastructure_principal_id)).toMatch(/^<object id of the DevOpsInfrastructure service principal/);
    const [lookup] = await terraformStep.plan(ctx, { status: 'missing', summary: '' });
    expect(lookup!.what).toMatch(/is not in the tenant yet \(Azure creates it when the subscription registers Microsoft\.DevOpsInfrastructure\)/);
    const e = await terraformStep.apply(ctx, []).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(StepError);
    expect((e as StepError).message).toContain(`DevOpsInfrastructure service principal (app id ${DEVOPS_INFRASTRUCTURE_APP_ID}) is not in your Microsoft Entra tenant`);
    expect((e as StepError).fix).toContain('az provider register --namespace Microsoft.DevOpsInfrastructure');
    // A miss is not remembered: registering the provider in the same run (the preflight) is seen.
    expect(lookups().length).toBe(3);
  });
});

describe('the pool the pipeline runs on', () => {
  const ctx = (answers: Record<string, unknown>, outputs: Record<string, unknown> = {}) =>
    ({ answers: { get: (k: string) => answers[k], maybe: (k: string) => answers[k] }, state: { data: { outputs } } }) as never;

  it('vm: the --pool answer', () => {
    expect(pipelinePool(ctx({ pool: 'pool001', prefix: 'mlops01' }))).toBe('pool001');
    expect(pipelinePool(ctx({ agentsHost: 'vm', pool: 'team-pool', prefix: 'mlops01' }))).toBe('team-pool');
  });

  it("managed-pool: mdp-{prefix} before terraform has run, terraform's devops_pool output after", () => {
    expect(pipelinePool(ctx({ agentsHost: 'managed-pool', pool: 'pool001', prefix: 'mlops01' }))).toBe('mdp-mlops01');
    expect(pipelinePool(ctx({ agentsHost: 'managed-pool', pool: 'pool001', prefix: 'mlops01' }, { agents_host: 'managed-pool', devops_pool: 'mdp-fork' }))).toBe('mdp-fork');
    // outputs of an agent-VM apply, before a switch of host is applied, name the VM's pool
    expect(pipelinePool(ctx({ agentsHost: 'managed-pool', pool: 'pool001', prefix: 'mlops01' }, { agents_host: 'vm', devops_pool: 'pool001' }))).toBe('mdp-mlops01');
  });
});
