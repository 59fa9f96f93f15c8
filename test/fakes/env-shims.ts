import { accessSync, constants, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Recording shims for the tools azure-mlops starts besides az and terraform (git, ssh-keygen): each
 * appends {tool, argv, env} to $CHILD_ENV_LOG and execs the real tool. The fake az and the
 * terraform shim append to the same log when CHILD_ENV_LOG is set. Tests read it to prove what no
 * child process ever receives (the PAT).
 */
const RECORDER = fileURLToPath(new URL('./bin-env/record-env', import.meta.url));

export interface ChildEnv {
  tool: string;
  argv: string[];
  env: Record<string, string>;
}

function which(tool: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    const f = join(dir, tool);
    try {
      accessSync(f, constants.X_OK);
      return f;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** Env changes that put the shims (for the tools installed here) first on PATH, logging to `<dir>/child-env.jsonl`. */
export function childEnvShims(dir: string, env: Record<string, string>): Record<string, string> {
  const bin = join(dir, 'bin-env');
  mkdirSync(bin, { recursive: true });
  const out: Record<string, string> = { CHILD_ENV_LOG: join(dir, 'child-env.jsonl') };
  for (const tool of ['git', 'ssh-keygen']) {
    const real = which(tool, env.PATH ?? '');
    if (!real) continue;
    if (!existsSync(join(bin, tool))) symlinkSync(RECORDER, join(bin, tool));
    out[`CHILD_ENV_REAL_${tool.replace(/-/g, '_')}`] = real;
  }
  out.PATH = `${bin}${delimiter}${env.PATH ?? ''}`;
  return out;
}

export function childEnvs(dir: string): ChildEnv[] {
  const f = join(dir, 'child-env.jsonl');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ChildEnv);
}
