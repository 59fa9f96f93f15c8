import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { runSteps } from '../../src/engine/runner.js';
import type { Context, Step } from '../../src/engine/types.js';
import { buildSteps } from '../../src/steps/index.js';
import { EXTENSION } from '../../src/steps/extension.js';
import { PIPELINE_NAME } from '../../src/steps/pipeline.js';
import { CLIENT_SECRET, PAT, SUB, pipelineIdentityId, worldsPerTest, worldContext, type World } from '../helpers/world.js';

const world = worldsPerTest();

const only = (...ids: string[]): Step[] => buildSteps().filter((s) => ids.includes(s.id));

/** What the Azure side would have recorded: subscription, pipeline identity, terraform outputs. */
async function seedAzure(ctx: Context, w: World) {
  const app = w.az.world().apps?.[0];
  await ctx.state.setStepData('azure-login', { subscriptionId: '22222222-2222-2222-2222-222222222222', subscriptionName: 'Contoso Dev', tenantId: '11111111-1111-1111-1111-111111111111' });
  await ctx.state.setStepData('service-principal', { appId: app?.appId ?? 'aaaaaaaa-0000-0000-0000-000000000001', objectId: 'bbbbbbbb-0000-0000-0000-000000000002', tenantId: '11111111-1111-1111-1111-111111111111' });
  await ctx.state.setOutputs({
    ml_resource_group_name: 'rg-mlops01-ml',
    workspace_name: 'aml-mlops01',
    workspace_location: 'westeurope',
    subscription_id: '22222222-2222-2222-2222-222222222222',
    aks_compute_name: 'aks-compute',
    training_compute_name: 'cpu-cluster',
    ...(ctx.answers.get('pipelineIdentity') === 'managed-identity'
      ? { pipeline_identity_id: pipelineIdentityId(SUB), pipeline_identity_client_id: MI_CLIENT_ID, pipeline_principal_id: 'cccccccc-0000-0000-0000-000000000003' }
      : { pipeline_identity_id: '', pipeline_identity_client_id: '', pipeline_principal_id: 'bbbbbbbb-0000-0000-0000-000000000002' }),
  });
}

const MI_CLIENT_ID = 'dddddddd-0000-0000-0000-000000000004';

/** The federated credentials of the pipeline identity: under the managed identity in ARM, or on the app (Graph, fake az). */
function federatedCredentials(w: World, kind: string): Array<{ issuer: string; subject: string; audiences: string[] }> {
  if (kind === 'managed-identity') return w.arm.ficsOf(pipelineIdentityId(SUB)).map((f) => f.properties);
  return w.az.world().apps[0].federatedCredentials;
}

const DEVOPS = ['devops-project', 'agent-pool', 'extension', 'repository'];
const AFTER_TF = ['service-connection', 'variable-group', 'pipeline'];

describe('Azure DevOps steps against the fake server (real azure-devops-node-api)', () => {
  it('absent: project (operation polled), pool + queue, extension, repository with the first push', async () => {
    const w = await world();
    const { ctx } = await worldContext(w);
    const r = await runSteps(only(...DEVOPS), ctx, 'apply');
    expect(r.steps.map((s) => [s.id, s.outcome])).toEqual(DEVOPS.map((id) => [id, 'done']));
    const d = w.devops;
    expect(d.world.projects.find((p) => p.name === 'mlops')).toBeTruthy();
    expect(d.requests.some((q) => /_apis\/operations\//i.test(q.path))).toBe(true);
    expect(d.world.pools.find((p) => p.name === 'pool001')).toBeTruthy();
    expect(d.world.extensions.some((e) => e.publisherId === EXTENSION.publisher && e.extensionId === EXTENSION.name)).toBe(true);
    const files = d.files('mlops', 'mlops', 'main');
    expect(Object.keys(files)).toContain('/devops_pipelines/azdo-ci-build-train.yml');
    expect(Object.keys(files)).toContain('/src/train.py');
    expect(Object.keys(files)).toContain('/README.md');
    expect(JSON.stringify(files)).not.toContain(PAT);
    expect(ctx.state.resource('devops-project')?.createdByUs).toBe(true);
    expect(ctx.state.resource('agent-pool')?.createdByUs).toBe(true);
  });

  it('present and equal: a second run makes zero mutating requests', async () => {
    const w = await world();
    await runSteps(only(...DEVOPS), (await worldContext(w)).ctx, 'apply');
    const before = w.devops.mutating().length;
    const { ctx, io } = await worldContext(w);
    const r = await runSteps(only(...DEVOPS), ctx, 'apply');
    expect(r.steps.every((s) => s.outcome === 'already')).toBe(true);
    expect(w.devops.mutating().length).toBe(before);
    expect(io.all()).toContain('nothing to do');
  });

  it('pre-existing project, pool and repo with commits are reused, recorded as not ours, never overwritten', async () => {
    const w = await world();
    w.devops.addProject('mlops');
    w.devops.addPool('pool001');
    w.devops.pushFiles('mlops', 'mlops', { '/README.md': 'mine' });
    const { ctx } = await worldContext(w);
    const e = await runSteps(only('devops-project', 'agent-pool', 'repository'), ctx, 'apply').catch((x) => x);
    expect(e.message).toMatch(/never overwritten/);
    expect(e.fix).toContain('--push-to');
    expect(w.devops.readFile('mlops', 'mlops', '/README.md', 'main')).toBe('mine');
    // --push-to: a new branch from main with our files; main untouched.
    const { ctx: c2 } = await worldContext(w);
    const r = await runSteps(buildSteps({ pushTo: 'azure-mlops' }).filter((s) => ['devops-project', 'agent-pool', 'repository'].includes(s.id)), c2, 'apply');
    expect(r.steps.find((s) => s.id === 'repository')?.outcome).toBe('done');
    expect(w.devops.readFile('mlops', 'mlops', '/README.md', 'main')).toBe('mine');
    expect(Object.keys(w.devops.files('mlops', 'mlops', 'azure-mlops'))).toContain('/devops_pipelines/azdo-ci-build-train.yml');
    expect(c2.state.resource('devops-project')?.createdByUs ?? false).toBe(false);
    expect(c2.state.resource('agent-pool')?.createdByUs ?? false).toBe(false);
  });

  it('--pool other than pool001: the pushed variables template names it (read at compile time)', async () => {
    const w = await world();
    const { ctx } = await worldContext(w, { pool: 'mlpool' });
    await runSteps(only(...DEVOPS), ctx, 'apply');
    expect(w.devops.readFile('mlops', 'mlops', '/devops_pipelines/azdo-variables.yml', 'main')).toMatch(/- name: POOL_NAME\s*\n\s*value: mlpool/);
  });

  it.each(['managed-identity', 'app-registration'])('service connection (federated, %s), variable group, pipeline with permissions; then drift is repaired in place', async (kind) => {
    const w = await world();
    const { ctx } = await worldContext(w, { pipelineIdentity: kind });
    await runSteps(only('tools', 'azure-login', 'service-principal'), ctx, 'apply');
    await seedAzure(ctx, w);
    await runSteps(only(...DEVOPS, ...AFTER_TF), ctx, 'apply');
    const ep = w.devops.world.endpoints.find((x) => x.name === 'AzureMLWorkspace')!;
    expect(ep).toMatchObject({ type: 'azurerm', authorization: { scheme: 'WorkloadIdentityFederation' }, data: { scopeLevel: 'AzureMLWorkspace', mlWorkspaceName: 'aml-mlops01', resourceGroupName: 'rg-mlops01-ml', mlWorkspaceLocation: 'westeurope', subscriptionId: '22222222-2222-2222-2222-222222222222' } });
    expect(ep.authorization.parameters?.serviceprincipalid).toBe(kind === 'managed-identity' ? MI_CLIENT_ID : w.az.world().apps[0].appId);
    const fic = federatedCredentials(w, kind);
    expect(fic).toHaveLength(1);
    expect(fic[0]).toMatchObject({ subject: ep.authorization.parameters?.workloadIdentityFederationSubject, issuer: ep.authorization.parameters?.workloadIdentityFederationIssuer, audiences: ['api://AzureADTokenExchange'] });
    const vg = w.devops.world.variableGroups.find((g) => g.name === 'devopsforai-aml-vg')!;
    const vars = Object.fromEntries(Object.entries(vg.variables).map(([k, v]) => [k, v.value]));
    expect(vars).toMatchObject({ RESOURCE_GROUP: 'rg-mlops01-ml', WORKSPACE_NAME: 'aml-mlops01', WORKSPACE_SVC_CONNECTION: 'AzureMLWorkspace', skipComponentGovernanceDetection: 'true', AKS_COMPUTE_NAME: 'aks-compute', POOL_NAME: 'pool001' });
    const def = w.devops.world.definitions.find((d) => d.name === PIPELINE_NAME)!;
    expect(def).toBeTruthy();
    const perms = w.devops.world.permissions;
    for (const type of ['queue', 'endpoint', 'variablegroup']) {
      expect(perms.some((p) => p.resourceType === type && p.pipelines.some((x) => x.id === def.id && x.authorized)), type).toBe(true);
    }

    // Drift: someone edits the group and points the connection elsewhere.
    vg.variables.WORKSPACE_NAME = { value: 'other', isSecret: false };
    vg.variables.MY_OWN = { value: 'keep me', isSecret: false };
    ep.data!.mlWorkspaceName = 'elsewhere';
    const endpointsBefore = w.devops.world.endpoints.length;
    const { ctx: c2 } = await worldContext(w, { pipelineIdentity: kind });
    const r = await runSteps(only('devops-project', 'service-connection', 'variable-group'), c2, 'apply');
    expect(r.steps.map((s) => s.outcome)).toEqual(['already', 'done', 'done']);
    expect(w.devops.world.endpoints.length).toBe(endpointsBefore);
    expect(w.devops.world.endpoints.find((x) => x.name === 'AzureMLWorkspace')!.data!.mlWorkspaceName).toBe('aml-mlops01');
    const vg2 = w.devops.world.variableGroups.find((g) => g.name === 'devopsforai-aml-vg')!;
    expect(vg2.variables.WORKSPACE_NAME?.value).toBe('aml-mlops01');
    expect(vg2.variables.MY_OWN?.value).toBe('keep me');
    expect(federatedCredentials(w, kind)).toHaveLength(1);
    // Managed identity: everything went through ARM; no Microsoft Graph call at all.
    if (kind === 'managed-identity') expect(w.az.calls().filter((c) => c.argv[0] === 'ad' || c.argv[0] === 'rest')).toEqual([]);
  });

  it.each([
    ['AzureUSGovernment', 'https://management.usgovcloudapi.net/'],
    ['AzureChinaCloud', 'https://management.chinacloudapi.cn/'],
    ['AzureCloud', 'https://management.azure.com/'],
  ])('the connection targets the az cloud: %s', async (cloud, url) => {
    const w = await world({ cloud });
    const { ctx } = await worldContext(w);
    await runSteps(only('tools', 'azure-login', 'service-principal'), ctx, 'apply');
    await seedAzure(ctx, w);
    await runSteps(only(...DEVOPS, 'service-connection'), ctx, 'apply');
    const ep = w.devops.world.endpoints.find((x) => x.name === 'AzureMLWorkspace')!;
    expect(ep.data?.environment).toBe(cloud);
    expect(ep.url).toBe(url);
    // A connection left on another cloud is drift, repaired in place.
    ep.data!.environment = cloud === 'AzureCloud' ? 'AzureUSGovernment' : 'AzureCloud';
    const { ctx: c2 } = await worldContext(w);
    const r = await runSteps(only('devops-project', 'service-connection'), c2, 'apply');
    expect(r.steps.map((s) => s.outcome)).toEqual(['already', 'done']);
    expect(w.devops.world.endpoints.find((x) => x.name === 'AzureMLWorkspace')!.data?.environment).toBe(cloud);
  });

  it('exact identity: a pipeline of the same name in another folder is someone else\'s; ours is created in \\', async () => {
    const w = await world();
    w.devops.addProject('mlops');
    w.devops.addRepo('mlops', 'theirs');
    const theirs = w.devops.addPipeline('mlops', PIPELINE_NAME, { repo: 'theirs', path: '/x.yml', folder: '\\team-b' });
    const { ctx } = await worldContext(w);
    await runSteps(only('tools', 'azure-login', 'service-principal'), ctx, 'apply');
    await seedAzure(ctx, w);
    await runSteps(only(...DEVOPS, ...AFTER_TF), ctx, 'apply');
    const defs = w.devops.world.definitions.filter((d) => d.name === PIPELINE_NAME);
    expect(defs.map((d) => d.path).sort()).toEqual(['\\', '\\team-b']);
    expect(ctx.state.stepData<{ pipelineId: number }>('pipeline').pipelineId).not.toBe(theirs.id);
    expect(ctx.state.data.resources.filter((r) => r.kind === 'pipeline' && r.id === String(theirs.id))).toEqual([]);
  });

  it('a cloud Azure DevOps cannot target is refused before anything is created', async () => {
    const w = await world({ cloud: 'AzureStackHub' });
    const { ctx } = await worldContext(w);
    await runSteps(only('tools', 'azure-login', 'service-principal'), ctx, 'apply');
    await seedAzure(ctx, w);
    const before = w.devops.mutating().length;
    const e = await runSteps(only(...DEVOPS, 'service-connection'), ctx, 'apply').then(() => undefined, (x: unknown) => x as Error & { exitCode?: number; fix?: string });
    expect(e?.message).toMatch(/cloud 'AzureStackHub'.*AzureCloud, AzureChinaCloud, AzureUSGovernment/);
    expect(e?.exitCode).toBe(2);
    expect(e?.fix).toMatch(/az cloud set/);
    expect(w.devops.mutating().length).toBe(before);
  });

  it('--auth secret: scheme ServicePrincipal, the secret reaches the service only in the request body', async () => {
    const w = await world();
    const { ctx, io } = await worldContext(w, { auth: 'secret' });
    await runSteps(only('tools', 'azure-login', 'service-principal'), ctx, 'apply');
    await seedAzure(ctx, w);
    await runSteps(only(...DEVOPS, 'service-connection'), ctx, 'apply');
    const create = w.devops.mutating().find((q) => /serviceendpoint\/endpoints/i.test(q.path) && q.method === 'POST');
    expect(JSON.stringify(create?.body)).toContain(CLIENT_SECRET);
    const ep = w.devops.world.endpoints.find((x) => x.name === 'AzureMLWorkspace')!;
    expect(ep.authorization.scheme).toBe('ServicePrincipal');
    let disk = '';
    for (const f of readdirSync(w.stateDir, { recursive: true, withFileTypes: true })) if (f.isFile()) disk += readFileSync(join(f.parentPath, f.name), 'utf8');
    expect(disk + io.all()).not.toContain(CLIENT_SECRET);
    expect(JSON.stringify(w.az.calls().map((c) => c.argv))).not.toContain(CLIENT_SECRET);
  });

  it('a bad PAT (401 or 203 + sign-in page) stops the run before anything is created, naming the scopes', async () => {
    for (const badAuth of ['401', '203'] as const) {
      const w = await world({ devops: { badAuth }, env: { AZURE_DEVOPS_EXT_PAT: 'wrongPAT0123456789abcdef' } });
      const { ctx } = await worldContext(w);
      const e = await runSteps(only(...DEVOPS), ctx, 'apply').catch((x) => x);
      expect(e.message, badAuth).toMatch(/invalid or expired/);
      expect(e.fix).toMatch(/Agent Pools \(Read & manage\).*Code \(Read & write\)/);
      expect(w.devops.mutating()).toEqual([]);
    }
  });

  it('--devops-auth pat without a PAT in non-interactive mode: exit 2 naming AZURE_DEVOPS_EXT_PAT, nothing created', async () => {
    const w = await world();
    delete w.env.AZURE_DEVOPS_EXT_PAT;
    const { ctx } = await worldContext(w, { devopsAuth: 'pat' });
    const e = await runSteps(only(...DEVOPS), ctx, 'apply').catch((x) => x);
    expect(e.exitCode).toBe(2);
    expect(e.fix).toContain('AZURE_DEVOPS_EXT_PAT');
    expect(w.devops.mutating()).toEqual([]);
  });

  it('no PAT: the Entra token of the az login, taken again before it expires during a long run', async () => {
    // Tokens that live 6 minutes: the client keeps 5 minutes of margin, so every new client takes a new one.
    const w = await world({ az: { tokenLifetimeSeconds: 360 } });
    delete w.env.AZURE_DEVOPS_EXT_PAT;
    const { ctx } = await worldContext(w);
    expect(ctx.devopsCredential.kind).toBe('entra');
    await runSteps(only('devops-project'), ctx, 'apply');
    const tokenCalls = () => w.az.calls().filter((c) => c.cmd === 'account get-access-token' && c.argv.includes('499b84ac-1321-427f-aa17-267ca6975798')).length;
    const first = tokenCalls();
    expect(first).toBeGreaterThanOrEqual(1);
    // Six minutes later (terraform applied meanwhile): the next call takes a new token first.
    const now = Date.now();
    const spy = vi.spyOn(Date, 'now').mockReturnValue(now + 6 * 60_000);
    try {
      await ctx.devops.findProject('mlops');
    } finally {
      spy.mockRestore();
    }
    expect(tokenCalls()).toBeGreaterThan(first);
    expect([...new Set(w.devops.requests.map((r) => r.authScheme))]).toEqual(['bearer']);
  });

  it('429 with Retry-After: waits at least that long, then succeeds', async () => {
    const w = await world();
    w.devops.inject({ method: 'POST', path: /distributedtask\/pools/i, status: 429, retryAfterSeconds: 1, times: 1 });
    const { ctx } = await worldContext(w);
    const started = Date.now();
    await runSteps(only('devops-project', 'agent-pool'), ctx, 'apply');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(w.devops.world.pools.filter((p) => p.name === 'pool001')).toHaveLength(1);
  });

  it('a 500 after the server created the pool: found by name, not duplicated', async () => {
    const w = await world();
    const { ctx } = await worldContext(w);
    await runSteps(only('devops-project'), ctx, 'apply');
    const k = w.devops.requests.filter((r) => !r.discovery).length;
    void k;
    w.devops.inject({ method: 'POST', path: /distributedtask\/pools/i, status: 500, times: 1 });
    await runSteps(only('devops-project', 'agent-pool'), (await worldContext(w)).ctx, 'apply');
    expect(w.devops.world.pools.filter((p) => p.name === 'pool001')).toHaveLength(1);
  });

  it('the extension cannot be installed with this PAT: a warning with the marketplace link, the run goes on', async () => {
    const w = await world();
    w.devops.inject({ method: 'POST', path: /installedextensionsbyname/i, status: 403, times: 5 });
    const { ctx, io } = await worldContext(w);
    const r = await runSteps(only('devops-project', 'extension'), ctx, 'apply');
    expect(r.steps.find((s) => s.id === 'extension')?.check?.status).toBe('warning');
    expect(io.all()).toContain('marketplace.visualstudio.com/items?itemName=ms-air-aiagility.azureml-v2');
  });
});

describe('one deployment per prefix: Azure DevOps objects of another deployment are refused, never adopted', () => {
  const OTHER = '9f0e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f';
  const mark = (what: string) => `${what} (created by azure-mlops, deployment ${OTHER})`;
  const refusal = async (steps: Step[], ctx: Context) => (await runSteps(steps, ctx, 'apply').then(() => undefined, (x: unknown) => x)) as Error & { exitCode?: number; fix?: string };

  it('a project whose description names another deployment: exit 2 before anything is created, naming it and the fix; doctor shows it missing', async () => {
    const w = await world();
    w.devops.addProject('mlops', { description: mark('MLOps with Azure ML, AKS and Azure Pipelines') });
    const { ctx } = await worldContext(w);
    const e = await refusal(only(...DEVOPS), ctx);
    expect(e?.exitCode).toBe(2);
    expect(e?.message).toContain(`Azure DevOps project 'mlops' is already deployed by another azure-mlops state dir: it belongs to deployment ${OTHER}`);
    expect(e?.fix).toContain('--state-dir or AZURE_MLOPS_STATE_DIR');
    expect(e?.fix).toContain('--project or AZURE_MLOPS_PROJECT');
    expect(e?.fix).toContain('--state-backend azurerm');
    expect(w.devops.mutating()).toEqual([]);
    expect(ctx.state.resource('devops-project')).toBeUndefined();
    const doctor = await only('devops-project')[0]!.check(ctx);
    expect(doctor).toMatchObject({ status: 'missing', fix: e?.fix });
    // The apply path refuses it too (recordFound), should it meet the project there.
    await expect(only('devops-project')[0]!.apply(ctx, [])).rejects.toMatchObject({ exitCode: 2 });
    expect(ctx.state.resource('devops-project')).toBeUndefined();
  });

  it('a project with no deployment mark (made by hand, or by an older azure-mlops) is found and kept, as before', async () => {
    const w = await world();
    w.devops.addProject('mlops', { description: 'MLOps with Azure ML, AKS and Azure Pipelines (created by azure-mlops)' });
    const { ctx } = await worldContext(w);
    const r = await runSteps(only('devops-project'), ctx, 'apply');
    expect(r.steps[0]?.outcome).toBe('already');
  });

  it('a service connection and a variable group that name another deployment are refused (exit 2), never updated', async () => {
    const w = await world();
    const { ctx } = await worldContext(w);
    await runSteps(only('tools', 'azure-login', 'service-principal'), ctx, 'apply');
    await seedAzure(ctx, w);
    await runSteps(only(...DEVOPS), ctx, 'apply');
    expect(w.devops.world.projects.find((p) => p.name === 'mlops')?.description).toBe(`MLOps with Azure ML, AKS and Azure Pipelines (created by azure-mlops, deployment ${ctx.state.deploymentId})`);

    w.devops.addVariableGroup('mlops', 'devopsforai-aml-vg', { RESOURCE_GROUP: 'rg-other-ml' }, { description: mark('Azure ML workspace and pipeline settings') });
    const before = w.devops.mutating().length;
    const vg = await refusal(only('devops-project', 'variable-group'), ctx);
    expect(vg?.exitCode).toBe(2);
    expect(vg?.message).toContain(`variable group 'devopsforai-aml-vg' is already deployed by another azure-mlops state dir: it belongs to deployment ${OTHER}`);
    expect(vg?.fix).toContain('--variable-group or AZURE_MLOPS_VARIABLE_GROUP');

    w.devops.addEndpoint('mlops', { description: mark('Azure ML workspace aml-other') });
    const ep = await refusal(only('devops-project', 'service-connection', 'variable-group'), ctx);
    expect(ep?.exitCode).toBe(2);
    // The first refusal in step order.
    expect(ep?.message).toContain(`service connection 'AzureMLWorkspace' is already deployed by another azure-mlops state dir`);
    expect(ep?.fix).toContain('--service-connection or AZURE_MLOPS_SERVICE_CONNECTION');
    expect(w.devops.mutating().length).toBe(before);
    expect(w.devops.world.variableGroups.find((g) => g.name === 'devopsforai-aml-vg')?.variables.RESOURCE_GROUP?.value).toBe('rg-other-ml');
    expect(ctx.state.resource('variable-group')).toBeUndefined();
    expect(ctx.state.resource('service-connection')).toBeUndefined();
  });

  it('a variable group found unmarked is updated but keeps its own description; ours carry our id', async () => {
    const w = await world();
    const { ctx } = await worldContext(w);
    await runSteps(only('tools', 'azure-login', 'service-principal'), ctx, 'apply');
    await seedAzure(ctx, w);
    await runSteps(only(...DEVOPS), ctx, 'apply');
    w.devops.addVariableGroup('mlops', 'devopsforai-aml-vg', { MY_OWN: 'x' }, { description: 'the team’s settings' });
    await runSteps(only('devops-project', 'service-connection', 'variable-group'), ctx, 'apply');
    const vg = w.devops.world.variableGroups.find((g) => g.name === 'devopsforai-aml-vg')!;
    expect(vg.variables.WORKSPACE_NAME?.value).toBe('aml-mlops01');
    expect(vg.description).toBe('the team’s settings');
    expect(ctx.state.resource('variable-group')?.createdByUs).toBe(false);
    expect(w.devops.world.endpoints.find((e) => e.name === 'AzureMLWorkspace')?.description).toBe(`Azure ML workspace aml-mlops01 (created by azure-mlops, deployment ${ctx.state.deploymentId})`);
  });
});
