import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { teardown } from '../../src/engine/teardown.js';
import { buildSteps } from '../../src/steps/index.js';
import { CancelledError } from '../../src/engine/errors.js';
import { EXTENSION } from '../../src/steps/extension.js';
import { PIPELINE_NAME } from '../../src/steps/pipeline.js';
import { tfCalls } from '../fakes/fake-terraform.js';
import { runCli } from '../helpers/cli.js';
import { PAT, PREFIX, SUB, pipelineIdentityId, startWorld, type World } from '../helpers/world.js';
import { ALL_FLAGS, destroyContext, EVERYTHING, leftovers, preExistingProblems, preExistingWorld, readState, SP_NAME, tfResources } from './helpers.js';

const worlds: World[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(worlds.splice(0).map((w) => w.stop()));
});

/** The seed's identity model, where destroy deletes (or keeps) an app registration. */
const APP = ['--pipeline-identity', 'app-registration'];

async function initWorld(opts: Parameters<typeof startWorld>[0] = {}, extraArgs: string[] = []): Promise<World> {
  const w = await startWorld(opts);
  worlds.push(w);
  const r = await runCli(['init', '--yes', ...w.args, ...extraArgs], { env: w.env, cwd: w.cwd });
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return w;
}

describe('azure-mlops destroy after a full init', () => {
  it('deletes everything init created, in reverse order; project and repository only with their flags; a re-run finishes', async () => {
    const w = await initWorld();
    const created = readState(w).resources as Array<{ kind: string; name: string; createdByUs: boolean }>;
    expect(created.filter((r) => r.createdByUs).map((r) => r.kind).sort()).toEqual(
      [...['agent', 'agent', 'agent', 'agent'], 'agent-pool', 'agent-queue', 'devops-extension', 'devops-project', 'federated-credential', 'pipeline', 'service-connection', 'terraform-deployment', 'variable-group'].sort(),
    );
    expect(tfResources(w)).toHaveLength(10); // with the pipeline's managed identity

    // Without the flags: the project and the repository (which came with it) are kept, and said why.
    const first = await runCli(['destroy', '--yes', '--json'], { env: w.env, cwd: w.cwd });
    expect(first.code, first.stderr).toBe(0);
    const doc = JSON.parse(first.stdout);
    expect(doc).toMatchObject({ command: 'destroy', ok: true, dryRun: false });
    expect(doc.removed.map((r: { kind: string }) => r.kind)).toEqual([
      'pipeline',
      'variable-group',
      'service-connection',
      'federated-credential',
      // the VM's agents, by their recorded ids, before terraform destroys the VM
      'agent',
      'agent',
      'agent',
      'agent',
      'terraform-deployment',
      'agent-queue',
      'agent-pool',
    ]);
    const kept = Object.fromEntries(doc.kept.map((k: { kind: string; reason: string }) => [k.kind, k.reason]));
    expect(kept['devops-project']).toContain('--delete-project');
    expect(kept.repository).toContain('--delete-repo');
    expect(kept['devops-extension']).toMatch(/organization-wide/);
    expect(first.stderr).toContain('terraform plan: 0 to add, 0 to change, 10 to destroy');
    expect(first.stderr).toMatch(/destroyed terraform_data\.aks/);
    // The connection's federated credential on the managed identity went through ARM (terraform then
    // deletes the identity); Microsoft Entra ID was never touched, by init or destroy.
    expect(w.arm.calls('DELETE', /\/userAssignedIdentities\/id-mlops01-pipeline\/federatedIdentityCredentials\/azure-mlops-/)).toHaveLength(1);
    expect(w.arm.ficsOf(pipelineIdentityId(SUB))).toEqual([]);
    expect(w.az.calls().filter((c) => c.argv[0] === 'ad')).toEqual([]);
    const d = w.devops.world;
    expect(d.definitions.filter((x) => x.name === PIPELINE_NAME)).toEqual([]);
    expect(d.variableGroups).toEqual([]);
    expect(d.endpoints).toEqual([]);
    expect(d.pools.map((p) => p.name)).not.toContain('pool001');
    expect(d.agents.filter((a) => a.name.startsWith(`vm-${PREFIX}-agents`))).toEqual([]);
    expect(w.az.world().apps).toEqual([]);
    expect(w.az.world().servicePrincipals).toEqual([]);
    expect(tfResources(w)).toEqual([]);
    expect(d.projects.find((p) => p.name === 'mlops')?.state).toBe('wellFormed');
    expect(d.extensions.some((e) => e.publisherId === EXTENSION.publisher)).toBe(true);

    let st = readState(w);
    expect(st.outputs).toEqual({});
    for (const s of ['terraform', 'agents', 'pipeline', 'variable-group', 'service-connection', 'service-principal', 'agent-pool']) {
      expect(st.steps[s], s).toBeUndefined();
      expect(st.data[s], s).toBeUndefined();
    }
    expect(st.steps['devops-project']?.status).toBe('done');
    expect(st.data.destroy).toMatchObject({ status: 'done', left: [] });
    expect(st.history.filter((h: { event: string }) => h.event === 'destroyed').map((h: { detail: string }) => h.detail.split(' ')[0])).toEqual(doc.removed.map((r: { kind: string }) => r.kind));

    // Again with the flags: the repository, then the project.
    const second = await runCli(['destroy', '--yes', ...ALL_FLAGS], { env: w.env, cwd: w.cwd });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/deleted: repository 'mlops'[\s\S]*deleted: Azure DevOps project 'mlops'/);
    expect(leftovers(w)).toEqual([]);
    st = readState(w);
    expect(st.resources.map((r: { kind: string }) => r.kind)).toEqual(['devops-extension']);
    expect(st.data.destroy.removed.map((r: { kind: string }) => r.kind)).toEqual(['repository', 'devops-project']);
    expect(st.data.destroy.removed.every((r: { at: string }) => !Number.isNaN(Date.parse(r.at)))).toBe(true);
    // No secret anywhere in the state dir's record or in the output.
    expect(readFileSync(join(w.stateDir, 'state.json'), 'utf8') + first.stdout + first.stderr + second.stdout + second.stderr).not.toContain(PAT);

    // Nothing left: a third run changes nothing.
    const before = { az: w.az.mutatingCalls().length, devops: w.devops.mutating().length };
    const third = await runCli(['destroy', '--yes', ...ALL_FLAGS], { env: w.env, cwd: w.cwd });
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout).toContain('Nothing left to delete');
    expect({ az: w.az.mutatingCalls().length, devops: w.devops.mutating().length }).toEqual(before);

    // The state dir stays usable: init builds the deployment again from it.
    const reinit = await runCli(['init', '--yes'], { env: w.env, cwd: w.cwd });
    expect(reinit.code, reinit.stdout + reinit.stderr).toBe(0);
    expect(tfResources(w)).toHaveLength(10);
    expect(readState(w).resources.filter((r: { createdByUs: boolean }) => r.createdByUs).map((r: { kind: string }) => r.kind)).toEqual(expect.arrayContaining(['pipeline', 'federated-credential', 'devops-project', 'agent-pool']));
  }, 90_000);

  it('keeps what existed before — project, pool with another agent, repository with commits, the user\'s app — with no mutating call on them', async () => {
    const { w, theirs } = await preExistingWorld();
    worlds.push(w);
    const init = await runCli(['init', '--yes', ...w.args, '--push-to', 'azure-mlops', ...APP], { env: w.env, cwd: w.cwd });
    expect(init.code, init.stdout + init.stderr).toBe(0);
    // Found by steps that had work to do: recorded as not ours; the others left only their step data.
    const found = (readState(w).resources as Array<{ kind: string; createdByUs: boolean }>).filter((r) => !r.createdByUs).map((r) => r.kind).sort();
    expect(found).toEqual(['agent-pool', 'repository']);
    expect(w.devops.world.agents.filter((a) => a.poolId === theirs.poolId)).toHaveLength(5);
    const fromRequest = w.devops.requests.length;
    const fromAz = w.az.calls().length;

    const r = await runCli(['destroy', '--yes', '--json', ...ALL_FLAGS], { env: w.env, cwd: w.cwd });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    const keptKinds = doc.kept.filter((k: { reason: string }) => /existed before/.test(k.reason)).map((k: { kind: string }) => k.kind).sort();
    expect(keptKinds).toEqual(['agent-pool', 'devops-project', 'entra-app', 'entra-sp', 'repository']);
    expect(doc.kept.find((k: { kind: string }) => k.kind === 'repository').reason).toContain("branch 'azure-mlops'");
    expect(doc.removed.map((x: { kind: string }) => x.kind)).toEqual(['pipeline', 'variable-group', 'service-connection', 'federated-credential', 'agent', 'agent', 'agent', 'agent', 'terraform-deployment', 'agent-queue']);

    // What init created is gone; what existed is still there, unchanged.
    expect(preExistingProblems(w, theirs)).toEqual([]);
    expect(Object.keys(w.devops.files('mlops', 'mlops', 'azure-mlops'))).toContain('/devops_pipelines/azdo-ci-build-train.yml');

    // The request logs: no mutating call addresses them. (Deleting our queue in their project and
    // the VM's agents in their pool are calls on our objects, counted separately.)
    const mutating = w.devops.requests.slice(fromRequest).filter((q) => q.method !== 'GET');
    const onTheirs = mutating.filter(
      (q) =>
        new RegExp(`/_apis/projects/(${theirs.projectId}|mlops)(/|$)`, 'i').test(q.path) ||
        new RegExp(`/distributedtask/pools/${theirs.poolId}/?$`, 'i').test(q.path) ||
        new RegExp(`/agents/${theirs.agentId}$`).test(q.path) ||
        q.path.toLowerCase().includes(`/git/repositories/${theirs.repoId}`),
    );
    expect(onTheirs.map((q) => `${q.method} ${q.path}`)).toEqual([]);
    expect(mutating.filter((q) => /\/agents\/\d+$/.test(q.path))).toHaveLength(4);
    // On the user's app: only the federated credential init added was removed; never the app, its SP or its secrets.
    const azMut = w.az.calls().slice(fromAz).filter((c) => c.mutating);
    expect(azMut.map((c) => c.cmd)).toEqual(['ad app federated-credential delete']);
    const ficArg = azMut[0]!.argv[azMut[0]!.argv.indexOf('--federated-credential-id') + 1];
    expect(ficArg).not.toBe(theirs.fic.id);
    expect(readState(w).resources.filter((x: { createdByUs: boolean }) => !x.createdByUs).map((x: { kind: string }) => x.kind).sort()).toEqual(found);
  }, 90_000);
});

describe('records of creates that were interrupted (intent written, id not yet known)', () => {
  it('finds those objects by name and deletes them; an intent whose object never came to be is just forgotten', async () => {
    const w = await initWorld({}, APP);
    const file = join(w.stateDir, 'state.json');
    const st = JSON.parse(readFileSync(file, 'utf8'));
    for (const r of st.resources) {
      if (['pipeline', 'entra-app', 'agent-pool'].includes(r.kind)) {
        r.id = '';
        r.meta = { ...r.meta, pending: 'true' };
      }
    }
    st.resources.push({ kind: 'service-connection', name: 'NeverCreated', id: '', createdByUs: true, step: 'service-connection', at: new Date().toISOString(), meta: { project: 'mlops', pending: 'true' } });
    writeFileSync(file, JSON.stringify(st));

    const dry = await runCli(['destroy', '--dry-run'], { env: w.env, cwd: w.cwd });
    expect(dry.stdout).toMatch(/pipeline 'azdo-ci-build-train' — .*its create was interrupted: found by name when deleting/);
    const r = await runCli(['destroy', '--yes', '--json', ...ALL_FLAGS], { env: w.env, cwd: w.cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("never created (only its record is forgotten): service connection 'NeverCreated'");
    const doc = JSON.parse(r.stdout);
    expect(doc.removed.map((x: { name: string }) => x.name)).not.toContain('NeverCreated');
    expect(readState(w).history.map((h: { event: string; detail: string }) => `${h.event} ${h.detail}`)).toContain('forgotten service-connection NeverCreated: its create was interrupted before it happened');
    expect(doc.removed.find((x: { kind: string }) => x.kind === 'pipeline').id).toMatch(/^\d+$/);
    expect(doc.removed.find((x: { kind: string }) => x.kind === 'entra-app').id).toMatch(/^[0-9a-f-]{36}$/);
    expect(leftovers(w)).toEqual([]);
    expect(readState(w).resources.map((x: { kind: string }) => x.kind)).toEqual(['devops-extension']);
  }, 60_000);
});

describe('refusals, dry run and the confirmation', () => {
  it('without --yes in CI: exit 2 naming --yes, nothing deleted; --dry-run prints the list and changes nothing; a wrong prefix cancels (130); a failure exits 1 saying what is left; the right prefix finishes', async () => {
    const w = await initWorld({}, APP);
    const stateFile = join(w.stateDir, 'state.json');
    const stateBefore = readFileSync(stateFile, 'utf8');
    const mutations = () => ({ az: w.az.mutatingCalls().length, devops: w.devops.mutating().length });
    const before = mutations();
    const tfBefore = tfCalls(w.root).length;

    const refused = await runCli(['destroy', ...ALL_FLAGS], { env: w.env, cwd: w.cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect(refused.stderr).toContain('nothing was deleted');
    expect(mutations()).toEqual(before);
    expect(tfCalls(w.root).length).toBe(tfBefore);
    expect(readFileSync(stateFile, 'utf8')).toBe(stateBefore);

    const dry = await runCli(['destroy', '--dry-run', ...ALL_FLAGS], { env: w.env, cwd: w.cwd });
    expect(dry.code, dry.stderr).toBe(0);
    for (const s of ["pipeline 'azdo-ci-build-train'", "variable group 'devopsforai-aml-vg'", "service connection 'AzureMLWorkspace'", 'federated credential', "repository 'mlops'", 'terraform deployment', '9 to destroy', 'terraform_data.aks', `app registration '${SP_NAME}'`, "agent queue 'pool001'", "agent pool 'pool001'", "Azure DevOps project 'mlops'"]) {
      expect(dry.stdout).toContain(s);
    }
    expect(dry.stdout).toMatch(/= keep\s+Azure DevOps extension/);
    expect(dry.stdout).toContain('Dry run: nothing was changed');
    // Nothing is destroyed, and nothing is asked: a dry run's words say so.
    expect(dry.stdout).toContain('- terraform_data.aks (would be destroyed)');
    expect(dry.stderr).toContain('This plan would destroy or replace 9 resource(s).');
    expect(dry.stdout + dry.stderr).not.toMatch(/\(destroyed\)|before you confirm/);
    expect(mutations()).toEqual(before);
    expect(readFileSync(stateFile, 'utf8')).toBe(stateBefore);
    expect(existsSync(join(w.stateDir, 'terraform', 'tfplan-destroy'))).toBe(false);
    expect(tfCalls(w.root).slice(tfBefore).map((c) => c.argv[0])).toEqual(['plan', 'show']);
    expect(tfCalls(w.root).slice(tfBefore)[0]!.argv).toContain('-lock=false');
    expect(tfResources(w)).toHaveLength(9);

    const json = await runCli(['destroy', '--dry-run', '--json'], { env: w.env, cwd: w.cwd });
    const plan = JSON.parse(json.stdout);
    expect(plan).toMatchObject({ command: 'destroy', dryRun: true, ok: true, removed: [] });
    expect(plan.plan.filter((p: { action: string }) => p.action === 'delete').map((p: { kind: string }) => p.kind)).toEqual([
      'pipeline',
      'variable-group',
      'service-connection',
      'federated-credential',
      'agent',
      'agent',
      'agent',
      'agent',
      'terraform-deployment',
      'agent-queue',
      'agent-pool',
      // the reverse of the steps' order: the pipeline identity (step 4) goes last
      'entra-app',
    ]);
    expect(plan.terraform.destroy).toHaveLength(9);

    // Interactive: the prefix must be typed exactly.
    const { ctx } = await destroyContext(w);
    ctx.run.yes = false;
    ctx.run.interactive = true;
    ctx.ui.input = vi.fn(async () => 'mlops02');
    await expect(teardown(ctx, buildSteps(), EVERYTHING)).rejects.toBeInstanceOf(CancelledError);
    expect(ctx.ui.input).toHaveBeenCalledWith(expect.stringContaining(`Type the prefix '${PREFIX}'`));
    expect(mutations()).toEqual(before);
    expect(readState(w).resources).toEqual(JSON.parse(stateBefore).resources);

    // A failure: exit 1 naming the object and the fix; --json says what was removed and what is left.
    const failing = await runCli(['destroy', '--yes', '--json', ...ALL_FLAGS], { env: { ...w.env, FAKE_AZ_FAIL_AT: String(w.az.calls().length + 1) }, cwd: w.cwd });
    expect(failing.code, failing.stderr).toBe(1);
    expect(failing.stderr).toMatch(/Could not delete federated credential 'azure-mlops-[^']+' \([^)]+\): az ad app federated-credential failed: \(InternalServerError\) injected fault/);
    expect(failing.stderr).toContain('Re-run `azure-mlops destroy` to finish');
    const failed = JSON.parse(failing.stdout);
    expect(failed).toMatchObject({ command: 'destroy', ok: false, failed: { kind: 'federated-credential' } });
    expect(failed.removed.map((x: { kind: string }) => x.kind)).toEqual(['pipeline', 'repository', 'variable-group', 'service-connection']);
    expect(failed.left.map((x: { kind: string }) => x.kind)).toEqual(['federated-credential', 'agent', 'agent', 'agent', 'agent', 'terraform-deployment', 'agent-queue', 'agent-pool', 'devops-project', 'entra-app']);
    expect(readState(w).data.destroy).toMatchObject({ status: 'incomplete', error: expect.stringContaining('federated credential') });

    // Interactive, the right prefix: the rest is deleted.
    const { ctx: ok } = await destroyContext(w);
    ok.run.yes = false;
    ok.run.interactive = true;
    ok.ui.input = vi.fn(async () => ` ${PREFIX} `);
    const report = await teardown(ok, buildSteps(), EVERYTHING);
    expect(report.ok).toBe(true);
    expect(leftovers(w)).toEqual([]);
  }, 90_000);

  it('nothing recorded: says so and exits 0, creating nothing', async () => {
    const w = await startWorld();
    worlds.push(w);
    const r = await runCli(['destroy', '--yes'], { env: w.env, cwd: w.cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('records nothing that azure-mlops created');
    expect(existsSync(w.stateDir)).toBe(false);
    expect(w.az.calls()).toEqual([]);
    expect(w.devops.requests).toEqual([]);
  });

  it('the terraform state storage (--state-backend azurerm) only with --delete-state-backend, and only what init created', async () => {
    const sub = '22222222-2222-2222-2222-222222222222';
    const w = await startWorld({
      az: {
        groups: [{ id: `/subscriptions/${sub}/resourceGroups/rg-${PREFIX}-tfstate`, name: `rg-${PREFIX}-tfstate`, location: 'westeurope', properties: { provisioningState: 'Succeeded' }, tags: {} }],
        storageAccounts: [{ id: 'x', name: `sttf${PREFIX}`, resourceGroup: `rg-${PREFIX}-tfstate`, versioning: true, containers: ['tfstate'] }],
      },
    });
    worlds.push(w);
    // The state init leaves with --state-backend azurerm, once terraform is destroyed.
    const { ctx } = await destroyContext(w);
    await ctx.state.setAnswers({ prefix: PREFIX, location: 'westeurope', stateBackend: 'azurerm' });
    await ctx.state.setStepData('azure-login', { subscriptionId: sub });
    await ctx.state.recordResource({ kind: 'tfstate-resource-group', name: `rg-${PREFIX}-tfstate`, id: `/subscriptions/${sub}/resourceGroups/rg-${PREFIX}-tfstate`, createdByUs: true, step: 'terraform-backend' });
    await ctx.state.recordResource({ kind: 'tfstate-storage-account', name: `sttf${PREFIX}`, id: 'x', createdByUs: true, step: 'terraform-backend', meta: { resourceGroup: `rg-${PREFIX}-tfstate` } });
    await ctx.state.markStep('terraform-backend', 'done');

    const kept = await runCli(['destroy', '--yes', '--json'], { env: w.env, cwd: w.cwd });
    expect(kept.code, kept.stderr).toBe(0);
    expect(JSON.parse(kept.stdout).kept.map((k: { reason: string }) => k.reason)).toEqual([expect.stringContaining('--delete-state-backend'), expect.stringContaining('--delete-state-backend')]);
    expect(w.az.mutatingCalls()).toEqual([]);

    const gone = await runCli(['destroy', '--yes', '--delete-state-backend'], { env: w.env, cwd: w.cwd });
    expect(gone.code, gone.stderr).toBe(0);
    expect(w.az.mutatingCalls().map((c) => c.argv.join(' '))).toEqual([`group delete --name rg-${PREFIX}-tfstate --yes --subscription ${sub} -o json --only-show-errors`]);
    expect(w.az.world().groups).toEqual([]);
    expect(w.az.world().storageAccounts).toEqual([]);
    const st = readState(w);
    expect(st.resources).toEqual([]);
    expect(st.steps['terraform-backend']).toBeUndefined();
  });
});
