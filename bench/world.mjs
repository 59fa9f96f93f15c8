// The fake world of the tests (test/helpers/world-core.ts), for benchmark scripts under plain node.
import './ts-hooks.mjs';

export async function loadWorld() {
  return import('../test/helpers/world-core.ts');
}
