// build definitions, builds, timeline, pipelines, runs and pipelinePermissions, via the real
// BuildApi / PipelinesApi and the connection's rest client (pipelinePermissions has no client).
import { readdirSync, readFileSync } from 'node:fs';
import { BuildResult, BuildStatus, IssueType, TaskResult, TimelineRecordState, type BuildDefinition } from 'azure-devops-node-api/interfaces/BuildInterfaces.js';
import { ConfigurationType, RepositoryType, RunResult, RunState, type CreatePipelineParameters } from 'azure-devops-node-api/interfaces/PipelinesInterfaces.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Build } from '../fakes/devops/types.js';
import { rejection, startFake, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.fake.stop();
  h = undefined;
});

const PERMS = { acceptHeader: 'application/json;api-version=7.1-preview.1' };

// A pipeline shaped like devops_pipelines/: a variables template, a variable group, a job template
// with a compile-time pool parameter and a service connection taken from the group at run time.
const YAML = {
  '/pipelines/ci.yml': `trigger: none
variables:
  - template: vars.yml
  - group: devopsforai-aml-vg
stages:
  - stage: ModelCI
    jobs:
      - template: ci-job.yml
        parameters:
          poolName: \${{ variables.POOL_NAME }}
  - stage: Train
    displayName: Train and evaluate
    jobs:
      - job: Train
        pool:
          name: \${{ variables.POOL_NAME }}
        steps:
          - task: AzureCLI@2
            name: TrainModel
            inputs:
              azureSubscription: $(WORKSPACE_SVC_CONNECTION)
              scriptType: bash
              scriptLocation: inlineScript
              inlineScript: az ml job create --file aml/pipeline-job.yml
`,
  '/pipelines/vars.yml': `variables:
  - name: POOL_NAME
    value: pool001
`,
  '/pipelines/ci-job.yml': `parameters:
  - name: poolName
    type: string
jobs:
  - job: LintAndTest
    pool:
      name: \${{ parameters.poolName }}
    steps:
      - script: python -m pytest
`,
};

function pipelineParams(repoId: string, name = 'azdo-ci-build-train', path = '/pipelines/ci.yml'): CreatePipelineParameters {
  return {
    name,
    folder: '\\',
    configuration: { type: ConfigurationType.Yaml, path, repository: { id: repoId, type: RepositoryType.AzureReposGit } } as CreatePipelineParameters['configuration'],
  };
}

interface PermissionsJson {
  resource: { type: string; id: string };
  pipelines: Array<{ id: number; authorized: boolean; authorizedBy: { id: string }; authorizedOn: string }>;
  allPipelines?: { authorized: boolean };
}

describe('build definitions', () => {
  it('create, find by name, duplicate 400 DefinitionExistsException, 404 -> null, update needs the current revision, delete', async () => {
    h = await startFake();
    h.fake.addProject('mlops');
    const repo = h.fake.addRepo('mlops', 'code', YAML);
    const build = await h.api.getBuildApi();
    const def: BuildDefinition = {
      name: 'train',
      process: { type: 2, yamlFilename: '/pipelines/ci.yml' } as BuildDefinition['process'],
      repository: { id: repo.id, type: 'TfsGit', name: 'code', defaultBranch: 'refs/heads/main' },
    };
    const created = await build.createDefinition(def, 'mlops');
    expect(created).toMatchObject({ name: 'train', revision: 1, path: '\\', process: { type: 2, yamlFilename: '/pipelines/ci.yml' }, repository: { id: repo.id, type: 'TfsGit' } });
    expect(created.queue?.name).toBe('Azure Pipelines');
    expect((await build.getDefinitions('mlops', 'train')).map((d) => d.id)).toEqual([created.id]);
    const dup = await rejection(build.createDefinition(def, 'mlops'));
    expect(dup.statusCode).toBe(400);
    expect(dup.result?.typeKey).toBe('DefinitionExistsException');
    const noProcess = await rejection(build.createDefinition({ name: 'x', repository: def.repository }, 'mlops'));
    expect(noProcess.message).toBe('Value cannot be null.\r\nParameter name: definition.Process');
    expect(await build.getDefinition('mlops', 999)).toBeNull();
    const updated = await build.updateDefinition({ ...created, name: 'train-v2' }, 'mlops', created.id ?? 0);
    expect(updated.revision).toBe(2);
    // a stale revision reads as "not found" on the service: the PUT gets 404 and the library null
    expect(await build.updateDefinition({ ...created, name: 'stale' }, 'mlops', created.id ?? 0)).toBeNull();
    await build.deleteDefinition('mlops', created.id ?? 0);
    expect(await build.getDefinitions('mlops')).toEqual([]);
  });
});

describe('pipelines, runs and pipeline permissions', () => {
  it('createPipeline (yaml = 1, azureReposGit = 2), list, get, duplicate 409 PipelineExistsException, 404 -> null', async () => {
    h = await startFake();
    h.fake.addProject('mlops');
    const repo = h.fake.addRepo('mlops', 'code', YAML);
    const pipelines = await h.api.getPipelinesApi();
    const created = await pipelines.createPipeline(pipelineParams(repo.id), 'mlops');
    expect(h.fake.requests.at(-1)?.body).toMatchObject({ configuration: { type: 1, repository: { type: 2 } } });
    expect(created).toMatchObject({ name: 'azdo-ci-build-train', folder: '\\', revision: 1 });
    // configuration.type is mapped to the enum; configuration.repository.type is not (no type info)
    expect(created.configuration?.type).toBe(ConfigurationType.Yaml);
    expect((created.configuration as unknown as { repository: { type: unknown } }).repository.type).toBe('azureReposGit');
    expect((await pipelines.listPipelines('mlops')).map((p) => p.id)).toEqual([created.id]);
    expect((await pipelines.getPipeline('mlops', created.id ?? 0)).name).toBe('azdo-ci-build-train');
    expect(await pipelines.getPipeline('mlops', 999)).toBeNull();
    const dup = await rejection(pipelines.createPipeline(pipelineParams(repo.id), 'mlops'));
    expect(dup.statusCode).toBe(409);
    expect(dup.result?.typeKey).toBe('PipelineExistsException');
    // it is a build definition too (same id)
    expect((await (await h.api.getBuildApi()).getDefinition('mlops', created.id ?? 0)).process).toMatchObject({ type: 2, yamlFilename: '/pipelines/ci.yml' });
  });

  it('a run whose pool, variable group and service connection are not authorized ends failed with the service message', async () => {
    h = await startFake();
    const p = h.fake.addProject('mlops');
    const repo = h.fake.addRepo('mlops', 'code', YAML);
    h.fake.addPool('pool001', [{ name: 'agent-1', status: 'online' }]);
    h.fake.addQueue('mlops', 'pool001');
    h.fake.addVariableGroup('mlops', 'devopsforai-aml-vg', { WORKSPACE_SVC_CONNECTION: 'AzureMLWorkspace' });
    h.fake.addEndpoint('mlops', { name: 'AzureMLWorkspace' });
    const pipelines = await h.api.getPipelinesApi();
    const pipeline = await pipelines.createPipeline(pipelineParams(repo.id), 'mlops');
    const run = await pipelines.runPipeline({}, 'mlops', pipeline.id ?? 0);
    expect(run).toMatchObject({ state: RunState.Completed, result: RunResult.Failed });
    const b = await (await h.api.getBuildApi()).getBuild('mlops', run.id ?? 0);
    const message = b.validationResults?.[0]?.message ?? '';
    expect(message).toMatch(/^There was a resource authorization issue: "The pipeline is not valid\./);
    expect(message).toContain('Job LintAndTest: Could not find a pool with name pool001.');
    expect(message).toContain('Variable group devopsforai-aml-vg could not be found.');
    expect(message).toContain('Job Train: Step TrainModel input azureSubscription references service connection AzureMLWorkspace which could not be found.');
    expect(p.state).toBe('wellFormed');
  });

  it('authorize each resource with PATCH pipelinePermissions, then the run goes inProgress -> completed succeeded', async () => {
    h = await startFake({ runCompleteAfterPolls: 1 });
    h.fake.addProject('mlops');
    const repo = h.fake.addRepo('mlops', 'code', YAML);
    const { fake, api } = h;
    fake.addPool('pool001');
    const group = fake.addVariableGroup('mlops', 'devopsforai-aml-vg', { WORKSPACE_SVC_CONNECTION: 'AzureMLWorkspace' });
    const endpoint = fake.addEndpoint('mlops', { name: 'AzureMLWorkspace' });
    const ta = await api.getTaskAgentApi();
    const pool = (await ta.getAgentPools('pool001'))[0];
    const queue = await ta.addAgentQueue({ name: 'pool001', pool: { id: pool?.id } }, 'mlops', false);
    const pipelines = await api.getPipelinesApi();
    const pipeline = await pipelines.createPipeline(pipelineParams(repo.id), 'mlops');
    const base = `${fake.orgUrl}/mlops/_apis/pipelines/pipelinePermissions`;
    // the pool id is not the queue id: authorizing the pool id is a 404
    const wrong = await api.rest.update(`${base}/queue/${pool?.id ?? 0}`, { pipelines: [{ id: pipeline.id, authorized: true }] }, PERMS);
    expect(wrong.statusCode).toBe(404);
    for (const [type, id] of [['queue', queue.id], ['endpoint', endpoint.id], ['variablegroup', group.id]] as const) {
      const res = await api.rest.update<PermissionsJson>(`${base}/${type}/${String(id)}`, { pipelines: [{ id: pipeline.id, authorized: true }] }, PERMS);
      expect(res.statusCode).toBe(200);
      expect(res.result).toMatchObject({ resource: { type, id: String(id) }, pipelines: [{ id: pipeline.id, authorized: true, authorizedBy: { id: fake.world.user.id } }] });
    }
    const read = await api.rest.get<PermissionsJson>(`${base}/queue/${queue.id ?? 0}`, PERMS);
    expect(read.result?.pipelines.map((x) => x.id)).toEqual([pipeline.id]);
    expect(read.result?.allPipelines).toBeUndefined();
    // no agent online yet: the run waits
    const run = await pipelines.runPipeline({ resources: { repositories: { self: { refName: 'refs/heads/main' } } } }, 'mlops', pipeline.id ?? 0);
    expect(run.state).toBe(RunState.InProgress);
    expect(run._links?.web?.href).toBe(`${fake.orgUrl}/mlops/_build/results?buildId=${run.id ?? 0}`);
    expect(run.resources?.repositories?.['self']?.refName).toBe('refs/heads/main');
    expect((await pipelines.getRun('mlops', pipeline.id ?? 0, run.id ?? 0)).state).toBe(RunState.InProgress);
    const build = await api.getBuildApi();
    const waiting = await build.getBuildTimeline('mlops', run.id ?? 0);
    const job = waiting.records?.find((r) => r.type === 'Job');
    expect(job?.state).toBe(TimelineRecordState.Pending);
    expect(job?.issues?.[0]?.message).toContain('No agent found in pool pool001');
    // the VM's agent registers: the run starts, then completes after runCompleteAfterPolls GETs
    fake.addAgent('pool001', { name: 'vm-agent-1', status: 'online' });
    const states: Array<[RunState | undefined, RunResult | undefined]> = [];
    for (let i = 0; i < 2; i++) {
      const r = await pipelines.getRun('mlops', pipeline.id ?? 0, run.id ?? 0);
      states.push([r.state, r.result]);
    }
    expect(states).toEqual([
      [RunState.InProgress, undefined],
      [RunState.Completed, RunResult.Succeeded],
    ]);
    const done = await build.getBuild('mlops', run.id ?? 0);
    expect(done).toMatchObject({ status: BuildStatus.Completed, result: BuildResult.Succeeded, sourceBranch: 'refs/heads/main' });
    const timeline = await build.getBuildTimeline('mlops', run.id ?? 0);
    expect(timeline.records?.filter((r) => r.type === 'Stage').map((r) => [r.identifier, r.name, r.state])).toEqual([
      ['ModelCI', 'ModelCI', TimelineRecordState.Completed],
      ['Train', 'Train and evaluate', TimelineRecordState.Completed],
    ]);
    expect(timeline.records?.find((r) => r.type === 'Job' && r.name === 'Train')?.workerName).toBe('vm-agent-1');
    expect((await pipelines.listRuns('mlops', pipeline.id ?? 0)).map((r) => r.id)).toEqual([run.id]);
    expect((await build.getBuilds('mlops', [pipeline.id ?? 0])).map((b) => b.id)).toEqual([run.id]);
  });

  it('onRunComplete decides how a run ends: the failed job fails with its issues, its stage fails, the stages before succeed', async () => {
    const seen: Build[] = [];
    h = await startFake({
      enforceResourceAuthorization: false,
      onRunComplete: (b) => {
        seen.push(b);
        return { result: 'failed', failedJob: { stage: 'Train', job: 'Train' }, issues: [{ type: 'error', message: 'AADSTS70021: No matching federated identity record found for presented assertion.' }] };
      },
    });
    h.fake.addProject('mlops');
    const repo = h.fake.addRepo('mlops', 'code', YAML);
    h.fake.addPool('pool001', [{ name: 'vm-agent-1', status: 'online' }]);
    h.fake.addVariableGroup('mlops', 'devopsforai-aml-vg', { WORKSPACE_SVC_CONNECTION: 'AzureMLWorkspace' });
    const pipelines = await h.api.getPipelinesApi();
    const pipeline = await pipelines.createPipeline(pipelineParams(repo.id), 'mlops');
    const run = await pipelines.runPipeline({}, 'mlops', pipeline.id ?? 0);
    expect(seen).toEqual([]);
    for (let i = 0; i < 2; i++) await pipelines.getRun('mlops', pipeline.id ?? 0, run.id ?? 0);
    // the hook sees the jobs with the service connections their steps use (macros resolved)
    expect(seen).toHaveLength(1);
    expect(seen[0]!.stages.map((s) => s.jobs.map((j) => [j.name, j.connections]))).toEqual([[['LintAndTest', []]], [['Train', [{ name: 'AzureMLWorkspace', task: 'AzureCLI@2' }]]]]);
    expect((await pipelines.getRun('mlops', pipeline.id ?? 0, run.id ?? 0)).result).toBe(RunResult.Failed);
    const timeline = await (await h.api.getBuildApi()).getBuildTimeline('mlops', run.id ?? 0);
    const rec = (type: string, name: string) => timeline.records?.find((r) => r.type === type && r.name === name);
    expect([rec('Stage', 'ModelCI')?.result, rec('Stage', 'Train and evaluate')?.result, rec('Job', 'LintAndTest')?.result, rec('Job', 'Train')?.result]).toEqual([
      TaskResult.Succeeded,
      TaskResult.Failed,
      TaskResult.Succeeded,
      TaskResult.Failed,
    ]);
    expect(rec('Job', 'Train')?.issues?.map((i) => [i.type, i.message])).toEqual([[IssueType.Error, 'AADSTS70021: No matching federated identity record found for presented assertion.']]);
    expect(rec('Job', 'LintAndTest')?.issues).toEqual([]);
    expect(seen).toHaveLength(1); // decided once, when the run completed
  });

  it('pipelinePermissions: PATCH needs an api-version, an existing pipeline and resource; allPipelines', async () => {
    h = await startFake();
    h.fake.addProject('mlops');
    const repo = h.fake.addRepo('mlops', 'code', YAML);
    const group = h.fake.addVariableGroup('mlops', 'vg', { A: '1' });
    const pipeline = await (await h.api.getPipelinesApi()).createPipeline(pipelineParams(repo.id), 'mlops');
    const url = `${h.fake.orgUrl}/mlops/_apis/pipelines/pipelinePermissions/variablegroup/${group.id}`;
    const unversioned = await rejection(h.api.rest.update(url, { pipelines: [{ id: pipeline.id, authorized: true }] }));
    expect(unversioned.result?.typeKey).toBe('VssVersionNotSpecifiedException');
    // pipelinePermissions is preview-only: '7.1' without -preview is refused
    const released = await rejection(h.api.rest.get(url, { acceptHeader: 'application/json;api-version=7.1' }));
    expect(released.statusCode).toBe(400);
    expect(released.result?.typeKey).toBe('VssInvalidPreviewVersionException');
    expect(released.message).toContain('The -preview flag must be supplied');
    const unknownPipeline = await rejection(h.api.rest.update(url, { pipelines: [{ id: 4242, authorized: true }] }, PERMS));
    expect(unknownPipeline.statusCode).toBe(400);
    const missing = await h.api.rest.update(`${h.fake.orgUrl}/mlops/_apis/pipelines/pipelinePermissions/variablegroup/999`, { pipelines: [] }, PERMS);
    expect(missing).toMatchObject({ statusCode: 404, result: null }); // a 404 PATCH resolves, it does not reject
    const all = await h.api.rest.update<PermissionsJson>(url, { allPipelines: { authorized: true } }, PERMS);
    expect(all.result).toEqual({ resource: { type: 'variablegroup', id: String(group.id) }, pipelines: [], allPipelines: expect.objectContaining({ authorized: true }) as unknown });
    expect(h.fake.world.isAuthorized(h.fake.world.projects[0]?.id ?? '', 'variablegroup', String(group.id), pipeline.id ?? 0)).toBe(true);
  });

  it('queueBuild through BuildApi; a missing YAML file refuses the run with 400', async () => {
    h = await startFake({ enforceResourceAuthorization: false, requireOnlineAgents: false, runCompleteAfterPolls: 0 });
    h.fake.addProject('mlops');
    const repo = h.fake.addRepo('mlops', 'code', YAML);
    const pipelines = await h.api.getPipelinesApi();
    const good = await pipelines.createPipeline(pipelineParams(repo.id), 'mlops');
    const build = await h.api.getBuildApi();
    const queued = await build.queueBuild({ definition: { id: good.id } }, 'mlops');
    expect(queued.status).toBe(BuildStatus.NotStarted);
    expect(queued.buildNumber).toMatch(/^\d{8}\.1$/);
    expect((await build.getBuild('mlops', queued.id ?? 0)).result).toBe(BuildResult.Succeeded);
    const broken = await pipelines.createPipeline(pipelineParams(repo.id, 'broken', '/nope.yml'), 'mlops');
    const e = await rejection(pipelines.runPipeline({}, 'mlops', broken.id ?? 0));
    expect(e.statusCode).toBe(400);
    expect(e.message).toContain('File /nope.yml not found in repository code branch refs/heads/main');
  });

  it("compiles the project's own devops_pipelines YAML (templates, group, service connection)", async () => {
    h = await startFake();
    h.fake.addProject('mlops');
    const dir = new URL('../../devops_pipelines/', import.meta.url);
    const files = Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.yml')).map((f) => [`/devops_pipelines/${f}`, readFileSync(new URL(f, dir), 'utf8')]));
    const repo = h.fake.addRepo('mlops', 'code', files);
    const pipelines = await h.api.getPipelinesApi();
    const pipeline = await pipelines.createPipeline(pipelineParams(repo.id, 'ci', '/devops_pipelines/azdo-ci-build-train.yml'), 'mlops');
    // no compile error (that would be a 400); nothing is authorized, so the run fails on resources
    const run = await pipelines.runPipeline({}, 'mlops', pipeline.id ?? 0);
    expect(run.result).toBe(RunResult.Failed);
    const b = await (await h.api.getBuildApi()).getBuild('mlops', run.id ?? 0);
    expect(b.validationResults?.[0]?.message).toMatch(/^There was a resource authorization issue/);
    expect(h.fake.world.builds[0]?.stages.length).toBeGreaterThan(1);
  });
});

// The Build security namespace and its "Stop builds" bit (areas/security.ts).
const BUILD_NAMESPACE = '33344d9c-fc72-4d6f-aba5-fa317101a7e9';
const STOP_BUILDS = 512;
const SECURITY = { acceptHeader: 'application/json;api-version=7.1-preview.1' };

interface AcesJson {
  count: number;
  value: Array<{ descriptor: string; allow: number; deny: number; extendedInfo: Record<string, unknown> }>;
}

describe('canceling a run needs "Stop builds", which the build service identity lacks by default', () => {
  async function runningBuild() {
    h = await startFake({ enforceResourceAuthorization: false, requireOnlineAgents: false, runCompleteAfterPolls: 100 });
    const project = h.fake.addProject('mlops');
    const repo = h.fake.addRepo('mlops', 'code', YAML);
    const pipelines = await h.api.getPipelinesApi();
    const pipeline = await pipelines.createPipeline(pipelineParams(repo.id), 'mlops');
    const run = await pipelines.runPipeline({}, 'mlops', pipeline.id ?? 0);
    const build = await h.api.getBuildApi();
    expect((await build.getBuild('mlops', run.id ?? 0)).status).toBe(BuildStatus.InProgress);
    return { project, pipelineId: pipeline.id ?? 0, runId: run.id ?? 0, build, pipelines };
  }
  const grant = (token: string, descriptor: string, allow: number, deny = 0, merge = true) =>
    h!.api.rest.create<AcesJson>(`${h!.fake.orgUrl}/_apis/accesscontrolentries/${BUILD_NAMESPACE}`, { token, merge, accessControlEntries: [{ descriptor, allow, deny }] }, SECURITY);

  it('a cancel PATCH is refused with 403 until an entry allowing Stop builds is posted for the build service identity; then the run ends canceled', async () => {
    const { project, pipelineId, runId, build, pipelines } = await runningBuild();
    const who = h!.fake.buildServiceIdentity('mlops');
    expect(who).toEqual({ displayName: 'mlops Build Service (contoso)', descriptor: `Microsoft.TeamFoundation.ServiceIdentity;${h!.fake.world.org.id}:Build:${project.id}` });

    // Through the library, and as the pipeline's old curl step sent it (api-version 7.1, status as a string).
    const denied = await rejection(build.updateBuild({ status: BuildStatus.Cancelling }, 'mlops', runId));
    expect(denied.statusCode).toBe(403);
    expect(denied.result?.typeKey).toBe('AccessDeniedException');
    expect(denied.message).toContain('mlops Build Service (contoso) needs Stop builds permissions');
    const url = `${h!.fake.orgUrl}/${project.id}/_apis/build/builds/${runId}`;
    expect((await rejection(h!.api.rest.update(url, { status: 'cancelling' }, { acceptHeader: 'application/json;api-version=7.1' }))).statusCode).toBe(403);
    // Entries that do not apply: another identity, another pipeline, another bit.
    await grant(`${project.id}/${pipelineId}`, `Microsoft.TeamFoundation.ServiceIdentity;${h!.fake.world.org.id}:Build:${h!.fake.world.org.id}`, STOP_BUILDS);
    await grant(`${project.id}/${pipelineId + 1}`, who.descriptor, STOP_BUILDS);
    await grant(`${project.id}/${pipelineId}`, who.descriptor, 8);
    expect((await rejection(build.updateBuild({ status: BuildStatus.Cancelling }, 'mlops', runId))).statusCode).toBe(403);
    expect((await pipelines.getRun('mlops', pipelineId, runId)).state).toBe(RunState.InProgress);

    // The Security API is preview-only in 7.1.
    const released = await rejection(h!.api.rest.create(`${h!.fake.orgUrl}/_apis/accesscontrolentries/${BUILD_NAMESPACE}`, { token: project.id, accessControlEntries: [] }, { acceptHeader: 'application/json;api-version=7.1' }));
    expect(released.result?.typeKey).toBe('VssInvalidPreviewVersionException');
    // merge: the new bit is OR-ed into the identity's entry on this pipeline's token.
    const granted = await grant(`${project.id}/${pipelineId}`, who.descriptor, STOP_BUILDS);
    expect(granted.statusCode).toBe(200);
    expect(granted.result).toEqual({ count: 1, value: [{ descriptor: who.descriptor, allow: STOP_BUILDS | 8, deny: 0, extendedInfo: {} }] });

    const cancelling = await build.updateBuild({ status: BuildStatus.Cancelling }, 'mlops', runId);
    expect(cancelling.status).toBe(BuildStatus.Cancelling);
    expect((await pipelines.getRun('mlops', pipelineId, runId))).toMatchObject({ state: RunState.Completed, result: RunResult.Canceled });
    expect(await build.getBuild('mlops', runId)).toMatchObject({ status: BuildStatus.Completed, result: BuildResult.Canceled });
  });

  it('the closest token decides: a project-wide allow works, a deny on the pipeline beats it; merge false replaces an entry', async () => {
    const { project, pipelineId, runId, build } = await runningBuild();
    const who = h!.fake.buildServiceIdentity('mlops');
    await grant(project.id, who.descriptor, STOP_BUILDS);
    await grant(`${project.id}/${pipelineId}`, who.descriptor, 0, STOP_BUILDS);
    expect((await rejection(build.updateBuild({ status: BuildStatus.Cancelling }, 'mlops', runId))).statusCode).toBe(403);
    const replaced = await grant(`${project.id}/${pipelineId}`, who.descriptor, 0, 0, false);
    expect(replaced.result?.value).toEqual([{ descriptor: who.descriptor, allow: 0, deny: 0, extendedInfo: {} }]);
    expect((await build.updateBuild({ status: BuildStatus.Cancelling }, 'mlops', runId)).status).toBe(BuildStatus.Cancelling);
    expect(h!.fake.world.accessControlEntries).toHaveLength(2);
  });

  it('a seeded run carries the tags its steps added; the Builds API returns them, newest run first', async () => {
    h = await startFake();
    h.fake.addProject('mlops');
    const repo = h.fake.addRepo('mlops', 'code', YAML);
    const pipeline = await (await h.api.getPipelinesApi()).createPipeline(pipelineParams(repo.id), 'mlops');
    h.fake.addRun('mlops', 'azdo-ci-build-train', { result: 'failed' });
    const seeded = h.fake.addRun('mlops', 'azdo-ci-build-train', { result: 'succeeded', tags: ['model-not-better'] });
    const build = await h.api.getBuildApi();
    const newest = await build.getBuilds('mlops', [pipeline.id ?? 0], undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, 1);
    expect(newest.map((b) => [b.id, b.status, b.result, b.tags])).toEqual([[seeded.id, BuildStatus.Completed, BuildResult.Succeeded, ['model-not-better']]]);
    expect((await build.getBuild('mlops', seeded.id)).tags).toEqual(['model-not-better']);
    expect(() => h!.fake.addRun('mlops', 'nope', { result: 'succeeded' })).toThrow(/no pipeline nope/);
  });
});
