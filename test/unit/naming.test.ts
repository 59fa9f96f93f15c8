import { describe, expect, it } from 'vitest';
import { derivedNames, deriveName, prefixBounds, prefixProblem } from '../../src/config/naming.js';

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
