// The bundled terraform/ module read as HCL (with @cdktf/hcl2json), offline: formatting, references,
// module calls, secrets, the interface the CLI relies on, derived names, and the security-relevant
// choices (roles, identities, the agent VM's access).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  blocksOf,
  FIXTURE_DIR,
  interpolationsIn,
  type Json,
  type JsonObject,
  MODULE_DIR,
  moduleDirs,
  parseModule,
  referencesIn,
  REPO,
  removeTempDirs,
  resourcesOf,
  stringsIn,
  tempDir,
  terraform,
  terraformEnv,
  type TfFile,
} from './helpers.js';

const modules = new Map<string, TfFile[]>();
let root: TfFile[] = [];

beforeAll(async () => {
  for (const dir of [...moduleDirs(MODULE_DIR), FIXTURE_DIR]) modules.set(dir, await parseModule(dir));
  root = modules.get(MODULE_DIR)!;
});
afterAll(removeTempDirs);

const rel = (dir: string) => relative(REPO, dir) || '.';
const rootVariables = () => blocksOf(root, 'variable');
const rootOutputs = () => blocksOf(root, 'output');
const rootResources = () => resourcesOf(root);
const one = (type: string, name: string) => {
  const r = rootResources().find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type}.${name} in terraform/`);
  return r.body;
};

describe('formatting', () => {
  it('terraform fmt -check -recursive passes for terraform/ and the fixture', () => {
    const run = terraform(['fmt', '-check', '-recursive', '-diff', 'terraform', 'test/fixtures/terraform'], REPO);
    expect(run.stdout + run.stderr.replace(/^.*CLI configuration.*$/gm, '')).not.toMatch(/\.tf/);
    expect(run.status, run.stdout).toBe(0);
  });
});

describe('references and module calls', () => {
  it('every var.X, local.X, module.X, resource and data source referenced is declared in its module', () => {
    const problems: string[] = [];
    for (const [dir, files] of modules) {
      const variables = blocksOf(files, 'variable');
      const locals = blocksOf(files, 'locals');
      const calls = blocksOf(files, 'module');
      const declared = new Set(resourcesOf(files).map((r) => (r.mode === 'data' ? `data.${r.type}.${r.name}` : `${r.type}.${r.name}`)));
      for (const { path, json } of files) {
        const where = relative(REPO, path);
        for (const name of referencesIn(json as Json, /\bvar\.([A-Za-z_][A-Za-z0-9_-]*)/g)) if (!variables.has(name)) problems.push(`${where}: var.${name} is not declared`);
        for (const name of referencesIn(json as Json, /\blocal\.([A-Za-z_][A-Za-z0-9_-]*)/g)) if (!locals.has(name)) problems.push(`${where}: local.${name} is not defined`);
        for (const name of referencesIn(json as Json, /\bmodule\.([A-Za-z_][A-Za-z0-9_-]*)/g)) if (!calls.has(name)) problems.push(`${where}: module.${name} is not called`);
        for (const ref of referencesIn(json as Json, /(?<![\w.])((?:data\.)?(?:azurerm|azapi|terraform)_[a-z0-9_]+\.[A-Za-z_][A-Za-z0-9_-]*)/g)) {
          if (!declared.has(ref)) problems.push(`${where}: ${ref} is not declared`);
        }
      }
      expect(variables.size + locals.size, `${rel(dir)} declares something`).toBeGreaterThan(0);
    }
    expect(problems).toEqual([]);
  });

  it('every module input is declared by the module, every required input is given', () => {
    const problems: string[] = [];
    let calls = 0;
    for (const [dir, files] of modules) {
      for (const [name, call] of blocksOf(files, 'module')) {
        calls++;
        const source = call.source as string;
        expect(source, `module "${name}" uses a local source`).toMatch(/^\.\.?\//);
        const target = resolve(dir, source);
        const inputs = blocksOf(modules.get(target) ?? [], 'variable');
        expect(inputs.size, `module "${name}": ${rel(target)} has variables`).toBeGreaterThan(0);
        const given = Object.keys(call).filter((k) => !['source', 'version', 'count', 'for_each', 'providers', 'depends_on'].includes(k));
        for (const k of given) if (!inputs.has(k)) problems.push(`${rel(dir)}: module "${name}" sets ${k}, which ${rel(target)} does not declare`);
        for (const [v, body] of inputs) if (!('default' in body) && !given.includes(v)) problems.push(`${rel(dir)}: module "${name}" does not set required input ${v}`);
      }
    }
    expect(calls).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });
});

describe('secrets', () => {
  it('credential variables are sensitive, in every module', () => {
    const problems: string[] = [];
    for (const [dir, files] of modules) {
      for (const [name, body] of blocksOf(files, 'variable')) {
        if (/(^|_)(pat|secret|password|token|credentials?|client_secret)($|_)/.test(name) && body.sensitive !== true) problems.push(`${rel(dir)}: variable ${name} must be sensitive`);
      }
    }
    expect(problems).toEqual([]);
    expect(rootVariables().get('devops_pat')?.sensitive).toBe(true);
  });

  it('sensitive variables have no validation block (a failing condition prints the values it read)', () => {
    for (const [dir, files] of modules) {
      for (const [name, body] of blocksOf(files, 'variable')) {
        if (body.sensitive === true) expect(body.validation, `${rel(dir)}: variable ${name}`).toBeUndefined();
      }
    }
  });

  it('no root output is sensitive or derived from the PAT', () => {
    for (const [name, body] of rootOutputs()) {
      expect(body.sensitive ?? false, `output ${name}`).toBe(false);
      const expressions = interpolationsIn(String(body.value)).join(' ');
      expect(expressions, `output ${name}`).not.toMatch(/var\.devops_pat|module\.agent_bootstrap(\[0\])?\.(script|protected_settings)/);
    }
  });

  it('the PAT reaches the VM only through the CustomScript extension protected settings', () => {
    const ext = one('azurerm_virtual_machine_extension', 'agents_bootstrap');
    expect(ext.publisher).toBe('Microsoft.Azure.Extensions');
    expect(ext.type).toBe('CustomScript');
    expect(ext.protected_settings).toBe('${module.agent_bootstrap[0].protected_settings}');
    expect(ext.settings).toBeUndefined();
    const vm = one('azurerm_linux_virtual_machine', 'agents');
    expect(vm.custom_data).toBeUndefined();
    expect(vm.user_data).toBeUndefined();
    // var.devops_pat is used in exactly one place of the root module: the bootstrap module call
    const uses = root.flatMap(({ path, json }) => (referencesIn(json as Json, /\bvar\.(devops_pat)\b/g).length ? [relative(REPO, path)] : []));
    expect(uses).toEqual(['terraform/devops_agents.tf']);
    expect(blocksOf(root, 'module').get('agent_bootstrap')?.devops_pat).toBe('${var.devops_pat}');
  });

  it('devops_pat is optional (null: the CLI registers the agents through a Run Command), nullable and sensitive, in the module and its submodule', () => {
    for (const [dir, files] of modules) {
      const pat = blocksOf(files, 'variable').get('devops_pat');
      if (!pat) continue;
      expect({ dir: rel(dir), default: pat.default, nullable: pat.nullable, sensitive: pat.sensitive, validation: pat.validation }).toEqual({
        dir: rel(dir),
        default: null,
        nullable: true,
        sensitive: true,
        validation: undefined,
      });
    }
    expect(String(rootVariables().get('devops_pat')!.description)).toMatch(/null .*register-agents\.sh.*Run Command.*terraform state/s);
  });
});

// What the CLI writes and reads (decisions of the lead, README "Variables" and "Outputs").
const REQUIRED_INPUTS = ['prefix', 'location', 'subscription_id', 'devops_url', 'ssh_public_key'];
const CLI_DEFAULTS: Record<string, Json> = { devops_pool: 'pool001', num_agents: 4, agent_vm_size: 'Standard_D2s_v5', agent_public_ip_enabled: false, training_compute_name: 'cpu-cluster', aks_compute_name: 'aks-compute' };
const CLI_OUTPUTS = [
  'ml_resource_group_name', 'devops_resource_group_name', 'workspace_name', 'workspace_id', 'workspace_location', 'subscription_id', 'tenant_id',
  'aks_name', 'aks_id', 'aks_compute_name', 'training_compute_name', 'ilb_subnet_name', 'ilb_subnet_id', 'agent_vm_name', 'agent_vm_private_ip',
  'num_agents', 'devops_pool', 'key_vault_name', 'storage_account_name', 'container_registry_name', 'application_insights_name',
  'agent_vm_id', 'agent_register_script', 'agent_name_prefix', 'pipeline_identity_id', 'pipeline_identity_client_id', 'pipeline_principal_id',
  'agents_host', 'managed_pool_name', 'managed_pool_id',
];

describe('interface', () => {
  it('pins terraform >= 1.5, azurerm ~> 4.55 and azapi 2.x, with the subscription from a variable', () => {
    const tf = root.flatMap(({ json }) => (json.terraform as JsonObject[] | undefined) ?? []);
    expect(tf).toHaveLength(1);
    expect(tf[0]!.required_version).toBe('>= 1.5');
    const providers = (tf[0]!.required_providers as JsonObject[])[0]!;
    expect(providers.azurerm).toEqual({ source: 'hashicorp/azurerm', version: '~> 4.55' });
    expect(providers.azapi).toMatchObject({ source: 'Azure/azapi' });
    expect((providers.azapi as JsonObject).version).toMatch(/^~> 2\.\d+$/);
    const config = root.flatMap(({ json }) => Object.entries((json.provider as Record<string, JsonObject[]> | undefined) ?? {}));
    for (const [name, bodies] of config) expect(bodies[0]!.subscription_id, `provider ${name}`).toBe('${var.subscription_id}');
    const azurerm = config.find(([name]) => name === 'azurerm')![1][0]!;
    expect(azurerm.resource_provider_registrations).toBe('none');
    expect(azurerm.resource_providers_to_register).toBe('${local.resource_providers}');
    // the list, with the Managed DevOps Pool's two providers only when the pool is asked for
    const registered = String(blocksOf(root, 'locals').get('resource_providers')!.value).replace(/\s+/g, ' ');
    for (const rp of ['Microsoft.MachineLearningServices', 'Microsoft.ContainerService', 'Microsoft.KubernetesConfiguration', 'Microsoft.Network', 'Microsoft.Compute', 'Microsoft.Storage', 'Microsoft.KeyVault', 'Microsoft.ContainerRegistry', 'Microsoft.OperationalInsights', 'Microsoft.Insights', 'Microsoft.ManagedIdentity']) {
      expect(registered).toContain(`"${rp}"`);
    }
    expect(registered).toMatch(/^\$\{concat\(\[.*\], local\.managed_pool \? \["Microsoft\.DevCenter", "Microsoft\.DevOpsInfrastructure"\] : \[\]\)\}$/);
  });

  it('every variable has a description and a type; only the five user inputs lack a default', () => {
    const vars = rootVariables();
    for (const [name, body] of vars) {
      expect(String(body.description ?? ''), `variable ${name}`).not.toBe('');
      expect(body.type, `variable ${name}`).toBeDefined();
    }
    expect([...vars].filter(([, b]) => !('default' in b)).map(([n]) => n).sort()).toEqual([...REQUIRED_INPUTS].sort());
    for (const [name, value] of Object.entries(CLI_DEFAULTS)) expect(vars.get(name)?.default, `default of ${name}`).toEqual(value);
  });

  it('validates the prefix, location, agent count, VM sizes and the ids', () => {
    const vars = rootVariables();
    for (const name of ['prefix', 'location', 'subscription_id', 'devops_url', 'ssh_public_key', 'pipeline_sp_object_id', 'num_agents', 'agent_vm_size', 'aks_node_vm_size', 'training_vm_size', 'aks_node_count', 'training_compute_name', 'aks_compute_name']) {
      expect(vars.get(name)?.validation, `validation of ${name}`).toBeDefined();
    }
    const prefix = (vars.get('prefix')!.validation as JsonObject[])[0]!;
    expect(prefix.condition).toBe('${can(regex("^[a-z0-9]{2,20}$", var.prefix))}');
    expect(prefix.error_message).toMatch(/24 characters/);
    expect((vars.get('num_agents')!.validation as JsonObject[])[0]!.condition).toMatch(/>= 1 && var\.num_agents <= 16/);
  });

  it('pins a 4.x agent version by default, handed to the bootstrap', () => {
    const version = rootVariables().get('agent_version')!;
    expect(version.default).toMatch(/^4\.\d+\.\d+$/);
    expect(blocksOf(root, 'module').get('agent_bootstrap')?.agent_version).toBe('${var.agent_version}');
  });

  it('outputs what the CLI needs to run the register script: the VM id, the script path, the agent name prefix', () => {
    const outputs = rootOutputs();
    expect(outputs.get('agent_vm_id')!.value).toBe('${local.agents_on_vm ? azurerm_linux_virtual_machine.agents[0].id : ""}');
    expect(outputs.get('agent_register_script')!.value).toBe('${local.agents_on_vm ? module.agent_bootstrap[0].register_script_path : ""}');
    expect(outputs.get('agent_name_prefix')!.value).toBe('${local.agents_on_vm ? local.names.agent_vm : ""}');
    expect(blocksOf(root, 'module').get('agent_bootstrap')?.agent_name_prefix).toBe('${local.names.agent_vm}');
    const submodule = blocksOf(modules.get(join(MODULE_DIR, 'modules', 'agent-bootstrap'))!, 'locals');
    expect(submodule.get('register_script_path')!.value).toBe('/opt/azagent/register-agents.sh');
  });

  it('declares every output the CLI reads, none sensitive, each described', () => {
    const outputs = rootOutputs();
    expect([...outputs.keys()]).toEqual(expect.arrayContaining(CLI_OUTPUTS));
    for (const [name, body] of outputs) expect(String(body.description ?? ''), `output ${name}`).not.toBe('');
  });

  it('terraform/README.md documents every variable and output in its tables', () => {
    const readme = readFileSync(join(MODULE_DIR, 'README.md'), 'utf8');
    for (const name of [...rootVariables().keys(), ...rootOutputs().keys()]) expect(readme, name).toMatch(new RegExp(`^\\| \`${name}\` \\|`, 'm'));
  });
});

/** Evaluates a variable's validation condition for each value, with terraform itself (console, offline). */
function conditionHolds(condition: string, variable: string, values: string[]): boolean[] {
  const expression = condition
    .replace(/^\$\{/, '')
    .replace(/\}$/, '')
    .replaceAll(`var.${variable}`, 'candidate')
    .replace(/\s*\n\s*/g, ' ');
  const run = spawnSync('terraform', ['console', '-no-color'], {
    cwd: tempDir('console'),
    input: `jsonencode([for candidate in ${JSON.stringify(values)} : ${expression}])\n`,
    encoding: 'utf8',
    env: terraformEnv(),
  });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(JSON.parse(run.stdout.trim()) as string) as boolean[];
}

describe('devops_url validation', () => {
  const ACCEPTED = [
    'https://dev.azure.com/contoso',
    'https://dev.azure.com/contoso/',
    'https://dev.azure.com/Contoso-Labs',
    'https://contoso.visualstudio.com',
    'https://contoso.visualstudio.com/',
    'https://tfs.contoso.com/tfs/DefaultCollection',
    'https://tfs.contoso.com:8443/tfs/DefaultCollection/',
    'https://ado.contoso.com/collection%20one',
    'https://10.0.0.5/DefaultCollection',
    'http://127.0.0.1:45678/contoso',
    'http://127.0.0.1/contoso',
    'http://localhost:8080/tfs/DefaultCollection',
  ];
  const REFUSED = [
    'http://dev.azure.com/contoso', // http off the loopback
    'http://tfs.contoso.com/tfs/DefaultCollection',
    'http://localhost.example.com/contoso',
    'http://127.0.0.1.nip.io/contoso',
    'http://10.0.0.5/contoso',
    'https://user:secret@dev.azure.com/contoso', // credentials
    'https://user@tfs.contoso.com/tfs/DefaultCollection',
    'http://user:secret@127.0.0.1:8080/contoso',
    'https://dev.azure.com/contoso?api-version=7.1', // query
    'https://tfs.contoso.com/tfs/DefaultCollection?x=1',
    'https://dev.azure.com/contoso#top', // fragment
    'https://dev.azure.com/contoso/project', // a project, not the organization
    'https://DEV.AZURE.COM/contoso/project',
    'https://contoso.visualstudio.com/DefaultCollection',
    'https://dev.azure.com/',
    'https://dev.azure.com',
    'dev.azure.com/contoso', // no scheme
    'ftp://tfs.contoso.com/tfs',
    "https://tfs.contoso.com/it's", // what the scripts on the VM would have to quote
    'https://tfs.contoso.com/a b',
    'https://tfs.contoso.com/$(id)',
    '',
  ];

  it('accepts dev.azure.com, visualstudio.com, Azure DevOps Server collections and loopback http; refuses the rest', () => {
    const condition = String((rootVariables().get('devops_url')!.validation as JsonObject[])[0]!.condition);
    const results = conditionHolds(condition, 'devops_url', [...ACCEPTED, ...REFUSED]);
    const wrong = [...ACCEPTED, ...REFUSED].filter((url, i) => results[i] !== i < ACCEPTED.length);
    expect(wrong, 'URLs judged the wrong way').toEqual([]);
  });

  it('the bootstrap submodule accepts every URL the root module accepts (and none with credentials, query or quotes)', () => {
    const files = modules.get(join(MODULE_DIR, 'modules', 'agent-bootstrap'))!;
    const condition = String((blocksOf(files, 'variable').get('devops_url')!.validation as JsonObject[])[0]!.condition);
    const refusedEverywhere = REFUSED.filter((u) => /[@?#' $]|^(?!https?:\/\/)|^http:\/\/(?!127\.0\.0\.1[:/]|localhost[:/])/.test(u));
    const results = conditionHolds(condition, 'devops_url', [...ACCEPTED, ...refusedEverywhere]);
    const wrong = [...ACCEPTED, ...refusedEverywhere].filter((url, i) => results[i] !== i < ACCEPTED.length);
    expect(wrong).toEqual([]);
  });
});

describe('names', () => {
  const names = () => (blocksOf(root, 'locals').get('names')!.value as JsonObject) as Record<string, string>;
  const render = (template: string, prefix: string, location: string) => template.replaceAll('${var.prefix}', prefix).replaceAll('${var.location}', location);

  it("keeps the seed's names (the variable group's RESOURCE_GROUP and WORKSPACE_NAME)", () => {
    expect(names()).toMatchObject({
      ml_resource_group: 'rg-${var.prefix}-ml',
      devops_resource_group: 'rg-${var.prefix}-devops',
      workspace: 'aml-${var.prefix}',
      aks: 'aks${var.prefix}',
      storage_account: 'st${var.prefix}',
      key_vault: 'kv-${var.prefix}',
      container_registry: 'acr${var.prefix}',
    });
    expect(one('azurerm_resource_group', 'ml').name).toBe('${local.names.ml_resource_group}');
    expect(one('azurerm_machine_learning_workspace', 'main').name).toBe('${local.names.workspace}');
  });

  // Azure naming rules (learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules)
  const RULES: Record<string, RegExp> = {
    ml_resource_group: /^[\w.()-]{1,89}[\w()-]$/,
    devops_resource_group: /^[\w.()-]{1,89}[\w()-]$/,
    workspace: /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$/,
    aks: /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,61}[a-zA-Z0-9]$/,
    storage_account: /^[a-z0-9]{3,24}$/,
    key_vault: /^(?!.*--)[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/,
    container_registry: /^[a-zA-Z0-9]{5,50}$/,
    log_analytics: /^[a-zA-Z0-9][a-zA-Z0-9-]{2,61}[a-zA-Z0-9]$/,
    application_insights: /^[^%&\\?/]{1,255}$/,
    vnet: /^[a-zA-Z0-9][\w.-]{0,62}\w$/,
    aks_identity: /^[a-zA-Z0-9][\w-]{2,127}$/,
    pipeline_identity: /^[a-zA-Z0-9][\w-]{2,127}$/,
    agent_vm: /^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}[a-zA-Z0-9]$/,
    agent_nic: /^[a-zA-Z0-9][\w.-]{0,78}\w$/,
    agent_nsg: /^[a-zA-Z0-9][\w.-]{0,78}\w$/,
    agent_public_ip: /^[a-zA-Z0-9][\w.-]{0,78}\w$/,
    nat_gateway: /^[a-zA-Z0-9][\w.-]{0,78}\w$/,
    nat_public_ip: /^[a-zA-Z0-9][\w.-]{0,78}\w$/,
    dcr: /^[a-zA-Z0-9][\w.-]{0,62}$/,
    // Microsoft.DevOpsInfrastructure/pools: "^[a-zA-Z0-9][a-zA-Z0-9-.]*$" (REST spec 2025-01-21, poolName),
    // 3 to 44 characters (Managed DevOps Pools quickstart, poolName), unique in Azure
    managed_pool: /^[a-zA-Z0-9][a-zA-Z0-9-.]{2,43}$/,
    // Microsoft.DevCenter 2025-02-01 REST spec: DevCenterNameParameter, ProjectNameParameter
    dev_center: /^[a-zA-Z0-9][a-zA-Z0-9-]{2,25}$/,
    dev_center_project: /^[a-zA-Z0-9][a-zA-Z0-9-_.]{2,62}$/,
  };

  it.each(['ab', '12', 'abcdefghij0123456789'])('every derived name is valid for prefix %s', (prefix) => {
    const location = 'australiasoutheast'; // one of the longest region names
    const problems: string[] = [];
    for (const [key, template] of Object.entries(names())) {
      const rule = RULES[key];
      if (!rule) problems.push(`no naming rule in this test for names.${key}`);
      else if (!rule.test(render(template, prefix, location))) problems.push(`${key}: "${render(template, prefix, location)}" breaks ${rule}`);
    }
    // AKS node resource group MC_{rg}_{cluster}_{location}: at most 80 characters
    const nodeRg = `MC_${render(names().ml_resource_group!, prefix, location)}_${render(names().aks!, prefix, location)}_${location}`;
    if (nodeRg.length > 80) problems.push(`node resource group ${nodeRg} is longer than 80`);
    // the CLI's terraform state storage account
    if (!/^[a-z0-9]{3,24}$/.test(`sttf${prefix}`)) problems.push(`sttf${prefix} is not a valid storage account name`);
    expect(problems).toEqual([]);
  });

  it('Azure ML compute names default to names of at most 16 characters', () => {
    for (const name of ['training_compute_name', 'aks_compute_name']) expect(String(rootVariables().get(name)!.default).length).toBeLessThanOrEqual(16);
  });
});

describe('identities and access', () => {
  it('the pipeline identity (a managed identity unless a service principal is given) gets AzureML Data Scientist on the workspace and nothing else', () => {
    const grants = rootResources().filter((r) => r.type === 'azurerm_role_assignment' && String(r.body.principal_id).includes('pipeline_principal_id'));
    expect(grants).toHaveLength(1);
    expect(grants[0]!.body).toMatchObject({
      role_definition_name: 'AzureML Data Scientist',
      scope: '${azurerm_machine_learning_workspace.main.id}',
      principal_type: 'ServicePrincipal',
    });
    expect(grants[0]!.body.count ?? grants[0]!.body.for_each).toBeUndefined();
    // No other role names the pipeline identity.
    const others = rootResources().filter((r) => r.type === 'azurerm_role_assignment' && r.name !== grants[0]!.name && /pipeline/.test(JSON.stringify(r.body)));
    expect(others).toEqual([]);
    const mi = one('azurerm_user_assigned_identity', 'pipeline');
    expect(mi.count).toBe('${var.pipeline_sp_object_id == null ? 1 : 0}');
    expect(mi.name).toBe('${local.names.pipeline_identity}');
    expect(mi.resource_group_name).toBe('${azurerm_resource_group.ml.name}');
    const local = root.flatMap(({ json }) => (json.locals as JsonObject[] | undefined) ?? []).find((l) => 'pipeline_principal_id' in l)!;
    expect(local.pipeline_principal_id).toBe('${var.pipeline_sp_object_id == null ? azurerm_user_assigned_identity.pipeline[0].principal_id : var.pipeline_sp_object_id}');
    expect(rootVariables().get('pipeline_sp_object_id')!.default).toBeNull();
  });

  it('AKS: managed identity (never a service principal) with Network Contributor on its subnets before it is created', () => {
    const aks = one('azurerm_kubernetes_cluster', 'main');
    expect(aks.service_principal).toBeUndefined();
    expect(aks.identity).toEqual([{ type: 'UserAssigned', identity_ids: ['${azurerm_user_assigned_identity.aks.id}'] }]);
    expect(aks.local_account_disabled).toBe(false);
    expect((aks.oms_agent as JsonObject[])[0]!.log_analytics_workspace_id).toBe('${azurerm_log_analytics_workspace.main.id}');
    expect((aks.default_node_pool as JsonObject[])[0]!.vnet_subnet_id).toBe('${azurerm_subnet.aks.id}');
    expect(aks.depends_on).toContain('${azurerm_role_assignment.aks_subnet_network_contributor}');
    const net = one('azurerm_role_assignment', 'aks_subnet_network_contributor');
    expect(net.role_definition_name).toBe('Network Contributor');
    expect(net.principal_id).toBe('${azurerm_user_assigned_identity.aks.principal_id}');
    expect(String(net.for_each)).toContain('azurerm_subnet.aks.id');
    expect(String(net.for_each)).toContain('azurerm_subnet.ilb[0].id');
  });

  it('AKS defaults give at least 12 vCPUs (3 x Standard_D4s_v5)', () => {
    const vars = rootVariables();
    expect(vars.get('aks_node_count')!.default).toBe(3);
    expect(vars.get('aks_node_vm_size')!.default).toBe('Standard_D4s_v5');
  });

  // extension_type is ForceNew and Read copies the API's value, which the API keeps in lowercase, into
  // the state (azurerm internal/services/containers/kubernetes_cluster_extension_resource.go;
  // MicrosoftDocs/azure-docs#110642): any other case plans the extension's replacement at every plan.
  it('every cluster extension, in every module, has a literal lowercase extension_type', () => {
    const extensions = [...modules.values()].flatMap((files) => resourcesOf(files)).filter((r) => r.type === 'azurerm_kubernetes_cluster_extension');
    expect(extensions.length, 'cluster extensions found in terraform/').toBeGreaterThan(0);
    const problems = extensions
      .map(({ name, body, file }) => ({ where: `${relative(REPO, file)}: azurerm_kubernetes_cluster_extension.${name}`, type: body.extension_type }))
      .filter(({ type }) => typeof type !== 'string' || interpolationsIn(type).length > 0 || type !== type.toLowerCase())
      .map(({ where, type }) => `${where}: extension_type ${JSON.stringify(type)} is not a literal lowercase string`);
    expect(problems).toEqual([]);
  });

  it('the AzureML extension serves inference behind an internal load balancer', () => {
    const ext = one('azurerm_kubernetes_cluster_extension', 'azureml');
    expect(ext.extension_type).toBe('microsoft.azureml.kubernetes');
    expect(ext.configuration_settings).toBe('${local.azureml_extension_settings}');
    const settings = blocksOf(root, 'locals').get('azureml_extension_settings')!.value as JsonObject;
    expect(settings).toMatchObject({
      enableInference: 'True',
      inferenceRouterServiceType: 'LoadBalancer',
      internalLoadBalancerProvider: 'azure',
      allowInsecureConnections: 'True',
      inferenceRouterHA: '${local.inference_router_ha ? "True" : "False"}',
      enableTraining: 'False',
    });
    expect(blocksOf(root, 'locals').get('inference_router_ha')!.value).toBe('${var.aks_node_count >= 3}');
    // What `az k8s-extension create` sets on its own for an AKS cluster (k8s-extension
    // AzureMLKubernetes.py: no Service Bus, no relay, the extension's ingress-nginx on). The ingress stays
    // on: Microsoft's resource planning (reference-kubernetes, "Recommended resource planning") counts it
    // in the inference-only footprint, so turning it off needs a source saying inference works without it.
    expect(settings).toMatchObject({ 'servicebus.enabled': 'false', 'relayserver.enabled': 'false', 'nginxIngress.enabled': 'true' });
  });

  // "Attach a Kubernetes cluster to Azure Machine Learning workspace" (learn.microsoft.com/azure/machine-learning/
  // how-to-attach-kubernetes-to-workspace) asks for Reader, Kubernetes Extension Contributor and AKS Cluster
  // Admin on the cluster only for a workspace with a user-assigned identity; with a system-assigned one
  // nothing is to be granted.
  it('the workspace identity is system-assigned and gets no role on the cluster (nor anywhere)', () => {
    const workspace = one('azurerm_machine_learning_workspace', 'main');
    expect(workspace.identity).toEqual([{ type: 'SystemAssigned' }]);
    const grants = [...modules.values()]
      .flatMap((files) => resourcesOf(files))
      .filter((r) => r.type === 'azurerm_role_assignment' && /azurerm_machine_learning_workspace\.main\.identity/.test(String(r.body.principal_id)));
    expect(grants.map((r) => `${relative(REPO, r.file)}: ${r.type}.${r.name}`)).toEqual([]);
    const attach = one('azapi_resource', 'aks_compute');
    expect(attach.depends_on).toEqual(['${azurerm_kubernetes_cluster_extension.azureml}']);
    expect((attach.identity as JsonObject[])[0]!.type).toBe('SystemAssigned');
  });

  // Built-in role ids: "Azure Kubernetes Service Cluster Admin Role" and "Azure Kubernetes Service RBAC
  // Cluster Admin" (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
  const CLUSTER_ADMIN_ROLE_IDS = ['0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8', 'b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b'];
  it('no cluster admin role is granted to anyone, in any module (by name or by role definition id)', () => {
    const problems: string[] = [];
    let assignments = 0;
    for (const files of modules.values()) {
      // role names may sit in for_each sets, maps or locals: look at every string of the module
      for (const { path, json } of files) {
        for (const value of stringsIn(json as Json)) {
          if (/cluster\s*admin/i.test(value)) problems.push(`${relative(REPO, path)}: ${JSON.stringify(value)}`);
          for (const id of CLUSTER_ADMIN_ROLE_IDS) if (value.toLowerCase().includes(id)) problems.push(`${relative(REPO, path)}: role definition ${id}`);
        }
      }
      assignments += resourcesOf(files).filter((r) => r.type === 'azurerm_role_assignment').length;
    }
    expect(assignments, 'role assignments examined').toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('the agent VM: SSH key only, no public IP by default, in the agents subnet', () => {
    const vm = one('azurerm_linux_virtual_machine', 'agents');
    expect(vm.disable_password_authentication).toBe(true);
    expect(vm.admin_password).toBeUndefined();
    expect(vm.admin_ssh_key).toHaveLength(1);
    expect(one('azurerm_public_ip', 'agents').count).toBe('${local.agents_on_vm && var.agent_public_ip_enabled ? 1 : 0}');
    const nic = one('azurerm_network_interface', 'agents');
    expect((nic.ip_configuration as JsonObject[])[0]!.subnet_id).toBe('${azurerm_subnet.agents[0].id}');
    expect(rootVariables().get('agent_public_ip_enabled')!.default).toBe(false);
  });
});

// agents_host: the agent VM (default) or a Managed DevOps Pool. Sources: terraform/managed_devops_pool.tf.
describe('agents host: the agent VM or a Managed DevOps Pool', () => {
  const VM_RESOURCES = [
    ['azurerm_subnet', 'agents'],
    ['azurerm_subnet_nat_gateway_association', 'agents'],
    ['azurerm_network_security_group', 'agents'],
    ['azurerm_network_interface', 'agents'],
    ['azurerm_network_interface_security_group_association', 'agents'],
    ['azurerm_linux_virtual_machine', 'agents'],
    ['azurerm_virtual_machine_extension', 'agents_bootstrap'],
  ] as const;
  const moved = () => root.flatMap(({ json }) => (json.moved as JsonObject[] | undefined) ?? []).map((m) => [m.from, m.to]);

  it('agents_host is "vm" by default and only "vm" or "managed-pool"; the pool\'s inputs default to null or to documented values', () => {
    const vars = rootVariables();
    const host = vars.get('agents_host')!;
    expect(host.default).toBe('vm');
    expect((host.validation as JsonObject[])[0]!.condition).toBe('${contains(["vm", "managed-pool"], var.agents_host)}');
    expect(vars.get('devops_project')!.default).toBeNull();
    expect(vars.get('devops_infrastructure_principal_id')!.default).toBeNull();
    expect(vars.get('managed_pool_vm_size')!.default).toBe('Standard_D2ads_v5');
    expect(vars.get('managed_pool_image')!.default).toBe('ubuntu-24.04/latest');
    expect(vars.get('managed_pool_subnet_address_prefix')!.default).toBe('10.10.9.0/24');
    const locals = blocksOf(root, 'locals');
    expect(locals.get('agents_on_vm')!.value).toBe('${var.agents_host == "vm"}');
    expect(locals.get('managed_pool')!.value).toBe('${var.agents_host == "managed-pool"}');
  });

  it('every resource of the agent VM exists only with agents_host = "vm", and moves in place from the count-less address of earlier versions', () => {
    for (const [type, name] of VM_RESOURCES) {
      expect(one(type, name).count, `${type}.${name}`).toBe('${local.agents_on_vm ? 1 : 0}');
      expect(moved(), `moved block for ${type}.${name}`).toContainEqual([`\${${type}.${name}}`, `\${${type}.${name}[0]}`]);
    }
    expect(one('azurerm_public_ip', 'agents').count).toMatch(/^\$\{local\.agents_on_vm && /);
    expect(one('azurerm_network_security_rule', 'agents_ssh').count).toMatch(/^\$\{local\.agents_on_vm && /);
    expect(blocksOf(root, 'module').get('agent_bootstrap')!.count).toBe('${local.agents_on_vm ? 1 : 0}');
    expect(moved()).toContainEqual(['${module.agent_bootstrap}', '${module.agent_bootstrap[0]}']);
    // every moved block points from an address to its [0], of a resource that has count
    for (const [from, to] of moved()) expect(to).toBe(String(from).replace(/\}$/, '[0]}'));
    expect(moved()).toHaveLength(VM_RESOURCES.length + 1);
  });

  it('every resource of the managed pool exists only with agents_host = "managed-pool"', () => {
    const pool = rootResources().filter((r) => r.file.endsWith('managed_devops_pool.tf'));
    expect(pool.map((r) => `${r.type}.${r.name}`).sort()).toEqual([
      'azapi_resource.dev_center', 'azapi_resource.dev_center_project', 'azapi_resource.managed_pool',
      'azurerm_role_assignment.devops_infrastructure_vnet', 'azurerm_subnet.managed_pool', 'azurerm_subnet_nat_gateway_association.managed_pool',
    ]);
    for (const r of pool) {
      if (r.body.for_each !== undefined) expect(String(r.body.for_each), `${r.type}.${r.name}`).toMatch(/^\$\{local\.managed_pool \? .* : toset\(\[\]\)\}$/);
      else expect(r.body.count, `${r.type}.${r.name}`).toBe('${local.managed_pool ? 1 : 0}');
    }
    // the NAT gateway serves whichever agents' subnet there is
    expect(one('azurerm_nat_gateway', 'agents').count).toBeUndefined();
    expect(one('azurerm_subnet_nat_gateway_association', 'managed_pool')).toMatchObject({ subnet_id: '${azurerm_subnet.managed_pool[0].id}', nat_gateway_id: '${azurerm_nat_gateway.agents.id}' });
  });

  // configure-networking: "The subnet needs to be delegated to the Microsoft.DevOpsInfrastructure/pools";
  // one pool per subnet; the pool and the VNET in the same region.
  it('the managed pool\'s subnet is a new subnet of the deployment\'s VNET, delegated to Microsoft.DevOpsInfrastructure/pools, with explicit outbound', () => {
    const subnet = one('azurerm_subnet', 'managed_pool');
    expect(subnet).toMatchObject({
      name: '${local.subnet_names.managed_pool}',
      virtual_network_name: '${azurerm_virtual_network.main.name}',
      resource_group_name: '${azurerm_resource_group.ml.name}',
      address_prefixes: ['${var.managed_pool_subnet_address_prefix}'],
      default_outbound_access_enabled: false,
    });
    expect(subnet.delegation).toEqual([{ name: 'Microsoft.DevOpsInfrastructure.pools', service_delegation: [{ name: 'Microsoft.DevOpsInfrastructure/pools' }] }]);
    expect(blocksOf(root, 'locals').get('subnet_names')!.value).toMatchObject({ managed_pool: 'snet-mdp', agents: 'snet-agents' });
    const pool = one('azapi_resource', 'managed_pool');
    expect(pool.location).toBe('${azurerm_resource_group.devops.location}');
    expect(one('azurerm_resource_group', 'devops').location).toBe(one('azurerm_resource_group', 'ml').location);
  });

  // configure-networking: "Ensure the DevOpsInfrastructure principal has the following access on the
  // virtual network: Reader and Network Contributor".
  it('the DevOpsInfrastructure service principal gets Reader and Network Contributor on the VNET, before the pool is created', () => {
    const roles = one('azurerm_role_assignment', 'devops_infrastructure_vnet');
    expect(roles.for_each).toBe('${local.managed_pool ? toset(["Reader", "Network Contributor"]) : toset([])}');
    expect(roles).toMatchObject({
      scope: '${azurerm_virtual_network.main.id}',
      role_definition_name: '${each.key}',
      principal_id: '${var.devops_infrastructure_principal_id}',
      principal_type: 'ServicePrincipal',
    });
    const pool = one('azapi_resource', 'managed_pool');
    expect(pool.depends_on).toEqual(expect.arrayContaining(['${azurerm_role_assignment.devops_infrastructure_vnet}', '${azurerm_subnet_nat_gateway_association.managed_pool}']));
  });

  it('the managed pool needs devops_project and devops_infrastructure_principal_id, and says how to find the latter', () => {
    const conditions = (r: JsonObject) => ((r.lifecycle as JsonObject[])[0]!.precondition as JsonObject[]).map((p) => [p.condition, p.error_message]);
    expect(conditions(one('azapi_resource', 'managed_pool'))).toEqual([['${var.devops_project != null}', expect.stringContaining('needs devops_project')]]);
    expect(conditions(one('azurerm_role_assignment', 'devops_infrastructure_vnet'))).toEqual([
      ['${var.devops_infrastructure_principal_id != null}', expect.stringContaining("az ad sp list --display-name DevOpsInfrastructure --query \"[?displayName=='DevOpsInfrastructure'].id\" -o tsv")],
    ]);
  });

  it('outputs: the host, the pool\'s name and id, and the VM\'s outputs empty (never null) on the other path', () => {
    const outputs = rootOutputs();
    expect(outputs.get('agents_host')!.value).toBe('${var.agents_host}');
    expect(outputs.get('managed_pool_name')!.value).toBe('${local.managed_pool ? azapi_resource.managed_pool[0].name : ""}');
    expect(outputs.get('managed_pool_id')!.value).toBe('${local.managed_pool ? azapi_resource.managed_pool[0].id : ""}');
    expect(outputs.get('devops_pool')!.value).toBe('${local.managed_pool ? azapi_resource.managed_pool[0].name : var.devops_pool}');
    expect(outputs.get('agent_names')!.value).toBe('${local.agents_on_vm ? module.agent_bootstrap[0].agent_names : []}');
    for (const name of ['agent_vm_name', 'agent_vm_id', 'agent_register_script', 'agent_name_prefix', 'agent_vm_private_ip', 'agent_vm_public_ip']) {
      expect(String(outputs.get(name)!.value), name).toMatch(/^\$\{local\.agents_on_vm( && var\.agent_public_ip_enabled)? \? .+ : ""\}$/);
    }
  });
});

describe('fixture files exist for the CLI tests', () => {
  it('has a README explaining the switches', () => {
    expect(existsSync(join(FIXTURE_DIR, 'README.md'))).toBe(true);
    const readme = readFileSync(join(FIXTURE_DIR, 'README.md'), 'utf8');
    expect(readme).toMatch(/FIXTURE_APPLY_SLEEP/);
    expect(readme).toMatch(/FIXTURE_FAIL_APPLY/);
  });
});

describe('one deployment per prefix: the deployment tag', () => {
  it('both resource groups take local.tags (so does every other resource)', () => {
    expect(one('azurerm_resource_group', 'ml').tags).toBe('${local.tags}');
    expect(one('azurerm_resource_group', 'devops').tags).toBe('${local.tags}');
  });

  it('the training cluster never gets the deployment tag (its tags are ForceNew in azurerm: adding it would replace the cluster)', () => {
    const tags = String(one('azurerm_machine_learning_compute_cluster', 'training').tags);
    expect(tags).toContain('local.tags');
    expect(tags).toMatch(/if k != "azure-mlops-deployment"/);
  });

  // local.tags evaluated by terraform itself: the expression of terraform/locals.tf beside the real
  // variables.tf, in a module without providers (offline), applied with a local state.
  function tagsWith(vars: Record<string, unknown>): Record<string, string> {
    const dir = tempDir('tags');
    const expression = (blocksOf(root, 'locals').get('tags')!.value as string).replace(/^\$\{([\s\S]*)\}$/, '$1');
    writeFileSync(join(dir, 'variables.tf'), readFileSync(join(MODULE_DIR, 'variables.tf'), 'utf8'));
    writeFileSync(join(dir, 'main.tf'), `locals {\n  tags = ${expression}\n}\n\noutput "tags" {\n  value = local.tags\n}\n`);
    const required = { prefix: 'demo42', location: 'westeurope', subscription_id: '11111111-2222-3333-4444-555555555555', devops_url: 'https://dev.azure.com/contoso', ssh_public_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qta2V5LW5vdC11c2VkLWFueXdoZXJl test@example' };
    writeFileSync(join(dir, 'terraform.tfvars.json'), JSON.stringify({ ...required, ...vars }));
    for (const args of [['init', '-input=false'], ['apply', '-input=false', '-auto-approve']]) {
      const r = terraform(args, dir);
      expect(r.status, r.stdout + r.stderr).toBe(0);
    }
    const out = terraform(['output', '-json', 'tags'], dir);
    expect(out.status, out.stderr).toBe(0);
    return JSON.parse(out.stdout) as Record<string, string>;
  }

  const ID = '0b5c1f3e-8a2d-4c7b-9e61-2f4d8a0c6b1e';

  it('deployment_id set: tag azure-mlops-deployment = the id, which var.tags cannot replace', () => {
    expect(tagsWith({ deployment_id: ID, tags: { team: 'ml', 'azure-mlops-deployment': 'not-this-one' } })).toEqual({
      'managed-by': 'azure-mlops',
      'mlops-prefix': 'demo42',
      team: 'ml',
      'azure-mlops-deployment': ID,
    });
  });

  it('deployment_id null (standalone use, the default): no such tag', () => {
    expect(tagsWith({})).toEqual({ 'managed-by': 'azure-mlops', 'mlops-prefix': 'demo42' });
  });

  it('deployment_id must be a lowercase UUID', () => {
    const v = rootVariables().get('deployment_id')!;
    expect(v.default).toBeNull();
    expect(JSON.stringify(v.validation)).toContain('[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}');
  });
});
