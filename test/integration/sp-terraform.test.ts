import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSteps } from '../../src/engine/runner.js';
import { StepError } from '../../src/engine/errors.js';
import { servicePrincipalStep, ensureClientSecret, pipelineIdentity } from '../../src/steps/service-principal.js';
import { terraformBackendStep } from '../../src/steps/terraform-backend.js';
import { deploymentId } from '../../src/steps/deployment-values.js';
import { terraformStep } from '../../src/steps/terraform.js';
import { steps as allSteps } from '../../src/steps/index.js';
import { FakeAz } from '../fakes/fake-az.js';
import { FIXTURE_MODULE, TF_SHIM_BIN, terraformShimEnv, tfCalls } from '../fakes/fake-terraform.js';
import { baseEnv, tempWorld } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';
import { makeKey } from '../helpers/keys.js';

const PAT = 'canaryPAT0123456789abcdefXYZ';
const STEPS = allSteps.filter((s) => ['tools', 'ssh-key', 'azure-login', 'service-principal', 'terraform-backend', 'terraform'].includes(s.id));
const FLAGS = { prefix: 'mlops01', location: 'westeurope', org: 'https://dev.azure.com/contoso', project: 'mlops', terraformDir: FIXTURE_MODULE };

function world(azWorld: Record<string, unknown> = {}, extraEnv: Record<string, string> = {}) {
  const w = tempWorld();
  makeKey(join(w.home, '.ssh'), 'id_ed25519');
  const az = new FakeAz(azWorld);
  const env = baseEnv(w.home, { ...az.env(), ...terraformShimEnv(w.root), AZURE_DEVOPS_EXT_PAT: PAT, ...extraEnv });
  env.PATH = `${TF_SHIM_BIN}:${env.PATH}`;
  return { ...w, az, env, stateDir: join(w.cwd, '.azure-mlops') };
}

/** The pipeline identity as an app registration (the default is a managed identity terraform creates). */
const APP = { pipelineIdentity: 'app-registration' };

async function ctxOf(w: ReturnType<typeof world>, flags: Record<string, string> = {}) {
  return testContext({ env: w.env, cwd: w.cwd, flags: { ...FLAGS, ...flags }, global: { yes: true, stateDir: w.stateDir } });
}

function everything(dir: string): string {
  let all = '';
  for (const f of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (f.isFile() && !f.parentPath.includes('.terraform')) all += readFileSync(join(f.parentPath, f.name), 'utf8');
  }
  return all;
}

describe('service-principal step (fake az)', () => {
  it('default: the managed identity terraform creates; no app registration, no Microsoft Graph call, nothing created here', async () => {
    const w = world();
    const { ctx } = await ctxOf(w);
    const r = await runSteps(STEPS.filter((s) => s.id !== 'terraform'), ctx, 'apply');
    expect(r.steps.find((s) => s.id === 'service-principal')?.outcome).toBe('already');
    expect(w.az.calls().filter((c) => c.argv[0] === 'ad' || c.argv[0] === 'rest')).toEqual([]);
    expect(w.az.mutatingCalls()).toEqual([]);
    expect(ctx.answers.get('pipelineIdentity')).toBe('managed-identity');
    expect(ctx.state.stepData('service-principal')).toMatchObject({ kind: 'managed-identity', displayName: 'id-mlops01-pipeline' });
    expect(ctx.state.data.resources).toEqual([]);
  });


  it('absent: creates app + service principal with no role assignment and records the object id', async () => {
    const w = world();
    const { ctx } = await ctxOf(w, APP);
    await runSteps(STEPS.filter((s) => s.id !== 'terraform'), ctx, 'apply');
    const muts = w.az.mutatingCalls().map((c) => c.cmd);
    expect(muts).toEqual(['ad app create', 'ad sp create']);
    expect(w.az.calls().some((c) => /role|create-for-rbac/.test(c.cmd))).toBe(false);
    const id = ctx.state.stepData('service-principal');
    const az = w.az.world();
    expect(id).toMatchObject({ appId: az.apps[0].appId, objectId: az.servicePrincipals[0].id, tenantId: '11111111-1111-1111-1111-111111111111' });
    expect(ctx.state.resource('entra-app')).toMatchObject({ createdByUs: true, id: az.apps[0].appId });
    expect(ctx.state.resource('entra-app')?.meta?.pending).toBeUndefined();
  });

  it('exists (made by the user): reused, recorded as pre-existing, no mutation', async () => {
    const w = world({ apps: [{ id: 'obj-app', appId: 'app-1', displayName: 'azure-mlops-mlops01-pipeline' }], servicePrincipals: [{ id: 'obj-sp', appId: 'app-1', displayName: 'azure-mlops-mlops01-pipeline' }] });
    const { ctx } = await ctxOf(w, APP);
    const r = await runSteps(STEPS.filter((s) => s.id !== 'terraform'), ctx, 'apply');
    expect(r.steps.find((s) => s.id === 'service-principal')?.outcome).toBe('already');
    expect(w.az.mutatingCalls()).toEqual([]);
    expect(ctx.state.stepData('service-principal')).toMatchObject({ appId: 'app-1', objectId: 'obj-sp' });
  });

  it('exact identity: apps whose names only start with ours (az --display-name is a prefix filter) or differ in case are never taken', async () => {
    const legacy = { id: 'obj-legacy', appId: 'app-legacy', displayName: 'azure-mlops-mlops01-pipeline-legacy', passwordCredentials: [{ keyId: 'k0', displayName: 'theirs' }] };
    const upper = { id: 'obj-upper', appId: 'app-upper', displayName: 'AZURE-MLOPS-MLOPS01-PIPELINE', passwordCredentials: [] };
    const w = world({ apps: [legacy, upper], servicePrincipals: [{ id: 'sp-legacy', appId: 'app-legacy', displayName: legacy.displayName }] });
    // The fake answers like az: both are listed for our name.
    const { ctx } = await ctxOf(w, { auth: 'secret' });
    expect((await servicePrincipalStep.check(ctx)).summary).toMatch(/no app registration named 'azure-mlops-mlops01-pipeline'/);
    await runSteps(STEPS.filter((s) => s.id !== 'terraform'), ctx, 'apply');
    const listed = w.az.calls().find((c) => c.cmd === 'ad app list');
    expect(listed?.argv).toContain('azure-mlops-mlops01-pipeline');
    const apps = w.az.world().apps;
    expect(apps.find((a: { appId: string }) => a.appId === 'app-legacy')).toEqual(legacy);
    expect(apps.find((a: { appId: string }) => a.appId === 'app-upper')).toEqual(upper);
    const ours = apps.filter((a: { displayName: string }) => a.displayName === 'azure-mlops-mlops01-pipeline');
    expect(ours).toHaveLength(1);
    expect(ctx.state.stepData('service-principal')).toMatchObject({ appId: ours[0].appId });
    expect(w.az.mutatingCalls().filter((c) => /app-legacy|app-upper|obj-legacy|obj-upper/.test(c.argv.join(' ')))).toEqual([]);
  });

  it('old az (< 2.37) returns objectId instead of id: still read', async () => {
    const w = world({ version: '2.30.0', apps: [{ id: 'obj-app', appId: 'app-1', displayName: 'azure-mlops-mlops01-pipeline' }], servicePrincipals: [{ id: 'obj-sp', appId: 'app-1', displayName: 'x' }] });
    const { ctx } = await ctxOf(w, APP);
    const c = await servicePrincipalStep.check(ctx);
    expect(c.record).toMatchObject({ objectId: 'obj-sp', appObjectId: 'obj-app' });
  });

  it('app without service principal: only the service principal is created', async () => {
    const w = world({ apps: [{ id: 'obj-app', appId: 'app-1', displayName: 'azure-mlops-mlops01-pipeline' }] });
    const { ctx } = await ctxOf(w, APP);
    await runSteps(STEPS.filter((s) => s.id !== 'terraform'), ctx, 'apply');
    expect(w.az.mutatingCalls().map((c) => c.argv.slice(0, 5))).toEqual([['ad', 'sp', 'create', '--id', 'app-1']]);
  });

  it('duplicated display name: an error listing them, nothing created', async () => {
    const w = world({ apps: [{ id: 'a', appId: 'app-1', displayName: 'azure-mlops-mlops01-pipeline' }, { id: 'b', appId: 'app-2', displayName: 'azure-mlops-mlops01-pipeline' }] });
    const { ctx } = await ctxOf(w, APP);
    const e = await runSteps(STEPS.filter((s) => s.id !== 'terraform'), ctx, 'apply').catch((x) => x);
    expect(e).toBeInstanceOf(StepError);
    expect(e.message).toContain('app-1, app-2');
    expect(e.fix).toContain('--sp-name');
    expect(w.az.mutatingCalls()).toEqual([]);
  });

  it('--auth secret: a client secret with --append, in memory only; never in argv, state or output', async () => {
    const secret = 'canarySECRET-9f8e7d6c5b4a';
    const w = world({ nextSecret: secret, apps: [{ id: 'o', appId: 'app-1', displayName: 'azure-mlops-mlops01-pipeline', passwordCredentials: [{ keyId: 'k0', displayName: 'theirs' }] }] });
    const { ctx, io } = await ctxOf(w, { auth: 'secret' });
    await runSteps(STEPS.filter((s) => s.id !== 'terraform'), ctx, 'apply');
    expect(ctx.secrets.clientSecret).toBe(secret);
    const reset = w.az.mutatingCalls().find((c) => c.cmd === 'ad app credential reset');
    expect(reset?.argv).toContain('--append');
    expect(w.az.world().apps[0].passwordCredentials.map((c: { keyId: string }) => c.keyId)).toContain('k0'); // theirs kept
    expect(JSON.stringify(w.az.calls().map((c) => c.argv))).not.toContain(secret);
    expect(everything(w.stateDir) + io.all()).not.toContain(secret);
  });

  it('a resumed run that lost the secret mints a new one, appending', async () => {
    const w = world({ apps: [{ id: 'o', appId: 'app-1', displayName: 'n', passwordCredentials: [{ keyId: 'k0' }] }] });
    const { ctx } = await ctxOf(w, { auth: 'secret' });
    const s = await ensureClientSecret(ctx, 'app-1');
    expect(s).toMatch(/^fake-secret-/);
    expect(await ensureClientSecret(ctx, 'app-1')).toBe(s); // held in memory: no second credential
    expect(w.az.world().apps[0].passwordCredentials).toHaveLength(2);
  });
});

describe('terraform step (real terraform, provider-free fixture module)', () => {
  it('init → plan → apply → outputs; tfvars 0600; terraform never receives the PAT', async () => {
    const w = world();
    const { ctx, io } = await ctxOf(w);
    const report = await runSteps(STEPS, ctx, 'apply');
    expect(report.steps.find((s) => s.id === 'terraform')?.outcome).toBe('done');
    const dir = join(w.stateDir, 'terraform');
    const tfvars = JSON.parse(readFileSync(join(dir, 'terraform.tfvars.json'), 'utf8'));
    expect(statSync(join(dir, 'terraform.tfvars.json')).mode & 0o777).toBe(0o600);
    expect(tfvars).toMatchObject({ prefix: 'mlops01', location: 'westeurope', devops_pool: 'pool001', num_agents: 4 });
    // The module tags every resource with this state dir's deployment id, saved in state.json.
    expect(tfvars.deployment_id).toBe(ctx.state.deploymentId);
    expect(JSON.parse(readFileSync(join(w.stateDir, 'state.json'), 'utf8')).deploymentId).toBe(ctx.state.deploymentId);
    expect(tfvars).not.toHaveProperty('devops_pat');
    // Default: no service principal given, the module creates the pipeline's managed identity.
    expect(tfvars).not.toHaveProperty('pipeline_sp_object_id');
    expect(ctx.state.data.outputs).toMatchObject({ workspace_name: 'aml-mlops01', ml_resource_group_name: 'rg-mlops01-ml' });
    const o = ctx.state.data.outputs as Record<string, string>;
    expect(pipelineIdentity(ctx)).toEqual({
      kind: 'managed-identity',
      displayName: 'id-mlops01-pipeline',
      tenantId: '11111111-1111-1111-1111-111111111111',
      appId: o.pipeline_identity_client_id,
      objectId: o.pipeline_principal_id,
      resourceId: '/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/rg-mlops01-ml/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-mlops01-pipeline',
    });
    const calls = tfCalls(w.root);
    expect(calls.map((c) => c.argv[0])).toEqual(['version', 'init', 'plan', 'show', 'apply', 'output']);
    // The PAT would be stored in terraform's state: it never reaches terraform at all.
    expect(calls.filter((c) => c.patInEnv)).toEqual([]);
    expect(JSON.stringify(calls)).not.toContain(PAT);
    expect(everything(w.stateDir) + io.all()).not.toContain(PAT);
    expect(io.all()).toMatch(/terraform plan: \d+ to add, 0 to change, 0 to destroy/);
    expect(io.all()).toMatch(/created terraform_data\.workspace/);
  });

  it('--pipeline-identity app-registration: the service principal\'s object id goes to terraform, which then creates no identity', async () => {
    const w = world();
    const { ctx } = await ctxOf(w, APP);
    await runSteps(STEPS, ctx, 'apply');
    const tfvars = JSON.parse(readFileSync(join(w.stateDir, 'terraform', 'terraform.tfvars.json'), 'utf8'));
    const sp = ctx.state.stepData<{ objectId: string; appId: string }>('service-principal');
    expect(tfvars.pipeline_sp_object_id).toBe(sp.objectId);
    expect(ctx.state.data.outputs).toMatchObject({ pipeline_principal_id: sp.objectId, pipeline_identity_id: '', pipeline_identity_client_id: '' });
    expect(pipelineIdentity(ctx)).toMatchObject({ kind: 'app-registration', appId: sp.appId, objectId: sp.objectId });
  });

  it('second run: terraform plan shows no changes, nothing applied, no mutating az call', async () => {
    const w = world();
    const first = await ctxOf(w);
    await runSteps(STEPS, first.ctx, 'apply');
    const azBefore = w.az.mutatingCalls().length;
    const tfBefore = tfCalls(w.root).length;
    const { ctx, io } = await ctxOf(w);
    const report = await runSteps(STEPS, ctx, 'apply');
    expect(report.steps.map((s) => s.outcome)).toEqual(['already', 'already', 'already', 'already', 'already', 'already']);
    expect(io.all()).toContain('terraform plan shows no changes');
    const newCalls = tfCalls(w.root).slice(tfBefore).map((c) => c.argv[0]);
    expect(newCalls).not.toContain('apply');
    expect(w.az.mutatingCalls().length).toBe(azBefore);
  });

  it('a changed answer is planned and applied as a change, not a re-create of everything', async () => {
    const w = world();
    await runSteps(STEPS, (await ctxOf(w)).ctx, 'apply');
    const { ctx, io } = await ctxOf(w, { agents: '6' });
    const report = await runSteps(STEPS, ctx, 'apply');
    expect(report.steps.find((s) => s.id === 'terraform')?.outcome).toBe('done');
    expect(io.all()).toMatch(/variables changed/);
    expect(ctx.state.data.outputs.num_agents).toBe(6);
  });

  it('a failing apply surfaces terraform\'s error and keeps the state; the next run finishes', async () => {
    const w = world({}, { FIXTURE_FAIL_APPLY: '1' });
    const { ctx } = await ctxOf(w);
    const e = await runSteps(STEPS, ctx, 'apply').catch((x) => x);
    expect(e).toBeInstanceOf(StepError);
    expect(e.message).toMatch(/terraform apply failed/);
    expect(e.message).toMatch(/FIXTURE_FAIL_APPLY|injected|fail/i);
    expect(existsSync(join(w.stateDir, 'terraform', 'terraform.tfstate'))).toBe(true);
    delete w.env.FIXTURE_FAIL_APPLY;
    const again = await ctxOf(w);
    const r = await runSteps(STEPS, again.ctx, 'apply');
    expect(r.steps.find((s) => s.id === 'terraform')?.outcome).toBe('done');
  });

});

describe('--state-backend azurerm', () => {
  it('creates the state storage (own resource group, versioning, container) once, then is satisfied', async () => {
    const w = world();
    const { ctx } = await ctxOf(w, { stateBackend: 'azurerm' });
    await runSteps(STEPS.filter((s) => ['tools', 'azure-login', 'terraform-backend'].includes(s.id)), ctx, 'apply');
    expect(w.az.mutatingCalls().map((c) => c.cmd)).toEqual(['group create', 'storage account create', 'storage account blob-service-properties update', 'storage container create']);
    const acct = w.az.world().storageAccounts[0];
    expect(acct).toMatchObject({ name: 'sttfmlops01', resourceGroup: 'rg-mlops01-tfstate', versioning: true, containers: ['tfstate'], minimumTlsVersion: 'TLS1_2', allowBlobPublicAccess: false });
    expect(ctx.state.resource('tfstate-storage-account')).toMatchObject({ createdByUs: true });
    // Its resource group carries the deployment id every state dir on this backend shares.
    expect(w.az.world().groups.find((g: { name: string }) => g.name === 'rg-mlops01-tfstate')?.tags).toEqual({ 'managed-by': 'azure-mlops', 'azure-mlops-deployment': deploymentId(ctx) });
    expect(deploymentId(ctx)).not.toBe(ctx.state.deploymentId);
    const before = w.az.mutatingCalls().length;
    expect(await terraformBackendStep.check(ctx)).toMatchObject({ status: 'ok', summary: expect.stringContaining('sttfmlops01/tfstate/azure-mlops-mlops01.tfstate') });
    expect(w.az.mutatingCalls().length).toBe(before);
  });

  it('terraform init is planned with the backend settings', async () => {
    const w = world();
    const { ctx } = await ctxOf(w, { stateBackend: 'azurerm' });
    const changes = await terraformStep.plan(ctx, { status: 'missing', summary: '' });
    const init = changes.flatMap((c) => c.commands ?? []).find((c) => c.startsWith('terraform init'));
    expect(init).toContain('-backend-config=storage_account_name=sttfmlops01');
    expect(init).toContain('-backend-config=container_name=tfstate');
    expect(init).toContain('-backend-config=resource_group_name=rg-mlops01-tfstate');
  });

  it('local backend: satisfied without any az call', async () => {
    const w = world();
    const { ctx } = await ctxOf(w);
    expect((await terraformBackendStep.check(ctx)).status).toBe('ok');
    expect(w.az.calls()).toEqual([]);
  });
});
