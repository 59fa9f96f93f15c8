#!/usr/bin/env node
// Regenerates test/fixtures/azurerm-schema.json: the input schema (argument and block names, which
// are required, how blocks nest) of every azurerm resource and data source type that the bundled
// terraform/ module uses, plus the provider block, for the azurerm version the module pins.
//
// Why: `terraform init` cannot download providers in the test environment, so `terraform validate`
// cannot run. The schema of azurerm is published as generated CDKTF bindings in the npm package
// @cdktf/provider-azurerm (one folder per type under lib/: index.js maps every argument to its
// terraform name and says whether it is a block, index.d.ts says which arguments are required).
// This script installs that package into a temporary directory (never into the project), extracts
// what the tests need and writes a compact snapshot that is committed; test/terraform/schema.test.ts
// reads the snapshot. Run it again after a provider bump or after the module starts using a new type:
//
//   node scripts/azurerm-schema-snapshot.mjs                     # installs the pinned package version
//   node scripts/azurerm-schema-snapshot.mjs --package-dir DIR   # reuse an unpacked package (DIR/lib/...)
//   AZURERM_CDKTF_PACKAGE_VERSION=14.24.0 node scripts/azurerm-schema-snapshot.mjs
//
// @cdktf/provider-azurerm 14.23.1 is generated from hashicorp/azurerm 4.55.0.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseHcl } from '@cdktf/hcl2json';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGE = '@cdktf/provider-azurerm';
const PACKAGE_VERSION = process.env.AZURERM_CDKTF_PACKAGE_VERSION ?? '14.23.1';
const MODULE_DIR = join(REPO, 'terraform');
const OUT = join(REPO, 'test', 'fixtures', 'azurerm-schema.json');

function usage(message) {
  if (message) console.error(`error: ${message}`);
  console.error('usage: node scripts/azurerm-schema-snapshot.mjs [--package-dir DIR] [--out FILE] [--module-dir DIR]');
  process.exit(2);
}

function parseArgs(argv) {
  const options = { packageDir: undefined, out: OUT, moduleDir: MODULE_DIR };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => argv[++i] ?? usage(`${arg} needs a value`);
    if (arg === '--package-dir') options.packageDir = resolve(value());
    else if (arg === '--out') options.out = resolve(value());
    else if (arg === '--module-dir') options.moduleDir = resolve(value());
    else if (arg === '--help' || arg === '-h') usage();
    else usage(`unknown argument ${arg}`);
  }
  return options;
}

// ---------------------------------------------------------------------------------------------
// Which azurerm types does the module use?

function listTfFiles(dir) {
  const files = [];
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('.')) continue; // .terraform/
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) files.push(...listTfFiles(path));
    else if (entry.endsWith('.tf')) files.push(path);
  }
  return files.sort();
}

export async function usedTypes(moduleDir) {
  const resources = new Set();
  const dataSources = new Set();
  for (const file of listTfFiles(moduleDir)) {
    const json = await parseHcl(file, readFileSync(file, 'utf8'));
    for (const type of Object.keys(json.resource ?? {})) if (type.startsWith('azurerm_')) resources.add(type);
    for (const type of Object.keys(json.data ?? {})) if (type.startsWith('azurerm_')) dataSources.add(type);
  }
  return { resources: [...resources].sort(), dataSources: [...dataSources].sort() };
}

// ---------------------------------------------------------------------------------------------
// Reading the generated bindings.

function installPackage() {
  const dir = mkdtempSync(join(tmpdir(), 'azurerm-schema-'));
  console.error(`installing ${PACKAGE}@${PACKAGE_VERSION} into ${dir} (about 30 MB download) ...`);
  // --legacy-peer-deps: do not pull the cdktf/constructs peers, the files are only read as text.
  execFileSync(
    'npm',
    ['install', '--prefix', dir, '--no-save', '--no-package-lock', '--ignore-scripts', '--legacy-peer-deps',
      '--no-audit', '--no-fund', '--loglevel=error', `${PACKAGE}@${PACKAGE_VERSION}`],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return { root: join(dir, 'node_modules', ...PACKAGE.split('/')), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const lowerFirst = (s) => s.charAt(0).toLowerCase() + s.slice(1);
const upperFirst = (s) => s.charAt(0).toUpperCase() + s.slice(1);

// Body of the object literal that starts at `start` (index of its opening brace).
function objectLiteralAt(text, start) {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return text.slice(start + 1, i);
    } else if (c === '"' || c === "'" || c === '`') {
      // generated code has no braces inside strings of these literals, but skip strings anyway
      const end = text.indexOf(c, i + 1);
      i = end === -1 ? text.length : end;
    }
  }
  throw new Error('unbalanced object literal');
}

// `const attrs = { name: { value: ..., isBlock: ..., type: "...", storageClassType: "..." }, ... }`
const ENTRY = /(?:^|\n)\s*([A-Za-z_][A-Za-z0-9_]*): \{\s*value: ([\s\S]*?),\s*isBlock: (true|false),\s*type: "(\w+)",\s*storageClassType: "(\w+)",\s*\}/g;

function parseAttrs(body, receiver) {
  const entries = [];
  for (const m of body.matchAll(ENTRY)) {
    const [, tfName, valueExpr, isBlock, type] = m;
    // the camelCase property the entry reads: `struct.fooBar` or `this._fooBar`
    const prop = receiver === 'this'
      ? /this\._([A-Za-z0-9_$]+)/.exec(valueExpr)?.[1]
      : /struct\.([A-Za-z0-9_$]+)/.exec(valueExpr)?.[1];
    const nested = /(?<![.\w])([a-z][A-Za-z0-9]*)ToHclTerraform\b/.exec(valueExpr)?.[1];
    if (!prop) throw new Error(`cannot find the property read by ${tfName}: ${valueExpr}`);
    entries.push({ tfName, prop, isBlock: isBlock === 'true', type, nested });
  }
  return entries;
}

// readonly props of an interface in index.d.ts: name -> required
function interfaceProps(dts, name) {
  const start = dts.search(new RegExp(`export interface ${name}(?: extends [^{]+)? \\{`));
  if (start === -1) return undefined;
  const body = objectLiteralAt(dts, dts.indexOf('{', start));
  const props = new Map();
  for (const m of body.matchAll(/readonly ([A-Za-z0-9_$]+)(\??):/g)) props.set(m[1], m[2] !== '?');
  return props;
}

function structSchema(js, dts, fnPrefix, seen = new Set()) {
  const fnStart = js.indexOf(`function ${fnPrefix}ToHclTerraform(struct) {`);
  if (fnStart === -1) throw new Error(`no ${fnPrefix}ToHclTerraform`);
  const attrsStart = js.indexOf('const attrs = {', fnStart);
  const body = objectLiteralAt(js, js.indexOf('{', attrsStart));
  const props = interfaceProps(dts, upperFirst(fnPrefix)) ?? new Map();
  if (seen.has(fnPrefix)) return { attributes: {}, blocks: {} };
  return buildSchema(js, dts, parseAttrs(body, 'struct'), props, new Set([...seen, fnPrefix]));
}

function buildSchema(js, dts, entries, props, seen) {
  const attributes = {};
  const blocks = {};
  for (const e of entries) {
    if (e.tfName === 'id' && !props.get(e.prop)) continue; // SDKv2 adds an optional `id` to every resource: never set it
    const required = props.get(e.prop) === true;
    if (e.isBlock) {
      const nested = e.nested ? structSchema(js, dts, e.nested, seen) : { attributes: {}, blocks: {} };
      blocks[e.tfName] = { required, nesting: e.type, ...nested };
    } else {
      // "attributes as blocks" (list of objects that are not blocks in the bindings) keep their
      // nested schema so that the test can accept the block syntax for them.
      const entry = required ? 'required' : 'optional';
      attributes[e.tfName] = e.nested ? { [entry]: true, ...structSchema(js, dts, e.nested, seen) } : entry;
    }
  }
  return { attributes: sortKeys(attributes), blocks: sortKeys(blocks) };
}

function sortKeys(obj) {
  return Object.fromEntries(Object.entries(obj).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function typeSchema(libDir, folder, expectedType, base) {
  const js = readFileSync(join(libDir, folder, 'index.js'), 'utf8');
  const dts = readFileSync(join(libDir, folder, 'index.d.ts'), 'utf8');
  const cls = new RegExp(`\\nclass (\\w+) extends cdktf\\.${base} \\{`).exec(js)?.[1];
  if (!cls) throw new Error(`${folder}: no class extending cdktf.${base}`);
  const declared = new RegExp(`${cls}\\.tfResourceType = "([^"]+)"`).exec(js)?.[1];
  if (declared !== expectedType) throw new Error(`${folder}: declares ${declared}, expected ${expectedType}`);
  const synth = js.indexOf('synthesizeHclAttributes() {', js.indexOf(`\nclass ${cls} extends`));
  const body = objectLiteralAt(js, js.indexOf('{', js.indexOf('const attrs = {', synth)));
  const props = interfaceProps(dts, `${cls}Config`);
  if (!props) throw new Error(`${folder}: no ${cls}Config interface`);
  return buildSchema(js, dts, parseAttrs(body, 'this'), props, new Set());
}

const folderOf = (type, kind) => (kind === 'data' ? `data-azurerm-${type.slice('azurerm_'.length)}` : type.slice('azurerm_'.length)).replaceAll('_', '-');

export async function snapshot({ packageRoot, moduleDir }) {
  const libDir = join(packageRoot, 'lib');
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'));
  const providerJs = readFileSync(join(libDir, 'provider', 'index.js'), 'utf8');
  const providerVersion = /providerVersion: '([^']+)'/.exec(providerJs)?.[1];
  const used = await usedTypes(moduleDir);
  const out = {
    comment: 'Generated by scripts/azurerm-schema-snapshot.mjs; do not edit. Regenerate after a provider bump or when terraform/ uses a new azurerm type.',
    provider: 'hashicorp/azurerm',
    provider_version: providerVersion,
    source_package: `${pkg.name}@${pkg.version}`,
    provider_config: typeSchema(libDir, 'provider', 'azurerm', 'TerraformProvider'),
    resources: {},
    data_sources: {},
    unknown_resources: [],
    unknown_data_sources: [],
  };
  for (const [kind, list, key, unknown, base] of [
    ['resource', used.resources, 'resources', 'unknown_resources', 'TerraformResource'],
    ['data', used.dataSources, 'data_sources', 'unknown_data_sources', 'TerraformDataSource'],
  ]) {
    for (const type of list) {
      const folder = folderOf(type, kind);
      if (!existsSync(join(libDir, folder, 'index.js'))) {
        out[unknown].push(type);
        continue;
      }
      out[key][type] = typeSchema(libDir, folder, type, base);
    }
  }
  return out;
}

// One type per line: small diffs when a type is added or the provider is bumped.
export function formatSnapshot(snap) {
  const lines = ['{'];
  const scalarKeys = ['comment', 'provider', 'provider_version', 'source_package'];
  for (const k of scalarKeys) lines.push(`  ${JSON.stringify(k)}: ${JSON.stringify(snap[k])},`);
  lines.push(`  "provider_config": ${JSON.stringify(snap.provider_config)},`);
  for (const k of ['resources', 'data_sources']) {
    const entries = Object.entries(snap[k]);
    lines.push(`  ${JSON.stringify(k)}: {`);
    entries.forEach(([type, schema], i) => lines.push(`    ${JSON.stringify(type)}: ${JSON.stringify(schema)}${i < entries.length - 1 ? ',' : ''}`));
    lines.push('  },');
  }
  lines.push(`  "unknown_resources": ${JSON.stringify(snap.unknown_resources)},`);
  lines.push(`  "unknown_data_sources": ${JSON.stringify(snap.unknown_data_sources)}`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const installed = options.packageDir ? undefined : installPackage();
  const packageRoot = options.packageDir ?? installed.root;
  try {
    const snap = await snapshot({ packageRoot, moduleDir: options.moduleDir });
    writeFileSync(options.out, formatSnapshot(snap));
    const n = Object.keys(snap.resources).length + Object.keys(snap.data_sources).length;
    console.error(`wrote ${relative(process.cwd(), options.out)}: azurerm ${snap.provider_version} (${snap.source_package}), ${n} types`);
    const unknown = [...snap.unknown_resources, ...snap.unknown_data_sources];
    if (unknown.length) console.error(`warning: not in azurerm ${snap.provider_version}: ${unknown.join(', ')}`);
  } finally {
    installed?.cleanup();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
