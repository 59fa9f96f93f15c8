// The agent VM's two scripts (terraform/modules/agent-bootstrap), rendered by terraform itself with test
// values, checked with bash -n and shellcheck, then run against stand-ins of the system commands
// (apt-get, curl, az, runuser, tar, systemctl, ... and the agent's own config.sh) in a scratch root:
// - the bootstrap (CustomScript extension) installs N agents; it registers them only when devops_pat
//   is set (standalone terraform use);
// - /opt/azagent/register-agents.sh, which the bootstrap writes, registers and repairs them with the
//   PAT from its environment (AZP_TOKEN): what the azure-mlops CLI runs through a Run Command.
// Both must keep the token where it must be, and be safe to run again. The token is a PAT or a Microsoft
// Entra access token (a JWT): the register script treats both the same way (see its header).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasCommand, MODULE_DIR, REQUIRE_ALL_TESTS, skipNotice, removeTempDirs, tempDir, terraform, terraformEnv } from './helpers.js';

const PAT = 'bootstrapPatCanary0123456789abcdefghijklmnopqrstuvwxyzABCDEF';
/** Every form a token could leak in: as is, base64 (alone or as a Basic password), its sha256. */
const tokenForms = (token: string) => [token, Buffer.from(token).toString('base64'), Buffer.from(`:${token}`).toString('base64'), createHash('sha256').update(token).digest('hex')];
const PAT_FORMS = tokenForms(PAT);
// Shaped like a Microsoft Entra access token for Azure DevOps (three base64url segments, the first
// starting with eyJ; `az account get-access-token --resource 499b84ac-...` returns such a token, about
// 1.5 to 2.5 KB long), with '-' and '_' in it as base64url has. Not a real token: the signature is filler.
const b64url = (text: string) => Buffer.from(text).toString('base64url');
const ENTRA_TOKEN = [
  b64url('{"typ":"JWT","alg":"RS256","kid":"entraCanaryKey"}'),
  b64url(JSON.stringify({ aud: '499b84ac-1321-427f-aa17-267ca6975798', iss: 'https://sts.windows.net/00000000-0000-4000-8000-000000000000/', scp: 'user_impersonation', upn: 'entra.canary@example.com', filler: 'entraTokenCanary'.repeat(60) })),
  `${'entra-Signature_Canary'.repeat(15)}A-_`,
].join('.');
const ORG = 'https://dev.azure.com/contoso';
const PREFIX = 'vm-test-agents';
const VERSION = '4.275.0';
const NEWER = '4.280.1';
const REGISTER_PATH = '/opt/azagent/register-agents.sh';

interface Rendered {
  bootstrap: string;
  register: string;
}

const rendered = new Map<string, Rendered>();

/** Renders both scripts with terraform: a throwaway root module that calls the real one. */
function render(numAgents: number, pat: string | null = null, pool = 'pool001'): Rendered {
  const key = JSON.stringify([numAgents, pat, pool]);
  const cached = rendered.get(key);
  if (cached) return cached;
  const dir = tempDir('render');
  writeFileSync(
    join(dir, 'main.tf'),
    `module "bootstrap" {
  source            = ${JSON.stringify(join(MODULE_DIR, 'modules', 'agent-bootstrap'))}
  devops_url        = "${ORG}/"
${pat === null ? '' : `  devops_pat        = "${pat}"\n`}  devops_pool       = "${pool}"
  num_agents        = ${numAgents}
  agent_name_prefix = "${PREFIX}"
  agent_version     = "${VERSION}"
}
`,
  );
  const init = terraform(['init', '-input=false', '-no-color'], dir);
  expect(init.status, init.stderr).toBe(0);
  const console_ = spawnSync('terraform', ['console', '-no-color'], {
    cwd: dir,
    input: 'base64encode(jsonencode({ bootstrap = nonsensitive(module.bootstrap.script), register = module.bootstrap.register_script, path = module.bootstrap.register_script_path }))\n',
    encoding: 'utf8',
    env: terraformEnv(),
  });
  expect(console_.status, console_.stderr).toBe(0);
  const encoded = console_.stdout.trim().replace(/^"|"$/g, '');
  const out = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as Rendered & { path: string };
  expect(out.path).toBe(REGISTER_PATH);
  const result = { bootstrap: out.bootstrap, register: out.register };
  rendered.set(key, result);
  return result;
}

/** Writes the rendered bootstrap to a file of its own (it deletes itself when done). */
function scriptFile(script: string): string {
  const file = join(tempDir('script'), 'script.sh');
  writeFileSync(file, script, { mode: 0o700 });
  return file;
}

// Every stand-in appends its name and arguments to $STUB_LOG (NUL-separated, one call per line), and
// notes in $STUB_STATE/secret-env when a secret-carrying variable is in its environment.
const STUB = (body: string) =>
  [
    '#!/bin/bash',
    'set -eu',
    'printf \'%s\\0\' "$(basename "$0")" "$@" >>"$STUB_LOG"; printf \'\\n\' >>"$STUB_LOG"',
    'for v in AZP_TOKEN VSTS_AGENT_INPUT_TOKEN DEVOPS_PAT DEVOPS_PAT_BASE64; do [ -z "${!v:-}" ] || printf \'%s %s\\n\' "$(basename "$0")" "$v" >>"$STUB_STATE/secret-env"; done',
    body,
    '',
  ].join('\n');

// The agent package: config.sh writes .agent (with the UTF-8 BOM the agent writes) from its arguments.
const CONFIG_SH = String.raw`#!/bin/bash
set -eu
printf '%s\0' config.sh "$@" >>"$STUB_LOG"; printf '\n' >>"$STUB_LOG"
printf '%s\t%s\t%s\t%s\n' "$PWD" "${'${STUB_RUNAS:-root}'}" "$1" "${'${VSTS_AGENT_INPUT_TOKEN:-}'}" >>"$STUB_STATE/config-calls"
if [ "$1" = remove ]; then
  if [ -n "${'${STUB_REMOVE_FAIL:-}'}" ]; then echo "stub: cannot remove" >&2; exit 1; fi
  rm -f .agent .credentials; exit 0
fi
if [ -n "${'${STUB_BAD_PAT:-}'}" ]; then echo "VS30063: You are not authorized to access https://dev.azure.com." >&2; exit 1; fi
agent=""; pool=""; url=""
while [ $# -gt 0 ]; do case "$1" in --agent) agent="$2"; shift ;; --pool) pool="$2"; shift ;; --url) url="$2"; shift ;; esac; shift; done
printf '\xef\xbb\xbf{"agentId": 7, "agentName": "%s", "poolName": "%s", "serverUrl": "%s/", "workFolder": "_work"}' "$agent" "$pool" "$url" >.agent
echo '{"scheme": "OAuth"}' >.credentials
`;

// The az CLI's extension commands, as azure-cli behaves:
// - the user's extension directory is $AZURE_EXTENSION_DIR, else $AZURE_CONFIG_DIR/cliextensions, and
//   AZURE_CONFIG_DIR defaults to ~/.azure; the system directory is the CLI's own
//   site-packages/azure-cli-extensions, here $STUB_AZ_SYS_DIR (src/azure-cli-core/azure/cli/core/_config.py
//   GLOBAL_CONFIG_DIR; src/azure-cli-core/azure/cli/core/extension/__init__.py EXTENSIONS_DIR,
//   EXTENSIONS_SYS_DIR);
// - an extension is installed when its directory holds a *.*-info directory; lookups and `list` see the
//   user's copy first, then the system's, one entry per name (WheelExtension.get_all, get_extension);
// - `extension remove` takes --name only (src/azure-cli/azure/cli/command_modules/extension/custom.py:
//   remove_extension_cmd(extension_name)), so --system is an unrecognized argument (exit 2); it deletes
//   the first copy found, and fails when there is none or the directory cannot be deleted (exit 1;
//   core/extension/operations.py remove_extension, rmtree_with_retry);
// - anything else (extension add included) is not modelled: the scripts must not call it.
// Each call's AZURE_CONFIG_DIR goes to $STUB_STATE/az-config-dirs.
const D = '${';
const AZ = String.raw`printf '%s\n' "${D}AZURE_CONFIG_DIR:-}" >>"$STUB_STATE/az-config-dirs"
user_dir="${D}AZURE_EXTENSION_DIR:-${D}AZURE_CONFIG_DIR:-$HOME/.azure}/cliextensions}"
installed() { for info in "$1"/*.*-info; do [ -d "$info" ] && return 0; done; return 1; }
find_ext() { for dir in "$user_dir/$1" "$STUB_AZ_SYS_DIR/$1"; do if installed "$dir"; then printf '%s\n' "$dir"; return 0; fi; done; return 1; }
args=()
for a in "$@"; do [ "$a" = --only-show-errors ] || args+=("$a"); done
set -- "${D}args[@]}"
case "$1 $2" in
  "extension list")
    if [ $# -ne 6 ] || [ "$3" != --query ] || [ "$5 $6" != "--output tsv" ]; then
      echo "az stand-in: only az extension list --query \"[?name=='NAME'].path\" --output tsv is modelled" >&2; exit 64
    fi
    case "$4" in
      "[?name=='"*"'].path") name="${D}4#"[?name=='"}"; name="${D}name%"'].path"}" ;;
      *) echo "az stand-in: query $4 is not modelled" >&2; exit 64 ;;
    esac
    find_ext "$name" || true ;;
  "extension remove")
    if [ $# -ne 4 ] || [ "$3" != --name ]; then echo "ERROR: unrecognized arguments: ${D}*:3}" >&2; exit 2; fi
    dir="$(find_ext "$4")" || { echo "ERROR: The extension $4 is not installed." >&2; exit 1; }
    # STUB_AZ_REMOVE_FAIL: the directory cannot be deleted (the tests may run as root, who can delete anything)
    if [ -n "${D}STUB_AZ_REMOVE_FAIL:-}" ]; then echo "ERROR: [Errno 13] Permission denied: '$dir'" >&2; exit 1; fi
    rm -rf -- "$dir" ;;
  *) echo "az stand-in: az $* is not modelled" >&2; exit 64 ;;
esac`;

const STUBS: Record<string, string> = {
  'apt-get': '',
  az: AZ,
  chown: '',
  dpkg: 'echo amd64',
  gpg: 'cat >/dev/null; while [ $# -gt 0 ]; do if [ "$1" = -o ]; then echo key >"$2"; fi; shift; done',
  getent: '[ -e "$STUB_STATE/user-$2" ] || exit 2; echo "$2:x:999:999::/home/$2:/bin/bash"',
  useradd: 'touch "$STUB_STATE/user-${!#}"',
  runuser: '[ "$1" = -u ] && [ "$3" = -- ] || { echo "runuser stub: expected -u USER -- CMD" >&2; exit 64; }; export STUB_RUNAS="$2"; shift 3; exec "$@"',
  systemctl: `unit="\${!#}"
case "$1" in
  daemon-reload) ;;
  is-enabled) [ -e "$STUB_STATE/enabled-$unit" ] ;;
  is-active) [ -e "$STUB_STATE/active-$unit" ] ;;
  enable) touch "$STUB_STATE/enabled-$unit" ;;
  disable) rm -f "$STUB_STATE/enabled-$unit" ;;
  start) touch "$STUB_STATE/active-$unit" ;;
  stop) rm -f "$STUB_STATE/active-$unit" ;;
  *) echo "systemctl stub: unexpected $1" >&2; exit 64 ;;
esac`,
  tar: `dir=""; file=""; while [ $# -gt 0 ]; do case "$1" in -C) dir="$2"; shift ;; -xzf) file="$2"; shift ;; esac; shift; done
[ -s "$file" ] || { echo "tar stub: no package $file" >&2; exit 2; }
mkdir -p "$dir/bin"
cat >"$dir/config.sh" <<'EOF'
${CONFIG_SH}EOF
printf '#!/bin/bash\\nexit 0\\n' >"$dir/bin/installdependencies.sh"
printf '#!/bin/bash\\n./bin/AgentService.js\\n' >"$dir/bin/runsvc.sh"
printf '%s\\n' "$(basename "$file")" >"$dir/.stub-unpacked-from"
chmod +x "$dir/config.sh" "$dir/bin/installdependencies.sh" "$dir/bin/runsvc.sh"`,
  curl: `out=""; header=""; url=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out="$2"; shift ;;
    -H) case "$2" in @*) header="\${2#@}" ;; esac; shift ;;
    --max-time | --retry) shift ;;
    http*) url="$1" ;;
  esac
  shift
done
case "$url" in
  */_apis/distributedtask/packages/agent*)
    [ -n "$header" ] || { echo "curl stub: no -H @file" >&2; exit 22; }
    stat -c '%a' "$header" >"$STUB_STATE/header-mode"
    cp "$header" "$STUB_STATE/header-seen"
    if [ -n "\${STUB_BAD_PAT:-}" ]; then echo '<html>Sign in</html>'; exit 0; fi
    if [ -n "\${STUB_LOOKUP_FAIL:-}" ]; then exit 22; fi
    latest="\${STUB_LATEST:-${VERSION}}"
    IFS=. read -r major minor patch <<<"$latest"
    echo "{\\"count\\":2,\\"value\\":[{\\"type\\":\\"agent\\",\\"platform\\":\\"linux-x64\\",\\"version\\":{\\"major\\":4,\\"minor\\":260,\\"patch\\":0}},{\\"type\\":\\"agent\\",\\"platform\\":\\"linux-x64\\",\\"version\\":{\\"major\\":$major,\\"minor\\":$minor,\\"patch\\":$patch}}]}" ;;
  https://packages.microsoft.com/keys/*) echo KEY ;;
  https://download.agent.dev.azure.com/*)
    if [ -n "\${STUB_DOWNLOAD_FAIL:-}" ]; then exit 22; fi
    echo tarball >"$out" ;;
  *) echo "curl stub: unexpected URL $url" >&2; exit 6 ;;
esac`,
};

interface Sandbox {
  base: string;
  root: string;
  state: string;
  log: string;
  tmp: string;
  /** The az CLI's system extension directory (site-packages/azure-cli-extensions on the VM). */
  azSys: string;
  env: NodeJS.ProcessEnv;
}

function sandbox(): Sandbox {
  const base = tempDir('bootstrap');
  const [bin, root, state, tmp, azSys] = ['bin', 'root', 'state', 'tmp', 'az-site-packages/azure-cli-extensions'].map((d) => join(base, d)) as [string, string, string, string, string];
  for (const d of [bin, join(root, 'etc'), state, tmp, azSys]) mkdirSync(d, { recursive: true });
  writeFileSync(join(root, 'etc', 'os-release'), 'NAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\n');
  for (const [name, body] of Object.entries(STUBS)) {
    writeFileSync(join(bin, name), STUB(body));
    chmodSync(join(bin, name), 0o755);
  }
  const log = join(state, 'calls');
  writeFileSync(log, '');
  const env: NodeJS.ProcessEnv = { PATH: `${bin}:${process.env.PATH}`, HOME: base, LANG: 'C.UTF-8', BOOTSTRAP_ROOT: root, TMPDIR: tmp, STUB_LOG: log, STUB_STATE: state, STUB_AZ_SYS_DIR: azSys };
  return { base, root, state, log, tmp, azSys, env };
}

const agentBase = (box: Sandbox) => join(box.root, 'opt', 'azagent');
const agentDir = (box: Sandbox, i: number) => join(agentBase(box), `agent-${i}`);
const registerFile = (box: Sandbox) => join(box.root, REGISTER_PATH);

/** Installs an az extension as `az extension add` lays it out: a directory holding the wheel's .dist-info. */
function azExtension(dir: string, name: string, version: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, `${name}-${version}.dist-info`), { recursive: true });
  mkdirSync(join(path, `azext_${name}`), { recursive: true });
  return path;
}
const ML_LIST = "extension list --query [?name=='ml'].path --output tsv --only-show-errors";

function bootstrap(box: Sandbox, script: string, extraEnv: NodeJS.ProcessEnv = {}) {
  const file = scriptFile(script);
  const result = spawnSync('bash', [file], { env: { ...box.env, ...extraEnv }, encoding: 'utf8', timeout: 60_000 });
  return { ...result, file, output: result.stdout + result.stderr };
}

/** Runs /opt/azagent/register-agents.sh as the bootstrap left it, with the given environment. */
function register(box: Sandbox, extraEnv: NodeJS.ProcessEnv = { AZP_TOKEN: PAT }, args: string[] = []) {
  const result = spawnSync(registerFile(box), args, { env: { ...box.env, ...extraEnv }, encoding: 'utf8', timeout: 60_000 });
  return { ...result, output: result.stdout + result.stderr };
}

function resetLog(box: Sandbox) {
  writeFileSync(box.log, '');
  rmSync(join(box.state, 'config-calls'), { force: true });
  rmSync(join(box.state, 'secret-env'), { force: true });
}

const calls = (box: Sandbox) =>
  readFileSync(box.log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\0').filter((_, i, a) => i < a.length - 1));
const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t')) : []);
const configCalls = (box: Sandbox) => lines(join(box.state, 'config-calls'));
const commandsOf = (box: Sandbox, name: string) => calls(box).filter((c) => c[0] === name).map((c) => c.slice(1).join(' '));
const secretEnv = (box: Sandbox) => (existsSync(join(box.state, 'secret-env')) ? readFileSync(join(box.state, 'secret-env'), 'utf8').split('\n').filter(Boolean) : []);

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** No form of the token in the output, in any command line, in any file of the VM's scratch root. */
function expectNoPatLeft(box: Sandbox, output: string, token = PAT) {
  for (const form of tokenForms(token)) {
    expect(output, 'output').not.toContain(form);
    expect(readFileSync(box.log, 'utf8'), 'command lines').not.toContain(form);
    for (const file of [...filesUnder(box.root), ...filesUnder(box.tmp)]) expect(readFileSync(file, 'latin1'), file).not.toContain(form);
  }
  expect(readdirSync(box.tmp)).toEqual([]); // the header file is gone
}

/** Registered as the agent would be: .agent and service unit for agents 1..n, none above. */
function expectAgents(box: Sandbox, n: number, pool = 'pool001') {
  for (let i = 1; i <= n; i++) {
    const settings = JSON.parse(readFileSync(join(agentDir(box, i), '.agent'), 'utf8').replace(/^\uFEFF/, '')) as Record<string, string>;
    expect(settings).toMatchObject({ agentName: `${PREFIX}-${i}`, poolName: pool });
    const unit = `azure-mlops-agent-${i}.service`;
    expect(existsSync(join(box.state, `active-${unit}`)), unit).toBe(true);
    expect(existsSync(join(box.state, `enabled-${unit}`)), unit).toBe(true);
  }
  expect(existsSync(agentDir(box, n + 1))).toBe(false);
  expect(readdirSync(join(box.root, 'etc', 'systemd', 'system')).sort()).toEqual(Array.from({ length: n }, (_, i) => `azure-mlops-agent-${i + 1}.service`).sort());
}

const SHELLCHECK = hasCommand('shellcheck');
if (!SHELLCHECK && !REQUIRE_ALL_TESTS) skipNotice('shellcheck', 'the shellcheck check of the agent bootstrap and register scripts');

describe('agent bootstrap and register scripts', () => {
  const withoutPat = render(3);
  const withPat = render(3, PAT);
  afterAll(removeTempDirs);

  it('render through terraform with the values of the module call', () => {
    for (const { bootstrap: script } of [withoutPat, withPat]) {
      expect(script.startsWith('#!/bin/bash\n')).toBe(true);
      expect(script).toContain(`ORG_URL='${ORG}'`); // trailing slash trimmed
      expect(script).toContain("POOL='pool001'");
      expect(script).toContain('NUM_AGENTS=3');
      expect(script).toContain(`AGENT_NAME_PREFIX='${PREFIX}'`);
      expect(script).toContain(`AGENT_VERSION='${VERSION}'`);
      expect(script).toContain(`REGISTER_SCRIPT="$ROOT${REGISTER_PATH}"`);
    }
    const reg = withoutPat.register;
    expect(reg.startsWith('#!/bin/bash\n')).toBe(true);
    expect(reg).toContain(`DEFAULT_URL='${ORG}'`);
    expect(reg).toContain("DEFAULT_POOL='pool001'");
    expect(reg).toContain("DEFAULT_AGENTS='3'");
    expect(reg).toContain(`DEFAULT_PREFIX='${PREFIX}'`);
    expect(reg).toContain("AGENT_USER='azagent'");
    // the bootstrap carries the register script, base64-encoded
    expect(withoutPat.bootstrap).toContain(Buffer.from(reg).toString('base64'));
  });

  it('are valid bash (bash -n)', () => {
    for (const script of [withoutPat.bootstrap, withPat.bootstrap, withoutPat.register]) {
      const check = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
      expect(check.status, check.stderr).toBe(0);
    }
  });

  it.skipIf(!SHELLCHECK && !REQUIRE_ALL_TESTS)('pass shellcheck', () => {
    expect(SHELLCHECK, 'shellcheck is required (AZURE_MLOPS_REQUIRE_ALL_TESTS is set): apt-get install shellcheck').toBe(true);
    for (const [name, script] of [['bootstrap (no PAT)', withoutPat.bootstrap], ['bootstrap (PAT)', withPat.bootstrap], ['register-agents.sh', withoutPat.register]] as const) {
      const check = spawnSync('shellcheck', ['--shell=bash', '-'], { input: script, encoding: 'utf8' });
      expect(check.status, `${name}: ${check.stdout}${check.stderr}`).toBe(0);
    }
  });

  it('bake the PAT into nothing when devops_pat is null; when set, only once, base64-encoded, into the bootstrap', () => {
    for (const form of PAT_FORMS) {
      expect(withoutPat.bootstrap).not.toContain(form);
      expect(withoutPat.register).not.toContain(form);
      expect(withPat.register).not.toContain(form);
    }
    expect(withoutPat.bootstrap).toContain("DEVOPS_PAT_BASE64=''");
    // the register script does not depend on the PAT at all
    expect(withPat.register).toBe(withoutPat.register);

    expect(withPat.bootstrap).not.toContain(PAT);
    const encoded = Buffer.from(PAT).toString('base64');
    expect(withPat.bootstrap.split(encoded)).toHaveLength(2);
    expect(withPat.bootstrap).toContain(`DEVOPS_PAT_BASE64='${encoded}'`);

    for (const script of [withPat.bootstrap, withoutPat.register]) {
      const code = script.split('\n').filter((line) => !/^\s*#/.test(line)).join('\n');
      expect(code).not.toMatch(/set -x|--token|\b(echo|log|die|fail)\b[^\n]*\$\{?(token|AZP_TOKEN|DEVOPS_PAT)/);
      // printf (a builtin: no command line) only into the header file and into base64 -d
      for (const line of code.split('\n').filter((l) => /\bprintf\b[^\n]*\$\{?(token|DEVOPS_PAT)/.test(l))) {
        expect(line).toMatch(/printf ':%s' "\$token" \| base64 -w0\)" >"\$HEADER_FILE"$|AZP_TOKEN="\$\(printf '%s' "\$DEVOPS_PAT_BASE64" \| base64 -d\)" "\$REGISTER_SCRIPT"/);
      }
    }
    expect(withoutPat.register).toMatch(/^token="\$\{AZP_TOKEN:-\}"\nunset AZP_TOKEN$/m);
  });

  it('download the pinned agent version from the current host; the register script asks the organization for a newer one', () => {
    expect(withoutPat.bootstrap).toContain('https://download.agent.dev.azure.com/agent/$AGENT_VERSION/vsts-agent-linux-x64-$AGENT_VERSION.tar.gz');
    expect(withoutPat.register).toContain('https://download.agent.dev.azure.com/agent/$1/vsts-agent-linux-x64-$1.tar.gz');
    expect(withoutPat.register).toContain('$url/_apis/distributedtask/packages/agent?platform=linux-x64&%24top=1');
  });

  it('install no az ml extension: the pipeline tasks install the pinned one (no az extension add, no --system in any az call)', () => {
    for (const script of [withoutPat.bootstrap, withPat.bootstrap, withoutPat.register]) {
      const azLines = script
        .split('\n')
        .filter((line) => !/^\s*#/.test(line))
        .filter((line) => /\baz\b/.test(line));
      expect(azLines.filter((line) => /extension (add|update)/.test(line))).toEqual([]);
      expect(azLines.filter((line) => /--system/.test(line))).toEqual([]);
    }
  });

  it('remove a system-wide az ml extension an older bootstrap installed, and only that copy; a second run removes nothing', () => {
    const box = sandbox();
    const system = azExtension(box.azSys, 'ml', '2.30.0');
    // root's own copy (in its ~/.azure) is no agent's business and stays
    const rootsOwn = azExtension(join(box.base, '.azure', 'cliextensions'), 'ml', '2.31.0');

    const first = bootstrap(box, withoutPat.bootstrap);
    expect(first.status, first.output).toBe(0);
    expect(existsSync(system)).toBe(false);
    expect(existsSync(join(rootsOwn, 'ml-2.31.0.dist-info'))).toBe(true);
    expect(first.stdout).toContain(`removing the system-wide az ml extension (${system}): each pipeline task installs its pinned version`);
    expect(commandsOf(box, 'az')).toEqual([ML_LIST, 'extension remove --name ml --only-show-errors']);
    // both calls ran with one empty AZURE_CONFIG_DIR of their own, under TMPDIR, removed afterwards
    const configDirs = readFileSync(join(box.state, 'az-config-dirs'), 'utf8').split('\n').filter(Boolean);
    expect(configDirs).toHaveLength(2);
    expect(new Set(configDirs).size).toBe(1);
    expect(configDirs[0]!.startsWith(`${box.tmp}/`)).toBe(true);
    expect(readdirSync(box.tmp)).toEqual([]);

    resetLog(box);
    const again = bootstrap(box, withoutPat.bootstrap);
    expect(again.status, again.output).toBe(0);
    expect(commandsOf(box, 'az')).toEqual([ML_LIST]);
    expect(again.stdout).toMatch(/no system-wide az ml extension/);
    expect(existsSync(join(rootsOwn, 'ml-2.31.0.dist-info'))).toBe(true);
  });

  it('fail clearly when the system-wide az ml extension cannot be removed, leaving no temporary directory', () => {
    const box = sandbox();
    const system = azExtension(box.azSys, 'ml', '2.30.0');
    const run = bootstrap(box, withoutPat.bootstrap, { STUB_AZ_REMOVE_FAIL: '1' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`could not remove the system-wide az ml extension in ${system}; remove that directory as root`);
    expect(existsSync(join(system, 'ml-2.30.0.dist-info'))).toBe(true);
    expect(readdirSync(box.tmp)).toEqual([]);
    expect(existsSync(agentDir(box, 1))).toBe(false); // it stopped there
  });

  it('devops_pat null: the bootstrap installs N agents and the register script but registers nothing; AZP_TOKEN then registers N distinct agents', () => {
    const box = sandbox();
    const first = bootstrap(box, withoutPat.bootstrap);
    expect(first.status, first.output).toBe(0);
    expect(first.stdout).toMatch(/3 agents installed, not registered \(devops_pat is not set\)/);

    // installed: tools, user, package, 3 unpacked agent directories, the register script; registered: nothing
    const all = calls(box);
    const apt = all.filter((c) => c[0] === 'apt-get').flat();
    for (const pkg of ['jq', 'python3', 'python3-venv', 'python3-pip', 'curl', 'git', 'azure-cli']) expect(apt).toContain(pkg);
    // no az ml extension installed (each pipeline task installs its pinned version); none to remove either
    expect(commandsOf(box, 'az')).toEqual([ML_LIST]);
    expect(first.stdout).toMatch(/no system-wide az ml extension: each pipeline task installs its pinned version/);
    expect(readFileSync(join(box.root, 'etc', 'apt', 'sources.list.d', 'azure-cli.sources'), 'utf8')).toMatch(/Suites: noble/);
    expect(all.filter((c) => c[0] === 'useradd')).toHaveLength(1);
    const urls = all.filter((c) => c[0] === 'curl').map((c) => c[c.length - 1]);
    expect(urls).toContain(`https://download.agent.dev.azure.com/agent/${VERSION}/vsts-agent-linux-x64-${VERSION}.tar.gz`);
    expect(urls.filter((u) => u?.includes('_apis'))).toEqual([]); // no PAT, so no call to the organization
    for (let i = 1; i <= 3; i++) {
      expect(existsSync(join(agentDir(box, i), 'config.sh'))).toBe(true);
      expect(readFileSync(join(agentDir(box, i), '.azure-mlops-package'), 'utf8').trim()).toBe(VERSION);
      expect(existsSync(join(agentDir(box, i), '.agent'))).toBe(false);
    }
    expect(existsSync(agentDir(box, 4))).toBe(false);
    expect(configCalls(box)).toEqual([]);
    expect(commandsOf(box, 'systemctl')).toEqual([]);
    expect(readFileSync(join(agentBase(box), 'package-version'), 'utf8').trim()).toBe(VERSION);
    expect(statSync(registerFile(box)).mode & 0o777).toBe(0o700);
    expect(readFileSync(registerFile(box), 'utf8')).toBe(withoutPat.register);
    expect(all).toContainEqual(['chown', 'root:root', `${registerFile(box)}.tmp`]);
    expect(existsSync(first.file)).toBe(false); // the bootstrap removes itself

    // the Run Command: the register script with the PAT in its environment only
    resetLog(box);
    const reg = register(box);
    expect(reg.status, reg.output).toBe(0);
    expect(reg.stdout).toMatch(new RegExp(`done: 3 agents \\(${PREFIX}-1 \\.\\. ${PREFIX}-3\\) registered in pool 'pool001' and running`));
    const configs = configCalls(box);
    expect(configs.map(([cwd]) => cwd)).toEqual([1, 2, 3].map((i) => agentDir(box, i)));
    expect(configs.every(([, user]) => user === 'azagent')).toBe(true);
    expect(configs.every(([, , , token]) => token === PAT)).toBe(true);
    const configArgs = calls(box).filter((c) => c[0] === 'config.sh').map((c) => c.slice(1));
    expect(configArgs.map((a) => a[a.indexOf('--agent') + 1])).toEqual([`${PREFIX}-1`, `${PREFIX}-2`, `${PREFIX}-3`]);
    for (const args of configArgs) {
      expect(args).toEqual(expect.arrayContaining(['--unattended', '--auth', 'pat', '--replace', '--acceptTeeEula']));
      expect(args[args.indexOf('--url') + 1]).toBe(ORG);
      expect(args[args.indexOf('--pool') + 1]).toBe('pool001');
      expect(args[args.indexOf('--work') + 1]).toBe('_work');
      expect(args).not.toContain('--token');
    }
    // the PAT reached config.sh (through runuser) and no other process
    expect(secretEnv(box)).toEqual(['runuser VSTS_AGENT_INPUT_TOKEN', 'runuser VSTS_AGENT_INPUT_TOKEN', 'runuser VSTS_AGENT_INPUT_TOKEN']);
    // the version lookup: PAT in a 0600 header file, removed at once
    expect(readFileSync(join(box.state, 'header-mode'), 'utf8').trim()).toBe('600');
    expect(readFileSync(join(box.state, 'header-seen'), 'utf8')).toBe(`Authorization: Basic ${Buffer.from(`:${PAT}`).toString('base64')}\n`);
    const lookups = calls(box).filter((c) => c[0] === 'curl' && c.some((a) => a.includes('/_apis/')));
    expect(lookups).toHaveLength(1);
    expect(lookups[0]!.at(-1)).toBe(`${ORG}/_apis/distributedtask/packages/agent?platform=linux-x64&%24top=1`);
    expect(lookups[0]!.find((a) => a.startsWith('@'))).toMatch(/\/azagent-auth\.[A-Za-z0-9]{8}$/);
    // services: units written by the script (never the agent's svc.sh), enabled and started
    expectAgents(box, 3);
    expect(commandsOf(box, 'svc.sh')).toEqual([]);
    const unit = readFileSync(join(box.root, 'etc', 'systemd', 'system', 'azure-mlops-agent-2.service'), 'utf8');
    expect(unit).toContain(`ExecStart=${agentDir(box, 2)}/runsvc.sh\n`);
    expect(unit).toContain('User=azagent\n');
    expect(unit).toContain(`WorkingDirectory=${agentDir(box, 2)}\n`);
    expect(commandsOf(box, 'systemctl').filter((c) => /^(enable|start)/.test(c))).toEqual([1, 2, 3].flatMap((i) => [`enable --quiet azure-mlops-agent-${i}.service`, `start azure-mlops-agent-${i}.service`]));
    expect(existsSync(join(agentDir(box, 1), 'runsvc.sh'))).toBe(true);

    expectNoPatLeft(box, first.output + reg.output);
  });

  it('the register script does not care which token it gets: a PAT and a Microsoft Entra access token (JWT) both register, never on a command line', () => {
    expect(ENTRA_TOKEN).toMatch(/^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(ENTRA_TOKEN.length).toBeGreaterThan(1500);
    for (const token of [PAT, ENTRA_TOKEN]) {
      const kind = token === PAT ? 'PAT' : 'Entra token';
      const box = sandbox();
      expect(bootstrap(box, withoutPat.bootstrap).status).toBe(0);
      resetLog(box);
      const reg = register(box, { AZP_TOKEN: token });
      expect(reg.status, `${kind}: ${reg.output}`).toBe(0);
      expectAgents(box, 3);
      // config.sh got the token, unchanged, in VSTS_AGENT_INPUT_TOKEN (as the agents' user) ...
      const configs = configCalls(box);
      expect(configs.map(([, user, verb, seen]) => [user, verb, seen === token]), kind).toEqual([1, 2, 3].map(() => ['azagent', '--unattended', true]));
      expect(secretEnv(box), kind).toEqual(['runuser VSTS_AGENT_INPUT_TOKEN', 'runuser VSTS_AGENT_INPUT_TOKEN', 'runuser VSTS_AGENT_INPUT_TOKEN']);
      // ... with the same arguments for both kinds, and the token nowhere in its argv
      const configArgs = calls(box).filter((c) => c[0] === 'config.sh').map((c) => c.slice(1));
      expect(configArgs, kind).toHaveLength(3);
      for (const args of configArgs) {
        expect(args[args.indexOf('--auth') + 1]).toBe('pat');
        expect(args).not.toContain('--token');
        for (const form of tokenForms(token)) expect(args.some((a) => a.includes(form)), `${kind} in argv of config.sh`).toBe(false);
      }
      // the version lookup sends what the agent sends: Basic with the token as the password
      expect(readFileSync(join(box.state, 'header-seen'), 'utf8')).toBe(`Authorization: Basic ${Buffer.from(`:${token}`).toString('base64')}\n`);
      expectNoPatLeft(box, reg.output, token);
    }
  });

  it('the register script is idempotent: a second run changes nothing; N 3 -> 2 removes agent 3', () => {
    const box = sandbox();
    expect(bootstrap(box, withoutPat.bootstrap).status).toBe(0);
    expect(register(box).status).toBe(0);

    resetLog(box);
    const again = register(box);
    expect(again.status, again.output).toBe(0);
    expect(configCalls(box)).toEqual([]);
    expect(commandsOf(box, 'systemctl').filter((c) => !c.startsWith('is-'))).toEqual([]);
    expect(commandsOf(box, 'curl')).toEqual([]); // nothing to register: no version lookup, no download
    expect(commandsOf(box, 'tar')).toEqual([]);
    expect(again.stdout).toMatch(new RegExp(`agent ${PREFIX}-1: registered, service running`));
    expectAgents(box, 3);

    // terraform with num_agents = 2 runs the bootstrap again (it leaves registered agent 3 alone) ...
    resetLog(box);
    const rerun = bootstrap(box, render(2).bootstrap);
    expect(rerun.status, rerun.output).toBe(0);
    expect(rerun.stdout).toMatch(new RegExp(`agent ${PREFIX}-3: above 2 agents; the next run with AZP_TOKEN unregisters and removes it`));
    expect(existsSync(join(agentDir(box, 3), '.agent'))).toBe(true);
    expect(configCalls(box)).toEqual([]);
    expect(commandsOf(box, 'tar')).toEqual([]); // agents 1 and 2 are kept as they are
    // ... and the register script (whose defaults now say 2) removes it
    resetLog(box);
    const fewer = register(box);
    expect(fewer.status, fewer.output).toBe(0);
    expect(existsSync(agentDir(box, 3))).toBe(false);
    expect(configCalls(box)).toEqual([[agentDir(box, 3), 'azagent', 'remove', PAT]]);
    expect(commandsOf(box, 'systemctl').filter((c) => !c.startsWith('is-'))).toEqual(['stop azure-mlops-agent-3.service', 'disable --quiet azure-mlops-agent-3.service', 'daemon-reload']);
    expectAgents(box, 2);
    expectNoPatLeft(box, fewer.output);
  });

  it('the register script takes the number of agents, pool and prefix from the environment too', () => {
    const box = sandbox();
    expect(bootstrap(box, withoutPat.bootstrap).status).toBe(0);
    const more = register(box, { AZP_TOKEN: PAT, AZP_AGENTS: '4', AZP_POOL: 'ml agents', AZP_URL: `${ORG}/` });
    expect(more.status, more.output).toBe(0);
    expectAgents(box, 4, 'ml agents');
    expect(configCalls(box)).toHaveLength(4);

    resetLog(box);
    const one = register(box, { AZP_TOKEN: PAT, AZP_AGENTS: '1', AZP_POOL: 'ml agents' });
    expect(one.status, one.output).toBe(0);
    expectAgents(box, 1, 'ml agents');
    expect(configCalls(box).map(([cwd, , verb]) => [cwd, verb])).toEqual([2, 3, 4].map((i) => [agentDir(box, i), 'remove']));
  });

  it('the register script repairs: a stopped service is started, a lost agent directory comes back, an agent of another pool is registered again', () => {
    const box = sandbox();
    expect(bootstrap(box, withoutPat.bootstrap).status).toBe(0);
    expect(register(box).status).toBe(0);

    rmSync(join(box.state, 'active-azure-mlops-agent-1.service')); // stopped
    rmSync(agentDir(box, 2), { recursive: true }); // lost
    resetLog(box);
    const repaired = register(box);
    expect(repaired.status, repaired.output).toBe(0);
    expect(configCalls(box).map(([cwd]) => cwd)).toEqual([agentDir(box, 2)]);
    expect(commandsOf(box, 'systemctl').filter((c) => c.startsWith('start'))).toEqual(['start azure-mlops-agent-1.service']);
    expectAgents(box, 3);

    resetLog(box);
    const moved = register(box, { AZP_TOKEN: PAT, AZP_POOL: 'pool002' });
    expect(moved.status, moved.output).toBe(0);
    expect(moved.stdout).toMatch(/configured for another URL, pool or name; registering it again/);
    expect(configCalls(box).map(([cwd, , verb]) => `${cwd!.split('/').pop()} ${verb}`)).toEqual(['agent-1 remove', 'agent-1 --unattended', 'agent-2 remove', 'agent-2 --unattended', 'agent-3 remove', 'agent-3 --unattended']);
    expectAgents(box, 3, 'pool002');
    expectNoPatLeft(box, repaired.output + moved.output);
  });

  it('the register script moves agents not registered yet to a newer version the organization offers, and keeps the package on any error', () => {
    // a lookup that fails: keep the pinned version, register anyway
    const kept = sandbox();
    expect(bootstrap(kept, withoutPat.bootstrap).status).toBe(0);
    const failing = register(kept, { AZP_TOKEN: PAT, STUB_LOOKUP_FAIL: '1' });
    expect(failing.status, failing.output).toBe(0);
    expect(failing.stdout).toMatch(new RegExp(`warning: could not look up the newest agent version at ${ORG}; keeping agent ${VERSION}`));
    expect(commandsOf(kept, 'tar')).toHaveLength(3); // only the bootstrap's unpacking
    expectAgents(kept, 3);

    // a newer version whose download fails: keep the pinned version
    const noDownload = sandbox();
    expect(bootstrap(noDownload, withoutPat.bootstrap).status).toBe(0);
    const broken = register(noDownload, { AZP_TOKEN: PAT, STUB_LATEST: NEWER, STUB_DOWNLOAD_FAIL: '1' });
    expect(broken.status, broken.output).toBe(0);
    expect(broken.stdout).toMatch(new RegExp(`warning: could not download agent ${NEWER}; keeping agent ${VERSION}`));
    expect(readFileSync(join(agentBase(noDownload), 'package-version'), 'utf8').trim()).toBe(VERSION);
    expect(readdirSync(join(agentBase(noDownload), 'packages'))).toEqual([`vsts-agent-linux-x64-${VERSION}.tar.gz`]);

    // a newer version: agents 1..2 registered with the pinned one stay; new agent 3 gets the newer one
    const box = sandbox();
    expect(bootstrap(box, render(2).bootstrap).status).toBe(0);
    expect(register(box).status).toBe(0);
    resetLog(box);
    const newer = register(box, { AZP_TOKEN: PAT, AZP_AGENTS: '3', STUB_LATEST: NEWER });
    expect(newer.status, newer.output).toBe(0);
    expect(newer.stdout).toContain(`agent package: ${VERSION} -> ${NEWER}`);
    expect(commandsOf(box, 'curl').map((c) => c.split(' ').pop())).toContain(`https://download.agent.dev.azure.com/agent/${NEWER}/vsts-agent-linux-x64-${NEWER}.tar.gz`);
    expect(readFileSync(join(agentDir(box, 3), '.stub-unpacked-from'), 'utf8').trim()).toBe(`vsts-agent-linux-x64-${NEWER}.tar.gz`);
    expect(readFileSync(join(agentDir(box, 1), '.stub-unpacked-from'), 'utf8').trim()).toBe(`vsts-agent-linux-x64-${VERSION}.tar.gz`);
    expect(readFileSync(join(agentBase(box), 'package-version'), 'utf8').trim()).toBe(NEWER);
    expect(readdirSync(join(agentBase(box), 'packages'))).toEqual([`vsts-agent-linux-x64-${NEWER}.tar.gz`]);
    expectAgents(box, 3);

    // the bootstrap run again later does not go back to the older pinned version
    resetLog(box);
    const rerun = bootstrap(box, render(3).bootstrap);
    expect(rerun.status, rerun.output).toBe(0);
    expect(rerun.stdout).toContain(`agent package: keeping ${NEWER}, newer than ${VERSION}`);
    expect(commandsOf(box, 'curl').filter((c) => c.includes('download.agent'))).toEqual([]);
  });

  it('devops_pat set (standalone): the bootstrap registers the agents at once, with the PAT only in config.sh\'s environment', () => {
    const box = sandbox();
    const run = bootstrap(box, withPat.bootstrap);
    expect(run.status, run.output).toBe(0);
    const configs = configCalls(box);
    expect(configs.map(([cwd, user, , token]) => [cwd, user, token])).toEqual([1, 2, 3].map((i) => [agentDir(box, i), 'azagent', PAT]));
    expectAgents(box, 3);
    // the PAT went to the register script's environment, where it is removed at once: only
    // config.sh (through runuser) saw it after that
    expect(secretEnv(box)).toEqual(['runuser VSTS_AGENT_INPUT_TOKEN', 'runuser VSTS_AGENT_INPUT_TOKEN', 'runuser VSTS_AGENT_INPUT_TOKEN']);
    expect(readFileSync(registerFile(box), 'utf8')).toBe(withoutPat.register);
    expectNoPatLeft(box, run.output);
    expect(existsSync(run.file)).toBe(false); // the script holding the PAT is gone

    // run again (terraform re-runs it after a change): nothing registered twice
    resetLog(box);
    const again = bootstrap(box, withPat.bootstrap);
    expect(again.status, again.output).toBe(0);
    expect(configCalls(box)).toEqual([]);
    expectAgents(box, 3);
  });

  it('the register script fails clearly, without the PAT: no token, bad input, no package, a rejected PAT, an agent that cannot be removed', () => {
    const box = sandbox();
    // before the bootstrap: exit 3
    mkdirSync(join(box.root, 'opt', 'azagent'), { recursive: true });
    writeFileSync(registerFile(box), withoutPat.register, { mode: 0o700 });
    const early = register(box);
    expect(early.status).toBe(3);
    expect(early.stderr).toMatch(/no agent package in .*: the bootstrap \(VM extension install-azure-pipelines-agents\) has not finished/);

    expect(bootstrap(box, withoutPat.bootstrap).status).toBe(0);
    // bad input: exit 2
    const noToken = register(box, {});
    expect(noToken.status).toBe(2);
    expect(noToken.stderr).toMatch(/AZP_TOKEN is not set/);
    const spaced = register(box, { AZP_TOKEN: `${PAT}\n` });
    expect(spaced.status).toBe(2);
    expect(spaced.stderr).toMatch(/AZP_TOKEN contains white space or a line break/);
    for (const [env, message] of [
      [{ AZP_AGENTS: '17' }, /AZP_AGENTS '17' is not a whole number from 1 to 16/],
      [{ AZP_AGENTS: 'two' }, /AZP_AGENTS 'two' is not a whole number/],
      [{ AZP_POOL: "p'ool" }, /AZP_POOL .* is not a pool name/],
      [{ AZP_AGENT_PREFIX: '-x' }, /AZP_AGENT_PREFIX '-x' is not an agent name prefix/],
      [{ AZP_URL: `https://user:${PAT}@dev.azure.com/contoso` }, /AZP_URL is not an organization or collection URL/],
      [{ AZP_URL: 'http://dev.azure.com/contoso' }, /AZP_URL is not an organization or collection URL/],
    ] as const) {
      const bad = register(box, { AZP_TOKEN: PAT, ...env });
      expect(bad.status, JSON.stringify(env)).toBe(2);
      expect(bad.stderr).toMatch(message);
      for (const form of PAT_FORMS) expect(bad.output).not.toContain(form);
    }
    const usage = register(box, { AZP_TOKEN: PAT }, ['--token', PAT]);
    expect(usage.status).toBe(2);
    expect(usage.output).not.toContain(PAT);
    expect(configCalls(box)).toEqual([]);

    // the organization rejects the PAT: exit 1, naming the agents
    const rejected = register(box, { AZP_TOKEN: PAT, STUB_BAD_PAT: '1' });
    expect(rejected.status).toBe(1);
    expect(rejected.stdout).toMatch(/warning: could not look up the newest agent version/);
    expect(rejected.stderr).toMatch(new RegExp(`agent ${PREFIX}-1: config.sh failed .*Is the token valid and unexpired \\(a Microsoft Entra access token, or a PAT with the Agent Pools \\(Read & manage\\) scope\\), may its identity administer the pool, and does the pool 'pool001' exist\\?`));
    expect(rejected.stderr).toMatch(new RegExp(`ERROR: failed for 3 agent\\(s\\): ${PREFIX}-1 ${PREFIX}-2 ${PREFIX}-3`));
    expect(commandsOf(box, 'systemctl').filter((c) => c.startsWith('start'))).toEqual([]);
    expectNoPatLeft(box, rejected.output);

    // a surplus agent that cannot be unregistered is kept for the next run: exit 1
    expect(register(box).status).toBe(0);
    const stuck = register(box, { AZP_TOKEN: PAT, AZP_AGENTS: '2', STUB_REMOVE_FAIL: '1' });
    expect(stuck.status).toBe(1);
    expect(stuck.stderr).toMatch(new RegExp(`agent ${PREFIX}-3: could not unregister it; .*agent-3 is kept so that the next run tries again`));
    expect(existsSync(join(agentDir(box, 3), '.agent'))).toBe(true);
    const retried = register(box, { AZP_TOKEN: PAT, AZP_AGENTS: '2' });
    expect(retried.status, retried.output).toBe(0);
    expect(existsSync(agentDir(box, 3))).toBe(false);
    expectNoPatLeft(box, stuck.output + retried.output);
  });
});
