// First thing `npm test` (and `npm run bench`) runs: the tests need Node >= 22.12, like the CLI
// (vitest crashes on older Node with an error that does not say so). Plain syntax, so old Node can
// parse it.
var MIN = [22, 12];
var parts = process.versions.node.split('.').map(Number);
if (parts[0] < MIN[0] || (parts[0] === MIN[0] && parts[1] < MIN[1])) {
  process.stderr.write(
    'Node >= ' + MIN.join('.') + ' is needed (this is v' + process.versions.node + ').\n' +
      'Install a current LTS from https://nodejs.org or with your version manager (e.g. `nvm install --lts`); ' +
      'on a machine without one, .ci/run provisions Node 24 from the npm registry.\n',
  );
  process.exit(1);
}
