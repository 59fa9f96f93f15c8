// --agents-host managed-pool in the fake world, through the built CLI: terraform's apply of the pool
// (the fixture's ARM PUT) makes the fake Managed DevOps Pools service create the Azure DevOps pool and
// its project queue (test/helpers/world-core.ts); init finds them, registers no agent, and works
// without a PAT; a second init changes nothing; doctor is clean; destroy removes what init created,
// the pool going with terraform's destroy.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tfCalls } from '../fakes/fake-terraform.js';
import { runCli } from '../helpers/cli.js';
import { PREFIX, SUB, worldsPerTest, type World } from '../helpers/world.js';

const world = worldsPerTest();
const POOL = `mdp-${PREFIX}`;
const POOL_ID = `/subscriptions/${SUB}/resourceGroups/rg-${PREFIX}-devops/providers/Microsoft.DevOpsInfrastructure/pools/${POOL}`;
/** The fake tenant's DevOpsInfrastructure service principal (test/fakes/fake-az-impl.mjs). */
const DEVOPS_INFRA_OBJECT_ID = 'd0e0f1a2-3b4c-4d5e-8f60-71829304a5b6';

/** No PAT anywhere: Azure DevOps with the az login's Microsoft Entra token (the default). */
function noPat(w: World): Record<string, string> {
  const env = { ...w.env };
  delete env.AZURE_DEVOPS_EXT_PAT;
  return env;
}

const readState = (w: World) => JSON.parse(readFileSync(join(w.stateDir, 'state.json'), 'utf8'));
const tfState = (w: World) => JSON.parse(readFileSync(join(w.stateDir, 'terraform', 'terraform.tfstate'), 'utf8')) as { resources: Array<{ type: string; name: string }> };
const mutating = (w: World) => ({ devops: w.devops.mutating().length, az: w.az.mutatingCalls().length, arm: w.arm.mutatingRequests().length });

describe('init --agents-host managed-pool (fake world)', () => {
  it('no agents step, the service-created pool found, no PAT; a second init changes nothing; doctor exits 0; destroy removes what init created', async () => {
    const w = await world();
    const env = noPat(w);
    const args = [...w.args, '--agents-host', 'managed-pool'];
    const first = await runCli(['init', '--yes', '--json', ...args], { env, cwd: w.cwd });
    expect(first.code, first.stderr.slice(-3000)).toBe(0);
    const doc = JSON.parse(first.stdout);
    const ids = doc.steps.map((s: { id: string }) => s.id);
    expect(ids).not.toContain('agents');
    expect(ids.indexOf('agent-pool')).toBeGreaterThan(ids.indexOf('terraform'));

    // Every Azure DevOps request carried the Entra token; no run command, no agent registered by azure-mlops.
    expect([...new Set(w.devops.requests.map((r) => r.authScheme))]).toEqual(['bearer']);
    expect(w.arm.requests.filter((r) => /\/runCommands\//.test(r.path))).toEqual([]);
    expect(w.devops.world.agents).toEqual([]);
    expect(first.stderr).not.toMatch(/registering .* agents/);

    // Terraform created the pool (one ARM PUT), for this organization and project; the service made
    // the Azure DevOps pool and its queue; azure-mlops created neither.
    const puts = w.arm.calls('PUT', /\/Microsoft\.DevOpsInfrastructure\/pools\//);
    expect(puts.map((p) => p.path)).toEqual([POOL_ID]);
    expect((puts[0]!.body as { properties: { organizationProfile: unknown } }).properties.organizationProfile).toMatchObject({ kind: 'AzureDevOps', organizations: [{ url: w.devops.orgUrl.replace(/\/$/, ''), projects: ['mlops'], parallelism: 4 }] });
    // The fixture plays both of ARM's parts in the same apply: its resource groups (FIXTURE_ARM_DIR) and
    // the pool's PUT (FIXTURE_ARM_URL), each tagged with this state dir's deployment id, as the module
    // tags every resource (one deployment per prefix).
    const deploymentId = readState(w).deploymentId as string;
    const groupIds = ['ml', 'devops'].map((rg) => `/subscriptions/${SUB}/resourcegroups/rg-${PREFIX}-${rg}`);
    w.arm.syncResourceDir();
    for (const g of groupIds) expect(w.arm.world.resources[g]?.tags, g).toMatchObject({ 'azure-mlops-deployment': deploymentId });
    expect((puts[0]!.body as { tags?: Record<string, string> }).tags).toMatchObject({ 'azure-mlops-deployment': deploymentId });
    const pool = w.devops.world.findPool(POOL)!;
    expect(pool).toBeDefined();
    const project = w.devops.world.findProject('mlops')!;
    const queue = w.devops.world.queues.find((q) => q.projectId === project.id && q.poolId === pool.id)!;
    expect(queue).toBeDefined();
    expect(w.devops.mutating().filter((r) => /distributedtask\/(pools|queues)/i.test(r.path))).toEqual([]);
    expect(w.devops.world.pools.map((p) => p.name)).not.toContain('pool001');

    // The providers were checked, the quota read from the pool service's own usages.
    expect(w.arm.calls('GET', /\/providers\/Microsoft\.DevOpsInfrastructure$/)).not.toEqual([]);
    expect(w.arm.calls('GET', /\/providers\/Microsoft\.DevCenter$/)).not.toEqual([]);
    expect(w.arm.calls('GET', /\/providers\/Microsoft\.DevOpsInfrastructure\/locations\/westeurope\/usages$/)).not.toEqual([]);

    // Terraform got the host, the project and the service principal (looked up once, by app id).
    const tfvars = JSON.parse(readFileSync(join(w.stateDir, 'terraform', 'terraform.tfvars.json'), 'utf8'));
    expect(tfvars).toMatchObject({ agents_host: 'managed-pool', devops_project: 'mlops', devops_infrastructure_principal_id: DEVOPS_INFRA_OBJECT_ID });
    expect(tfvars).not.toHaveProperty('devops_pool');
    expect(w.az.calls().filter((c) => c.cmd === 'ad sp list').length).toBeGreaterThanOrEqual(1);
    expect(tfState(w).resources.map((r) => r.name)).toContain('managed_pool');

    // The pipeline runs on the managed pool: variable group, pushed azdo-variables.yml, queue authorized.
    const group = w.devops.world.variableGroups.find((g) => g.name === 'devopsforai-aml-vg')!;
    expect(group.variables.POOL_NAME?.value).toBe(POOL);
    expect(w.devops.readFile('mlops', 'mlops', '/devops_pipelines/azdo-variables.yml')).toMatch(new RegExp(`- name: POOL_NAME\\s*\\n\\s*value: ${POOL}\\b`));
    const definition = w.devops.world.definitions.find((d) => d.name === 'azdo-ci-build-train')!;
    const perms = w.devops.world.permissionsFor(project.id, 'queue', String(queue.id));
    expect(perms?.pipelines?.some((p) => p.id === definition.id && p.authorized)).toBe(true);

    // State: the pool is the service's, not recorded as created (or found) by azure-mlops.
    const state = readState(w);
    expect(state.answers.agentsHost).toBe('managed-pool');
    expect(state.resources.filter((r: { kind: string }) => r.kind === 'agent-pool' || r.kind === 'agent-queue' || r.kind === 'agent')).toEqual([]);
    expect(state.data['agent-pool']).toEqual({ poolId: pool.id, queueId: queue.id, managedPool: POOL });

    // A second init: nothing to change anywhere, terraform not applied again.
    const before = mutating(w);
    const applies = tfCalls(w.root).filter((c) => c.argv[0] === 'apply').length;
    const second = await runCli(['init', '--yes', ...args], { env, cwd: w.cwd });
    expect(second.code, second.stderr.slice(-2000)).toBe(0);
    expect(mutating(w)).toEqual(before);
    expect(tfCalls(w.root).filter((c) => c.argv[0] === 'apply').length).toBe(applies);
    expect(w.arm.calls('PUT', /\/Microsoft\.DevOpsInfrastructure\/pools\//)).toHaveLength(1);

    // Doctor (the host from the saved answers): the managed pool found, agents managed by it.
    const doctor = await runCli(['doctor', '--json'], { env, cwd: w.cwd });
    expect(doctor.code, doctor.stderr.slice(-2000)).toBe(0);
    const checks = Object.fromEntries(JSON.parse(doctor.stdout).checks.map((c: { id: string }) => [c.id, c]));
    expect(checks['devops.pool']).toMatchObject({ status: 'ok', finding: expect.stringContaining(`'${POOL}'`) });
    expect(checks['devops.agents']).toMatchObject({ status: 'ok', finding: expect.stringMatching(/managed by the Managed DevOps Pool mdp-mlops01 \(agents start on demand/) });
    expect(checks['azure.providers'].finding).toContain('13 resource providers registered');

    // Destroy: terraform destroys the pool (its DELETE), the service removes the Azure DevOps pool with it;
    // azure-mlops deletes no pool itself, and keeps only what it must.
    const destroy = await runCli(['destroy', '--yes', '--json'], { env, cwd: w.cwd });
    expect(destroy.code, destroy.stderr.slice(-2000)).toBe(0);
    const report = JSON.parse(destroy.stdout);
    expect(report.removed.map((r: { kind: string }) => r.kind)).toEqual(['pipeline', 'variable-group', 'service-connection', 'federated-credential', 'terraform-deployment']);
    expect(destroy.stderr).toMatch(/terraform destroy of \d+ resource\(s\), the Managed DevOps Pool with them/);
    expect(w.arm.calls('DELETE', /\/Microsoft\.DevOpsInfrastructure\/pools\//).map((r) => r.path)).toEqual([POOL_ID]);
    w.arm.syncResourceDir();
    for (const g of groupIds) expect(w.arm.world.resources[g], g).toBeUndefined();
    expect(w.devops.world.findPool(POOL)).toBeUndefined();
    expect(w.devops.world.queues.filter((q) => q.name === POOL)).toEqual([]);
    expect(w.devops.mutating().filter((r) => r.method === 'DELETE' && /distributedtask\/(pools|queues)/i.test(r.path))).toEqual([]);
    const kept = Object.fromEntries(report.kept.map((k: { kind: string; name: string; reason: string }) => [`${k.kind} ${k.name}`, k.reason]));
    expect(kept[`agent-pool ${POOL}`]).toMatch(/Managed DevOps Pools service created it .* removes it with that pool, which terraform destroys/);
    // Kept besides: what destroy keeps anyway without its flags (project, repository, the organization's extension).
    expect(report.kept.map((k: { kind: string }) => k.kind).sort()).toEqual(['agent-pool', 'agent-queue', 'devops-extension', 'devops-project', 'repository']);
    expect(tfState(w).resources).toEqual([]);
    const after = readState(w);
    expect(after.outputs).toEqual({});
    for (const s of ['terraform', 'agent-pool', 'agents', 'pipeline', 'variable-group', 'service-connection']) expect(after.data[s], s).toBeUndefined();

    // A second destroy has nothing left of the pool to talk about.
    const again = await runCli(['destroy', '--yes', '--json'], { env, cwd: w.cwd });
    expect(again.code, again.stderr.slice(-2000)).toBe(0);
    expect(JSON.parse(again.stdout).kept.map((k: { kind: string }) => k.kind)).not.toContain('agent-pool');
  });

  it('switching an agent-VM deployment to managed-pool: terraform swaps the VM for the pool; destroy still deletes the VM run\'s agents (by id) and its pool', async () => {
    const w = await world();
    const env = noPat(w);
    const vm = await runCli(['init', '--yes', ...w.args], { env, cwd: w.cwd });
    expect(vm.code, vm.stderr.slice(-2000)).toBe(0);
    const vmAgents = w.devops.world.agents.filter((a) => a.name.startsWith(`vm-${PREFIX}-agents`)).map((a) => a.id);
    expect(vmAgents).toHaveLength(4);

    const managed = await runCli(['init', '--yes', ...w.args, '--agents-host', 'managed-pool'], { env, cwd: w.cwd });
    expect(managed.code, managed.stderr.slice(-3000)).toBe(0);
    expect(tfState(w).resources.map((r) => r.name)).toContain('managed_pool');
    expect(tfState(w).resources.map((r) => r.name)).not.toContain('agent_vm');
    expect(w.devops.world.variableGroups[0]!.variables.POOL_NAME?.value).toBe(POOL);
    // The repository already has this pipeline with pool001: never overwritten, said so.
    expect(managed.stdout + managed.stderr).toMatch(/file\(s\) differ from this version of azure-mlops/);

    const destroy = await runCli(['destroy', '--yes', '--json'], { env, cwd: w.cwd });
    expect(destroy.code, destroy.stderr.slice(-2000)).toBe(0);
    const report = JSON.parse(destroy.stdout);
    const removed = report.removed.map((r: { kind: string; name: string }) => `${r.kind} ${r.name}`);
    expect(removed).toEqual(expect.arrayContaining([`agent vm-${PREFIX}-agents-1`, 'agent-queue pool001', 'agent-pool pool001', `terraform-deployment ${PREFIX}`]));
    // destroy's order is the same whatever the host now says: agents, then terraform, then the pool.
    expect(removed.indexOf(`agent vm-${PREFIX}-agents-1`)).toBeLessThan(removed.indexOf(`terraform-deployment ${PREFIX}`));
    expect(removed.indexOf('agent-pool pool001')).toBeGreaterThan(removed.indexOf(`terraform-deployment ${PREFIX}`));
    expect(w.devops.world.agents).toEqual([]);
    expect(w.devops.world.pools.map((p) => p.name)).not.toContain('pool001');
    expect(w.devops.world.findPool(POOL)).toBeUndefined();
    expect(report.kept.filter((k: { kind: string; reason: string }) => k.kind === 'agent' || k.reason === 'destroy does not know this kind of object')).toEqual([]);
    expect(tfState(w).resources).toEqual([]);
  });

  it('the pool service cannot add the pool to the project: terraform apply fails with its message (the fixture sends the PUT)', async () => {
    const w = await world();
    // The world's stand-in refuses projects it does not know; make the project unknown to it.
    const original = w.arm.onManagedPool;
    w.arm.onManagedPool = (event, id, body) =>
      event === 'put' ? { status: 400, code: 'BadRequest', message: 'Could not add the pool to the Azure DevOps project(s) mlops: you lack the permission.' } : original(event, id, body);
    const r = await runCli(['init', '--yes', ...w.args, '--agents-host', 'managed-pool'], { env: noPat(w), cwd: w.cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/terraform apply failed/);
    expect(r.stderr).toContain('Could not add the pool to the Azure DevOps project(s) mlops');
    expect(w.devops.world.findPool(POOL)).toBeUndefined();
  });
});
