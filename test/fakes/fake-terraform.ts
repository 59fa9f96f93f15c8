import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TF_SHIM_BIN = fileURLToPath(new URL('./bin-tf', import.meta.url));
export const FIXTURE_MODULE = fileURLToPath(new URL('../fixtures/terraform', import.meta.url));

/** The real terraform binary (never the shim). Throws when terraform is missing: CI must fail. */
export function realTerraform(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const file = join(dir, 'terraform');
    if (dir === TF_SHIM_BIN) continue;
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // keep looking
    }
  }
  throw new Error('terraform is not installed: the tests need the real binary (CI installs it)');
}

export interface TfCall {
  n: number;
  argv: string[];
  patInEnv: boolean;
  cwd: string;
}

/** Env that puts the recording shim first on PATH in front of the real terraform. */
export function terraformShimEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { TF_SHIM_REAL: realTerraform(), TF_SHIM_LOG: join(dir, 'tf-calls.jsonl'), ...extra };
}

export function tfCalls(dir: string): TfCall[] {
  const f = join(dir, 'tf-calls.jsonl');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as TfCall);
}
