// test/fixtures/terraform: the offline stand-in of the bundled module for the CLI's tests. It must keep
// the real module's interface (variables and outputs), and real terraform must run it offline:
// init, plan, apply, output -json, destroy, a failing apply, an interrupted apply.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blocksOf, FIXTURE_DIR, type JsonObject, MODULE_DIR, parseModule, resourcesOf, removeTempDirs, tempDir, terraform, terraformEnv, type TfFile } from './helpers.js';

let real: TfFile[] = [];
let fixture: TfFile[] = [];
beforeAll(async () => {
  real = await parseModule(MODULE_DIR);
  fixture = await parseModule(FIXTURE_DIR);
});
afterAll(removeTempDirs);

describe('the fixture keeps the real module\'s interface', () => {
  it('declares the same variables: type, default, nullability, sensitivity; validations identical or absent', () => {
    const r = blocksOf(real, 'variable');
    const f = blocksOf(fixture, 'variable');
    expect([...f.keys()].sort()).toEqual([...r.keys()].sort());
    for (const [name, rv] of r) {
      const fv = f.get(name)!;
      for (const key of ['type', 'default', 'nullable', 'sensitive', 'ephemeral'] as const) {
        expect({ variable: name, [key]: fv[key] }).toEqual({ variable: name, [key]: rv[key] });
      }
      if (fv.validation !== undefined) expect({ variable: name, validation: fv.validation }).toEqual({ variable: name, validation: rv.validation });
    }
  });

  it('declares the same outputs, with the same sensitivity', () => {
    const r = blocksOf(real, 'output');
    const f = blocksOf(fixture, 'output');
    expect([...f.keys()].sort()).toEqual([...r.keys()].sort());
    for (const [name, ro] of r) expect({ output: name, sensitive: f.get(name)!.sensitive ?? false }).toEqual({ output: name, sensitive: ro.sensitive ?? false });
  });

  it('names things as the real module does', () => {
    const realNames = blocksOf(real, 'locals').get('names')!.value as JsonObject;
    const fixtureNames = blocksOf(fixture, 'locals').get('names')!.value as JsonObject;
    for (const [key, template] of Object.entries(fixtureNames)) expect({ name: key, template }).toEqual({ name: key, template: realNames[key] });
    expect(Object.keys(fixtureNames)).toEqual(expect.arrayContaining(['ml_resource_group', 'devops_resource_group', 'workspace', 'aks', 'storage_account', 'key_vault', 'container_registry', 'agent_vm']));
  });

  it('uses only terraform_data resources and no provider to download', () => {
    expect(resourcesOf(fixture).map((r) => `${r.mode}.${r.type}`).filter((t) => t !== 'resource.terraform_data')).toEqual([]);
    for (const { json } of fixture) {
      expect(json.provider).toBeUndefined();
      expect(json.module).toBeUndefined();
      for (const tf of (json.terraform as JsonObject[] | undefined) ?? []) expect(tf.required_providers).toBeUndefined();
    }
  });
});

// ---------------------------------------------------------------------------------------------------

const PAT = 'fixturePatCanary0123456789abcdefghijklmn';
const INPUTS = {
  prefix: 'demo42',
  location: 'westeurope',
  subscription_id: '11111111-2222-3333-4444-555555555555',
  devops_url: 'https://dev.azure.com/contoso',
  ssh_public_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qta2V5LW5vdC11c2VkLWFueXdoZXJl test@example',
  pipeline_sp_object_id: '66666666-7777-8888-9999-000000000000',
};

/** A private copy of the fixture with a tfvars file, as the CLI lays it out. */
function workdir(inputs: Record<string, unknown> = INPUTS): string {
  const dir = tempDir('fixture');
  cpSync(FIXTURE_DIR, dir, { recursive: true, filter: (src) => !/[\\/](\.terraform|terraform\.tfstate[^\\/]*|\.terraform\.lock\.hcl)$/.test(src) });
  writeFileSync(join(dir, 'azure-mlops.auto.tfvars.json'), JSON.stringify(inputs));
  const init = terraform(['init', '-input=false', '-no-color'], dir);
  expect(init.status, init.stdout + init.stderr).toBe(0);
  return dir;
}

// What the CLI does: no PAT for terraform at all (it registers the agents through a Run Command).
const cliEnv = {};
// A standalone user who wants registered agents from the apply.
const secretEnv = { TF_VAR_devops_pat: PAT };
const PAT_FORMS = [PAT, Buffer.from(PAT).toString('base64'), Buffer.from(`:${PAT}`).toString('base64'), createHash('sha256').update(PAT).digest('hex')];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('the fixture under real terraform, offline', () => {
  it('init, plan -out, apply of the plan, output -json, a no-change plan, destroy: without any PAT, as the CLI runs it', () => {
    const dir = workdir();
    const plan = terraform(['plan', '-input=false', '-no-color', '-out=tfplan'], dir, cliEnv);
    expect(plan.status, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/Plan: 9 to add, 0 to change, 0 to destroy/);

    const apply = terraform(['apply', '-input=false', '-no-color', 'tfplan'], dir, cliEnv);
    expect(apply.status, apply.stderr).toBe(0);

    const out = terraform(['output', '-json'], dir);
    expect(out.status, out.stderr).toBe(0);
    const outputs = JSON.parse(out.stdout) as Record<string, { value: unknown; sensitive: boolean }>;
    expect(Object.keys(outputs).sort()).toEqual([...blocksOf(real, 'output').keys()].sort());
    const value = (name: string) => outputs[name]!.value;
    expect(value('ml_resource_group_name')).toBe('rg-demo42-ml');
    expect(value('devops_resource_group_name')).toBe('rg-demo42-devops');
    expect(value('workspace_name')).toBe('aml-demo42');
    expect(value('workspace_id')).toBe('/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-demo42-ml/providers/Microsoft.MachineLearningServices/workspaces/aml-demo42');
    expect(value('workspace_location')).toBe('westeurope');
    expect(value('subscription_id')).toBe(INPUTS.subscription_id);
    expect(value('tenant_id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(value('aks_name')).toBe('aksdemo42');
    expect(value('aks_compute_name')).toBe('aks-compute');
    expect(value('training_compute_name')).toBe('cpu-cluster');
    expect(value('ilb_subnet_name')).toBe('snet-aks');
    expect(value('agent_vm_private_ip')).toBe('10.10.8.4');
    expect(value('agent_vm_public_ip')).toBe('');
    expect(value('num_agents')).toBe(4);
    expect(value('agent_names')).toEqual(['vm-demo42-agents-1', 'vm-demo42-agents-2', 'vm-demo42-agents-3', 'vm-demo42-agents-4']);
    expect(value('devops_pool')).toBe('pool001');
    expect(value('agent_vm_id')).toBe('/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-demo42-devops/providers/Microsoft.Compute/virtualMachines/vm-demo42-agents');
    expect(value('agent_register_script')).toBe('/opt/azagent/register-agents.sh');
    expect(value('agent_name_prefix')).toBe('vm-demo42-agents');
    // the agent VM is the default host: no managed pool (empty outputs, not null ones)
    expect(value('agents_host')).toBe('vm');
    expect(value('managed_pool_name')).toBe('');
    expect(value('managed_pool_id')).toBe('');
    // A service principal was given: no managed identity, its object id is the role's principal.
    expect(value('pipeline_identity_id')).toBe('');
    expect(value('pipeline_identity_client_id')).toBe('');
    expect(value('pipeline_principal_id')).toBe(INPUTS.pipeline_sp_object_id);
    expect(Object.values(outputs).every((o) => o.sensitive === false)).toBe(true);

    const again = terraform(['plan', '-input=false', '-no-color', '-detailed-exitcode'], dir, cliEnv);
    expect(again.status, again.stdout).toBe(0); // 0 = no changes

    const destroy = terraform(['destroy', '-auto-approve', '-input=false', '-no-color'], dir, cliEnv);
    expect(destroy.status, destroy.stderr).toBe(0);
    expect(destroy.stdout).toMatch(/Destroy complete! Resources: 9 destroyed/);
  });

  it('derives outputs from the inputs (dedicated ILB subnet, more agents, a managed identity for the pipeline)', () => {
    const { pipeline_sp_object_id: _sp, ...withoutSp } = INPUTS;
    const dir = workdir({ ...withoutSp, ilb_subnet_address_prefix: '10.10.12.0/24', num_agents: 2, devops_pool: 'ml agents', devops_url: 'http://127.0.0.1:45678/contoso' });
    expect(terraform(['apply', '-auto-approve', '-input=false', '-no-color'], dir, cliEnv).status).toBe(0);
    const outputs = JSON.parse(terraform(['output', '-json'], dir).stdout) as Record<string, { value: unknown }>;
    expect(outputs.ilb_subnet_name!.value).toBe('snet-ilb');
    expect(outputs.ilb_subnet_id!.value).toMatch(/\/virtualNetworks\/vnet-demo42\/subnets\/snet-ilb$/);
    expect(outputs.agent_names!.value).toEqual(['vm-demo42-agents-1', 'vm-demo42-agents-2']);
    expect(outputs.devops_pool!.value).toBe('ml agents');
    expect(outputs.agent_vm_public_ip!.value).toBe('');
    expect(outputs.agent_name_prefix!.value).toBe('vm-demo42-agents');
    expect(outputs.pipeline_identity_id!.value).toBe('/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-demo42-ml/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-demo42-pipeline');
    const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    expect(outputs.pipeline_identity_client_id!.value).toMatch(guid);
    expect(outputs.pipeline_principal_id!.value).toMatch(guid);
    expect(outputs.pipeline_principal_id!.value).not.toBe(outputs.pipeline_identity_client_id!.value);
  });

  it('agents_host = "managed-pool": the pool\'s name and id, the agent VM\'s outputs empty; back to "vm" and the VM is there again', () => {
    const pool = { ...INPUTS, agents_host: 'managed-pool', devops_project: 'ml project', devops_infrastructure_principal_id: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', num_agents: 2 };
    const dir = workdir(pool);
    const apply = terraform(['apply', '-auto-approve', '-input=false', '-no-color'], dir, cliEnv);
    expect(apply.status, apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/Apply complete! Resources: 8 added/); // no agent VM, no bootstrap; the pool
    const outputs = JSON.parse(terraform(['output', '-json'], dir).stdout) as Record<string, { value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual([...blocksOf(real, 'output').keys()].sort());
    const value = (name: string) => outputs[name]!.value;
    expect(value('agents_host')).toBe('managed-pool');
    expect(value('managed_pool_name')).toBe('mdp-demo42');
    expect(value('managed_pool_id')).toBe('/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-demo42-devops/providers/Microsoft.DevOpsInfrastructure/pools/mdp-demo42');
    expect(value('devops_pool')).toBe('mdp-demo42'); // the pool the service creates in Azure DevOps
    expect(value('num_agents')).toBe(2); // the pool's maximum concurrency
    for (const name of ['agent_vm_name', 'agent_vm_id', 'agent_register_script', 'agent_name_prefix', 'agent_vm_private_ip', 'agent_vm_public_ip']) expect(value(name), name).toBe('');
    expect(value('agent_names')).toEqual([]);
    expect(value('workspace_name')).toBe('aml-demo42');
    expect(terraform(['plan', '-input=false', '-no-color', '-detailed-exitcode'], dir, cliEnv).status).toBe(0);

    writeFileSync(join(dir, 'azure-mlops.auto.tfvars.json'), JSON.stringify(INPUTS));
    const back = terraform(['apply', '-auto-approve', '-input=false', '-no-color'], dir, cliEnv);
    expect(back.status, back.stderr).toBe(0);
    expect(back.stdout).toMatch(/Resources: 2 added, 0 changed, 1 destroyed/);
    const vm = JSON.parse(terraform(['output', '-json'], dir).stdout) as Record<string, { value: unknown }>;
    expect([vm.agents_host!.value, vm.managed_pool_name!.value, vm.agent_vm_name!.value, vm.devops_pool!.value]).toEqual(['vm', '', 'vm-demo42-agents', 'pool001']);
  });

  it('agents_host: only "vm" or "managed-pool"; a managed pool needs devops_project and devops_infrastructure_principal_id', () => {
    const bad = terraform(['plan', '-input=false', '-no-color'], workdir({ ...INPUTS, agents_host: 'aci' }), cliEnv);
    expect(bad.status).toBe(1);
    expect(bad.stderr.replace(/\s+/g, ' ')).toContain('The agents_host must be "vm" (a self-hosted agent VM) or "managed-pool" (a Managed DevOps Pool).');
    const missing = terraform(['plan', '-input=false', '-no-color'], workdir({ ...INPUTS, agents_host: 'managed-pool' }), cliEnv);
    expect(missing.status).toBe(1);
    const stderr = missing.stderr.replace(/\s+/g, ' ');
    expect(stderr).toContain('agents_host = "managed-pool" needs devops_project');
    expect(stderr).toContain('agents_host = "managed-pool" needs devops_infrastructure_principal_id');
    expect(stderr).toContain("az ad sp list --display-name DevOpsInfrastructure");
    const badImage = terraform(['plan', '-input=false', '-no-color'], workdir({ ...INPUTS, agents_host: 'managed-pool', managed_pool_image: 'windows-2022' }), cliEnv);
    expect(badImage.status).toBe(1);
    expect(badImage.stderr.replace(/\s+/g, ' ')).toContain('The managed_pool_image must be an Ubuntu Azure Pipelines image alias');
    const badProject = terraform(['plan', '-input=false', '-no-color'], workdir({ ...INPUTS, devops_project: 'a/b' }), cliEnv);
    expect(badProject.status).toBe(1);
    expect(badProject.stderr.replace(/\s+/g, ' ')).toContain('The devops_project must be an Azure DevOps project name');
  });

  it('devops_pat set (standalone): it reaches terraform, yet no file of the working directory holds it after apply', () => {
    const dir = workdir();
    const shaFile = join(tempDir('pat-sha'), 'sha256');
    const apply = terraform(['apply', '-auto-approve', '-input=false', '-no-color'], dir, { ...secretEnv, FIXTURE_PAT_SHA_FILE: shaFile });
    expect(apply.status, apply.stderr).toBe(0);
    expect(readFileSync(shaFile, 'utf8')).toBe(`${createHash('sha256').update(PAT).digest('hex')}\n`);
    const out = terraform(['output', '-json'], dir);
    expect(out.status).toBe(0);
    const files = filesUnder(dir);
    expect(files).toContain(join(dir, 'terraform.tfstate'));
    for (const form of PAT_FORMS) {
      expect(apply.stdout + apply.stderr + out.stdout, 'terraform output').not.toContain(form);
      for (const file of files) expect(readFileSync(file, 'latin1'), file).not.toContain(form);
    }
    // the PAT does not make the plan differ, set or not
    expect(terraform(['plan', '-input=false', '-no-color', '-detailed-exitcode'], dir, cliEnv).status).toBe(0);
    expect(terraform(['plan', '-input=false', '-no-color', '-detailed-exitcode'], dir, secretEnv).status).toBe(0);
  });

  it('devops_pat null (the CLI): nothing arrives, FIXTURE_PAT_SHA_FILE stays unwritten', () => {
    const dir = workdir();
    const shaFile = join(tempDir('pat-sha'), 'sha256');
    const apply = terraform(['apply', '-auto-approve', '-input=false', '-no-color'], dir, { FIXTURE_PAT_SHA_FILE: shaFile });
    expect(apply.status, apply.stderr).toBe(0);
    expect(existsSync(shaFile)).toBe(false);
  });

  it('FIXTURE_ARM_DIR: the apply creates both resource groups there as ARM returns them, tagged with deployment_id; destroy removes them', () => {
    const id = '0b5c1f3e-8a2d-4c7b-9e61-2f4d8a0c6b1e';
    const dir = workdir({ ...INPUTS, deployment_id: id });
    const arm = tempDir('arm');
    const apply = terraform(['apply', '-auto-approve', '-input=false', '-no-color'], dir, { FIXTURE_ARM_DIR: arm });
    expect(apply.status, apply.stderr).toBe(0);
    const groups = readdirSync(arm).map((f) => JSON.parse(readFileSync(join(arm, f), 'utf8')) as Record<string, unknown>);
    const sub = `/subscriptions/${INPUTS.subscription_id}/resourceGroups`;
    expect(groups.sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual(
      ['rg-demo42-devops', 'rg-demo42-ml'].map((name) => ({
        id: `${sub}/${name}`,
        name,
        type: 'Microsoft.Resources/resourceGroups',
        location: 'westeurope',
        tags: { 'managed-by': 'azure-mlops', 'mlops-prefix': 'demo42', 'azure-mlops-deployment': id },
        properties: { provisioningState: 'Succeeded' },
      })),
    );
    const destroy = terraform(['destroy', '-auto-approve', '-input=false', '-no-color'], dir, { FIXTURE_ARM_DIR: arm });
    expect(destroy.status, destroy.stderr).toBe(0);
    expect(readdirSync(arm)).toEqual([]);
  });

  it('refuses bad input with the real module\'s validation messages', () => {
    const dir = workdir({ ...INPUTS, prefix: 'Demo-42' });
    const plan = terraform(['plan', '-input=false', '-no-color'], dir, secretEnv);
    expect(plan.status).toBe(1);
    expect(plan.stderr.replace(/\s+/g, ' ')).toContain('The prefix must be 2 to 20 lowercase letters or digits');
    const ssh = terraform(['plan', '-input=false', '-no-color'], workdir({ ...INPUTS, ssh_public_key: '-----BEGIN OPENSSH PRIVATE KEY-----' }), secretEnv);
    expect(ssh.status).toBe(1);
    expect(ssh.stderr.replace(/\s+/g, ' ')).toContain('The ssh_public_key must be one OpenSSH public key line');
    const agents = terraform(['plan', '-input=false', '-no-color'], workdir({ ...INPUTS, num_agents: 17 }), secretEnv);
    expect(agents.status).toBe(1);
    expect(agents.stderr.replace(/\s+/g, ' ')).toContain('The num_agents must be a whole number from 1 to 16');
    const url = terraform(['plan', '-input=false', '-no-color'], workdir({ ...INPUTS, devops_url: 'http://tfs.contoso.com/tfs/DefaultCollection' }), cliEnv);
    expect(url.status).toBe(1);
    expect(url.stderr.replace(/\s+/g, ' ')).toContain('http:// only for 127.0.0.1 or localhost');
    const version = terraform(['plan', '-input=false', '-no-color'], workdir({ ...INPUTS, agent_version: 'latest' }), cliEnv);
    expect(version.status).toBe(1);
    expect(version.stderr.replace(/\s+/g, ' ')).toContain('The agent_version must be an agent version such as 4.275.0');
    for (const run of [plan, ssh, agents]) expect(run.stdout + run.stderr).not.toContain(PAT);
  });

  it('FIXTURE_FAIL_APPLY fails the apply with a clear message; the next apply finishes the job', () => {
    const dir = workdir();
    const failed = terraform(['apply', '-auto-approve', '-input=false', '-no-color'], dir, { ...cliEnv, FIXTURE_FAIL_APPLY: '1' });
    expect(failed.status).toBe(1);
    expect(failed.stdout + failed.stderr).toContain('terraform fixture: failing on purpose because FIXTURE_FAIL_APPLY is set');
    expect(existsSync(join(dir, 'terraform.tfstate'))).toBe(true);
    const plan = terraform(['plan', '-input=false', '-no-color'], dir, cliEnv);
    expect(plan.stdout).toMatch(/terraform_data\.aks is tainted, so must be replaced/);
    const resumed = terraform(['apply', '-auto-approve', '-input=false', '-no-color'], dir, cliEnv);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(JSON.parse(terraform(['output', '-json'], dir).stdout).aks_name.value).toBe('aksdemo42');
  });

  it('FIXTURE_APPLY_SLEEP makes the apply last that long', () => {
    const dir = workdir();
    const started = Date.now();
    const apply = terraform(['apply', '-auto-approve', '-input=false', '-no-color'], dir, { ...cliEnv, FIXTURE_APPLY_SLEEP: '2' });
    expect(apply.status, apply.stderr).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    const bad = terraform(['apply', '-auto-approve', '-input=false', '-no-color'], workdir(), { ...cliEnv, FIXTURE_APPLY_SLEEP: 'soon' });
    expect(bad.status).toBe(1);
    expect(bad.stdout + bad.stderr).toContain('FIXTURE_APPLY_SLEEP must be a whole number of seconds');
  });

  it('one SIGINT during FIXTURE_APPLY_SLEEP stops terraform gracefully within seconds and keeps the state', async () => {
    const dir = workdir();
    const child = spawn('terraform', ['apply', '-auto-approve', '-input=false', '-no-color'], {
      cwd: dir,
      env: terraformEnv({ ...cliEnv, FIXTURE_APPLY_SLEEP: '60' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on('exit', (code) => resolve({ code, at: Date.now() })));
    const sleeping = new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('terraform_data.aks (local-exec): Executing')) resolve();
      });
    });
    await Promise.race([sleeping, exited.then(() => Promise.reject(new Error(`terraform exited before the sleep: ${stdout}${stderr}`)))]);
    const interruptedAt = Date.now();
    child.kill('SIGINT');
    const { code, at } = await exited;
    expect(at - interruptedAt, 'seconds from SIGINT to exit').toBeLessThan(10_000);
    expect(code).toBe(1);
    expect(stdout).toMatch(/Interrupt received/);
    expect(stdout).toMatch(/Gracefully shutting down/);
    const state = JSON.parse(readFileSync(join(dir, 'terraform.tfstate'), 'utf8')) as { resources: { name: string; instances: { status?: string }[] }[] };
    expect(state.resources.map((r) => r.name)).toContain('ml_resource_group');
    expect(state.resources.find((r) => r.name === 'aks')?.instances[0]?.status).toBe('tainted');
    const resumed = terraform(['apply', '-auto-approve', '-input=false', '-no-color'], dir, cliEnv);
    expect(resumed.status, resumed.stderr).toBe(0);
  });
});
