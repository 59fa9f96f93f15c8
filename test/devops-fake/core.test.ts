// core: projects and the project-create operation, driven by the real CoreApi + rest client.
import { OperationStatus } from 'azure-devops-node-api/interfaces/common/OperationsInterfaces.js';
import { ProjectVisibility } from 'azure-devops-node-api/interfaces/CoreInterfaces.js';
import { afterEach, describe, expect, it } from 'vitest';
import { AGILE, createProject, rejection, startFake, type Harness, type OperationJson } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.fake.stop();
  h = undefined;
});

const toCreate = (name: string) => ({
  name,
  description: 'MLOps',
  visibility: ProjectVisibility.Private,
  capabilities: { versioncontrol: { sourceControlType: 'Git' }, processTemplate: { templateTypeId: AGILE } },
});

describe('projects', () => {
  it('queueCreateProject -> 202 OperationReference; poll its url until succeeded; the project is then wellFormed', async () => {
    h = await startFake({ projectCreateOperationPolls: 2 });
    const core = await h.api.getCoreApi();
    const ref = await core.queueCreateProject(toCreate('mlops'));
    expect(h.fake.requests.find((r) => r.method === 'POST')?.status).toBe(202);
    // enums arrive as strings and the library turns them into numbers
    expect(ref.status).toBe(OperationStatus.Queued);
    expect(ref.url).toBe(`${h.fake.orgUrl}/_apis/operations/${ref.id ?? ''}`);
    // not visible while the operation runs
    expect(await core.getProject('mlops')).toBeNull();
    const seen: string[] = [];
    for (;;) {
      const op = await h.api.rest.get<OperationJson>(ref.url ?? '');
      seen.push(op.result?.status ?? '?');
      if (op.result?.status === 'succeeded' || seen.length > 5) break;
    }
    // one GET of the pending project counted as a poll too
    expect(seen).toEqual(['inProgress', 'succeeded']);
    const p = await core.getProject('mlops', true);
    expect(p).toMatchObject({ name: 'mlops', description: 'MLOps', state: 'wellFormed', visibility: ProjectVisibility.Private });
    expect(p.capabilities?.['versioncontrol']?.['sourceControlType']).toBe('Git');
    expect(p.url).toBe(`${h.fake.orgUrl}/_apis/projects/${p.id ?? ''}`);
    // by id as well, and the side effects of a new project
    expect((await core.getProject(p.id ?? ''))?.name).toBe('mlops');
    expect(h.fake.world.repos.map((r) => r.name)).toEqual(['mlops']);
    expect(h.fake.world.queues.map((q) => q.name).sort()).toEqual(['Azure Pipelines', 'Default']);
  });

  it('a duplicate name is 400 ProjectAlreadyExistsException (TF200019), case-insensitively', async () => {
    h = await startFake();
    h.fake.addProject('MLOps');
    const core = await h.api.getCoreApi();
    const e = await rejection(core.queueCreateProject(toCreate('mlops')));
    expect(e.statusCode).toBe(400);
    expect(e.result?.typeKey).toBe('ProjectAlreadyExistsException');
    expect(e.message).toMatch(/^TF200019: The following project already exists/);
  });

  it('an incomplete create body and an invalid name are 400', async () => {
    h = await startFake();
    const core = await h.api.getCoreApi();
    const e = await rejection(core.queueCreateProject({ name: 'x' }));
    expect(e.statusCode).toBe(400);
    expect(e.message).toContain('capabilities.versioncontrol.sourceControlType');
    const bad = await rejection(core.queueCreateProject(toCreate('a/b')));
    expect(bad.statusCode).toBe(400);
    expect(bad.result?.typeKey).toBe('ProjectNameNotValidException');
  });

  it('getProject of a missing project resolves null (404 with the service error JSON)', async () => {
    h = await startFake();
    const core = await h.api.getCoreApi();
    expect(await core.getProject('nope')).toBeNull();
    const raw = await h.api.rest.get(`${h.fake.orgUrl}/_apis/projects/nope`);
    expect(raw.statusCode).toBe(404);
    expect(raw.result).toBeNull();
    expect(h.fake.requests.at(-1)?.status).toBe(404);
  });

  it('getProjects lists wellFormed projects, {count, value} on the wire', async () => {
    h = await startFake();
    h.fake.addProject('b');
    h.fake.addProject('a');
    const core = await h.api.getCoreApi();
    const list = await core.getProjects();
    expect(list.map((p) => p.name)).toEqual(['a', 'b']);
    const raw = await h.api.rest.get<{ count: number; value: Array<Record<string, unknown>> }>(`${h.fake.orgUrl}/_apis/projects`);
    expect(raw.result?.count).toBe(2);
    expect(Object.keys(raw.result?.value[0] ?? {}).sort()).toEqual(['id', 'lastUpdateTime', 'name', 'revision', 'state', 'url', 'visibility']);
  });

  it('queueDeleteProject queues an operation; the project and what it holds go away', async () => {
    h = await startFake({ projectCreateOperationPolls: 0 });
    const p = await createProject(h.api, 'gone');
    h.fake.addEndpoint('gone', { name: 'ep' });
    const core = await h.api.getCoreApi();
    const ref = await core.queueDeleteProject(p.id ?? '');
    expect(ref.status).toBe(OperationStatus.Queued);
    expect(await core.getProject('gone')).toBeNull();
    const op = await h.api.rest.get<OperationJson>(ref.url ?? '');
    expect(op.result?.status).toBe('succeeded');
    expect(h.fake.world.projects).toHaveLength(0);
    expect(h.fake.world.repos).toHaveLength(0);
    expect(h.fake.world.endpoints).toHaveLength(0);
  });

  it('ids are seeded: the same seeding gives the same ids whatever requests came before', async () => {
    h = await startFake({ seed: 42 });
    await h.api.connect();
    const first = { org: h.fake.world.org.id, project: h.fake.addProject('p').id };
    await h.fake.stop();
    h = await startFake({ seed: 42 });
    const second = { org: h.fake.world.org.id, project: h.fake.addProject('p').id };
    expect(second).toEqual(first);
    // the built-in queues of a new project are open to all pipelines
    const defaultQueue = h.fake.world.queues.find((q) => q.name === 'Default');
    expect(h.fake.world.permissionsFor(second.project, 'queue', String(defaultQueue?.id))?.allPipelines?.authorized).toBe(true);
  });

  it("projectCreateResult 'failed': the operation ends failed with a resultMessage and no project", async () => {
    h = await startFake({ projectCreateResult: 'failed', projectCreateOperationPolls: 0 });
    const core = await h.api.getCoreApi();
    const ref = await core.queueCreateProject(toCreate('doomed'));
    const op = await h.api.rest.get<OperationJson>(ref.url ?? '');
    expect(op.result?.status).toBe('failed');
    expect(op.result?.resultMessage).toContain('doomed');
    expect(await core.getProject('doomed')).toBeNull();
    // an unknown operation id
    const missing = await h.api.rest.get(`${h.fake.orgUrl}/_apis/operations/00000000-0000-0000-0000-000000000000`);
    expect(missing.statusCode).toBe(404);
  });
});
