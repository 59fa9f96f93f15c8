import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctorChecks } from '../../src/commands/doctor-checks.js';
import { selectChecks } from '../../src/commands/doctor.js';
import { runChecks, type CheckReport } from '../../src/engine/doctor.js';
import { runSteps } from '../../src/engine/runner.js';
import { buildSteps } from '../../src/steps/index.js';
import { PAT, SUB, pipelineIdentityId, startWorld, worldContext, type World } from '../helpers/world.js';
import { READER } from '../fakes/arm/fake-arm.js';

/**
 * One deployed world (a full init against the fakes), then each check is shown ok, broken (missing
 * with its fix, the checks that need it skipped), and restored.
 */
let w: World;
beforeAll(async () => {
  w = await startWorld();
  const { ctx } = await worldContext(w);
  await runSteps(buildSteps(), ctx, 'apply');
}, 120_000);
afterAll(async () => w?.stop());

async function doctor(flags: Record<string, string> = {}, env: Record<string, string | undefined> = {}): Promise<Map<string, CheckReport>> {
  const { ctx } = await worldContext(w, flags, { nonInteractive: true }, env);
  const r = await runChecks(doctorChecks(ctx), ctx, 20_000);
  return new Map(r.checks.map((c) => [c.id, c]));
}

function expectStatus(r: Map<string, CheckReport>, id: string, status: CheckReport['status'], finding?: RegExp) {
  const c = r.get(id);
  expect(c, id).toBeTruthy();
  expect(`${id}: ${c!.status} — ${c!.finding}`).toBe(`${id}: ${status} — ${c!.finding}`);
  if (finding) expect(c!.finding).toMatch(finding);
  if (status === 'missing') expect(c!.fix, `${id} has a fix`).toBeTruthy();
}

describe('doctor on a deployed world', () => {
  it('everything ok (the pipeline has not run yet: a warning)', async () => {
    const r = await doctor();
    const notOk = [...r.values()].filter((c) => c.status !== 'ok').map((c) => `${c.id}: ${c.status} ${c.finding}`);
    expect(notOk).toEqual([expect.stringMatching(/^devops\.last-run: warning the pipeline has not run yet/)]);
    expect(r.get('devops.agents')?.finding).toMatch(/4 of 4 agents online/);
  });

  it('local: an ssh key missing; an old terraform', async () => {
    const key = join(w.home, '.ssh', 'id_ed25519.pub');
    renameSync(key, `${key}.bak`);
    try {
      expectStatus(await doctor(), 'local.ssh-key', 'missing', /no public key/);
    } finally {
      renameSync(`${key}.bak`, key);
    }
  });

  it('no az on PATH: local.az missing, every Azure check skipped', async () => {
    const r = await doctor({}, { PATH: `${process.execPath.replace(/\/node$/, '')}:/nonexistent` });
    expectStatus(r, 'local.az', 'missing', /not installed/);
    expectStatus(r, 'azure.login', 'skipped', /needs Azure CLI/);
    expectStatus(r, 'azure.quota', 'skipped');
  });

  it('azure: signed out of az — not signed in, with the az login fix; the checks that need Azure skipped', async () => {
    const before = readFileSync(w.az.stateFile, 'utf8');
    writeFileSync(w.az.stateFile, JSON.stringify({ ...JSON.parse(before), loggedIn: false }));
    try {
      const r = await doctor();
      // The pinned subscription is read through ARM, whose token az cannot give: the cause says why.
      expectStatus(r, 'azure.login', 'missing', /^not signed in to Azure$/);
      expect(r.get('azure.login')?.fix).toContain('az login');
      expectStatus(r, 'azure.providers', 'skipped');
    } finally {
      writeFileSync(w.az.stateFile, before);
    }
  });

  it('azure: a disabled subscription; then each preflight finding', async () => {
    const subs = w.arm.world.subscriptions!;
    subs[0]!.state = 'Disabled';
    try {
      const r = await doctor();
      expectStatus(r, 'azure.login', 'missing', /Disabled/);
      expectStatus(r, 'azure.providers', 'skipped');
    } finally {
      subs[0]!.state = 'Enabled';
    }
    const perms = w.arm.world.permissions;
    w.arm.world.permissions = READER;
    try {
      expectStatus(await doctor(), 'azure.role-assignments', 'missing', /role assignments|Owner|User Access Administrator/);
    } finally {
      w.arm.world.permissions = perms;
    }
    w.arm.world.takenNames.registry.push('acrmlops01');
    const resources = { ...w.arm.world.resources };
    for (const k of Object.keys(w.arm.world.resources)) if (/registries\/acrmlops01$/i.test(k)) delete w.arm.world.resources[k];
    try {
      expectStatus(await doctor(), 'azure.names', 'missing', /acrmlops01/);
    } finally {
      w.arm.world.takenNames.registry.pop();
      w.arm.world.resources = resources;
    }
  });

  it('azure: the pipeline managed identity was deleted — the identity and the connection\'s federated credential are missing', async () => {
    const id = pipelineIdentityId(SUB).toLowerCase();
    const saved = { ...w.arm.world.resources };
    for (const k of Object.keys(w.arm.world.resources)) if (k.startsWith(id)) delete w.arm.world.resources[k];
    try {
      const r = await doctor();
      expectStatus(r, 'azure.pipeline-identity', 'missing', /managed identity id-mlops01-pipeline not found in Azure/);
      expect(r.get('azure.pipeline-identity')!.fix).toMatch(/azure-mlops init/);
      expectStatus(r, 'devops.service-connection', 'missing', /managed identity id-mlops01-pipeline does not exist/);
    } finally {
      w.arm.world.resources = saved;
    }
    // Only the federated credential gone.
    const fics = Object.keys(w.arm.world.resources).filter((k) => k.startsWith(`${id}/federatedidentitycredentials/`));
    expect(fics).toHaveLength(1);
    const fic = w.arm.world.resources[fics[0]!]!;
    delete w.arm.world.resources[fics[0]!];
    try {
      expectStatus(await doctor(), 'devops.service-connection', 'missing', /has no federated credential for sc:\/\//);
    } finally {
      w.arm.world.resources[fics[0]!] = fic;
    }
  });

  it('three az processes in all (version, cloud, token): the pipeline identity and its credential are read through ARM', async () => {
    const before = w.az.calls().length;
    const r = await doctor();
    expect([...r.values()].filter((c) => c.status === 'missing')).toEqual([]);
    const launched = w.az.calls().slice(before).map((c) => c.cmd);
    expect(launched.sort()).toEqual(['account get-access-token', 'cloud show', 'version']);
  });

  it('devops: a wrong PAT — the org check fails with the scopes, every DevOps check is skipped', async () => {
    const r = await doctor({}, { AZURE_DEVOPS_EXT_PAT: 'wrongPAT000000000000000000' });
    expectStatus(r, 'devops.org', 'missing', /invalid or expired/);
    expect(r.get('devops.org')!.fix).toMatch(/Agent Pools/);
    for (const id of ['devops.scopes', 'devops.project', 'devops.pool', 'devops.pipeline', 'devops.last-run']) expectStatus(r, id, 'skipped');
  });

  it('devops: a scope the PAT lacks is named', async () => {
    w.devops.inject({ method: 'GET', path: /_apis\/distributedtask\/pools$/i, status: 403, times: 1 });
    expectStatus(await doctor(), 'devops.scopes', 'missing', /Agent Pools \(HTTP 403\)/);
  });

  it('devops: agents offline, extension gone, connection elsewhere, group drifted, permissions revoked', async () => {
    w.devops.setAgentStatus('pool001', 'vm-mlops01-agents-2', 'offline');
    const ext = [...w.devops.world.extensions];
    w.devops.world.extensions.length = 0;
    const ep = w.devops.world.endpoints.find((e) => e.name === 'AzureMLWorkspace')!;
    ep.data!.mlWorkspaceName = 'elsewhere';
    const vg = w.devops.world.variableGroups.find((g) => g.name === 'devopsforai-aml-vg')!;
    const before = vg.variables.RESOURCE_GROUP!.value;
    vg.variables.RESOURCE_GROUP = { value: 'rg-other', isSecret: false };
    try {
      const r = await doctor();
      expectStatus(r, 'devops.agents', 'missing', /3 of 4 agents online/);
      expectStatus(r, 'devops.extension', 'missing');
      expectStatus(r, 'devops.service-connection', 'missing', /points elsewhere: mlWorkspaceName elsewhere/);
      expectStatus(r, 'devops.variable-group', 'missing', /RESOURCE_GROUP=rg-other/);
      expectStatus(r, 'devops.pipeline', 'skipped', /needs/);
    } finally {
      w.devops.setAgentStatus('pool001', 'vm-mlops01-agents-2', 'online');
      w.devops.world.extensions.push(...ext);
      ep.data!.mlWorkspaceName = 'aml-mlops01';
      vg.variables.RESOURCE_GROUP = { value: before, isSecret: false };
    }
    const perm = w.devops.world.permissions.find((p) => p.resourceType === 'variablegroup')!;
    const saved = perm.pipelines;
    perm.pipelines = [];
    try {
      expectStatus(await doctor(), 'devops.pipeline', 'missing', /not authorized for variable group/);
    } finally {
      perm.pipelines = saved;
    }
  });

  it('devops.last-run reads the newest run and its tags: "model not better" is ok, canceled and failed are warnings', async () => {
    const builds = [...w.devops.world.builds];
    try {
      // Older runs do not count: only the newest one is read.
      w.devops.addRun('mlops', 'azdo-ci-build-train', { result: 'failed' });
      const notBetter = w.devops.addRun('mlops', 'azdo-ci-build-train', { result: 'succeeded', tags: ['model-not-better'] });
      let r = await doctor();
      expectStatus(r, 'devops.last-run', 'ok', new RegExp(`^run ${notBetter.id}: succeeded: the new model was not better; nothing deployed — http.*buildId=${notBetter.id}$`));

      const deployed = w.devops.addRun('mlops', 'azdo-ci-build-train', { result: 'succeeded', tags: ['release'] });
      expectStatus(await doctor(), 'devops.last-run', 'ok', new RegExp(`^run ${deployed.id}: succeeded — `));

      // The pipeline never cancels itself: a canceled run is one somebody canceled.
      const canceled = w.devops.addRun('mlops', 'azdo-ci-build-train', { result: 'canceled', tags: ['model-not-better'] });
      r = await doctor();
      expectStatus(r, 'devops.last-run', 'warning', new RegExp(`^run ${canceled.id}: canceled — .*\\(somebody canceled it\\)$`));
      expect(r.get('devops.last-run')!.fix).toMatch(/azure-mlops init --run/);

      w.devops.addRun('mlops', 'azdo-ci-build-train', { result: 'failed', tags: ['model-not-better'] });
      r = await doctor();
      expectStatus(r, 'devops.last-run', 'warning', /: failed — /);
      expect(r.get('devops.last-run')!.fix).toMatch(/failing stage/);
    } finally {
      w.devops.world.builds = builds;
    }
  });

  it('deployment: drift and a missing AKS cluster; no terraform state skips what needs it', async () => {
    expectStatus(await doctor({ agents: '6' }), 'deployment.drift', 'missing', /variables changed/);
    const aksKey = Object.keys(w.arm.world.resources).find((k) => /managedclusters\/aksmlops01$/.test(k) && k.includes('22222222'))!;
    const aks = w.arm.world.resources[aksKey]!;
    delete w.arm.world.resources[aksKey];
    try {
      expectStatus(await doctor(), 'deployment.resources', 'missing', /AKS cluster aksmlops01 not found/);
    } finally {
      w.arm.world.resources[aksKey] = aks;
    }
    const tfstate = join(w.stateDir, 'terraform', 'terraform.tfstate');
    renameSync(tfstate, `${tfstate}.bak`);
    try {
      const r = await doctor();
      expectStatus(r, 'deployment.state', 'missing', /no terraform.tfstate/);
      for (const id of ['deployment.outputs', 'deployment.drift', 'deployment.resources', 'devops.service-connection', 'devops.variable-group']) expectStatus(r, id, 'skipped');
    } finally {
      renameSync(`${tfstate}.bak`, tfstate);
    }
  });

  it('a hanging service marks its checks and never hangs the doctor', async () => {
    w.devops.setLatency(5_000);
    const { ctx } = await worldContext(w, {}, { nonInteractive: true });
    const started = Date.now();
    const r = await runChecks(doctorChecks(ctx), ctx, 1_000);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.checks.find((c) => c.id === 'devops.org')).toMatchObject({ status: 'missing', finding: expect.stringMatching(/did not answer within 1 s/) });
    expect(r.checks.find((c) => c.id === 'local.az')?.status).toBe('ok');
    w.devops.setLatency(0);
  });
});

describe('doctor on a world deployed with --pipeline-identity app-registration', () => {
  it('the app, its service principal and its federated credential are read from Microsoft Entra ID; a deleted app is missing with the fix', async () => {
    const app = await startWorld();
    try {
      const flags = { pipelineIdentity: 'app-registration' };
      await runSteps(buildSteps(), (await worldContext(app, flags)).ctx, 'apply');
      const check = async () => {
        const { ctx } = await worldContext(app, {}, { nonInteractive: true });
        expect(ctx.answers.get('pipelineIdentity')).toBe('app-registration'); // saved by init
        return new Map((await runChecks(doctorChecks(ctx), ctx, 20_000)).checks.map((c) => [c.id, c]));
      };
      const before = app.az.calls().length;
      const r = await check();
      expectStatus(r, 'azure.pipeline-identity', 'ok', /azure-mlops-mlops01-pipeline \(app /);
      expectStatus(r, 'devops.service-connection', 'ok');
      expect(app.az.calls().slice(before).map((c) => c.cmd)).toEqual(expect.arrayContaining(['ad app list', 'ad sp list', 'ad app federated-credential list']));
      const az = app.az.world();
      const saved = JSON.stringify(az);
      az.apps = [];
      az.servicePrincipals = [];
      const { writeFileSync } = await import('node:fs');
      writeFileSync(app.az.stateFile, JSON.stringify(az));
      expectStatus(await check(), 'azure.pipeline-identity', 'missing', /no app registration/);
      writeFileSync(app.az.stateFile, saved);
    } finally {
      await app.stop();
    }
  }, 120_000);
});

describe('doctor in an empty folder (nothing deployed, no answers)', () => {
  it('local and Azure checks run; what needs answers or a deployment is skipped or missing with the fix', async () => {
    const fresh = await startWorld();
    try {
      const { ctx } = await worldContext(fresh, {}, { nonInteractive: true });
      // no answers at all: a doctor run in a new folder
      const empty = await (await import('../helpers/context.js')).testContext({ env: fresh.env, cwd: fresh.cwd, global: { nonInteractive: true, stateDir: join(fresh.cwd, 'nothing') } });
      empty.ctx.arm = ctx.arm;
      const r = new Map((await runChecks(doctorChecks(empty.ctx), empty.ctx, 20_000)).checks.map((c) => [c.id, c]));
      expectStatus(r, 'local.az', 'ok');
      expectStatus(r, 'azure.login', 'ok');
      expectStatus(r, 'azure.quota', 'skipped', /--prefix|answer/);
      // The default managed identity needs nothing before init: terraform creates it.
      expectStatus(r, 'azure.pipeline-identity', 'ok', /terraform creates it \(no Microsoft Entra directory rights needed\)/);
      expectStatus(r, 'devops.org', 'skipped', /--org/);
      expectStatus(r, 'deployment.state', 'missing', /not been applied/);
      expectStatus(r, 'deployment.outputs', 'skipped');
      void PAT;
    } finally {
      await fresh.stop();
    }
  });

  it('--only selects a group and the checks it needs', () => {
    const fake = doctorChecks({} as never);
    const { run, shown } = selectChecks(fake, 'devops');
    expect([...shown].every((id) => id.startsWith('devops.'))).toBe(true);
    expect(run.map((c) => c.id)).toContain('deployment.outputs'); // needed by the connection check
    expect(() => selectChecks(fake, 'kitchen')).toThrow(/Unknown --only group 'kitchen'/);
    expect(existsSync).toBeTruthy();
    void rmSync;
  });
});
