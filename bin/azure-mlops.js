#!/usr/bin/env node
// Tiny launcher: refuse old Node with a clear message, turn on the module compile cache,
// then load the bundle. Everything else lives in dist/cli.js.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(
    `azure-mlops needs Node.js 22.12 or newer (the current LTS lines); this is Node.js ${process.versions.node}.\n` +
      'Install a current LTS from https://nodejs.org or with your version manager (e.g. `nvm install --lts`).\n',
  );
  process.exit(2);
}
try {
  // getBuiltinModule avoids the cost of an ESM import of node:module at start-up.
  process.getBuiltinModule('node:module').enableCompileCache?.();
} catch {
  // the compile cache is an optimisation only
}
// A bundled dependency (typed-rest-client, used by azure-devops-node-api) calls url.parse(), whose
// deprecation warning would otherwise be printed to every user. Only that one warning is dropped.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const code = typeof rest[0] === 'object' ? rest[0]?.code : rest[1];
  if (code === 'DEP0169') return;
  emitWarning(warning, ...rest);
};
await import('../dist/cli.js');
