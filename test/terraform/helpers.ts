// Shared helpers of the terraform tests: paths, running terraform offline, reading HCL as JSON.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const MODULE_DIR = join(REPO, 'terraform');
export const FIXTURE_DIR = join(REPO, 'test', 'fixtures', 'terraform');
export const SCHEMA_FILE = join(REPO, 'test', 'fixtures', 'azurerm-schema.json');

/** Set by CI: a tool that is missing makes its tests fail instead of being skipped. */
export const REQUIRE_ALL_TESTS = Boolean(process.env.AZURE_MLOPS_REQUIRE_ALL_TESTS);

export function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' }).status === 0;
}

export const HAS_TERRAFORM = hasCommand('terraform');

/** Explain a skipped test in the output (vitest only shows the title). */
export function skipNotice(tool: string, why: string): void {
  console.warn(`[test/terraform] ${tool} not found on PATH: skipping ${why}. Install it (Debian package '${tool}') or set AZURE_MLOPS_REQUIRE_ALL_TESTS=1 to make this a failure.`);
}

const created: string[] = [];

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `azure-mlops-${prefix}-`));
  created.push(dir);
  return dir;
}

/** Removes the directories tempDir() made (call from afterAll). */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * Environment for terraform in tests: no update check (checkpoint) and no other network use, no
 * prompts, an empty CLI configuration (no plugin mirrors or credentials of the machine), and none of
 * the machine's own TF_VAR_ or TF_CLI_ARGS values.
 */
export function terraformEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('TF_') || key.startsWith('FIXTURE_')) continue;
    env[key] = value;
  }
  Object.assign(env, {
    CHECKPOINT_DISABLE: '1',
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    TF_CLI_CONFIG_FILE: '/dev/null', // an empty CLI configuration
    NO_COLOR: '1',
  });
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function terraform(args: string[], cwd: string, env: Record<string, string | undefined> = {}, timeoutMs = 120_000): Run {
  if (!HAS_TERRAFORM) throw new Error('terraform is not on PATH: the terraform tests need terraform >= 1.5 (they never download providers)');
  const result: SpawnSyncReturns<string> = spawnSync('terraform', [...args], {
    cwd,
    env: terraformEnv(env),
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

// ----------------------------------------------------------------------------------------------
// HCL as JSON (hcl2json): blocks are arrays of objects, expressions are "${...}" strings.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface TfFile {
  path: string;
  json: JsonObject;
}

export function tfFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.tf'))
    .map((name) => join(dir, name))
    .sort();
}

/** Every directory of a module tree that holds .tf files (the root and its submodules). */
export function moduleDirs(root: string): string[] {
  const dirs: string[] = [];
  const walk = (dir: string) => {
    if (tfFilesIn(dir).length > 0) dirs.push(dir);
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (!name.startsWith('.') && statSync(path).isDirectory()) walk(path);
    }
  };
  walk(root);
  return dirs;
}

export async function parseModule(dir: string): Promise<TfFile[]> {
  return Promise.all(
    tfFilesIn(dir).map(async (path) => ({ path, json: (await parse(basename(path), readFileSync(path, 'utf8'))) as JsonObject })),
  );
}

/** All blocks of one top-level kind across the files of a module, e.g. kind 'variable' -> name -> body. */
export function blocksOf(files: TfFile[], kind: 'variable' | 'output' | 'module' | 'locals'): Map<string, JsonObject> {
  const out = new Map<string, JsonObject>();
  for (const { json } of files) {
    const section = json[kind];
    if (kind === 'locals') {
      for (const block of (section as JsonObject[] | undefined) ?? []) {
        for (const [name, value] of Object.entries(block)) out.set(name, { value } as JsonObject);
      }
      continue;
    }
    for (const [name, bodies] of Object.entries((section as Record<string, JsonObject[]> | undefined) ?? {})) {
      if (out.has(name)) throw new Error(`${kind} "${name}" is declared twice`);
      out.set(name, bodies[0]!);
    }
  }
  return out;
}

/** resource/data blocks: [{ mode, type, name, body, file }] */
export function resourcesOf(files: TfFile[]): { mode: 'resource' | 'data'; type: string; name: string; body: JsonObject; file: string }[] {
  const out: { mode: 'resource' | 'data'; type: string; name: string; body: JsonObject; file: string }[] = [];
  for (const { path, json } of files) {
    for (const mode of ['resource', 'data'] as const) {
      const section = (json[mode] as Record<string, Record<string, JsonObject[]>> | undefined) ?? {};
      for (const [type, byName] of Object.entries(section)) {
        for (const [name, bodies] of Object.entries(byName)) out.push({ mode, type, name, body: bodies[0]!, file: path });
      }
    }
  }
  return out;
}

/** Every string in a JSON tree (expressions live in strings as "${...}"). */
export function stringsIn(value: Json): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

/** The `${ ... }` interpolations of a string (an escaped `$${` is literal text, not one). */
export function interpolationsIn(s: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length - 1; i++) {
    if (s[i] !== '$' || s[i + 1] !== '{') continue;
    if (i > 0 && s[i - 1] === '$') continue;
    let depth = 0;
    let j = i + 1;
    for (; j < s.length; j++) {
      if (s[j] === '{') depth++;
      else if (s[j] === '}' && --depth === 0) break;
    }
    out.push(s.slice(i + 2, j));
    i = j;
  }
  return out;
}

/** Captures of `pattern` (group 1) inside the expressions of a JSON tree. */
export function referencesIn(value: Json, pattern: RegExp): string[] {
  const found = new Set<string>();
  for (const s of stringsIn(value)) {
    for (const expression of interpolationsIn(s)) {
      for (const m of expression.matchAll(pattern)) found.add(m[1]!);
    }
  }
  return [...found];
}
