// Lets benchmark scripts import the TypeScript test fakes directly (each file keeps its own
// import.meta.url, so the fakes find their bin/ and fixture folders): `.js` specifiers that point
// at a `.ts` file resolve to it, and `.ts` files are transpiled with esbuild on load.
import { registerHooks } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';

registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (e) {
      if (/^\.{1,2}\//.test(specifier) && specifier.endsWith('.js')) return next(`${specifier.slice(0, -3)}.ts`, context);
      throw e;
    }
  },
  load(url, context, next) {
    if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
    const source = readFileSync(fileURLToPath(url), 'utf8');
    const { code } = transformSync(source, { loader: 'ts', format: 'esm', target: 'node22', sourcefile: fileURLToPath(url), define: { __PACKAGE_VERSION__: '"bench"' } });
    return { format: 'module', source: code, shortCircuit: true };
  },
});
