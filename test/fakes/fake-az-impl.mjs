// Implementation of the fake `az` (plain JS so it runs without a TypeScript loader).
//
// Environment:
//   FAKE_AZ_STATE     JSON file holding the world (created from FAKE_AZ_SCENARIO when absent)
//   FAKE_AZ_SCENARIO  JSON file with the initial world (optional)
//   FAKE_AZ_LOG       JSON-lines file: one record per invocation {n, argv, stdin}
//   FAKE_AZ_FAIL_AT   fail the Nth invocation (1-based, counted in the log) with FAKE_AZ_FAIL_MODE
//   FAKE_AZ_FAIL_MODE error (default) | timeout (sleeps 1h) | kill (SIGKILLs itself)
//   FAKE_AZ_LATENCY_MS added delay per invocation
import { appendFileSync, existsSync, readFileSync, writeFileSync, renameSync, mkdirSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';

const env = process.env;

export function defaultWorld() {
  const tenantId = '11111111-1111-1111-1111-111111111111';
  return {
    version: '2.67.0',
    loggedIn: true,
    user: { name: 'dev@contoso.com', type: 'user' },
    defaultSubscription: '22222222-2222-2222-2222-222222222222',
    subscriptions: [
      { id: '22222222-2222-2222-2222-222222222222', name: 'Contoso Dev', tenantId, state: 'Enabled' },
      { id: '33333333-3333-3333-3333-333333333333', name: 'Contoso Prod', tenantId, state: 'Enabled' },
    ],
    cloud: { name: 'AzureCloud', endpoints: { resourceManager: 'https://management.azure.com/', activeDirectory: 'https://login.microsoftonline.com' } },
    apps: [],
    servicePrincipals: [],
    // Service principals of Microsoft's own multi-tenant applications in this tenant (their
    // application objects live in Microsoft's tenant, so `ad app show/list` does not find them):
    // DevOpsInfrastructure, which Managed DevOps Pools use to join their machines to a subnet (app id
    // 31687f79-5e43-4c1e-8c63-d9f4bff5cf8b, as the Azure Verified Module and other public templates
    // look it up; terraform/README.md). Present by default, as in a tenant where the
    // Microsoft.DevOpsInfrastructure provider was registered; a scenario sets [] for one where it never was.
    microsoftServicePrincipals: [{ id: 'd0e0f1a2-3b4c-4d5e-8f60-71829304a5b6', appId: '31687f79-5e43-4c1e-8c63-d9f4bff5cf8b', displayName: 'DevOpsInfrastructure', servicePrincipalType: 'Application' }],
    extensions: {},
    faults: [],
  };
}

function load() {
  const file = env.FAKE_AZ_STATE;
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  let world = defaultWorld();
  if (env.FAKE_AZ_SCENARIO) world = { ...world, ...JSON.parse(readFileSync(env.FAKE_AZ_SCENARIO, 'utf8')) };
  return world;
}

function save(world) {
  const file = env.FAKE_AZ_STATE;
  if (!file) return;
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(world, null, 2));
  renameSync(tmp, file);
}

/** The CLI runs az processes concurrently: a mutating command holds this lock around load-modify-save. */
async function withLock(fn) {
  const file = env.FAKE_AZ_STATE;
  if (!file) return fn();
  const lock = `${file}.lock`;
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (i > 500) throw new Error('fake az: state lock timeout');
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

class AzExit extends Error {
  constructor(code, stderr) {
    super(stderr);
    this.code = code;
  }
}
const fail = (msg, code = 1) => {
  throw new AzExit(code, `ERROR: ${msg}\n`);
};
const notLoggedIn = () => fail("Please run 'az login' to setup account.");

function parse(argv) {
  const words = [];
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    // az's --tags takes several space-separated `key[=value]` words: azure-cli `tags_type` (nargs='*') in azure/cli/core/commands/parameters.py.
    if (a === '--tags') {
      const tags = [];
      while (argv[i + 1] !== undefined && !argv[i + 1].startsWith('-')) tags.push(argv[++i]);
      opts[a] = tags;
    } else if (a.startsWith('-')) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) opts[a] = true;
      else {
        opts[a] = next;
        i++;
      }
    } else if (Object.keys(opts).length === 0) words.push(a);
  }
  return { cmd: words.join(' '), opts };
}

const versionLt = (a, b) => {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) < (pb[i] ?? 0);
  return false;
};

/** az < 2.37 (Azure AD Graph) calls the object id `objectId`; newer az (Microsoft Graph) `id`. */
function adShape(world, obj) {
  const { federatedCredentials, passwordCredentials, ...rest } = obj;
  if (versionLt(world.version, '2.37.0')) {
    const { id, ...old } = rest;
    return { ...old, objectId: id };
  }
  return { ...rest, passwordCredentials: (passwordCredentials ?? []).map(({ secretText, ...c }) => c) };
}

function account(world) {
  if (!world.loggedIn) notLoggedIn();
  const sub = world.subscriptions.find((s) => s.id === world.defaultSubscription) ?? world.subscriptions[0];
  if (!sub) fail('No subscriptions found for the signed-in account.');
  return sub;
}

function findSub(world, key) {
  const s = world.subscriptions.find((x) => x.id === key || x.name.toLowerCase() === String(key).toLowerCase());
  if (!s) fail(`The subscription of '${key}' doesn't exist in cloud 'AzureCloud'.`);
  return s;
}

/**
 * `--display-name X` of `az ad app list` / `az ad sp list` is a PREFIX match, as in the real az:
 * azure-cli `src/azure-cli/azure/cli/command_modules/role/custom.py`, `list_applications` and
 * `list_service_principals`, send the Graph filter `startswith(displayName,'X')`. Graph's
 * `startswith` on displayName ignores case (Microsoft Graph docs, concepts/filter-query-parameter.md:
 * "Get all users with the name Mary" is `startswith(displayName,'mary')`). So an app named
 * `azure-mlops-mlops01-pipeline-legacy` (or `AZURE-MLOPS-MLOPS01-PIPELINE`) is listed for
 * `--display-name azure-mlops-mlops01-pipeline`.
 */
function displayNameStartsWith(name) {
  const want = String(name).toLowerCase();
  return (x) => typeof x.displayName === 'string' && x.displayName.toLowerCase().startsWith(want);
}

function requireLogin(world) {
  if (!world.loggedIn) notLoggedIn();
}

function appById(world, id) {
  return world.apps.find((a) => a.appId === id || a.id === id || a.identifierUris?.includes(id));
}

const handlers = {
  version: (w) => ({ 'azure-cli': w.version, 'azure-cli-core': w.version, extensions: w.extensions }),
  'account show': (w) => {
    const s = account(w);
    return { ...s, isDefault: true, environmentName: 'AzureCloud', user: w.user };
  },
  'account list': (w) => {
    if (!w.loggedIn) {
      process.stderr.write('WARNING: Please run "az login" to access your accounts.\n');
      return [];
    }
    return w.subscriptions.map((s) => ({ ...s, isDefault: s.id === w.defaultSubscription, user: w.user }));
  },
  'account set': (w, o) => {
    requireLogin(w);
    w.defaultSubscription = findSub(w, o['--subscription'] ?? o['-s']).id;
    return null;
  },
  'account get-access-token': (w, o) => {
    requireLogin(w);
    const sub = account(w);
    // Real tokens live 60-90 minutes; a scenario can shorten it (tokenLifetimeSeconds).
    const expires = Math.floor(Date.now() / 1000) + (w.tokenLifetimeSeconds ?? 3600);
    return {
      accessToken: `fake-token-for-${(o['--resource'] ?? o['--scope'] ?? 'arm').replace(/[^a-z0-9]/gi, '')}`,
      expiresOn: new Date(expires * 1000).toISOString().replace('T', ' ').slice(0, 26),
      expires_on: expires,
      subscription: sub.id,
      tenant: sub.tenantId,
      tokenType: 'Bearer',
    };
  },
  'cloud show': (w) => w.cloud,
  // --- Microsoft Entra applications and service principals --------------------------------
  'ad app list': (w, o) => {
    requireLogin(w);
    let apps = w.apps;
    if (o['--display-name']) apps = apps.filter(displayNameStartsWith(o['--display-name']));
    if (o['--app-id']) apps = apps.filter((a) => a.appId === o['--app-id']);
    return apps.map((a) => adShape(w, a));
  },
  'ad app show': (w, o) => {
    requireLogin(w);
    const a = appById(w, o['--id']);
    if (!a) fail(`Resource '${o['--id']}' does not exist or one of its queried reference-property objects are not present.`, 3);
    return adShape(w, a);
  },
  'ad app create': (w, o) => {
    requireLogin(w);
    // Like the real az (azure-cli role/custom.py `create_application`): apps listed by the prefix
    // filter are narrowed to the EXACT display name; one such app is patched and returned instead
    // of creating another, several are an error.
    const same = w.apps.filter((a) => a.displayName === o['--display-name']);
    if (same.length > 1) fail(`More than one application have the same display name '${o['--display-name']}': (id) ${same.map((a) => a.id).join(', ')}, please remove them first.`);
    if (same.length === 1) return adShape(w, same[0]);
    const app = { id: randomUUID(), appId: randomUUID(), displayName: o['--display-name'], passwordCredentials: [], federatedCredentials: [] };
    w.apps.push(app);
    return adShape(w, app);
  },
  'ad app delete': (w, o) => {
    requireLogin(w);
    const a = appById(w, o['--id']);
    if (!a) fail(`Resource '${o['--id']}' does not exist or one of its queried reference-property objects are not present.`, 3);
    w.apps = w.apps.filter((x) => x !== a);
    w.servicePrincipals = w.servicePrincipals.filter((s) => s.appId !== a.appId);
    return null;
  },
  'ad sp list': (w, o) => {
    requireLogin(w);
    // azure-cli role/custom.py list_sps: --filter goes to Microsoft Graph's servicePrincipals
    // $filter as given, and the answer is every service principal of the tenant that matches (a JSON
    // list, [] when none: no error), Microsoft's own applications' ones included.
    let sps = [...w.servicePrincipals, ...(w.microsoftServicePrincipals ?? [])];
    if (o['--display-name']) sps = sps.filter(displayNameStartsWith(o['--display-name']));
    if (o['--filter']) {
      const m = /appId eq '([^']+)'/.exec(o['--filter']);
      if (m) sps = sps.filter((s) => s.appId === m[1]);
    }
    return sps.map((s) => adShape(w, s));
  },
  'ad sp delete': (w, o) => {
    requireLogin(w);
    const s = w.servicePrincipals.find((x) => x.appId === o['--id'] || x.id === o['--id']);
    if (!s) fail(`Resource '${o['--id']}' does not exist or one of its queried reference-property objects are not present.`, 3);
    w.servicePrincipals = w.servicePrincipals.filter((x) => x !== s);
    return null;
  },
  'ad sp show': (w, o) => {
    requireLogin(w);
    const s = [...w.servicePrincipals, ...(w.microsoftServicePrincipals ?? [])].find((x) => x.appId === o['--id'] || x.id === o['--id']);
    if (!s) fail(`Resource '${o['--id']}' does not exist or one of its queried reference-property objects are not present.`, 3);
    return adShape(w, s);
  },
  'ad sp create': (w, o) => {
    requireLogin(w);
    const a = appById(w, o['--id']);
    if (!a) fail(`Resource '${o['--id']}' does not exist or one of its queried reference-property objects are not present.`, 3);
    if (w.servicePrincipals.some((s) => s.appId === a.appId)) fail('Another object with the same value for property servicePrincipalNames already exists.');
    const sp = { id: randomUUID(), appId: a.appId, displayName: a.displayName };
    w.servicePrincipals.push(sp);
    return adShape(w, sp);
  },
  'ad sp create-for-rbac': (w, o) => {
    requireLogin(w);
    const app = { id: randomUUID(), appId: randomUUID(), displayName: o['--name'] ?? `azure-cli-${Date.now()}`, passwordCredentials: [], federatedCredentials: [] };
    const secret = `fake-secret-${randomUUID()}`;
    app.passwordCredentials.push({ keyId: randomUUID(), displayName: 'rbac', secretText: secret });
    w.apps.push(app);
    w.servicePrincipals.push({ id: randomUUID(), appId: app.appId, displayName: app.displayName });
    if (!versionLt(w.version, '2.37.0') && o['--skip-assignment']) process.stderr.write("WARNING: Option '--skip-assignment' has been deprecated and will be removed in a future release.\n");
    return { appId: app.appId, displayName: app.displayName, password: secret, tenant: account(w).tenantId };
  },
  'ad app credential reset': (w, o) => {
    requireLogin(w);
    const a = appById(w, o['--id']);
    if (!a) fail(`Resource '${o['--id']}' does not exist or one of its queried reference-property objects are not present.`, 3);
    // Like the real az: without --append every other password credential is removed.
    if (!o['--append']) a.passwordCredentials = [];
    const secret = w.nextSecret ?? `fake-secret-${randomUUID()}`;
    a.passwordCredentials.push({ keyId: randomUUID(), displayName: o['--display-name'] ?? null, secretText: secret, endDateTime: new Date(Date.now() + 365 * 864e5).toISOString() });
    return { appId: a.appId, password: secret, tenant: account(w).tenantId };
  },
  'ad app credential list': (w, o) => {
    requireLogin(w);
    const a = appById(w, o['--id']);
    if (!a) fail(`Resource '${o['--id']}' does not exist or one of its queried reference-property objects are not present.`, 3);
    return (a.passwordCredentials ?? []).map(({ secretText, ...c }) => c);
  },
  'ad app credential delete': (w, o) => {
    requireLogin(w);
    const a = appById(w, o['--id']);
    if (!a) fail(`Resource '${o['--id']}' does not exist or one of its queried reference-property objects are not present.`, 3);
    a.passwordCredentials = (a.passwordCredentials ?? []).filter((c) => c.keyId !== o['--key-id']);
    return null;
  },
  'ad app federated-credential list': (w, o) => {
    requireLogin(w);
    const a = appById(w, o['--id']);
    if (!a) fail(`Resource '${o['--id']}' does not exist or one of its queried reference-property objects are not present.`, 3);
    return a.federatedCredentials ?? [];
  },
  'ad app federated-credential create': (w, o) => {
    requireLogin(w);
    const a = appById(w, o['--id']);
    if (!a) fail(`Resource '${o['--id']}' does not exist or one of its queried reference-property objects are not present.`, 3);
    const raw = String(o['--parameters'] ?? '');
    const params = JSON.parse(raw.startsWith('@') ? readFileSync(raw.slice(1), 'utf8') : raw);
    a.federatedCredentials ??= [];
    if (a.federatedCredentials.some((f) => f.name === params.name)) fail(`FederatedIdentityCredential with name ${params.name} already exists.`);
    const fc = { id: randomUUID(), ...params };
    a.federatedCredentials.push(fc);
    return fc;
  },
  'ad app federated-credential delete': (w, o) => {
    requireLogin(w);
    const a = appById(w, o['--id']);
    if (!a) fail(`Resource '${o['--id']}' does not exist or one of its queried reference-property objects are not present.`, 3);
    a.federatedCredentials = (a.federatedCredentials ?? []).filter((f) => f.id !== o['--federated-credential-id'] && f.name !== o['--federated-credential-id']);
    return null;
  },
  // --- resource groups and the terraform state storage account -------------------------------
  'group show': (w, o) => {
    requireLogin(w);
    const g = (w.groups ?? []).find((x) => x.name.toLowerCase() === String(o['--name'] ?? o['-n']).toLowerCase());
    if (!g) fail(`(ResourceGroupNotFound) Resource group '${o['--name'] ?? o['-n']}' could not be found.`, 3);
    return g;
  },
  'group create': (w, o) => {
    requireLogin(w);
    w.groups ??= [];
    const name = o['--name'] ?? o['-n'];
    let g = w.groups.find((x) => x.name === name);
    if (!g) {
      g = { id: `/subscriptions/${account(w).id}/resourceGroups/${name}`, name, location: o['--location'] ?? o['-l'], properties: { provisioningState: 'Succeeded' }, tags: Object.fromEntries((o['--tags'] ?? []).map((t) => [t.split('=')[0], t.split('=').slice(1).join('=')])) };
      w.groups.push(g);
    }
    return g;
  },
  'group delete': (w, o) => {
    requireLogin(w);
    const name = o['--name'] ?? o['-n'];
    if (!(w.groups ?? []).some((g) => g.name === name)) fail(`(ResourceGroupNotFound) Resource group '${name}' could not be found.`, 3);
    w.groups = w.groups.filter((g) => g.name !== name);
    w.storageAccounts = (w.storageAccounts ?? []).filter((a) => a.resourceGroup !== name);
    return null;
  },
  'storage account show': (w, o) => {
    requireLogin(w);
    const a = (w.storageAccounts ?? []).find((x) => x.name === (o['--name'] ?? o['-n']));
    if (!a) fail(`(ResourceNotFound) The Resource 'Microsoft.Storage/storageAccounts/${o['--name'] ?? o['-n']}' under resource group '${o['--resource-group'] ?? o['-g']}' was not found.`, 3);
    return a;
  },
  'storage account create': (w, o) => {
    requireLogin(w);
    w.storageAccounts ??= [];
    const name = o['--name'] ?? o['-n'];
    const rg = o['--resource-group'] ?? o['-g'];
    if (!(w.groups ?? []).some((g) => g.name === rg)) fail(`(ResourceGroupNotFound) Resource group '${rg}' could not be found.`, 3);
    let a = w.storageAccounts.find((x) => x.name === name);
    if (!a) {
      a = { id: `/subscriptions/${account(w).id}/resourceGroups/${rg}/providers/Microsoft.Storage/storageAccounts/${name}`, name, resourceGroup: rg, location: o['--location'] ?? o['-l'], minimumTlsVersion: o['--min-tls-version'], allowBlobPublicAccess: o['--allow-blob-public-access'] === 'true', versioning: false, containers: [] };
      w.storageAccounts.push(a);
    }
    return a;
  },
  'storage account delete': (w, o) => {
    requireLogin(w);
    const name = o['--name'] ?? o['-n'];
    if (!(w.storageAccounts ?? []).some((x) => x.name === name)) fail(`(ResourceNotFound) The Resource 'Microsoft.Storage/storageAccounts/${name}' under resource group '${o['--resource-group'] ?? o['-g']}' was not found.`, 3);
    w.storageAccounts = w.storageAccounts.filter((x) => x.name !== name);
    return null;
  },
  'storage account blob-service-properties show': (w, o) => {
    requireLogin(w);
    const a = (w.storageAccounts ?? []).find((x) => x.name === o['--account-name']);
    if (!a) fail(`(ResourceNotFound) storage account ${o['--account-name']} not found`, 3);
    return { isVersioningEnabled: a.versioning };
  },
  'storage account blob-service-properties update': (w, o) => {
    requireLogin(w);
    const a = (w.storageAccounts ?? []).find((x) => x.name === o['--account-name']);
    if (!a) fail(`(ResourceNotFound) storage account ${o['--account-name']} not found`, 3);
    a.versioning = o['--enable-versioning'] === 'true' || o['--enable-versioning'] === true;
    return { isVersioningEnabled: a.versioning };
  },
  'storage container exists': (w, o) => {
    requireLogin(w);
    const a = (w.storageAccounts ?? []).find((x) => x.name === o['--account-name']);
    return { exists: Boolean(a?.containers.includes(o['--name'] ?? o['-n'])) };
  },
  'storage container create': (w, o) => {
    requireLogin(w);
    const a = (w.storageAccounts ?? []).find((x) => x.name === o['--account-name']);
    if (!a) fail(`The specified account ${o['--account-name']} does not exist.`, 1);
    const name = o['--name'] ?? o['-n'];
    const created = !a.containers.includes(name);
    if (created) a.containers.push(name);
    return { created };
  },
  rest: (w, o) => {
    requireLogin(w);
    const url = String(o['--url'] ?? o['-u'] ?? '');
    if (/policies\/authorizationPolicy/.test(url)) return { id: 'authorizationPolicy', defaultUserRolePermissions: { allowedToCreateApps: w.usersCanRegisterApps ?? true } };
    if (/\/me\/memberOf/.test(url)) return { value: (w.directoryRoles ?? []).map((r) => ({ '@odata.type': '#microsoft.graph.directoryRole', ...r })) };
    fail(`fake az rest does not serve ${url}`);
  },
  'ad signed-in-user show': (w) => {
    requireLogin(w);
    return { id: '44444444-4444-4444-4444-444444444444', userPrincipalName: w.user.name, displayName: 'Dev User' };
  },
};

/** Commands that change the world (the idempotence tests count these). */
export const MUTATING = /^(group create|group delete|storage account create|storage account delete|storage account blob-service-properties update|storage container create|account set|ad app create|ad app delete|ad sp create|ad sp delete|ad sp create-for-rbac|ad app credential reset|ad app credential delete|ad app federated-credential create|ad app federated-credential delete|login|logout)$/;

function readStdin() {
  if (process.stdin.isTTY) return '';
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return '';
  }
}

export async function main(argv) {
  const { cmd, opts } = parse(argv);
  let n = 1;
  if (env.FAKE_AZ_LOG) {
    n = existsSync(env.FAKE_AZ_LOG) ? readFileSync(env.FAKE_AZ_LOG, 'utf8').split('\n').filter(Boolean).length + 1 : 1;
    appendFileSync(env.FAKE_AZ_LOG, `${JSON.stringify({ n, cmd, argv, mutating: MUTATING.test(cmd), stdin: readStdin() })}\n`);
  }
  // The environment this child got (test/fakes/env-shims.ts: no child may see a secret).
  if (env.CHILD_ENV_LOG) appendFileSync(env.CHILD_ENV_LOG, `${JSON.stringify({ tool: 'az', argv, env })}\n`);
  if (env.FAKE_AZ_LATENCY_MS) await new Promise((r) => setTimeout(r, Number(env.FAKE_AZ_LATENCY_MS)));
  if (env.FAKE_AZ_FAIL_AT && Number(env.FAKE_AZ_FAIL_AT) === n) {
    const mode = env.FAKE_AZ_FAIL_MODE ?? 'error';
    if (mode === 'kill') process.kill(process.pid, 'SIGKILL');
    if (mode === 'timeout') await new Promise((r) => setTimeout(r, 3_600_000));
    process.stderr.write('ERROR: (InternalServerError) injected fault\n');
    process.exit(1);
  }
  const handler = handlers[cmd];
  if (!handler) {
    process.stderr.write(`ERROR: fake az does not implement '${cmd}' (argv: ${argv.join(' ')})\n`);
    process.exit(2);
  }
  const locked = MUTATING.test(cmd) ? withLock : (fn) => fn();
  const outcome = await locked(async () => {
    const world = load();
    for (const f of world.faults ?? []) {
      if (f.cmd === cmd && (f.times ?? 1) > 0) {
        f.times = (f.times ?? 1) - 1;
        save(world);
        return { code: f.exitCode ?? 1, stderr: f.stderr ?? 'ERROR: injected\n' };
      }
    }
    try {
      const out = handler(world, opts);
      // Only commands that change the world write it back (a read must never undo a concurrent write).
      if (MUTATING.test(cmd) || !existsSync(env.FAKE_AZ_STATE ?? '')) save(world);
      return { code: 0, out };
    } catch (e) {
      if (e instanceof AzExit) return { code: e.code, stderr: e.message };
      throw e;
    }
  });
  if (outcome.code !== 0) {
    process.stderr.write(outcome.stderr);
    process.exit(outcome.code);
  }
  const out = outcome.out;
  if (out !== null && out !== undefined && opts['-o'] !== 'none' && opts['--output'] !== 'none') process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  process.exit(0);
}
