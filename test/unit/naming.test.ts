import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { derivedNames, deriveName, namesFor, prefixBounds, prefixProblem } from '../../src/config/naming.js';

describe('prefix rule derived from the Azure naming rules', () => {
  it('is bounded by the tightest derived name', () => {
    const { min, max, tightest } = prefixBounds();
    expect(min).toBe(2); // acr{prefix} needs 5 characters
    expect(max).toBe(20); // sttf{prefix} is a storage account: 24 at most
    expect(tightest.template).toBe('sttf{prefix}');
  });

  it('every derived name is valid for the longest and shortest allowed prefix', () => {
    for (const p of ['ab', 'a'.repeat(20), '0123456789abcdefghij']) {
      expect(prefixProblem(p)).toBeNull();
      for (const d of derivedNames) {
        const name = deriveName(d.template, p);
        expect(name.length).toBeGreaterThanOrEqual(d.min);
        expect(name.length).toBeLessThanOrEqual(d.max);
        expect(name).toMatch(d.pattern);
      }
    }
  });

  it.each([
    ['a', /at least 2/],
    ['a'.repeat(21), /at most 20 .*sttf/],
    ['MyPrefix', /lowercase letters a-z and digits/],
    ['my-prefix', /lowercase letters a-z and digits/],
    ['my_prefix', /lowercase letters a-z and digits/],
    ['pré', /lowercase letters a-z and digits/],
    ['', /lowercase/],
  ])('refuses %j with the rule it breaks', (p, msg) => {
    expect(prefixProblem(p)).toMatch(msg);
  });
});

describe('the names the CLI derives are the terraform module\'s', () => {
  // terraform/locals.tf names every resource from var.prefix; the CLI needs some of them before
  // terraform has run (the Managed DevOps Pool's Azure DevOps pool, pushed into azdo-variables.yml
  // before the apply; the preflight's quota and name checks).
  const locals = readFileSync(new URL('../../terraform/locals.tf', import.meta.url), 'utf8');
  const moduleName = (key: string, prefix: string) => {
    const m = new RegExp(`^\\s*${key}\\s*=\\s*"([^"]+)"`, 'm').exec(locals);
    if (!m) throw new Error(`terraform/locals.tf has no names.${key}`);
    return m[1]!.replace(/\$\{var\.prefix\}/g, prefix);
  };

  it.each([
    ['ml_resource_group', 'mlResourceGroup'],
    ['devops_resource_group', 'devopsResourceGroup'],
    ['workspace', 'workspace'],
    ['aks', 'aks'],
    ['storage_account', 'storageAccount'],
    ['key_vault', 'keyVault'],
    ['container_registry', 'containerRegistry'],
    ['pipeline_identity', 'pipelineIdentity'],
    ['agent_vm', 'agentVm'],
    ['managed_pool', 'managedPool'],
  ] as const)('names.%s = namesFor().%s', (key, ours) => {
    expect(namesFor('mlops01')[ours]).toBe(moduleName(key, 'mlops01'));
  });

  it('the Managed DevOps Pool is a derived name, so the prefix rule covers it', () => {
    const d = derivedNames.find((x) => x.what === 'Managed DevOps Pool')!;
    expect(deriveName(d.template, 'mlops01')).toBe(moduleName('managed_pool', 'mlops01'));
  });
});
