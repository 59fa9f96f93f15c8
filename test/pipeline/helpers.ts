// Shared by the test/pipeline suites: paths, YAML loading, and the skip-or-fail rule for
// prerequisites that live outside the repository.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'vitest';
import { parse } from 'yaml';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const PIPELINES_DIR = join(ROOT, 'devops_pipelines');
/** The content of templates/ becomes the root of the user's repository. */
export const TEMPLATES_DIR = join(ROOT, 'templates');

export type Yaml = Record<string, any>;

export function loadYaml(path: string): Yaml {
  return parse(readFileSync(path, 'utf8')) as Yaml;
}

export function pipelineFiles(): string[] {
  return readdirSync(PIPELINES_DIR)
    .filter((name) => name.endsWith('.yml') || name.endsWith('.yaml'))
    .sort();
}

/** All files under dir (relative paths), skipping nothing: used to find stray caches too. */
export function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? listFiles(join(dir, entry.name), `${prefix}${entry.name}/`)
      : [`${prefix}${entry.name}`],
  );
}

/**
 * A prerequisite outside the repository is missing (problem is set): skip the test with that
 * reason, or fail it when AZURE_MLOPS_REQUIRE_ALL_TESTS is set (CI sets it).
 */
export function requireOrSkip(ctx: TestContext, problem: string | undefined): void {
  if (!problem) return;
  if (process.env.AZURE_MLOPS_REQUIRE_ALL_TESTS) {
    throw new Error(`${problem} (required: AZURE_MLOPS_REQUIRE_ALL_TESTS is set)`);
  }
  ctx.skip(problem);
}
