import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StepError } from '../../src/engine/errors.js';
import { runSteps } from '../../src/engine/runner.js';
import { azurePreflightStep, createAzurePreflightStep, MANAGED_POOL_PROVIDERS, REQUIRED_PROVIDERS, requiredProviders, runPreflightChecks } from '../../src/steps/azure-preflight.js';
import { CONTRIBUTOR, READER, USER_ACCESS_ADMINISTRATOR, defaultArmWorld } from '../fakes/arm/fake-arm.js';
import { FAKE_TOKEN, ids, LOCATION, PREFIX, setup, SUB } from './helpers.js';

const count = (list: string[], cmd: string) => list.filter((c) => c === cmd).length;

async function planError(step: typeof azurePreflightStep, ctx: Parameters<typeof step.plan>[0], found: Parameters<typeof step.plan>[1]): Promise<StepError> {
  const e = await step.plan(ctx, found).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(StepError);
  return e as StepError;
}

describe('azure preflight: all ok', () => {
  it('passes every check with exactly one `az cloud show` and one `az account get-access-token`', async () => {
    const { ctx, arm, az, azCommands, io } = await setup();
    const r = await azurePreflightStep.check(ctx);
    expect(r.status).toBe('ok');
    expect(r.summary).toContain(`${REQUIRED_PROVIDERS.length} resource providers registered`);
    expect(r.summary).toContain(`names free (st${PREFIX}, acr${PREFIX}, kv-${PREFIX})`);
    expect(r.summary).toContain(`no soft-deleted key vault named kv-${PREFIX}`);
    // 3 x D4s_v5 (12) + 1 x D2s_v5 (2) = 14 dedicated; 4 x DS3_v2 = 16 low-priority Azure ML vCPUs
    expect(r.summary).toContain('vCPUs: 14 of 96 free');
    expect(r.summary).toContain('Azure ML low-priority vCPUs: 16 of 100 free');
    expect(r.summary).toContain('can create resource groups and role assignments');
    expect(r.record).toEqual({ subscriptionId: SUB, location: LOCATION });

    const cmds = azCommands();
    expect(count(cmds, 'cloud show')).toBe(1);
    expect(count(cmds, 'account get-access-token')).toBe(1);
    expect(cmds).toHaveLength(2); // the subscription came from state: no `account show`
    // Not a global cloud's endpoint: the token is for the audience az itself uses for ARM.
    const tokenCall = az.calls().find((c) => c.cmd === 'account get-access-token')!;
    expect(tokenCall.argv).toContain('https://management.core.windows.net/');

    expect(arm.requests.length).toBeGreaterThan(10);
    expect(arm.requests.every((q) => q.bearer)).toBe(true);
    expect(arm.requests.every((q) => q.query['api-version'])).toBe(true);
    expect(arm.mutatingRequests()).toEqual([]);
    expect(JSON.stringify(arm.requests) + io.all()).not.toContain(FAKE_TOKEN);
    // The token was registered with the redactor: no log line can show it.
    expect(ctx.redactor.redact(`Bearer ${FAKE_TOKEN}`)).toBe('Bearer ***');
  });

  it('check and plan of one run share one survey; plan of a satisfied step is empty', async () => {
    const { ctx, arm } = await setup();
    const r = await azurePreflightStep.check(ctx);
    const before = arm.requests.length;
    expect(await azurePreflightStep.plan(ctx, r)).toEqual([]);
    expect(arm.requests.length).toBe(before);
  });

  it('without a pinned subscription it asks az once for the current one', async () => {
    const { ctx, azCommands } = await setup({ pinSubscription: false });
    expect((await azurePreflightStep.check(ctx)).status).toBe('ok');
    const cmds = azCommands();
    expect(count(cmds, 'account show')).toBe(1);
    expect(count(cmds, 'account get-access-token')).toBe(1);
    expect(count(cmds, 'cloud show')).toBe(1);
  });

  it('runPreflightChecks lists the six checks for doctor', async () => {
    const { ctx } = await setup();
    const checks = await runPreflightChecks(ctx);
    expect(checks.map((c) => [c.id, c.status])).toEqual([
      ['azure.providers', 'ok'],
      ['azure.names', 'ok'],
      ['azure.deleted-vault', 'ok'],
      ['azure.quota', 'ok'],
      ['azure.role-assignments', 'ok'],
      ['azure.deployment', 'ok'],
    ]);
    for (const c of checks) expect(c.summary).not.toBe('');
  });

  it('a second init with everything in place makes no mutating ARM call', async () => {
    const { ctx, arm } = await setup();
    const report = await runSteps([azurePreflightStep], ctx, 'apply');
    expect(report.steps[0]?.outcome).toBe('already');
    expect(arm.mutatingRequests()).toEqual([]);
  });
});

describe('azure preflight: global names', () => {
  it.each([
    ['storage account', { storage: [`st${PREFIX}`], registry: [], vault: [] }, `st${PREFIX}`],
    ['container registry', { storage: [], registry: [`acr${PREFIX}`], vault: [] }, `acr${PREFIX}`],
    ['key vault', { storage: [], registry: [], vault: [`kv-${PREFIX}`] }, `kv-${PREFIX}`],
  ])('a %s name taken by someone else is missing, with another --prefix as the fix', async (what, takenNames, name) => {
    const { ctx, arm } = await setup({ arm: { takenNames } });
    const r = await azurePreflightStep.check(ctx);
    expect(r.status).toBe('missing');
    expect(r.summary).toContain(`the ${what} name ${name} is taken by another Azure resource outside this deployment`);
    expect(r.fix).toContain('--prefix');
    expect(r.details?.join('\n')).toContain('AZURE_MLOPS_PREFIX');
    const checks = await runPreflightChecks(ctx);
    expect(checks.find((c) => c.id === 'azure.names')?.status).toBe('missing');
    expect(checks.filter((c) => c.status !== 'ok').map((c) => c.id)).toEqual(['azure.names']);

    const e = await planError(azurePreflightStep, ctx, r);
    expect(e.message).toContain('before anything is created');
    expect(e.message).toContain(name);
    expect(e.fix).toContain('--prefix');
    expect(arm.mutatingRequests()).toEqual([]);
  });

  it('names held by this deployment (in rg-{prefix}-ml of this subscription) are ok: a re-run after terraform apply passes', async () => {
    const { ctx, arm } = await setup();
    // terraform tagged it with this state dir's deployment id
    arm.addResource(ids.rg, { type: 'Microsoft.Resources/resourceGroups', location: LOCATION, tags: { 'azure-mlops-deployment': ctx.state.deploymentId } });
    arm.addResource(ids.storage, { type: 'Microsoft.Storage/storageAccounts', location: LOCATION });
    arm.addResource(ids.registry, { type: 'Microsoft.ContainerRegistry/registries', location: LOCATION });
    arm.addResource(ids.vault, { type: 'Microsoft.KeyVault/vaults', location: LOCATION });
    const r = await azurePreflightStep.check(ctx);
    expect(r.status).toBe('ok');
    expect(r.summary).toContain(`names free or already this deployment's (st${PREFIX}, acr${PREFIX}, kv-${PREFIX})`);
    // each taken name was looked up in the deployment's resource group
    expect(arm.calls('GET', /storageAccounts\/stmlops01$/)).toHaveLength(1);
    expect(arm.calls('GET', /vaults\/kv-mlops01$/)).toHaveLength(1);
  });

  it('a name taken in another resource group of the same subscription is still someone else’s', async () => {
    const { ctx, arm } = await setup();
    arm.addResource(`/subscriptions/${SUB}/resourceGroups/rg-other/providers/Microsoft.Storage/storageAccounts/st${PREFIX}`);
    const r = await azurePreflightStep.check(ctx);
    expect(r.status).toBe('missing');
    expect(r.summary).toContain(`storage account name st${PREFIX} is taken`);
  });
});

describe('azure preflight: soft-deleted key vault', () => {
  const deleted = { name: `kv-${PREFIX}`, location: LOCATION, deletionDate: '2026-09-01T10:00:00Z', scheduledPurgeDate: '2026-11-30T10:00:00Z' };

  it('is missing: says it blocks the name for up to 90 days and offers --purge-deleted or another prefix', async () => {
    const { ctx, arm } = await setup({ arm: { deletedVaults: [deleted] } });
    const r = await azurePreflightStep.check(ctx);
    expect(r.status).toBe('missing');
    expect(r.summary).toContain(`the key vault name kv-${PREFIX} is held by a soft-deleted vault (deleted 2026-09-01 in ${LOCATION})`);
    expect(r.summary).toContain('up to 90 days');
    expect(r.summary).toContain('until 2026-11-30');
    expect(r.fix).toContain('--purge-deleted');
    expect(r.fix).toContain('--prefix');
    // reported once, by the deleted-vault check, not again as a taken name
    const checks = await runPreflightChecks(ctx);
    expect(checks.filter((c) => c.status !== 'ok').map((c) => c.id)).toEqual(['azure.deleted-vault']);

    const e = await planError(azurePreflightStep, ctx, r);
    expect(e.message).toContain('soft-deleted');
    expect(e.fix).toContain('--purge-deleted');
    expect(arm.purged).toEqual([]);
    expect(arm.mutatingRequests()).toEqual([]);
  });

  it('with purgeDeleted the plan purges it, apply purges it (long-running operation) and the re-check passes', async () => {
    const { ctx, arm } = await setup({ arm: { deletedVaults: [deleted], purgePolls: 2 } });
    const step = createAzurePreflightStep({ purgeDeleted: true });
    const r = await step.check(ctx);
    expect(r.status).toBe('missing');
    const changes = await step.plan(ctx, r);
    expect(changes).toEqual([
      expect.objectContaining({ action: 'delete', commands: [`az keyvault purge --name kv-${PREFIX} --location ${LOCATION}`] }),
    ]);
    expect(changes[0]?.what).toContain('lost for good');

    const report = await runSteps([step], ctx, 'apply');
    expect(report.steps[0]?.outcome).toBe('done');
    expect(arm.purged).toEqual([{ name: `kv-${PREFIX}`, location: LOCATION }]);
    expect(arm.calls('POST', /deletedVaults\/kv-mlops01\/purge$/)).toHaveLength(1);
    expect(arm.calls('GET', /operationResults\//).length).toBe(3); // 202, 202, 200
  });

  it('a vault deleted in another region of the subscription is found through the list of deleted vaults', async () => {
    const { ctx } = await setup({ arm: { deletedVaults: [{ ...deleted, location: 'northeurope' }] } });
    // check and plan of the same step (its facts are those of a survey with its options), as a run does.
    const step = createAzurePreflightStep({ purgeDeleted: true });
    const r = await step.check(ctx);
    expect(r.status).toBe('missing');
    expect(r.summary).toContain('deleted 2026-09-01 in northeurope');
    const changes = await step.plan(ctx, r);
    expect(changes[0]?.commands).toEqual([`az keyvault purge --name kv-${PREFIX} --location northeurope`]);
  });

  it('purge protection: even --purge-deleted cannot help; another prefix is the fix', async () => {
    const { ctx } = await setup({ arm: { deletedVaults: [{ ...deleted, purgeProtectionEnabled: true }] } });
    const step = createAzurePreflightStep({ purgeDeleted: true });
    const r = await step.check(ctx);
    expect(r.summary).toContain('purge protection');
    const e = await planError(step, ctx, r);
    expect(e.message).toContain('purge protection');
    expect(e.fix).toContain('--prefix');
  });
});

describe('azure preflight: vCPU quota', () => {
  it('a VM family quota too low is missing, with needed vs free and the quota-increase hint', async () => {
    const world = defaultArmWorld();
    world.computeUsages['*'] = world.computeUsages['*']!.map((u) => (u.name === 'standardDSv5Family' ? { ...u, current: 2, limit: 12 } : u));
    const { ctx } = await setup({ arm: { computeUsages: world.computeUsages } });
    const r = await azurePreflightStep.check(ctx);
    expect(r.status).toBe('missing');
    expect(r.summary).toContain(`Standard DSv5 Family vCPUs (VM quota) in ${LOCATION}: need 14, only 10 free (limit 12, 2 in use)`);
    expect(r.summary).toContain('AKS nodes: 3 x Standard_D4s_v5 = 12; agent VM: 1 x Standard_D2s_v5 = 2');
    expect(r.fix).toContain('quota increase');
    expect(r.fix).toContain('--agent-vm-size');
    const e = await planError(azurePreflightStep, ctx, r);
    expect(e.message).toContain('need 14, only 10 free');
  });

  it('the regional vCPU total too low is missing', async () => {
    const world = defaultArmWorld();
    world.computeUsages['*'] = world.computeUsages['*']!.map((u) => (u.name === 'cores' ? { ...u, current: 8, limit: 20 } : u));
    const { ctx } = await setup({ arm: { computeUsages: world.computeUsages } });
    const r = await azurePreflightStep.check(ctx);
    expect(r.status).toBe('missing');
    expect(r.summary).toContain(`Total Regional vCPUs (VM quota) in ${LOCATION}: need 14, only 12 free (limit 20, 8 in use)`);
  });

  it('the low-priority training cluster counts against the Azure ML low-priority quota, not the VM family', async () => {
    const world = defaultArmWorld();
    world.mlUsages['*'] = world.mlUsages['*']!.map((u) => (u.name === 'Total Cluster LowPriority Regional vCPUs' ? { ...u, current: 0, limit: 8 } : u));
    world.computeUsages['*'] = world.computeUsages['*']!.map((u) => (u.name === 'standardDSv2Family' ? { ...u, current: 0, limit: 0 } : u));
    const { ctx } = await setup({ arm: { mlUsages: world.mlUsages, computeUsages: world.computeUsages } });
    const r = await azurePreflightStep.check(ctx);
    expect(r.status).toBe('missing');
    expect(r.summary).toContain('Total Cluster LowPriority Regional vCPUs (Azure ML compute quota)');
    expect(r.summary).toContain('need 16, only 8 free');
    expect(r.summary).toContain('Azure ML training cluster (max nodes): 4 x Standard_DS3_v2 = 16');
    expect(r.summary).not.toContain('Standard DSv2 Family vCPUs'); // the VM family quota of DSv2 is not used
    expect(r.fix).toContain('Azure Machine Learning');
  });

  it('a VM size the region does not offer is missing and names --agent-vm-size', async () => {
    const { ctx } = await setup({ flags: { agentVmSize: 'Standard_E2s_v5' } });
    const r = await azurePreflightStep.check(ctx);
    expect(r.status).toBe('missing');
    expect(r.summary).toContain(`VM size Standard_E2s_v5 (agent VM) is not offered in this region in ${LOCATION}`);
    expect(r.fix).toContain('--agent-vm-size');
    expect(r.fix).toContain('az vm list-skus');
  });

  it('a size restricted for the subscription is missing', async () => {
    const world = defaultArmWorld();
    world.skus = world.skus.map((s) => (s.name === 'Standard_D4s_v5' ? { ...s, restricted: 'NotAvailableForSubscription' } : s));
    const { ctx } = await setup({ arm: { skus: world.skus } });
    const r = await azurePreflightStep.check(ctx);
    expect(r.summary).toContain('Standard_D4s_v5 (AKS nodes) is restricted for this subscription (NotAvailableForSubscription)');
  });

  it('a re-run after terraform apply does not count the existing AKS nodes and agent VM twice', async () => {
    const world = defaultArmWorld();
    // the deployment's own 14 vCPUs are in use; only 2 are left
    world.computeUsages['*'] = world.computeUsages['*']!.map((u) =>
      u.name === 'cores' ? { ...u, current: 18, limit: 20 } : u.name === 'standardDSv5Family' ? { ...u, current: 14, limit: 16 } : u,
    );
    const { ctx, arm } = await setup({ arm: { computeUsages: world.computeUsages } });
    arm.addResource(ids.aks, { type: 'Microsoft.ContainerService/managedClusters' });
    arm.addResource(ids.agentVm, { type: 'Microsoft.Compute/virtualMachines' });
    const r = await azurePreflightStep.check(ctx);
    expect(r.status).toBe('ok');
  });
});

describe('azure preflight: a Managed DevOps Pool (--agents-host managed-pool)', () => {
  const MP = { agentsHost: 'managed-pool' };

  it("counts the pool's machines at maximum concurrency in the Managed DevOps Pools quota, and no agent VM", async () => {
    const { ctx, arm } = await setup({ flags: MP });
    const r = await azurePreflightStep.check(ctx);
    expect(r.status).toBe('ok');
    // 3 x D4s_v5 (12) in the Compute quota: the agent VM's 2 vCPUs are gone
    expect(r.summary).toContain('vCPUs: 12 of 96 free');
    // --agents 4 x Standard_D2ads_v5 (2 vCPUs) = 8 in the pool service's own quota, per family
    expect(r.summary).toContain('Managed DevOps Pools Standard DADSv5 Family vCPUs: 8 of 100 free');
    expect(r.summary).toContain(`${REQUIRED_PROVIDERS.length + 2} resource providers registered`);
    expect(arm.calls('GET', /\/providers\/Microsoft\.DevOpsInfrastructure\/locations\/westeurope\/usages$/)).toHaveLength(1);
    expect(arm.calls('GET', /virtualMachines\/vm-mlops01-agents$/)).toEqual([]);
  });

  it("the service's default quota (5 vCPUs per family) is too little for 4 agents: missing, with the portal's Managed DevOps Pools quota and an --agents that fits", async () => {
    const world = defaultArmWorld();
    world.managedPoolUsages['*'] = [{ name: 'standardDADSv5Family', localizedName: 'Standard DADSv5 Family vCPUs', current: 0, limit: 5 }];
    const { ctx } = await setup({ flags: MP, arm: { managedPoolUsages: world.managedPoolUsages } });
    const r = await azurePreflightStep.check(ctx);
    expect(r.status).toBe('missing');
    expect(r.summary).toContain(`Standard DADSv5 Family vCPUs (Managed DevOps Pools quota) in ${LOCATION}: need 8, only 5 free (limit 5, 0 in use) for Managed DevOps Pool agents (maximum concurrency): 4 x Standard_D2ads_v5 = 8`);
    expect(r.fix).toContain('Quotas → Managed DevOps Pools');
    expect(r.fix).toContain('--agents 2 (env AZURE_MLOPS_AGENTS) fits');
    const e = await planError(azurePreflightStep, ctx, r);
    expect(e.message).toContain('need 8, only 5 free');
  });

  it('a re-run after terraform apply does not count the existing pool twice', async () => {
    const world = defaultArmWorld();
    world.managedPoolUsages['*'] = [{ name: 'standardDADSv5Family', localizedName: 'Standard DADSv5 Family vCPUs', current: 8, limit: 8 }];
    const { ctx, arm } = await setup({ flags: MP, arm: { managedPoolUsages: world.managedPoolUsages } });
    arm.addResource(`/subscriptions/${SUB}/resourceGroups/rg-${PREFIX}-devops/providers/Microsoft.DevOpsInfrastructure/pools/mdp-${PREFIX}`, { type: 'Microsoft.DevOpsInfrastructure/pools' });
    expect((await azurePreflightStep.check(ctx)).status).toBe('ok');
  });

  it('registers Microsoft.DevOpsInfrastructure and Microsoft.DevCenter; their quota is read once registered', async () => {
    const world = defaultArmWorld();
    for (const ns of MANAGED_POOL_PROVIDERS) world.providers[ns] = 'NotRegistered';
    const { ctx, arm } = await setup({ flags: MP, arm: { providers: world.providers } });
    const r = await azurePreflightStep.check(ctx);
    expect(r.summary).toContain('2 of 13 resource providers not registered: Microsoft.DevCenter, Microsoft.DevOpsInfrastructure');
    expect(r.details?.join('\n')).toContain('Managed DevOps Pools quota is checked once its resource provider is registered');
    expect((await azurePreflightStep.plan(ctx, r)).map((c) => c.commands?.[0])).toEqual([
      'az provider register --namespace Microsoft.DevCenter',
      'az provider register --namespace Microsoft.DevOpsInfrastructure',
    ]);
    const report = await runSteps([azurePreflightStep], ctx, 'apply');
    expect(report.steps[0]?.outcome).toBe('done');
    expect(arm.registered.sort()).toEqual(['Microsoft.DevCenter', 'Microsoft.DevOpsInfrastructure']);
    expect(report.steps[0]?.check?.summary).toContain('Managed DevOps Pools Standard DADSv5 Family vCPUs: 8 of 100 free');
  });

  it('with the agent VM neither provider is asked about', async () => {
    const world = defaultArmWorld();
    for (const ns of MANAGED_POOL_PROVIDERS) world.providers[ns] = 'NotRegistered';
    const { ctx, arm } = await setup({ arm: { providers: world.providers } });
    expect((await azurePreflightStep.check(ctx)).status).toBe('ok');
    expect(arm.requests.filter((q) => /DevOpsInfrastructure|DevCenter/.test(q.path))).toEqual([]);
  });

  it("the CLI's provider lists are the terraform module's (terraform/versions.tf local.resource_providers), for both hosts", () => {
    const versions = readFileSync(new URL('../../terraform/versions.tf', import.meta.url), 'utf8');
    const block = /resource_providers = concat\(\[([\s\S]*?)\], local\.managed_pool \? \[([^\]]*)\] : \[\]\)/.exec(versions);
    expect(block, 'terraform/versions.tf: local.resource_providers = concat([...], local.managed_pool ? [...] : [])').not.toBeNull();
    const names = (text: string) => [...text.matchAll(/"([\w.]+)"/g)].map((m) => m[1]!).sort();
    expect([...requiredProviders('vm')].sort()).toEqual(names(block![1]!));
    expect([...requiredProviders('managed-pool')].sort()).toEqual([...names(block![1]!), ...names(block![2]!)].sort());
  });
});

describe('azure preflight: resource providers', () => {
  it('an unregistered provider: plan registers it (az command shown), apply registers and waits until Registered', async () => {
    const world = defaultArmWorld();
    world.providers['Microsoft.KubernetesConfiguration'] = 'NotRegistered';
    world.providers['Microsoft.MachineLearningServices'] = 'NotRegistered';
    const { ctx, arm } = await setup({ arm: { providers: world.providers, registrationPolls: 2 } });
    const r = await azurePreflightStep.check(ctx);
    expect(r.status).toBe('missing');
    expect(r.summary).toContain('2 of 11 resource providers not registered: Microsoft.KubernetesConfiguration, Microsoft.MachineLearningServices');
    // Azure ML's quota cannot be read before its provider is registered: a note, not a blocker
    expect(r.details?.join('\n')).toContain('Azure ML compute quota is checked once its resource provider is registered');

    const changes = await azurePreflightStep.plan(ctx, r);
    expect(changes.map((c) => [c.action, c.commands?.[0]])).toEqual([
      ['run', 'az provider register --namespace Microsoft.KubernetesConfiguration'],
      ['run', 'az provider register --namespace Microsoft.MachineLearningServices'],
    ]);

    const report = await runSteps([azurePreflightStep], ctx, 'apply');
    expect(report.steps[0]?.outcome).toBe('done');
    expect(arm.registered.sort()).toEqual(['Microsoft.KubernetesConfiguration', 'Microsoft.MachineLearningServices']);
    expect(arm.world.providers['Microsoft.KubernetesConfiguration']).toBe('Registered');
    // it polled the provider until Registered (Registering twice, then Registered)
    expect(arm.calls('GET', /\/providers\/Microsoft\.KubernetesConfiguration$/).length).toBeGreaterThanOrEqual(4);
    // and the re-check read the Azure ML quota
    expect(report.steps[0]?.check?.summary).toContain('Azure ML low-priority vCPUs: 16 of 100 free');
  });

  it('a fresh subscription: checks that need an unregistered provider wait for it; apply registers, the re-check runs them', async () => {
    const world = defaultArmWorld();
    for (const ns of ['Microsoft.Storage', 'Microsoft.KeyVault', 'Microsoft.Compute', 'Microsoft.MachineLearningServices', 'Microsoft.ContainerRegistry']) world.providers[ns] = 'NotRegistered';
    const { ctx, arm } = await setup({ arm: { providers: world.providers } });
    const checks = await runPreflightChecks(ctx);
    expect(checks.map((c) => [c.id, c.status])).toEqual([
      ['azure.providers', 'missing'],
      ['azure.names', 'warning'],
      ['azure.deleted-vault', 'warning'],
      ['azure.quota', 'warning'],
      ['azure.role-assignments', 'ok'],
      ['azure.deployment', 'ok'],
    ]);
    expect(checks[1]?.summary).toBe('Global names: checked once its resource provider is registered');
    const r = await azurePreflightStep.check(ctx);
    expect((await azurePreflightStep.plan(ctx, r)).map((c) => c.commands?.[0])).toHaveLength(5);
    const report = await runSteps([azurePreflightStep], ctx, 'apply');
    expect(report.steps[0]?.outcome).toBe('done');
    expect(report.steps[0]?.check?.status).toBe('ok');
    expect(report.steps[0]?.check?.summary).toContain('names free');
    expect(arm.registered).toHaveLength(5);
  });

  it('dry run: prints the register commands and changes nothing', async () => {
    const world = defaultArmWorld();
    world.providers['Microsoft.KubernetesConfiguration'] = 'NotRegistered';
    const { ctx, arm, io } = await setup({ arm: { providers: world.providers } });
    const report = await runSteps([azurePreflightStep], ctx, 'dry-run');
    expect(report.steps[0]?.outcome).toBe('planned');
    expect(io.out()).toContain('az provider register --namespace Microsoft.KubernetesConfiguration');
    expect(arm.mutatingRequests()).toEqual([]);
  });

  it('a provider still registering is waited for, not registered again', async () => {
    const world = defaultArmWorld();
    world.providers['Microsoft.ContainerService'] = 'Registering';
    const { ctx, arm } = await setup({ arm: { providers: world.providers } });
    const r = await azurePreflightStep.check(ctx);
    const changes = await azurePreflightStep.plan(ctx, r);
    expect(changes).toEqual([expect.objectContaining({ what: 'wait for resource provider Microsoft.ContainerService to finish registering' })]);
    setTimeout(() => (arm.world.providers['Microsoft.ContainerService'] = 'Registered'), 50);
    await azurePreflightStep.apply(ctx, changes);
    expect(arm.registered).toEqual([]);
  });

  it('without the right to register providers the plan stops with the command for an admin', async () => {
    const world = defaultArmWorld();
    world.providers['Microsoft.KubernetesConfiguration'] = 'NotRegistered';
    const { ctx } = await setup({ arm: { providers: world.providers, permissions: [...READER, ...USER_ACCESS_ADMINISTRATOR] } });
    const r = await azurePreflightStep.check(ctx);
    const e = await planError(azurePreflightStep, ctx, r);
    expect(e.message).toContain('you may not register it (needs Microsoft.KubernetesConfiguration/register/action)');
    expect(e.message).toContain('az provider register --namespace Microsoft.KubernetesConfiguration');
  });

  it('a failed registration is a step error with the command to run', async () => {
    const world = defaultArmWorld();
    world.providers['Microsoft.KubernetesConfiguration'] = 'NotRegistered';
    const { ctx } = await setup({
      arm: {
        providers: world.providers,
        faults: [{ method: 'POST', path: '/register$', status: 403, body: { error: { code: 'AuthorizationFailed', message: 'The client does not have authorization to perform action Microsoft.KubernetesConfiguration/register/action.' } } }],
      },
    });
    const r = await azurePreflightStep.check(ctx);
    const changes = await azurePreflightStep.plan(ctx, r);
    const e = await azurePreflightStep.apply(ctx, changes).then(
      () => undefined,
      (x: unknown) => x as StepError,
    );
    expect(e).toBeInstanceOf(StepError);
    expect(e!.message).toContain("lacks the permission 'Microsoft.KubernetesConfiguration/register/action'");
    expect(e!.fix).toContain('az provider register --namespace Microsoft.KubernetesConfiguration');
  });
});

describe('azure preflight: rights', () => {
  it('Contributor cannot create role assignments: missing, naming Owner / User Access Administrator', async () => {
    const { ctx } = await setup({ arm: { permissions: CONTRIBUTOR } });
    const r = await azurePreflightStep.check(ctx);
    expect(r.status).toBe('missing');
    expect(r.summary).toContain(`cannot create role assignments on subscription ${SUB} (needs Microsoft.Authorization/roleAssignments/write)`);
    expect(r.fix).toContain('Owner or User Access Administrator');
    expect(r.fix).toContain(`--scope /subscriptions/${SUB}`);
    const e = await planError(azurePreflightStep, ctx, r);
    expect(e.message).toContain('role assignments');
  });

  it('User Access Administrator alone can assign roles but cannot create resource groups', async () => {
    const { ctx } = await setup({ arm: { permissions: USER_ACCESS_ADMINISTRATOR } });
    const checks = await runPreflightChecks(ctx);
    const rights = checks.find((c) => c.id === 'azure.role-assignments')!;
    expect(rights.status).toBe('missing');
    expect(rights.summary).toContain('cannot create resource groups');
    expect(rights.summary).not.toContain('cannot create role assignments');
  });

  it('Contributor + User Access Administrator is enough', async () => {
    const { ctx } = await setup({ arm: { permissions: [...CONTRIBUTOR, ...USER_ACCESS_ADMINISTRATOR] } });
    expect((await azurePreflightStep.check(ctx)).status).toBe('ok');
  });

  it('role assignments allowed only under a condition are a warning (the run goes on)', async () => {
    const { ctx } = await setup({
      arm: { permissions: [...CONTRIBUTOR, { actions: ['Microsoft.Authorization/roleAssignments/write'], notActions: [], condition: "@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {7f951dda-4ed3-4680-a7ca-43fe172d538d}" }] },
    });
    const r = await azurePreflightStep.check(ctx);
    expect(r.status).toBe('warning');
    expect(r.summary).toContain('only under a condition');
  });
});

describe('azure preflight: one deployment per prefix', () => {
  const OTHER = '9f0e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f';
  const devopsRg = `/subscriptions/${SUB}/resourceGroups/rg-${PREFIX}-devops`;
  const group = (tags?: Record<string, string>) => ({ type: 'Microsoft.Resources/resourceGroups', location: LOCATION, ...(tags ? { tags } : {}) });

  it('no resource group yet: ok, naming this deployment; a group tagged with this deployment id: ok', async () => {
    const { ctx, arm } = await setup();
    const fresh = (await runPreflightChecks(ctx)).find((c) => c.id === 'azure.deployment')!;
    expect(fresh).toMatchObject({ status: 'ok', summary: `rg-${PREFIX}-ml and rg-${PREFIX}-devops not created yet` });
    arm.addResource(ids.rg, group({ 'managed-by': 'azure-mlops', 'azure-mlops-deployment': ctx.state.deploymentId }));
    expect((await azurePreflightStep.check(ctx)).status).toBe('ok');
    expect(arm.calls('GET', new RegExp(`/resourcegroups/rg-${PREFIX}-(ml|devops)$`, 'i')).length).toBeGreaterThanOrEqual(2);
  });

  it("a group tagged with another deployment's id: refused (exit 2, before any change), naming that id and the fix; doctor shows it missing", async () => {
    const { ctx, arm } = await setup();
    arm.addResource(ids.rg, group({ 'azure-mlops-deployment': OTHER }));
    const r = await azurePreflightStep.check(ctx);
    expect(r.status).toBe('missing');
    expect(r.refusal?.message).toContain(`resource group rg-${PREFIX}-ml`);
    expect(r.refusal?.message).toContain(`deployment ${OTHER}`);
    expect(r.refusal?.message).toContain(ctx.state.deploymentId);
    expect(r.refusal?.fix).toMatch(/state dir that created it \(--state-dir or AZURE_MLOPS_STATE_DIR\)/);
    expect(r.refusal?.fix).toContain('--prefix or AZURE_MLOPS_PREFIX');
    expect(r.refusal?.fix).toContain('--state-backend azurerm');
    const e = await runSteps([azurePreflightStep], ctx, 'apply').then(() => undefined, (x: unknown) => x);
    expect(e).toMatchObject({ name: 'UsageError', exitCode: 2 });
    expect(arm.mutatingRequests()).toEqual([]);
    const doctor = (await runPreflightChecks(ctx)).find((c) => c.id === 'azure.deployment')!;
    expect(doctor.status).toBe('missing');
    expect(doctor.summary).toContain(OTHER);
    expect(doctor.fix).toContain('--state-dir');
    expect(doctor).not.toHaveProperty('refusal');
  });

  it('an untagged group this state dir did not create: refused; one its own terraform created before deployment ids: ok', async () => {
    const { ctx, arm } = await setup();
    arm.addResource(devopsRg, group({ 'managed-by': 'azure-mlops' }));
    const r = await azurePreflightStep.check(ctx);
    expect(r.refusal?.message).toContain(`resource group rg-${PREFIX}-devops) already exists, without the azure-mlops-deployment tag`);
    // An older azure-mlops recorded its terraform deployment, untagged: still its own (the next apply tags it).
    await ctx.state.recordResource({ kind: 'terraform-deployment', name: PREFIX, id: join(ctx.run.stateDir, 'terraform'), createdByUs: true, step: 'terraform' });
    expect((await azurePreflightStep.check(ctx)).status).toBe('ok');
  });

  it('--state-backend azurerm: state dirs sharing the backend share the id; a local state dir on that prefix is told to use the backend', async () => {
    const shared = await setup({ flags: { stateBackend: 'azurerm' } });
    const { deploymentId } = await import('../../src/steps/deployment-values.js');
    const id = deploymentId(shared.ctx);
    expect(id).not.toBe(shared.ctx.state.deploymentId);
    const other = await setup({ flags: { stateBackend: 'azurerm' } });
    expect(deploymentId(other.ctx)).toBe(id);
    other.arm.addResource(ids.rg, group({ 'azure-mlops-deployment': id }));
    expect((await azurePreflightStep.check(other.ctx)).status).toBe('ok');

    const local = await setup();
    local.arm.addResource(ids.rg, group({ 'azure-mlops-deployment': id }));
    const r = await azurePreflightStep.check(local.ctx);
    expect(r.refusal?.fix).toContain('keeps its terraform state in Azure: to share it, run with --state-backend azurerm');
  });
});

describe('azure preflight: transient failures and secrets', () => {
  it('a 429 with Retry-After from ARM is retried and the check still passes', async () => {
    const { ctx, arm } = await setup({
      arm: { faults: [{ method: 'GET', path: '/providers/Microsoft\\.Compute/skus$', status: 429, headers: { 'Retry-After': '1' } }] },
    });
    const started = Date.now();
    const r = await azurePreflightStep.check(ctx);
    expect(r.status).toBe('ok');
    expect(arm.calls('GET', /\/providers\/Microsoft\.Compute\/skus$/)).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // honoured Retry-After
  });

  it('a 500 then success is retried too', async () => {
    const { ctx, arm } = await setup({ arm: { faults: [{ method: 'POST', path: 'Microsoft\\.KeyVault/checkNameAvailability$', status: 500 }] } });
    expect((await azurePreflightStep.check(ctx)).status).toBe('ok');
    expect(arm.calls('POST', /KeyVault\/checkNameAvailability$/)).toHaveLength(2);
  }, 20_000);

  it('an ARM error that does not go away is reported as "could not check", with the service message, never the token', async () => {
    const { ctx, io } = await setup({
      arm: { faults: [{ method: 'GET', path: '/usages$', status: 400, times: 10, body: { error: { code: 'BadRequest', message: 'Location westeurope is not available for resource type usages.' } } }] },
    });
    const r = await azurePreflightStep.check(ctx);
    expect(r.status).toBe('missing');
    expect(r.summary).toContain('vCPU quota: could not check');
    expect(r.summary).toContain('400 BadRequest: Location westeurope is not available');
    const e = await planError(azurePreflightStep, ctx, r);
    for (const text of [r.summary, ...(r.details ?? []), r.fix ?? '', e.message, e.fix ?? '', io.all()]) expect(text).not.toContain(FAKE_TOKEN);
  });

  it('the token never appears in requests, output, errors or the state file', async () => {
    const world = defaultArmWorld();
    world.providers['Microsoft.Network'] = 'NotRegistered';
    const { ctx, arm, io } = await setup({ arm: { providers: world.providers, permissions: CONTRIBUTOR, takenNames: { storage: [`st${PREFIX}`], registry: [], vault: [] } } });
    const r = await azurePreflightStep.check(ctx);
    const e = await runSteps([azurePreflightStep], ctx, 'apply').then(
      () => undefined,
      (x: unknown) => x as StepError,
    );
    expect(e).toBeInstanceOf(StepError);
    const state = readFileSync(join(ctx.run.stateDir, 'state.json'), 'utf8');
    const everything = [JSON.stringify(arm.requests), io.all(), JSON.stringify(r), e!.message, e!.fix ?? '', state].join('\n');
    expect(everything).not.toContain(FAKE_TOKEN);
    expect(everything).not.toContain('fake-token');
  });
});
