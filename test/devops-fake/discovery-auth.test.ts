// Discovery, api-version negotiation, auth and request recording, driven by the real client.
import * as azdev from 'azure-devops-node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { createProject, PAT, rejection, startFake, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.fake.stop();
  h = undefined;
});

describe('discovery and api-version negotiation', () => {
  it('connect() reads connectionData: the authenticated user and the org id', async () => {
    h = await startFake();
    const data = await h.api.connect();
    expect(data.authenticatedUser?.id).toBe(h.fake.world.user.id);
    expect(data.authenticatedUser?.providerDisplayName).toBe('Fake User');
    expect(data.authorizedUser?.id).toBe(h.fake.world.user.id);
    expect(data.instanceId).toBe(h.fake.world.org.id);
    expect(data.deploymentType).toBe('hosted');
    expect(data.locationServiceData?.serviceOwner).toBeDefined();
  });

  it('follows OPTIONS Location -> GET ResourceAreas -> OPTIONS <area> -> request with the version in Accept', async () => {
    h = await startFake();
    const core = await h.api.getCoreApi();
    await core.getProjects();
    const seen = h.fake.requests.map((r) => `${r.method} ${r.path}`);
    expect(seen).toEqual([
      'OPTIONS /contoso/_apis/Location',
      'GET /contoso/_apis/ResourceAreas',
      'OPTIONS /contoso/_apis/core',
      'GET /contoso/_apis/projects',
    ]);
    const get = h.fake.requests.at(-1);
    expect(get?.headers['accept']).toBe('application/json;api-version=7.1-preview.4');
    expect(get?.apiVersion).toBe('7.1-preview.4');
    expect(get?.query).toEqual({}); // not in the query string
    expect(h.fake.requests.filter((r) => r.discovery)).toHaveLength(3);
    expect(h.fake.countCalls()).toBe(1);
  });

  it('serves ApiResourceLocations with the service ids and route templates', async () => {
    h = await startFake();
    const res = await h.api.rest.options<{ count: number; value: Array<Record<string, unknown>> }>(`${h.fake.orgUrl}/_apis/distributedtask`);
    const byId = new Map(res.result?.value.map((l) => [l['id'], l]));
    expect(res.result?.count).toBe(res.result?.value.length);
    expect(byId.get('a8c47e17-4d56-4a56-92bb-de7ea7dc65be')).toEqual({
      id: 'a8c47e17-4d56-4a56-92bb-de7ea7dc65be',
      area: 'distributedtask',
      resourceName: 'pools',
      routeTemplate: '_apis/{area}/{resource}/{poolId}',
      resourceVersion: 1,
      minVersion: '3.0',
      maxVersion: '7.1',
      releasedVersion: '7.0',
    });
    expect(byId.get('f5b09dd5-9d54-45a1-8b5a-1c8287d634cc')?.['routeTemplate']).toBe('{project}/_apis/{area}/{resource}/{groupId}');
    expect(byId.get('ef5b7057-ffc3-4c77-bbad-c10b4a4abcc7')?.['routeTemplate']).toBe('_apis/{area}/{resource}/{groupId}');
    const location = await h.api.rest.options<{ value: Array<Record<string, unknown>> }>(`${h.fake.orgUrl}/_apis/Location`);
    expect(location.result?.value.find((l) => l['id'] === 'e81700f7-3be2-46de-8624-2eb35882fcaa')?.['routeTemplate']).toBe('_apis/{resource}/{areaId}');
  });

  it.each([
    ['7.1', '7.1-preview'],
    ['7.2', '7.2-preview'],
  ] as const)('maxVersion %s: the library sends %s.N (projects .4, endpoints .4, pushes .3, definitions and builds .7)', async (maxVersion, prefix) => {
    h = await startFake({ maxVersion });
    const { fake, api } = h;
    fake.addProject('p');
    fake.addRepo('p', 'r');
    await (await api.getCoreApi()).getProjects();
    await (await api.getServiceEndpointApi()).getServiceEndpointsByNames('p', ['x']);
    await (await api.getGitApi()).getPushes('r', 'p');
    const build = await api.getBuildApi();
    await build.getDefinitions('p');
    await build.getBuilds('p');
    const versionOf = (re: RegExp): string | undefined => fake.requests.find((r) => r.method === 'GET' && re.test(r.path))?.apiVersion;
    expect(versionOf(/_apis\/projects$/)).toBe(`${prefix}.4`);
    expect(versionOf(/serviceendpoint\/endpoints$/)).toBe(`${prefix}.4`);
    expect(versionOf(/\/pushes$/)).toBe(`${prefix}.3`);
    expect(versionOf(/build\/definitions$/)).toBe(`${prefix}.7`);
    expect(versionOf(/build\/builds$/)).toBe(`${prefix}.7`);
  });

  it('refuses an api-version above maxVersion and a write without api-version, like the service', async () => {
    h = await startFake();
    const above = await rejection(h.api.rest.get(`${h.fake.orgUrl}/_apis/projects`, { acceptHeader: 'application/json;api-version=7.2-preview.4' }));
    expect(above.statusCode).toBe(400);
    expect(above.result?.typeKey).toBe('VssVersionOutOfRangeException');
    const unversioned = await rejection(h.api.rest.create(`${h.fake.orgUrl}/_apis/projects`, { name: 'x' }));
    expect(unversioned.statusCode).toBe(400);
    expect(unversioned.result?.typeKey).toBe('VssVersionNotSpecifiedException');
    // the query string works too
    const viaQuery = await h.api.rest.get<{ count: number }>(`${h.fake.orgUrl}/_apis/projects?api-version=7.1`);
    expect(viaQuery.result?.count).toBe(0);
  });

  it('matches paths case-insensitively and answers 404 for another organization', async () => {
    h = await startFake();
    h.fake.addProject('Mixed');
    const res = await h.api.rest.get<{ name: string }>(`${h.fake.orgUrl.replace('/contoso', '/CONTOSO')}/_APIS/PROJECTS/mixed`);
    expect(res.result?.name).toBe('Mixed');
    const other = await h.api.rest.get(`${h.fake.orgUrl.replace('/contoso', '/fabrikam')}/_apis/projects`);
    expect(other.statusCode).toBe(404);
  });

  it('answers 501 naming the route it does not implement', async () => {
    h = await startFake();
    const viaRest = await rejection(h.api.rest.get(`${h.fake.orgUrl}/_apis/wit/workitems/1`));
    expect(viaRest.statusCode).toBe(501);
    expect(viaRest.message).toContain('GET /contoso/_apis/wit/workitems/1');
    expect(viaRest.result?.typeKey).toBe('FakeRouteNotImplementedException');
    // an area the fake does not serve fails at discovery, loudly
    const wit = await h.api.getWorkItemTrackingApi();
    const viaLibrary = await rejection(wit.getWorkItem(1));
    expect(viaLibrary.statusCode).toBe(501);
    expect(viaLibrary.message).toContain('OPTIONS /contoso/_apis/wit');
  });
});

describe('authentication', () => {
  it('accepts the PAT as Basic PAT:<pat> and :<pat>, and the Entra bearer token', async () => {
    h = await startFake();
    const viaPat = await h.api.connect();
    const viaBasic = await new azdev.WebApi(h.fake.orgUrl, azdev.getBasicHandler('', PAT)).connect();
    const viaBearer = await new azdev.WebApi(h.fake.orgUrl, azdev.getBearerHandler('fake-entra-token')).connect();
    expect([viaPat, viaBasic, viaBearer].map((c) => c.authenticatedUser?.id)).toEqual(Array(3).fill(h.fake.world.user.id));
  });

  it('a bad PAT gets 401 JSON: the library rejects with statusCode and typeKey, discovery included', async () => {
    h = await startFake();
    const bad = new azdev.WebApi(h.fake.orgUrl, azdev.getPersonalAccessTokenHandler('wrong'));
    const e = await rejection(bad.connect());
    expect(e.statusCode).toBe(401);
    expect(e.result?.typeKey).toBe('UnauthorizedRequestException');
    expect(e.message).toMatch(/^TF400813/);
    const discovery = await rejection(bad.getCoreApi());
    expect(discovery.statusCode).toBe(401);
    const bearer = await rejection(new azdev.WebApi(h.fake.orgUrl, azdev.getBearerHandler('expired')).connect());
    expect(bearer.statusCode).toBe(401);
    expect(h.fake.requests.every((r) => r.status === 401 && r.fault === 'auth')).toBe(true);
  });

  it("badAuth '203': an HTML sign-in page with status 203 - connect() resolves null, discovery finds no location", async () => {
    h = await startFake({ badAuth: '203' });
    const bad = new azdev.WebApi(h.fake.orgUrl, azdev.getPersonalAccessTokenHandler('expired'));
    expect(await bad.connect()).toBeNull();
    // OPTIONS _apis/Location parses to nothing: every getXxxApi() fails before any real call
    const e = await rejection(bad.getCoreApi());
    expect(e.message).toBe('Failed to find api location for area: Location id: e81700f7-3be2-46de-8624-2eb35882fcaa');
    expect(e.statusCode).toBeUndefined();
    // a client built on the org URL without discovery fails the same way on its area
    const { CoreApi } = await import('azure-devops-node-api/CoreApi.js');
    const direct = new CoreApi(h.fake.orgUrl, [azdev.getPersonalAccessTokenHandler('expired')]);
    const e2 = await rejection(direct.getProjects());
    expect(e2.message).toBe('Failed to find api location for area: core id: 603fe2ac-9723-48b9-88ad-09305aa6c6e1');
    const raw = await bad.rest.get(`${h.fake.orgUrl}/_apis/projects`);
    // the rest client swallows the non-JSON body and does not even keep the headers
    expect(raw).toEqual({ statusCode: 203, result: null, headers: {} });
    // the raw http client shows what came back
    const page = await bad.rest.client.get(`${h.fake.orgUrl}/_apis/projects`);
    expect(page.message.statusCode).toBe(203);
    expect(page.message.headers['content-type']).toMatch(/^text\/html/);
    expect(await page.readBody()).toContain('Sign in to your account');
    expect(h.fake.requests.every((r) => r.status === 203)).toBe(true);
    // the valid PAT still works
    expect((await h.api.connect()).authenticatedUser).toBeDefined();
  });
});

describe('request log', () => {
  it('records every request without the Authorization header, with X-TFS-FedAuthRedirect', async () => {
    h = await startFake();
    await createProject(h.api, 'logged');
    expect(h.fake.requests.length).toBeGreaterThan(4);
    for (const r of h.fake.requests) {
      expect(r.headers['authorization']).toBeUndefined();
      expect(JSON.stringify(r)).not.toContain(Buffer.from(`PAT:${PAT}`).toString('base64'));
      expect(r.headers['x-tfs-fedauthredirect']).toBe('Suppress');
      expect(r.status).toBeGreaterThan(0);
      expect(typeof r.at).toBe('number');
    }
    const post = h.fake.requests.find((r) => r.method === 'POST');
    expect(post).toMatchObject({ path: '/contoso/_apis/projects', status: 202, body: { name: 'logged' } });
  });

  it('mutating() lists only POST/PUT/PATCH/DELETE', async () => {
    h = await startFake();
    const project = await createProject(h.api, 'm');
    const ta = await h.api.getTaskAgentApi();
    await ta.getAgentPools();
    await ta.addAgentPool({ name: 'pool001' });
    await (await h.api.getCoreApi()).queueDeleteProject(project.id ?? '');
    expect(h.fake.mutating().map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /contoso/_apis/projects',
      'POST /contoso/_apis/distributedtask/pools',
      `DELETE /contoso/_apis/projects/${project.id ?? ''}`,
    ]);
    expect(h.fake.requests.some((r) => r.method === 'GET')).toBe(true);
  });
});
