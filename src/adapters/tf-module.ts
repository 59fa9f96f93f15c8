import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The interface of a terraform root module — its variables (and whether each has a default) and
 * its outputs — read without terraform and without an HCL library: a small scanner over the
 * module's own `*.tf` files (and `*.tf.json`), enough to compare a `--terraform-dir` fork with the
 * bundled module before anything is copied or run. (@cdktf/hcl2json, which the tests use, is a
 * WebAssembly build of the HCL parser: too big for the CLI bundle.)
 *
 * The scanner knows what can hide a brace or a keyword: strings (with `${…}` / `%{…}` templates,
 * which may nest strings), heredocs (`<<EOF`, `<<-EOF`), and `#`, `//` and `/* … *\/` comments. It
 * reads top-level `variable "<name>" {` / `output "<name>" {` blocks (labels quoted or bare) and,
 * inside a variable block, a top-level `default =` attribute. It does not evaluate anything.
 */
export interface ModuleInterface {
  variables: Map<string, { hasDefault: boolean }>;
  outputs: Set<string>;
  files: string[];
}

export async function readModuleInterface(dir: string): Promise<ModuleInterface> {
  const out: ModuleInterface = { variables: new Map(), outputs: new Set(), files: [] };
  let names: string[];
  try {
    if (!(await stat(dir)).isDirectory()) return out;
    names = (await readdir(dir)).sort();
  } catch {
    return out;
  }
  for (const name of names) {
    if (!name.endsWith('.tf') && !name.endsWith('.tf.json')) continue;
    const text = await readFile(join(dir, name), 'utf8');
    out.files.push(name);
    if (name.endsWith('.tf.json')) scanJson(text, out);
    else scanHcl(text, out);
  }
  return out;
}

/** JSON syntax: `{"variable": {"x": {"default": …}}, "output": {"y": {…}}}` (objects or arrays of them). */
function scanJson(text: string, out: ModuleInterface): void {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return;
  }
  const blocks = (v: unknown): Array<Record<string, unknown>> => (Array.isArray(v) ? v : v && typeof v === 'object' ? [v] : []).filter((x) => x && typeof x === 'object') as Array<Record<string, unknown>>;
  for (const root of blocks(doc)) {
    for (const group of blocks(root.variable)) for (const [k, body] of Object.entries(group)) out.variables.set(k, { hasDefault: blocks(body).some((b) => 'default' in b) });
    for (const group of blocks(root.output)) for (const k of Object.keys(group)) out.outputs.add(k);
  }
}

/** Native syntax: the tokens that matter at block depth 0 and 1, with everything opaque skipped. */
export function scanHcl(text: string, out: Pick<ModuleInterface, 'variables' | 'outputs'>): void {
  let i = 0;
  let depth = 0;
  /** The block being read at depth 1: its kind and name. */
  let block: { kind: 'variable' | 'output' | 'other'; name?: string } | undefined;
  /** Words seen at depth 0 since the last block or newline (`variable "x"` before its `{`). */
  let header: string[] = [];
  /** Words seen on the current line at depth 1 (for `default =`). */
  let line: string[] = [];
  const n = text.length;

  const skipString = (): void => {
    // at the opening quote
    i++;
    while (i < n) {
      const c = text[i];
      if (c === '\\') i += 2;
      else if (c === '"') {
        i++;
        return;
      } else if ((c === '$' || c === '%') && text[i + 1] === '{') {
        i += 2;
        skipTemplate();
      } else i++;
    }
  };
  const skipTemplate = (): void => {
    // inside `${` … `}`: expressions, which may hold strings and braces
    let d = 1;
    while (i < n && d > 0) {
      const c = text[i];
      if (c === '"') skipString();
      else {
        if (c === '{') d++;
        else if (c === '}') d--;
        i++;
      }
    }
  };
  const word = (): string => {
    const m = /^[A-Za-z_][\w-]*/.exec(text.slice(i, i + 200));
    return m ? m[0] : '';
  };

  while (i < n) {
    const c = text[i]!;
    if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (c === '<' && text[i + 1] === '<') {
      const m = /^<<-?([A-Za-z_][\w-]*)[ \t]*\r?\n/.exec(text.slice(i, i + 300));
      if (m) {
        const end = new RegExp(`^[ \\t]*${m[1]}[ \\t]*$`, 'm');
        const rest = text.slice(i + m[0].length);
        const e = end.exec(rest);
        i = e ? i + m[0].length + e.index + e[0].length : n;
        continue;
      }
    }
    if (c === '"') {
      const start = i;
      skipString();
      if (depth === 0) header.push(text.slice(start, i));
      else if (depth === 1) line.push('"');
      continue;
    }
    if (c === '{') {
      if (depth === 0) {
        const [kind, label] = header;
        const name = label === undefined ? undefined : label.startsWith('"') ? unquote(label) : label;
        block = kind === 'variable' || kind === 'output' ? { kind, ...(name ? { name } : {}) } : { kind: 'other' };
        if (block.kind === 'variable' && block.name && header.length === 2) out.variables.set(block.name, { hasDefault: out.variables.get(block.name)?.hasDefault ?? false });
        if (block.kind === 'output' && block.name && header.length === 2) out.outputs.add(block.name);
        header = [];
      }
      depth++;
      line = [];
      i++;
      continue;
    }
    if (c === '}') {
      depth = Math.max(0, depth - 1);
      if (depth === 0) block = undefined;
      line = [];
      i++;
      continue;
    }
    if (c === '\n') {
      line = [];
      i++;
      continue;
    }
    if (c === '=' && depth === 1 && text[i + 1] !== '=' && line.length === 1 && line[0] === 'default' && block?.kind === 'variable' && block.name) {
      out.variables.set(block.name, { hasDefault: true });
    }
    const w = /[A-Za-z_]/.test(c) ? word() : '';
    if (w) {
      if (depth === 0) header.push(w);
      else if (depth === 1) line.push(w);
      i += w.length;
      continue;
    }
    if (depth === 1 && !/\s/.test(c) && c !== '=') line.push(c);
    i++;
  }
}

function unquote(label: string): string {
  try {
    return JSON.parse(label) as string;
  } catch {
    return label.slice(1, -1);
  }
}

/**
 * What a fork lacks compared with the bundled module: variables and outputs azure-mlops sets and
 * reads, and the variables it would not set (declared without a default: terraform would stop at
 * plan, after the earlier steps changed things).
 */
export function compareInterfaces(fork: ModuleInterface, bundled: ModuleInterface): { missingVariables: string[]; missingOutputs: string[]; unsetRequired: string[] } {
  return {
    missingVariables: [...bundled.variables.keys()].filter((v) => !fork.variables.has(v)).sort(),
    missingOutputs: [...bundled.outputs].filter((o) => !fork.outputs.has(o)).sort(),
    unsetRequired: [...fork.variables.entries()].filter(([v, d]) => !bundled.variables.has(v) && !d.hasDefault).map(([v]) => v).sort(),
  };
}
