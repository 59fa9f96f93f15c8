// The bundled module against the azurerm 4.55.0 input schema (test/fixtures/azurerm-schema.json,
// made by scripts/azurerm-schema-snapshot.mjs from @cdktf/provider-azurerm 14.23.1): every resource
// and data source type exists, every argument and block is known at its place, every required one is
// given. `terraform validate` would do this, but it needs the provider binaries, which cannot be
// downloaded here.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Json, type JsonObject, MODULE_DIR, moduleDirs, parseModule, REPO, resourcesOf, SCHEMA_FILE, type TfFile } from './helpers.js';

type AttributeSchema = 'required' | 'optional' | ({ required?: true; optional?: true } & BlockSchema);
interface BlockSchema {
  attributes: Record<string, AttributeSchema>;
  blocks: Record<string, BlockSchema & { required: boolean; nesting: string }>;
}
interface Snapshot {
  provider_version: string;
  source_package: string;
  provider_config: BlockSchema;
  resources: Record<string, BlockSchema>;
  data_sources: Record<string, BlockSchema>;
  unknown_resources: string[];
  unknown_data_sources: string[];
}

const snapshot = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Snapshot;

// Meta-arguments terraform itself accepts in every resource / data block.
const META_ARGUMENTS = new Set(['count', 'for_each', 'provider', 'depends_on', 'lifecycle', 'provisioner', 'connection', 'dynamic']);

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const isRequired = (a: AttributeSchema) => a === 'required' || (typeof a === 'object' && a.required === true);

/** Problems of one block body against its schema; `where` names the place for the messages. */
export function checkBlock(body: JsonObject, schema: BlockSchema, where: string, topLevel: boolean): string[] {
  const problems: string[] = [];
  const given = new Set<string>();
  const instances = (name: string, value: Json): JsonObject[] => {
    if (!Array.isArray(value) || !value.every(isObject)) {
      problems.push(`${where}: "${name}" is a block in azurerm ${snapshot.provider_version}; write it as ${name} { ... }`);
      return [];
    }
    return value as JsonObject[];
  };

  for (const [name, value] of Object.entries(body)) {
    if (name === 'dynamic' && isObject(value)) {
      for (const [blockName, dyn] of Object.entries(value)) {
        const block = schema.blocks[blockName];
        if (!block) {
          problems.push(`${where}: dynamic "${blockName}" is not a block of this type in azurerm ${snapshot.provider_version}`);
          continue;
        }
        given.add(blockName);
        for (const d of instances(`dynamic ${blockName}`, dyn)) {
          for (const content of (d.content as JsonObject[] | undefined) ?? []) problems.push(...checkBlock(content, block, `${where}.${blockName}`, false));
        }
      }
      continue;
    }
    if (topLevel && META_ARGUMENTS.has(name)) continue;
    const attribute = schema.attributes[name];
    const block = schema.blocks[name];
    if (attribute !== undefined) {
      given.add(name);
      // "attributes as blocks" (e.g. a list of objects) may use the block syntax: check their keys too.
      if (typeof attribute === 'object' && Array.isArray(value) && value.every(isObject)) {
        for (const item of value as JsonObject[]) problems.push(...checkBlock(item, attribute, `${where}.${name}`, false));
      }
    } else if (block !== undefined) {
      given.add(name);
      for (const instance of instances(name, value)) problems.push(...checkBlock(instance, block, `${where}.${name}`, false));
    } else {
      problems.push(`${where}: "${name}" is not an argument or block of this type in azurerm ${snapshot.provider_version}`);
    }
  }

  for (const [name, attribute] of Object.entries(schema.attributes)) {
    if (isRequired(attribute) && !given.has(name)) problems.push(`${where}: required argument "${name}" is missing`);
  }
  for (const [name, block] of Object.entries(schema.blocks)) {
    if (block.required && !given.has(name)) problems.push(`${where}: required block "${name}" is missing`);
  }
  return problems;
}

let files: TfFile[] = [];
const load = async () => {
  if (files.length === 0) files = (await Promise.all(moduleDirs(MODULE_DIR).map(parseModule))).flat();
  return files;
};
const at = (file: string, kind: string, type: string, name: string) => `${relative(REPO, file)}: ${kind} "${type}" "${name}"`;

describe('azurerm schema snapshot', () => {
  it('is for azurerm 4.55.0, from @cdktf/provider-azurerm 14.23.1', () => {
    expect(snapshot.provider_version).toBe('4.55.0');
    expect(snapshot.source_package).toBe('@cdktf/provider-azurerm@14.23.1');
  });

  it('covers every azurerm type the module uses (else: node scripts/azurerm-schema-snapshot.mjs)', async () => {
    const all = resourcesOf(await load()).filter((r) => r.type.startsWith('azurerm_'));
    const covered = [...Object.keys(snapshot.resources), ...snapshot.unknown_resources];
    const coveredData = [...Object.keys(snapshot.data_sources), ...snapshot.unknown_data_sources];
    expect(all.filter((r) => r.mode === 'resource' && !covered.includes(r.type)).map((r) => r.type)).toEqual([]);
    expect(all.filter((r) => r.mode === 'data' && !coveredData.includes(r.type)).map((r) => r.type)).toEqual([]);
  });

  it('knows every azurerm type the module uses as a type of azurerm 4.55.0', () => {
    expect(snapshot.unknown_resources, 'resource types that do not exist in azurerm 4.55.0').toEqual([]);
    expect(snapshot.unknown_data_sources, 'data source types that do not exist in azurerm 4.55.0').toEqual([]);
  });

  it('catches an unknown argument, a missing required one and an argument written as a block', () => {
    const schema = snapshot.resources.azurerm_resource_group!;
    expect(checkBlock({ name: 'rg', location: 'westeurope', tags: {} }, schema, 'ok', true)).toEqual([]);
    expect(checkBlock({ name: 'rg', locaton: 'westeurope' }, schema, 'rg', true)).toEqual([
      'rg: "locaton" is not an argument or block of this type in azurerm 4.55.0',
      'rg: required argument "location" is missing',
    ]);
    const vm = snapshot.resources.azurerm_linux_virtual_machine!;
    const problems = checkBlock({ name: 'vm', location: 'x', resource_group_name: 'x', size: 'x', network_interface_ids: [], os_disk: { caching: 'ReadWrite' } }, vm, 'vm', true);
    expect(problems).toContain('vm: "os_disk" is a block in azurerm 4.55.0; write it as os_disk { ... }');
  });
});

describe('terraform/ against the azurerm 4.55.0 schema', () => {
  it('every azurerm resource and data source: arguments and blocks known, required ones given', async () => {
    const problems: string[] = [];
    for (const r of resourcesOf(await load())) {
      if (!r.type.startsWith('azurerm_')) continue;
      const schema = r.mode === 'resource' ? snapshot.resources[r.type] : snapshot.data_sources[r.type];
      if (!schema) {
        problems.push(`${at(r.file, r.mode, r.type, r.name)}: type not in the snapshot`);
        continue;
      }
      problems.push(...checkBlock(r.body, schema, at(r.file, r.mode, r.type, r.name), true));
    }
    expect(problems).toEqual([]);
  });

  it('the azurerm provider block: known arguments, features given', async () => {
    const problems: string[] = [];
    let found = 0;
    for (const { path, json } of await load()) {
      const providers = (json.provider as Record<string, JsonObject[]> | undefined) ?? {};
      for (const body of providers.azurerm ?? []) {
        found++;
        // features is required by the provider although the generated bindings mark it optional
        if (!('features' in body)) problems.push(`${relative(REPO, path)}: provider "azurerm" needs a features block`);
        problems.push(...checkBlock(body, snapshot.provider_config, `${relative(REPO, path)}: provider "azurerm"`, true));
      }
    }
    expect(found).toBe(1);
    expect(problems).toEqual([]);
  });
});

// azapi has no snapshot: its schema is small and stable, taken from the provider's documentation
// (docs/resources/resource.md and resource_action.md of Azure/terraform-provider-azapi v2).
const AZAPI: Record<string, { required: string[]; optional: string[]; blocks: string[] }> = {
  azapi_resource: {
    required: ['type'],
    optional: ['name', 'parent_id', 'location', 'body', 'tags', 'response_export_values', 'sensitive_response_export_values', 'schema_validation_enabled',
      'ignore_casing', 'ignore_missing_property', 'ignore_null_property', 'locks', 'replace_triggers_external_values', 'replace_triggers_refs', 'retry',
      'create_headers', 'create_query_parameters', 'read_headers', 'read_query_parameters', 'update_headers', 'update_query_parameters', 'delete_headers',
      'delete_query_parameters', 'sensitive_body', 'sensitive_body_version'],
    blocks: ['identity', 'timeouts'],
  },
  azapi_resource_action: {
    required: ['type', 'resource_id'],
    optional: ['action', 'method', 'body', 'headers', 'query_parameters', 'response_export_values', 'sensitive_response_export_values', 'locks', 'retry',
      'when', 'ignore_not_found', 'sensitive_body', 'sensitive_body_version'],
    blocks: ['timeouts'],
  },
};

describe('terraform/ azapi resources', () => {
  it('use known arguments and a stable (non-preview) API version', async () => {
    const problems: string[] = [];
    for (const r of resourcesOf(await load())) {
      if (!r.type.startsWith('azapi_')) continue;
      const where = at(r.file, r.mode, r.type, r.name);
      const schema = AZAPI[r.type];
      if (!schema) {
        problems.push(`${where}: no schema in this test for ${r.type}`);
        continue;
      }
      for (const name of Object.keys(r.body)) {
        if (!META_ARGUMENTS.has(name) && ![...schema.required, ...schema.optional, ...schema.blocks].includes(name)) problems.push(`${where}: unknown argument "${name}"`);
      }
      for (const name of schema.required) if (!(name in r.body)) problems.push(`${where}: required argument "${name}" is missing`);
      const type = r.body.type as string;
      if (!/^Microsoft\.[A-Za-z]+\/[A-Za-z/]+@\d{4}-\d{2}-\d{2}$/.test(type)) problems.push(`${where}: type "${type}" is not <resource type>@<stable api version>`);
    }
    expect(problems).toEqual([]);
  });

  it('attach the AKS cluster as a Kubernetes compute with a managed identity', async () => {
    const compute = resourcesOf(await load()).find((r) => r.type === 'azapi_resource' && String(r.body.type).startsWith('Microsoft.MachineLearningServices/workspaces/computes@'));
    expect(compute).toBeDefined();
    const body = compute!.body.body as JsonObject;
    expect((body.properties as JsonObject).computeType).toBe('Kubernetes');
    expect((body.properties as JsonObject).resourceId).toBe('${azurerm_kubernetes_cluster.main.id}');
    expect(compute!.body.identity).toEqual([{ type: 'SystemAssigned' }]);
  });
});

// ---------------------------------------------------------------------------------------------------
// The Managed DevOps Pool's body against Microsoft.DevOpsInfrastructure/pools@2025-01-21, which no
// provider schema here covers (azapi sends the body as it is). The property names, which are required,
// the discriminated kinds and the enums below are those of the API's REST specification,
// Azure/azure-rest-api-specs specification/devopsinfrastructure/resource-manager/
// Microsoft.DevOpsInfrastructure/DevOpsInfrastructure/stable/2025-01-21/devopsinfrastructure.json
// (definitions PoolProperties, OrganizationProfile, AzureDevOpsOrganizationProfile, Organization,
// AzureDevOpsPermissionProfile, GitHubOrganizationProfile, AgentProfile, StatelessAgentProfile, Stateful,
// ResourcePredictionsProfile, ManualResourcePredictionsProfile, AutomaticResourcePredictionsProfile,
// FabricProfile, VmssFabricProfile, DevOpsAzureSku, PoolImage, OsProfile, StorageProfile,
// NetworkProfile), which learn.microsoft.com/azure/templates/microsoft.devopsinfrastructure/2025-01-21/pools
// renders. Read-only properties (provisioningState) are left out: a body never sets them.

type PropShape = 'scalar' | 'any' | { enum: string[] } | { array: PropShape } | ObjectShape;
interface ObjectShape {
  required: string[];
  properties: Record<string, PropShape>;
  /** A discriminated type: `kind` names one of these, whose properties add to the common ones. */
  kinds?: Record<string, { required: string[]; properties: Record<string, PropShape> }>;
}

const obj = (properties: Record<string, PropShape>, required: string[] = [], kinds?: ObjectShape['kinds']): ObjectShape => ({ properties, required, kinds });
const POOL_2025_01_21: ObjectShape = obj(
  {
    properties: obj(
      {
        maximumConcurrency: 'scalar', // int32, 1 to 10000
        devCenterProjectResourceId: 'scalar',
        organizationProfile: obj({}, [], {
          AzureDevOps: {
            required: ['organizations'],
            properties: {
              organizations: { array: obj({ url: 'scalar', projects: { array: 'scalar' }, parallelism: 'scalar', openAccess: 'scalar' }, ['url']) },
              permissionProfile: obj({ kind: { enum: ['Inherit', 'CreatorOnly', 'SpecificAccounts'] }, users: { array: 'scalar' }, groups: { array: 'scalar' } }, ['kind']),
            },
          },
          GitHub: { required: ['organizations'], properties: { organizations: { array: obj({ url: 'scalar', repositories: { array: 'scalar' } }, ['url']) } } },
        }),
        agentProfile: obj(
          {
            resourcePredictions: 'any', // "Defines pool buffer/stand-by agents" (free-form: timeZone, daysData)
            resourcePredictionsProfile: obj({}, [], {
              Manual: { required: [], properties: {} },
              Automatic: { required: [], properties: { predictionPreference: { enum: ['Balanced', 'MostCostEffective', 'MoreCostEffective', 'MorePerformance', 'BestPerformance'] } } },
            }),
          },
          [],
          { Stateless: { required: [], properties: {} }, Stateful: { required: [], properties: { maxAgentLifetime: 'scalar', gracePeriodTimeSpan: 'scalar' } } },
        ),
        fabricProfile: obj({}, [], {
          Vmss: {
            required: ['sku', 'images'],
            properties: {
              sku: obj({ name: 'scalar' }, ['name']),
              images: { array: obj({ resourceId: 'scalar', wellKnownImageName: 'scalar', aliases: { array: 'scalar' }, buffer: 'scalar', ephemeralType: { enum: ['Automatic', 'CacheDisk', 'ResourceDisk'] } }) },
              osProfile: obj({ secretsManagementSettings: 'any', logonType: { enum: ['Service', 'Interactive'] } }),
              storageProfile: obj({ osDiskStorageAccountType: { enum: ['Standard', 'Premium', 'StandardSSD'] }, dataDisks: { array: 'any' } }),
              networkProfile: obj({ subnetId: 'scalar' }, ['subnetId']),
            },
          },
        }),
      },
      ['maximumConcurrency', 'organizationProfile', 'agentProfile', 'fabricProfile', 'devCenterProjectResourceId'],
    ),
  },
  ['properties'],
);

const isExpression = (v: Json | undefined) => typeof v === 'string' && /^\$\{[\s\S]*\}$/.test(v);

/** Problems of a body (as hcl2json renders it: expressions are "${...}" strings) against a shape. */
export function checkShape(value: Json | undefined, shape: PropShape, where: string): string[] {
  if (shape === 'any') return [];
  if (shape === 'scalar') return isObject(value) || Array.isArray(value) ? [`${where}: a single value in the API, not ${Array.isArray(value) ? 'a list' : 'an object'}`] : [];
  if ('enum' in shape) {
    if (isExpression(value)) return [];
    return typeof value === 'string' && shape.enum.includes(value) ? [] : [`${where}: ${JSON.stringify(value)} is not one of ${shape.enum.join(', ')}`];
  }
  if ('array' in shape) {
    if (isExpression(value)) return [];
    if (!Array.isArray(value)) return [`${where}: a list in the API`];
    return value.flatMap((item, i) => checkShape(item, shape.array, `${where}[${i}]`));
  }
  if (!isObject(value)) return [`${where}: an object in the API`];
  const properties = { ...shape.properties };
  const required = [...shape.required];
  const problems: string[] = [];
  if (shape.kinds) {
    const kind = value.kind;
    const variant = typeof kind === 'string' ? shape.kinds[kind] : undefined;
    if (!variant) return [`${where}: kind ${JSON.stringify(kind)} is not one of ${Object.keys(shape.kinds).join(', ')}`];
    Object.assign(properties, variant.properties, { kind: 'scalar' });
    required.push(...variant.required);
  }
  for (const [key, v] of Object.entries(value)) {
    const p = properties[key];
    if (p === undefined) problems.push(`${where}: "${key}" is not a property of this object in 2025-01-21`);
    else problems.push(...checkShape(v, p, `${where}.${key}`));
  }
  for (const key of required) if (!(key in value)) problems.push(`${where}: required property "${key}" is missing`);
  return problems;
}

describe('the Managed DevOps Pool body against Microsoft.DevOpsInfrastructure/pools 2025-01-21', () => {
  const pool = async () => resourcesOf(await load()).find((r) => r.type === 'azapi_resource' && r.name === 'managed_pool')!;
  const body = async () => (await pool()).body.body as JsonObject;
  const props = async () => (await body()).properties as JsonObject;

  it('catches an unknown property, a missing required one, an unknown kind and a value outside an enum', () => {
    const good = { properties: { maximumConcurrency: 1, devCenterProjectResourceId: 'x', organizationProfile: { kind: 'AzureDevOps', organizations: [{ url: 'u' }] }, agentProfile: { kind: 'Stateless' }, fabricProfile: { kind: 'Vmss', sku: { name: 's' }, images: [{ wellKnownImageName: 'ubuntu-24.04' }] } } };
    expect(checkShape(good, POOL_2025_01_21, 'body')).toEqual([]);
    const bad = structuredClone(good) as unknown as { properties: Record<string, JsonObject & Record<string, Json>> };
    bad.properties.fabricProfile = { kind: 'Vmss', sku: { name: 's' }, image: [] } as JsonObject;
    bad.properties.agentProfile = { kind: 'Stateles' };
    (bad.properties.organizationProfile as JsonObject).permissionProfile = { kind: 'Everyone' };
    expect(checkShape(bad as unknown as Json, POOL_2025_01_21, 'body')).toEqual([
      'body.properties.organizationProfile.permissionProfile.kind: "Everyone" is not one of Inherit, CreatorOnly, SpecificAccounts',
      'body.properties.agentProfile: kind "Stateles" is not one of Stateless, Stateful',
      'body.properties.fabricProfile: "image" is not a property of this object in 2025-01-21',
      'body.properties.fabricProfile: required property "images" is missing',
    ]);
  });

  it('uses the stable 2025-01-21 API, in the devops resource group, and only documented properties', async () => {
    const r = await pool();
    expect(r.body.type).toBe('Microsoft.DevOpsInfrastructure/pools@2025-01-21');
    expect(r.body.parent_id).toBe('${azurerm_resource_group.devops.id}');
    expect(r.body.name).toBe('${local.names.managed_pool}');
    expect(checkShape(r.body.body, POOL_2025_01_21, 'azapi_resource.managed_pool.body')).toEqual([]);
  });

  it('organization profile: Azure DevOps, the organization URL and the project, all of maximumConcurrency as its parallelism', async () => {
    const org = (await props()).organizationProfile as JsonObject;
    expect(org.kind).toBe('AzureDevOps');
    expect(org.organizations).toEqual([{ url: '${trimsuffix(var.devops_url, "/")}', projects: ['${var.devops_project}'], parallelism: '${var.num_agents}' }]);
    expect(['Inherit', 'CreatorOnly']).toContain((org.permissionProfile as JsonObject).kind);
  });

  it('fabric profile: a scale set of the chosen SKU, one Azure Pipelines image, in the delegated subnet', async () => {
    expect((await props()).fabricProfile).toEqual({
      kind: 'Vmss',
      sku: { name: '${var.managed_pool_vm_size}' },
      images: [{ wellKnownImageName: '${var.managed_pool_image}' }],
      networkProfile: { subnetId: '${azurerm_subnet.managed_pool[0].id}' },
    });
  });

  // learn.microsoft.com/azure/devops/managed-devops-pools/configure-scaling: "Omit the
  // ResourcePredictionsProfile section to disable standby agents" (standby agent mode Off, the default).
  it('agent profile: stateless, with zero standby agents (no resourcePredictionsProfile, no resourcePredictions)', async () => {
    expect((await props()).agentProfile).toEqual({ kind: 'Stateless' });
  });

  it('maximumConcurrency is num_agents; the pool belongs to the Dev Center project, which belongs to the Dev Center', async () => {
    const p = await props();
    expect(p.maximumConcurrency).toBe('${var.num_agents}');
    expect(p.devCenterProjectResourceId).toBe('${azapi_resource.dev_center_project[0].id}');
    const all = resourcesOf(await load());
    const devCenter = all.find((r) => r.type === 'azapi_resource' && r.name === 'dev_center')!.body;
    const project = all.find((r) => r.type === 'azapi_resource' && r.name === 'dev_center_project')!.body;
    expect(devCenter.type).toBe('Microsoft.DevCenter/devcenters@2025-02-01');
    expect(project.type).toBe('Microsoft.DevCenter/projects@2025-02-01');
    expect((project.body as JsonObject).properties).toEqual({ devCenterId: '${azapi_resource.dev_center[0].id}' });
    for (const r of [devCenter, project]) expect(r.parent_id).toBe('${azurerm_resource_group.devops.id}');
  });
});
