// Bundles src/ into dist/ with esbuild: one small entry (cli.js) that only loads commander,
// and lazily-loaded chunks for each command, so `--help` stays fast.
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
await rm(new URL('../dist', import.meta.url), { recursive: true, force: true });
/**
 * Start-up time: importing a Node builtin from ESM builds its module facade, which reads every
 * export — for `node:fs` and `node:process` that creates fs streams and process.stdin, and
 * `node:child_process` pulls in net and streams: ~10 ms before `--help` prints anything.
 * commander imports all three but only needs child_process for executable subcommands (unused
 * here). This plugin rewrites those imports in commander to plain lazy `require()` calls.
 */
const lazyBuiltinsInCommander = {
  name: 'lazy-builtins-in-commander',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/][\w]+\.js$/ }, async (args) => {
      const text = (await readFile(args.path, 'utf8'))
        .replace("import childProcess from 'node:child_process';", "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };")
        .replace("import process from 'node:process';", '')
        .replace(/^import (\w+) from '(node:[\w/]+)';$/gm, "const $1 = require('$2');")
        .replace(/^import \{([^}]+)\} from '(node:[\w/]+)';$/gm, "const {$1} = require('$2');");
      if (/^import .* from 'node:/m.test(text)) throw new Error(`commander changed: ${args.path} still imports a builtin (update scripts/build.mjs)`);
      return { contents: text, loader: 'js' };
    });
  },
};

await build({
  plugins: [lazyBuiltinsInCommander],
  entryPoints: { cli: 'src/cli.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  minify: true,
  legalComments: 'linked',
  sourcemap: false,
  chunkNames: 'chunks/[name]-[hash]',
  define: { __PACKAGE_VERSION__: JSON.stringify(pkg.version) },
  // Some bundled dependencies are CommonJS and call require(); give the ESM bundle one.
  banner: {
    // process.getBuiltinModule (Node >= 22.3) avoids building the ESM facade of node:module.
    // __dirname/__filename for bundled CommonJS code that reads them (azure-devops-node-api does).
    js: "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);",
  },
  logLevel: 'warning',
});
