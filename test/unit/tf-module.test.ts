import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareInterfaces, readModuleInterface, scanHcl } from '../../src/adapters/tf-module.js';
import { FIXTURE_MODULE } from '../fakes/fake-terraform.js';
import { REPO } from '../helpers/cli.js';
import { blocksOf, parseModule } from '../terraform/helpers.js';

const BUNDLED = join(REPO, 'terraform');

function scan(text: string) {
  const out = { variables: new Map<string, { hasDefault: boolean }>(), outputs: new Set<string>() };
  scanHcl(text, out);
  return { variables: Object.fromEntries([...out.variables].map(([k, v]) => [k, v.hasDefault])), outputs: [...out.outputs].sort() };
}

describe('the module interface scanner (--terraform-dir check)', () => {
  it.each([['bundled terraform/', BUNDLED], ['test fixture', FIXTURE_MODULE]])('reads the %s exactly as the real HCL parser does', async (_n, dir) => {
    const files = await parseModule(dir);
    const vars = blocksOf(files, 'variable');
    const mine = await readModuleInterface(dir);
    expect([...mine.variables.keys()].sort()).toEqual([...vars.keys()].sort());
    for (const [name, body] of vars) expect(mine.variables.get(name)?.hasDefault, name).toBe('default' in body);
    expect([...mine.outputs].sort()).toEqual([...blocksOf(files, 'output').keys()].sort());
  });

  it('the fixture module is a valid fork of the bundled one (the tests rely on it)', async () => {
    expect(compareInterfaces(await readModuleInterface(FIXTURE_MODULE), await readModuleInterface(BUNDLED))).toEqual({ missingVariables: [], missingOutputs: [], unsetRequired: [] });
  });

  it('is not fooled by comments, strings, templates, heredocs or nested blocks', () => {
    const r = scan(`
# variable "commented" {}
// output "commented2" {}
/* variable "in_block_comment" {
}
*/
variable "a" {
  type = string
  description = "has { braces } and \\"quotes\\" and \${var.x} and %{ if true }}{%{ endif }"
  validation {
    condition = length(var.a) > 0
    default   = "not the variable's default: nested block"
    error_message = "x"
  }
}
variable b {
  default = { nested = "}" }
}
variable "c" {
  description = <<-EOT
    variable "in_heredoc" {
      default = 1
    }
  EOT
  default     = null
}
output "o1" { value = "\${jsonencode({ a = "}" })}" }
resource "terraform_data" "x" {
  input = "variable \\"fake\\" {"
}
output o2 {
  value = 1
}
`);
    expect(r).toEqual({ variables: { a: false, b: true, c: true }, outputs: ['o1', 'o2'] });
  });

  it('compares: missing variables and outputs; extra variables without a default', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aml-tfmod-'));
    writeFileSync(join(dir, 'main.tf'), 'variable "prefix" {}\nvariable "mine" {}\nvariable "mine_ok" { default = 1 }\noutput "workspace_name" { value = 1 }\n');
    writeFileSync(join(dir, 'more.tf.json'), JSON.stringify({ variable: { location: { type: 'string' } }, output: { tenant_id: { value: 'x' } } }));
    const d = compareInterfaces(await readModuleInterface(dir), await readModuleInterface(BUNDLED));
    expect(d.missingVariables).not.toContain('prefix');
    expect(d.missingVariables).not.toContain('location');
    expect(d.missingVariables).toContain('num_agents');
    expect(d.missingOutputs).not.toContain('workspace_name');
    expect(d.missingOutputs).not.toContain('tenant_id');
    expect(d.missingOutputs).toContain('pipeline_identity_client_id');
    expect(d.unsetRequired).toEqual(['mine']);
  });
});
