// ExtensionManagement and serviceendpoint, via the real clients.
import { ExtensionStateFlags } from 'azure-devops-node-api/interfaces/ExtensionManagementInterfaces.js';
import type { ServiceEndpoint } from 'azure-devops-node-api/interfaces/ServiceEndpointInterfaces.js';
import { afterEach, describe, expect, it } from 'vitest';
import { rejection, startFake, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.fake.stop();
  h = undefined;
});

describe('extensions', () => {
  it('not installed -> null; install by name; installed -> found; twice -> 409; uninstall', async () => {
    h = await startFake();
    const ext = await h.api.getExtensionManagementApi();
    expect(await ext.getInstalledExtensionByName('ms-air-aiagility', 'azureml-v2')).toBeNull();
    const installed = await ext.installExtensionByName('ms-air-aiagility', 'azureml-v2');
    expect(installed).toMatchObject({ publisherId: 'ms-air-aiagility', extensionId: 'azureml-v2', extensionName: 'Azure Machine Learning' });
    expect(installed.installState?.flags).toBe(ExtensionStateFlags.None);
    const got = await ext.getInstalledExtensionByName('MS-AIR-AIAGILITY', 'azureml-v2');
    expect(got.version).toBe(installed.version);
    const twice = await rejection(ext.installExtensionByName('ms-air-aiagility', 'azureml-v2'));
    expect(twice.statusCode).toBe(409);
    expect(twice.result?.typeKey).toBe('ExtensionAlreadyInstalledException');
    expect(h.fake.requests.find((r) => r.method === 'POST')?.path).toBe('/contoso/_apis/ExtensionManagement/InstalledExtensionsByName/ms-air-aiagility/azureml-v2');
    await ext.uninstallExtensionByName('ms-air-aiagility', 'azureml-v2');
    expect(h.fake.world.extensions).toEqual([]);
  });

  it('an extension the marketplace does not know: the POST gets 404 and the library resolves null', async () => {
    h = await startFake();
    const ext = await h.api.getExtensionManagementApi();
    expect(await ext.installExtensionByName('ms-air-aiagility', 'azureml-v3')).toBeNull();
    expect(h.fake.requests.at(-1)).toMatchObject({ method: 'POST', status: 404 });
    h.fake.installExtension('ms-devlabs', 'custom-terraform-tasks');
    expect((await ext.getInstalledExtensions()).map((e) => e.extensionId)).toEqual(['custom-terraform-tasks']);
  });
});

describe('service endpoints', () => {
  const wif = (projectId: string, name = 'AzureMLWorkspace'): ServiceEndpoint => ({
    name,
    type: 'AzureRM',
    url: 'https://management.azure.com/',
    data: {
      environment: 'AzureCloud',
      scopeLevel: 'AzureMLWorkspace',
      subscriptionId: '11111111-1111-1111-1111-111111111111',
      subscriptionName: 'sub',
      resourceGroupName: 'rg-mlops',
      mlWorkspaceName: 'mlw-mlops',
      mlWorkspaceLocation: 'westeurope',
      creationMode: 'Manual',
    },
    authorization: { scheme: 'WorkloadIdentityFederation', parameters: { tenantid: 'tenant-guid', serviceprincipalid: 'app-guid' } },
    isShared: false,
    owner: 'library',
    serviceEndpointProjectReferences: [{ projectReference: { id: projectId, name: 'mlops' }, name }],
  });

  it('create (org route): workload identity federation gets issuer and subject; find by name; get by id', async () => {
    h = await startFake();
    const p = h.fake.addProject('mlops');
    const se = await h.api.getServiceEndpointApi();
    expect(await se.getServiceEndpointsByNames('mlops', ['AzureMLWorkspace'])).toEqual([]);
    const created = await se.createServiceEndpoint(wif(p.id));
    expect(h.fake.mutating().map((r) => `${r.method} ${r.path}`)).toEqual(['POST /contoso/_apis/serviceendpoint/endpoints']);
    expect(created.authorization?.parameters).toEqual({
      tenantid: 'tenant-guid',
      serviceprincipalid: 'app-guid',
      workloadIdentityFederationIssuer: `https://vstoken.dev.azure.com/${h.fake.world.org.id}`,
      workloadIdentityFederationSubject: 'sc://contoso/mlops/AzureMLWorkspace',
    });
    expect(created).toMatchObject({ isReady: true, owner: 'library', data: { scopeLevel: 'AzureMLWorkspace' } });
    const [byName, ...more] = await se.getServiceEndpointsByNames('mlops', ['azuremlworkspace']);
    expect(more).toEqual([]);
    expect(byName?.id).toBe(created.id);
    expect((await se.getServiceEndpointDetails(p.id, created.id ?? ''))?.name).toBe('AzureMLWorkspace');
    expect(await se.getServiceEndpointDetails('mlops', '00000000-0000-0000-0000-000000000000')).toBeNull();
  });

  it('ServicePrincipal: the key is stored but answered as null', async () => {
    h = await startFake();
    const p = h.fake.addProject('mlops');
    const se = await h.api.getServiceEndpointApi();
    const body = wif(p.id);
    body.authorization = { scheme: 'ServicePrincipal', parameters: { tenantid: 't', serviceprincipalid: 'a', authenticationType: 'spnKey', serviceprincipalkey: 'sp-secret' } };
    const created = await se.createServiceEndpoint(body);
    expect(created.authorization?.parameters?.['serviceprincipalkey']).toBeNull();
    expect(JSON.stringify(await se.getServiceEndpointsByNames('mlops', ['AzureMLWorkspace']))).not.toContain('sp-secret');
    expect(h.fake.world.endpoints[0]?.authorization.parameters['serviceprincipalkey']).toBe('sp-secret');
    // an update that does not resend the key keeps it
    const updated = await se.updateServiceEndpoint({ ...body, id: created.id, description: 'drifted', authorization: { scheme: 'ServicePrincipal', parameters: { tenantid: 't', serviceprincipalid: 'a', authenticationType: 'spnKey' } } }, created.id ?? '');
    expect(updated.description).toBe('drifted');
    expect(h.fake.world.endpoints[0]?.authorization.parameters['serviceprincipalkey']).toBe('sp-secret');
  });

  it('a duplicate name in the project is DuplicateServiceConnectionException (500 by default, like the service)', async () => {
    h = await startFake();
    const p = h.fake.addProject('mlops');
    h.fake.addEndpoint('mlops', { name: 'AzureMLWorkspace' });
    const se = await h.api.getServiceEndpointApi();
    const e = await rejection(se.createServiceEndpoint(wif(p.id)));
    expect(e.statusCode).toBe(500);
    expect(e.result?.typeKey).toBe('DuplicateServiceConnectionException');
    await h.fake.stop();
    h = await startFake({ duplicateEndpointStatus: 409 });
    const p2 = h.fake.addProject('mlops');
    h.fake.addEndpoint('mlops', { name: 'AzureMLWorkspace' });
    const e2 = await rejection((await h.api.getServiceEndpointApi()).createServiceEndpoint(wif(p2.id)));
    expect(e2.statusCode).toBe(409);
  });

  it('isReady stays false for endpointReadyAfterPolls GETs', async () => {
    h = await startFake({ endpointReadyAfterPolls: 2 });
    const p = h.fake.addProject('mlops');
    const se = await h.api.getServiceEndpointApi();
    const created = await se.createServiceEndpoint(wif(p.id));
    expect(created.isReady).toBe(false);
    const polls: boolean[] = [];
    for (let i = 0; i < 3; i++) polls.push((await se.getServiceEndpointDetails('mlops', created.id ?? '')).isReady ?? false);
    expect(polls).toEqual([false, false, true]);
  });

  it('update (PUT, org route) renames: the WIF subject follows the name; delete needs projectIds', async () => {
    h = await startFake();
    const p = h.fake.addProject('mlops');
    const se = await h.api.getServiceEndpointApi();
    const created = await se.createServiceEndpoint(wif(p.id));
    const renamed = await se.updateServiceEndpoint({ ...wif(p.id, 'AzureML2'), id: created.id }, created.id ?? '');
    expect(renamed.authorization?.parameters?.['workloadIdentityFederationSubject']).toBe('sc://contoso/mlops/AzureML2');
    expect(await se.updateServiceEndpoint({ ...wif(p.id), id: '00000000-0000-0000-0000-000000000000' }, '00000000-0000-0000-0000-000000000000')).toBeNull();
    await se.deleteServiceEndpoint(created.id ?? '', [p.id]);
    expect(h.fake.requests.at(-1)).toMatchObject({ method: 'DELETE', status: 204, query: { projectIds: p.id } });
    expect(await se.getServiceEndpointsByNames('mlops', ['AzureML2'])).toEqual([]);
  });
});
