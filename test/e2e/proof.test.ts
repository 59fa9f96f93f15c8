import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_MODULE, tfCalls } from '../fakes/fake-terraform.js';
import { runCli } from '../helpers/cli.js';
import { makeKey } from '../helpers/keys.js';
import { packAndInstall } from '../helpers/pack.js';
import { CLIENT_SECRET, DEVOPS_TOKEN, PAT, SUB, pipelineIdentityId, worldsPerTest, type World } from '../helpers/world.js';

/**
 * The packed CLI (npm pack, installed from the tarball like npx would) against the whole fake
 * world: fake az first on PATH, fake ARM, fake Azure DevOps, real terraform on the provider-free
 * fixture, canary secrets, HOME in a temp dir, CI=true.
 */
let bin: string;
beforeAll(() => {
  bin = packAndInstall().bin;
}, 180_000);

const world = worldsPerTest();
const cli = (w: World, args: string[], env: Record<string, string> = w.env) => runCli(args, { env, cwd: w.cwd, bin });

/** Every place a secret must never reach. */
function exposure(w: World, outputs: string[]): Record<string, string> {
  let stateDir = '';
  for (const f of readdirSync(w.stateDir, { recursive: true, withFileTypes: true })) {
    if (f.isFile() && !f.parentPath.includes(`${join('terraform', '.terraform')}`)) stateDir += `\n${f.parentPath}/${f.name}\n${readFileSync(join(f.parentPath, f.name), 'utf8')}`;
  }
  return {
    'az argv': JSON.stringify(w.az.calls().map((c) => c.argv)),
    'terraform argv': JSON.stringify(tfCalls(w.root).map((c) => c.argv)),
    'stdout/stderr': outputs.join('\n'),
    'state dir (state, logs, tfvars, terraform state)': stateDir,
    'pushed repository': JSON.stringify(w.devops.files('mlops', 'mlops', 'main')),
  };
}

function expectNoSecrets(where: Record<string, string>) {
  for (const [place, text] of Object.entries(where)) {
    for (const [name, secret] of [['PAT', PAT], ['client secret', CLIENT_SECRET], ['Entra token', DEVOPS_TOKEN]]) {
      expect(text.includes(secret!), `${name} found in ${place}`).toBe(false);
      expect(text.includes(Buffer.from(`:${secret}`).toString('base64')), `${name} (base64) found in ${place}`).toBe(false);
    }
  }
}

/**
 * Someone else's app registration whose name starts with ours: az's `--display-name` is a prefix
 * filter (Graph `startswith`, see test/fakes/fake-az-impl.mjs), so it is listed when we look for
 * ours. It must never be taken for ours: no secret appended, not deleted.
 */
const TRAP_APP = { id: 'eeeeeeee-0000-4000-8000-000000000001', appId: 'eeeeeeee-0000-4000-8000-000000000002', displayName: 'azure-mlops-mlops01-pipeline-legacy', passwordCredentials: [{ keyId: 'eeeeeeee-0000-4000-8000-000000000003', displayName: 'theirs' }], federatedCredentials: [] };
const TRAP_SP = { id: 'eeeeeeee-0000-4000-8000-000000000004', appId: TRAP_APP.appId, displayName: TRAP_APP.displayName };
const trapWorld = () => ({ az: { apps: [TRAP_APP], servicePrincipals: [TRAP_SP] } });
function expectTrapUntouched(w: World) {
  const az = w.az.world();
  expect(az.apps.find((a: { appId: string }) => a.appId === TRAP_APP.appId)).toEqual(TRAP_APP);
  expect(az.servicePrincipals.find((s: { appId: string }) => s.appId === TRAP_APP.appId)).toEqual(TRAP_SP);
  expect(w.az.mutatingCalls().filter((c) => c.argv.join(' ').includes(TRAP_APP.appId) || c.argv.join(' ').includes(TRAP_APP.id))).toEqual([]);
}

describe('the packed CLI in the fake world', () => {
  for (const auth of ['federated', 'secret'] as const) {
    it(`init --non-interactive --yes (--auth ${auth}) finishes every step; secrets appear nowhere, even with --verbose; a second run changes nothing; a look-alike app is never touched`, async () => {
      const w = await world(trapWorld());
      const first = await cli(w, ['init', '--non-interactive', '--yes', '--verbose', '--auth', auth, ...w.args]);
      expect(first.code, first.stderr.slice(-2000)).toBe(0);
      const state = JSON.parse(readFileSync(join(w.stateDir, 'state.json'), 'utf8'));
      expect(Object.keys(state.steps).sort()).toEqual(['agent-pool', 'agents', 'azure-login', 'azure-preflight', 'devops-project', 'extension', 'pipeline', 'repository', 'service-connection', 'service-principal', 'ssh-key', 'terraform', 'terraform-backend', 'tools', 'variable-group']);
      expect(Object.values(state.steps).every((s) => (s as { status: string }).status === 'done')).toBe(true);
      const ep = w.devops.world.endpoints.find((e) => e.name === 'AzureMLWorkspace')!;
      expect(ep.authorization.scheme).toBe(auth === 'federated' ? 'WorkloadIdentityFederation' : 'ServicePrincipal');
      // The secrets did reach where they must: the service (PAT in Basic auth; client secret in the endpoint body).
      expect(w.devops.requests.length).toBeGreaterThan(0);
      if (auth === 'secret') expect(JSON.stringify(w.devops.mutating().map((r) => r.body))).toContain(CLIENT_SECRET);
      // federated: the default managed identity, trusted through one ARM federated credential; Entra ID untouched.
      // secret: an app registration (a managed identity cannot have a secret).
      expect(state.answers.pipelineIdentity).toBe(auth === 'federated' ? 'managed-identity' : 'app-registration');
      if (auth === 'federated') {
        expect(ep.authorization.parameters?.serviceprincipalid).toBe(state.outputs.pipeline_identity_client_id);
        expect(w.arm.ficsOf(pipelineIdentityId(SUB)).map((f) => f.properties.subject)).toEqual([ep.authorization.parameters?.workloadIdentityFederationSubject]);
        expect(w.az.calls().filter((c) => c.argv[0] === 'ad')).toEqual([]);
      }

      const mutating = { devops: w.devops.mutating().length, az: w.az.mutatingCalls().length, arm: w.arm.mutatingRequests().length };
      const tfApplies = tfCalls(w.root).filter((c) => c.argv[0] === 'apply').length;
      const second = await cli(w, ['init', '--non-interactive', '--yes', '--verbose', '--auth', auth, ...w.args]);
      expect(second.code, second.stderr.slice(-2000)).toBe(0);
      expect(second.stdout).toContain('Everything is already set up; nothing to do.');
      expect({ devops: w.devops.mutating().length, az: w.az.mutatingCalls().length, arm: w.arm.mutatingRequests().length }).toEqual(mutating);
      expect(tfCalls(w.root).filter((c) => c.argv[0] === 'apply').length).toBe(tfApplies);

      expectNoSecrets(exposure(w, [first.stdout, first.stderr, second.stdout, second.stderr]));
      expectTrapUntouched(w);
      if (auth === 'secret') {
        // Ours is the app named exactly so, created by init; the look-alike stays as it was.
        const ours = w.az.world().apps.filter((a: { displayName: string }) => a.displayName === 'azure-mlops-mlops01-pipeline');
        expect(ours.map((a: { appId: string }) => a.appId)).toEqual([state.data['service-principal'].appId]);
        const gone = await cli(w, ['destroy', '--yes']);
        expect(gone.code, gone.stderr.slice(-2000)).toBe(0);
        expect(w.az.world().apps.map((a: { displayName: string }) => a.displayName)).toEqual([TRAP_APP.displayName]);
        expectTrapUntouched(w);
      }
    });
  }

  it('no PAT anywhere: Azure DevOps and the agents with the az login\'s Microsoft Entra token; a second init changes nothing; doctor checks Azure DevOps; destroy removes everything', async () => {
    const w = await world();
    const env = { ...w.env };
    delete env.AZURE_DEVOPS_EXT_PAT;
    const first = await cli(w, ['init', '--yes', '--verbose', ...w.args], env);
    expect(first.code, first.stderr.slice(-2000)).toBe(0);
    // Every Azure DevOps request carried the Entra token (Bearer), none a PAT (Basic).
    const schemes = new Set(w.devops.requests.map((r) => r.authScheme));
    expect([...schemes]).toEqual(['bearer']);
    // The agents registered with the token, which travelled only in the run command's protected parameters.
    expect(w.devops.world.agents.filter((a) => a.status === 'online')).toHaveLength(4);
    const runCommands = w.arm.requests.filter((r) => r.method === 'PUT' && /\/runCommands\//.test(r.path));
    expect(runCommands).toHaveLength(1);
    const props = (runCommands[0]!.body as { properties: { parameters: Array<{ value: string }>; protectedParameters: Array<{ name: string; value: string }> } }).properties;
    expect(props.protectedParameters).toEqual([{ name: 'AZP_TOKEN', value: DEVOPS_TOKEN }]);
    expect(JSON.stringify(props.parameters)).not.toContain(DEVOPS_TOKEN);

    const mutating = { devops: w.devops.mutating().length, az: w.az.mutatingCalls().length, arm: w.arm.mutatingRequests().length };
    const second = await cli(w, ['init', '--yes', ...w.args], env);
    expect(second.code, second.stderr.slice(-2000)).toBe(0);
    expect({ devops: w.devops.mutating().length, az: w.az.mutatingCalls().length, arm: w.arm.mutatingRequests().length }).toEqual(mutating);

    const doctor = await cli(w, ['doctor', '--json'], env);
    const report = JSON.parse(doctor.stdout);
    expect(doctor.code, doctor.stderr.slice(-2000)).toBe(0);
    const devopsChecks = report.checks.filter((c: { group: string }) => c.group === 'devops');
    expect(devopsChecks.length).toBeGreaterThan(5);
    expect(devopsChecks.filter((c: { status: string }) => c.status === 'skipped' || c.status === 'missing')).toEqual([]);

    const before = exposure(w, [first.stdout, first.stderr, second.stdout, second.stderr, doctor.stdout, doctor.stderr]);
    const destroy = await cli(w, ['destroy', '--yes', '--delete-repo', '--delete-project'], env);
    expect(destroy.code, destroy.stderr.slice(-2000)).toBe(0);
    expect(w.devops.world.agents.filter((a) => a.name.startsWith('vm-mlops01-agents'))).toEqual([]);
    expect(w.devops.world.pools.map((p) => p.name)).not.toContain('pool001');
    expect(w.devops.world.endpoints).toEqual([]);
    expectNoSecrets({ ...before, 'destroy output': `${destroy.stdout}\n${destroy.stderr}` });
  });

  it('an organization that refuses the Entra token: said why and how to fix it, before anything is created (CI: exit 1)', async () => {
    const w = await world({ devops: { bearer: 'a-token-of-another-tenant' } });
    const env = { ...w.env };
    delete env.AZURE_DEVOPS_EXT_PAT;
    const r = await cli(w, ['init', '--yes', ...w.args], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused the Microsoft Entra token of your az login \(HTTP 401\): the organization is not connected to your Microsoft Entra tenant, or your account is not a member of it/);
    expect(r.stderr).toMatch(/fix:.*Organization settings > Microsoft Entra.*Organization settings > Users.*_usersSettings\/tokens/s);
    expect(w.devops.mutating()).toEqual([]);
    expect(w.az.mutatingCalls()).toEqual([]);
    expect(w.arm.mutatingRequests()).toEqual([]);
    // With a PAT it goes on.
    const withPat = await cli(w, ['init', '--yes', ...w.args], { ...env, AZURE_DEVOPS_EXT_PAT: PAT });
    expect(withPat.code, withPat.stderr.slice(-1500)).toBe(0);
  });

  it('errors carry no secret either (a step fails: DevOps keeps answering 500)', async () => {
    const w = await world();
    w.devops.inject({ method: 'POST', path: /serviceendpoint/i, status: 500, times: 100, body: { message: 'boom', typeKey: 'InternalError' } });
    const r = await cli(w, ['init', '--yes', '--verbose', '--auth', 'secret', ...w.args]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/service connection/i);
    expectNoSecrets(exposure(w, [r.stdout, r.stderr]));
    const bad = await cli(w, ['init', '--yes', ...w.args], { ...w.env, AZURE_DEVOPS_EXT_PAT: `${PAT}x` });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/invalid or expired/);
    expect(bad.stdout + bad.stderr).not.toContain(`${PAT}x`);
  });

  it('transient 429 (Retry-After) and 503 at random DevOps requests: the run succeeds and honours Retry-After', async () => {
    const w = await world({ devops: { seed: 42 } });
    w.devops.randomFaults({ rate: 0.12, statuses: [429, 503], retryAfterSeconds: 1 });
    const r = await cli(w, ['init', '--yes', ...w.args]);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    const reqs = w.devops.requests.filter((q) => !q.discovery);
    const throttled = reqs.filter((q) => q.fault === 'random' && q.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    expect(reqs.some((q) => q.fault === 'random' && q.status === 503)).toBe(true);
    for (const t of throttled) {
      const same = (q: typeof t) => q.method === t.method && q.path === t.path && JSON.stringify(q.query) === JSON.stringify(t.query) && JSON.stringify(q.body) === JSON.stringify(t.body);
      const retry = reqs.find((q) => q.seq > t.seq && same(q));
      expect(retry, `${t.method} ${t.path} retried`).toBeTruthy();
      expect(retry!.at - t.at, `${t.method} ${t.path} waited Retry-After`).toBeGreaterThanOrEqual(1000);
    }
  });
});

/** A module directory that is the fixture without some of its files (a fork that lost them). */
function forkWithout(w: World, drop: string[]): string {
  const dir = join(w.root, `fork-${drop.join('-').replace(/\W/g, '')}`);
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(FIXTURE_MODULE)) if (!drop.includes(f)) copyFileSync(join(FIXTURE_MODULE, f), join(dir, f));
  return dir;
}

describe('bad input is refused before anything is created (exit 2, flag and env var named)', () => {
  const cases: Array<[string, (w: World) => string[], RegExp, string, Record<string, string>?]> = [
    ['prefix too long', () => ['--prefix', 'a'.repeat(21)], /--prefix/, 'AZURE_MLOPS_PREFIX'],
    ['prefix uppercase', () => ['--prefix', 'MLOps01'], /--prefix/, 'AZURE_MLOPS_PREFIX'],
    ['prefix with symbols', () => ['--prefix', 'ml-ops!'], /--prefix/, 'AZURE_MLOPS_PREFIX'],
    ['org URL malformed', () => ['--org', 'dev.azure.com/contoso'], /--org/, 'AZURE_MLOPS_ORG'],
    ['org URL with a project', () => ['--org', 'https://dev.azure.com/contoso/mlops'], /--org/, 'AZURE_MLOPS_ORG'],
    ['unknown region', () => ['--location', 'moonbase1'], /--location/, 'AZURE_MLOPS_LOCATION'],
    ['agent count 0', () => ['--agents', '0'], /--agents/, 'AZURE_MLOPS_AGENTS'],
    ['agent count 100', () => ['--agents', '100'], /--agents/, 'AZURE_MLOPS_AGENTS'],
    ['SSH key that is a private key', (w) => { makeKey(w.root, 'k'); return ['--ssh-key', join(w.root, 'k')]; }, /PRIVATE key/, 'AZURE_MLOPS_SSH_KEY'],
    ['SSH key that is garbage', (w) => { writeFileSync(join(w.root, 'g.pub'), 'not a key\n'); return ['--ssh-key', join(w.root, 'g.pub')]; }, /--ssh-key/, 'AZURE_MLOPS_SSH_KEY'],
    ['unreadable config file', (w) => ['--config', join(w.root, 'nope.json')], /Cannot read the config file/, 'AZURE_MLOPS_CONFIG'],
    ['unknown flag', () => ['--prefx', 'abc'], /unknown option '--prefx'/, ''],
    // Entra: no federated credentials on user-assigned managed identities in New Zealand North.
    ['managed identity where it cannot federate', () => ['--location', 'newzealandnorth'], /federated identity credentials on user-assigned managed identities in New Zealand North[\s\S]*--pipeline-identity app-registration/, 'AZURE_MLOPS_PIPELINE_IDENTITY'],
    // --terraform-dir must be a fork of the bundled module: checked before anything is copied or called.
    ['--terraform-dir without a module', (w) => { mkdirSync(join(w.root, 'empty')); return ['--terraform-dir', join(w.root, 'empty')]; }, /--terraform-dir .*empty .*holds no terraform module/, 'AZURE_MLOPS_TERRAFORM_DIR'],
    ['--terraform-dir that does not exist', (w) => ['--terraform-dir', join(w.root, 'nowhere')], /--terraform-dir .*holds no terraform module .*does not exist/, 'AZURE_MLOPS_TERRAFORM_DIR'],
    ['--terraform-dir lacking the outputs', (w) => ['--terraform-dir', forkWithout(w, ['outputs.tf'])], /not a fork of the bundled module: it lacks outputs .*workspace_name/, 'AZURE_MLOPS_TERRAFORM_DIR'],
    ['--terraform-dir lacking the variables', (w) => ['--terraform-dir', forkWithout(w, ['variables.tf'])], /it lacks variables .*num_agents/, 'AZURE_MLOPS_TERRAFORM_DIR'],
    // Integers are decimal digits only.
    ['--agents 0x4', () => ['--agents', '0x4'], /--agents '0x4'.*decimal digits/, 'AZURE_MLOPS_AGENTS'],
    ['--agents 4.0', () => ['--agents', '4.0'], /--agents '4\.0'.*decimal digits/, 'AZURE_MLOPS_AGENTS'],
    ['--agents " 4"', () => ['--agents', ' 4'], /--agents ' 4'.*decimal digits/, 'AZURE_MLOPS_AGENTS'],
    ['--agents 1e1', () => ['--agents', '1e1'], /--agents '1e1'.*decimal digits/, 'AZURE_MLOPS_AGENTS'],
    ['AZURE_MLOPS_AGENTS=0x4', () => [], /--agents .*AZURE_MLOPS_AGENTS.*decimal digits/, 'AZURE_MLOPS_AGENTS', { AZURE_MLOPS_AGENTS: '0x4' }],
    // Names that look like others: bidirectional overrides, zero-width characters.
    ['project with U+202E (right-to-left override)', () => ['--project', 'ml\u202Eops'], /--project .*U\+202E/, 'AZURE_MLOPS_PROJECT'],
    ['project with U+200B (zero-width space)', () => ['--project', 'ml\u200Bops'], /--project .*U\+200B/, 'AZURE_MLOPS_PROJECT'],
    ['project with U+202E from the env', () => [], /--project .*AZURE_MLOPS_PROJECT.*U\+202E/, 'AZURE_MLOPS_PROJECT', { AZURE_MLOPS_PROJECT: 'ml\u202Eops' }],
    ['pool with U+200B', () => ['--pool', 'pool\u200B001'], /--pool .*U\+200B/, 'AZURE_MLOPS_POOL'],
    ['repository with U+2066', () => ['--repo', 'repo\u2066x'], /--repo .*U\+2066/, 'AZURE_MLOPS_REPO'],
    ['service connection with U+202D', () => ['--service-connection', 'Azure\u202DML'], /--service-connection .*U\+202D/, 'AZURE_MLOPS_SERVICE_CONNECTION'],
    ['variable group with U+FEFF', () => ['--variable-group', '\uFEFFvg'], /--variable-group .*U\+FEFF/, 'AZURE_MLOPS_VARIABLE_GROUP'],
    ['sp name with U+202E', () => ['--pipeline-identity', 'app-registration', '--sp-name', 'azure-mlops-\u202Eenilepip'], /--sp-name .*U\+202E/, 'AZURE_MLOPS_SP_NAME'],
    ['prefix with U+200D', () => ['--prefix', 'mlops\u200D01'], /--prefix .*U\+200D/, 'AZURE_MLOPS_PREFIX'],
  ];
  it.each(cases)('%s', async (name, extra, message, envVar, env = {}) => {
    const w = await world();
    // A value from the env: the world's flag for the same answer would win (flag > env), so drop it.
    const shadowed = new Set(Object.keys(env).map((k) => `--${k.replace(/^AZURE_MLOPS_/, '').toLowerCase().replace(/_/g, '-')}`));
    const args = w.args.filter((a, i) => !shadowed.has(a) && !shadowed.has(w.args[i - 1]!));
    const r = await cli(w, ['init', '--yes', ...args, ...extra(w)], { ...w.env, ...env });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    if (envVar) expect(r.stderr).toContain(envVar);
    expect(w.devops.mutating()).toEqual([]);
    expect(w.az.mutatingCalls()).toEqual([]);
    expect(w.arm.mutatingRequests()).toEqual([]);
    expect(tfCalls(w.root).filter((c) => c.argv[0] !== 'version')).toEqual([]);
    // The SSH key is read by its step, after the tools' versions; everything else is refused before
    // anything is copied or called: no outside call at all, no state dir.
    if (name.startsWith('SSH key')) return;
    expect(w.az.calls()).toEqual([]);
    expect(w.devops.requests).toEqual([]);
    expect(w.arm.requests).toEqual([]);
    expect(tfCalls(w.root)).toEqual([]);
    expect(existsSync(w.stateDir)).toBe(false);
  });
});

describe('one deployment per prefix (issue 17)', () => {
  it('a second state dir on a deployed prefix is refused (exit 2, no change anywhere), the first deployment\'s doctor is unchanged, and its own re-run still changes nothing', async () => {
    const w = await world();
    const first = await cli(w, ['init', '--non-interactive', '--yes', ...w.args]);
    expect(first.code, first.stderr.slice(-2000)).toBe(0);
    const id = JSON.parse(readFileSync(join(w.stateDir, 'state.json'), 'utf8')).deploymentId as string;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // terraform tagged both resource groups (the fake ARM shows what the fixture's apply created).
    for (const rg of ['ml', 'devops']) expect(w.arm.world.resources[`/subscriptions/${SUB}/resourcegroups/rg-mlops01-${rg}`]?.tags).toMatchObject({ 'azure-mlops-deployment': id });
    // ...and the Azure DevOps objects that have a description name the deployment.
    expect(w.devops.world.projects.find((p) => p.name === 'mlops')?.description).toContain(`deployment ${id}`);
    expect(w.devops.world.endpoints.find((e) => e.name === 'AzureMLWorkspace')?.description).toContain(`deployment ${id}`);
    expect(w.devops.world.variableGroups.find((g) => g.name === 'devopsforai-aml-vg')?.description).toContain(`deployment ${id}`);

    const doctor = async () => {
      const r = await cli(w, ['doctor', '--json', ...w.args]);
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      return (JSON.parse(r.stdout) as { checks: Array<{ id: string; status: string; finding: string }> }).checks.map((c) => `${c.id}: ${c.status} — ${c.finding}`);
    };
    const before = await doctor();
    expect(before).toContain(`azure.deployment: ok — rg-mlops01-ml and rg-mlops01-devops: this deployment's (${id})`);

    const mutating = () => ({ devops: w.devops.mutating().length, az: w.az.mutatingCalls().length, arm: w.arm.mutatingRequests().length, terraform: tfCalls(w.root).filter((c) => c.argv[0] !== 'version').length });
    const counts = mutating();
    const other = join(w.root, 'elsewhere', '.azure-mlops');
    const second = await cli(w, ['init', '--non-interactive', '--yes', '--state-dir', other, ...w.args]);
    expect(second.code, second.stderr.slice(-2000)).toBe(2);
    expect(second.stderr).toContain(`The prefix 'mlops01' (resource group rg-mlops01-ml) is already deployed by another azure-mlops state dir: it belongs to deployment ${id}`);
    expect(second.stderr).toContain('choose another name with --prefix or AZURE_MLOPS_PREFIX');
    expect(second.stderr).toMatch(/state dir that created it \(--state-dir or AZURE_MLOPS_STATE_DIR\)/);
    expect(second.stderr).toContain('--state-backend azurerm');
    expect(mutating()).toEqual(counts);
    expect(await doctor()).toEqual(before);

    // The state dir that created it goes on as before: nothing to do, nothing changed.
    const again = await cli(w, ['init', '--non-interactive', '--yes', ...w.args]);
    expect(again.code, again.stderr.slice(-2000)).toBe(0);
    expect(again.stdout).toContain('Everything is already set up; nothing to do.');
    expect({ ...mutating(), terraform: 0 }).toEqual({ ...counts, terraform: 0 });
    expect(tfCalls(w.root).filter((c) => c.argv[0] === 'apply')).toHaveLength(1);
    expectNoSecrets(exposure(w, [first.stdout, first.stderr, second.stdout, second.stderr, again.stdout, again.stderr]));
  });
});
