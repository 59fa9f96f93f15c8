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
