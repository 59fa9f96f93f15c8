// distributedtask: pools, agents, queues, variable groups, agent packages, via the real TaskAgentApi.
import { TaskAgentPoolType, TaskAgentStatus, type VariableGroupParameters } from 'azure-devops-node-api/interfaces/TaskAgentInterfaces.js';
import { afterEach, describe, expect, it } from 'vitest';
import { rejection, startFake, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.fake.stop();
  h = undefined;
});

describe('agent pools and agents', () => {
  it('addAgentPool, find by name, duplicate 409 TaskAgentPoolExistsException, 404 -> null, update, delete', async () => {
    h = await startFake();
    const ta = await h.api.getTaskAgentApi();
    expect(await ta.getAgentPools('pool001')).toEqual([]);
    const pool = await ta.addAgentPool({ name: 'pool001', autoProvision: false });
    expect(pool).toMatchObject({ name: 'pool001', isHosted: false, poolType: TaskAgentPoolType.Automation, size: 0 });
    expect(pool.id).toBeGreaterThan(2); // Default (1) and Azure Pipelines (2) exist in every org
    const found = await ta.getAgentPools('POOL001');
    expect(found.map((p) => p.id)).toEqual([pool.id]);
    const dup = await rejection(ta.addAgentPool({ name: 'pool001' }));
    expect(dup.statusCode).toBe(409);
    expect(dup.result?.typeKey).toBe('TaskAgentPoolExistsException');
    expect(dup.message).toBe('Agent pool pool001 already exists.');
    expect(await ta.getAgentPool(4242)).toBeNull();
    const renamed = await ta.updateAgentPool({ name: 'pool002' }, pool.id ?? 0);
    expect(renamed.name).toBe('pool002');
    await ta.deleteAgentPool(pool.id ?? 0);
    expect(await ta.getAgentPool(pool.id ?? 0)).toBeNull();
    expect((await ta.getAgentPools()).map((p) => p.name)).toEqual(['Default', 'Azure Pipelines']);
  });

  it('agents of a pool carry status (online/offline -> TaskAgentStatus) and enabled', async () => {
    h = await startFake();
    const seeded = h.fake.addPool('pool001', [
      { name: 'vm-agent-1', status: 'online' },
      { name: 'vm-agent-2', status: 'offline', enabled: false },
    ]);
    const ta = await h.api.getTaskAgentApi();
    const agents = await ta.getAgents(seeded.id);
    expect(agents.map((a) => [a.name, a.status, a.enabled])).toEqual([
      ['vm-agent-1', TaskAgentStatus.Online, true],
      ['vm-agent-2', TaskAgentStatus.Offline, false],
    ]);
    expect((await ta.getAgents(seeded.id, 'vm-agent-2')).map((a) => a.name)).toEqual(['vm-agent-2']);
    h.fake.setAgentStatus('pool001', 'vm-agent-2', 'online');
    const agent2 = await ta.getAgent(seeded.id, agents[1]?.id ?? 0);
    expect(agent2.status).toBe(TaskAgentStatus.Online);
    expect(await ta.getAgent(seeded.id, 999)).toBeNull();
    expect((await ta.getAgentPool(seeded.id)).size).toBe(2);
  });

  it('agent packages: the latest linux-x64 agent and its download URL', async () => {
    h = await startFake();
    const ta = await h.api.getTaskAgentApi();
    const [latest, ...rest] = await ta.getPackages('agent', 'linux-x64', 1);
    expect(rest).toEqual([]);
    expect(latest?.version).toEqual({ major: 4, minor: 264, patch: 2 });
    expect(latest?.downloadUrl).toBe('https://download.agent.dev.azure.com/agent/4.264.2/vsts-agent-linux-x64-4.264.2.tar.gz');
    // the URL form with platform in the query works as well
    const raw = await h.api.rest.get<{ count: number; value: Array<{ platform: string; filename: string }> }>(
      `${h.fake.orgUrl}/_apis/distributedtask/packages/agent?platform=linux-x64&$top=1`,
      { acceptHeader: 'application/json;api-version=7.1-preview.2' },
    );
    expect(raw.result?.count).toBe(1);
    expect(raw.result?.value[0]?.filename).toBe('vsts-agent-linux-x64-4.264.2.tar.gz');
  });
});

describe('queues', () => {
  it('addAgentQueue links a project queue to an existing pool; authorizePipelines authorizes it for all pipelines', async () => {
    h = await startFake();
    h.fake.addProject('p');
    const ta = await h.api.getTaskAgentApi();
    const pool = await ta.addAgentPool({ name: 'pool001' });
    expect(await ta.getAgentQueues('p', 'pool001')).toEqual([]);
    const q = await ta.addAgentQueue({ name: 'pool001', pool: { id: pool.id } }, 'p', true);
    expect(q).toMatchObject({ name: 'pool001', pool: { id: pool.id, name: 'pool001' } });
    expect(q.id).not.toBe(pool.id); // queue ids are not pool ids
    expect((await ta.getAgentQueues('p', 'pool001')).map((x) => x.id)).toEqual([q.id]);
    expect((await ta.getAgentQueuesByNames(['pool001', 'Default'], 'p')).map((x) => x.name).sort()).toEqual(['Default', 'pool001']);
    const perms = await h.api.rest.get<{ allPipelines?: { authorized: boolean } }>(
      `${h.fake.orgUrl}/p/_apis/pipelines/pipelinePermissions/queue/${q.id ?? 0}`,
      { acceptHeader: 'application/json;api-version=7.1-preview.1' },
    );
    expect(perms.result?.allPipelines?.authorized).toBe(true);
    const dup = await rejection(ta.addAgentQueue({ name: 'pool001', pool: { id: pool.id } }, 'p'));
    expect(dup.statusCode).toBe(409);
    expect(dup.result?.typeKey).toBe('TaskAgentQueueExistsException');
    // a missing pool is 404 TaskAgentPoolNotFoundException, and a 404 resolves null for every verb
    expect(await ta.addAgentQueue({ name: 'x', pool: { id: 4242 } }, 'p')).toBeNull();
    expect(h.fake.requests.at(-1)?.status).toBe(404);
  });
});

describe('variable groups', () => {
  const params = (projectId: string, name: string, vars: Record<string, { value?: string; isSecret?: boolean }>): VariableGroupParameters => ({
    name,
    description: 'MLOps settings',
    type: 'Vsts',
    variables: vars,
    variableGroupProjectReferences: [{ projectReference: { id: projectId, name: 'p' }, name, description: 'MLOps settings' }],
  });

  it('add (org route), find by name (project route), duplicate 409, missing -> null', async () => {
    h = await startFake();
    const p = h.fake.addProject('p');
    const ta = await h.api.getTaskAgentApi();
    const g = await ta.addVariableGroup(params(p.id, 'devopsforai-aml-vg', { RESOURCE_GROUP: { value: 'rg-mlops' }, SECRET: { value: 's3cr3t', isSecret: true } }));
    expect(g.id).toBe(1);
    expect(g.variables).toEqual({ RESOURCE_GROUP: { value: 'rg-mlops' }, SECRET: { value: null, isSecret: true } });
    expect(g.variableGroupProjectReferences?.[0]?.projectReference?.id).toBe(p.id);
    expect(h.fake.mutating().map((r) => `${r.method} ${r.path}`)).toEqual(['POST /contoso/_apis/distributedtask/variablegroups']);
    expect(h.fake.world.variableGroups[0]?.variables['SECRET']?.value).toBe('s3cr3t'); // stored, not echoed
    const found = await ta.getVariableGroups('p', 'devopsforai-aml-vg');
    expect(found.map((x) => x.id)).toEqual([g.id]);
    expect((await ta.getVariableGroups('p', 'devops*')).length).toBe(1);
    const dup = await rejection(ta.addVariableGroup(params(p.id, 'DEVOPSFORAI-AML-VG', { A: { value: '1' } })));
    expect(dup.statusCode).toBe(409);
    expect(dup.result?.typeKey).toBe('VariableGroupExistsException');
    // live behaviour: an unknown id answers 200 with a null body; the library returns null either way
    expect(await ta.getVariableGroup('p', 999)).toBeNull();
    const raw = await h.api.rest.get(`${h.fake.orgUrl}/p/_apis/distributedtask/variablegroups/999`);
    expect(raw).toMatchObject({ statusCode: 200, result: null });
  });

  it('update (PUT) must resend variableGroupProjectReferences, else 400; a secret sent without value keeps its value', async () => {
    h = await startFake();
    const p = h.fake.addProject('p');
    const seeded = h.fake.addVariableGroup('p', 'vg', { WORKSPACE_NAME: 'old', TOKEN: 'keep-me' }, { secrets: ['TOKEN'] });
    const ta = await h.api.getTaskAgentApi();
    const withoutRefs = await rejection(ta.updateVariableGroup({ name: 'vg', type: 'Vsts', variables: { WORKSPACE_NAME: { value: 'new' } } }, seeded.id));
    expect(withoutRefs.statusCode).toBe(400);
    expect(withoutRefs.message).toBe('Atleast one variable group project reference is required');
    const updated = await ta.updateVariableGroup(params(p.id, 'vg', { WORKSPACE_NAME: { value: 'new' }, TOKEN: { isSecret: true } }), seeded.id);
    expect(updated.variables).toEqual({ WORKSPACE_NAME: { value: 'new' }, TOKEN: { value: null, isSecret: true } });
    expect(h.fake.world.variableGroups[0]?.variables['TOKEN']).toEqual({ value: 'keep-me', isSecret: true });
    const empty = await rejection(ta.updateVariableGroup(params(p.id, 'vg', {}), seeded.id));
    expect(empty.message).toBe('Variable group must have at least one variable defined.');
    const put = h.fake.mutating().find((r) => r.method === 'PUT' && r.status === 200);
    expect(put?.path).toBe(`/contoso/_apis/distributedtask/variablegroups/${seeded.id}`);
  });

  it('delete needs projectIds; the group goes when its last project reference does', async () => {
    h = await startFake();
    const p = h.fake.addProject('p');
    const g = h.fake.addVariableGroup('p', 'vg', { A: '1' });
    const ta = await h.api.getTaskAgentApi();
    const noIds = await rejection(h.api.rest.del(`${h.fake.orgUrl}/_apis/distributedtask/variablegroups/${g.id}`, { acceptHeader: 'application/json;api-version=7.1' }));
    expect(noIds.statusCode).toBe(400);
    await ta.deleteVariableGroup(g.id, [p.id]);
    expect(await ta.getVariableGroups('p')).toEqual([]);
    expect(h.fake.requests.at(-2)?.query).toEqual({ projectIds: p.id });
  });
});
