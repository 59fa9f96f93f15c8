import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { describe, expect, it } from 'vitest';
import { actionMatches, isActionAllowed, ROLE_ASSIGNMENT_WRITE } from '../../src/adapters/arm/authorization.js';
import { ArmError, CachingCredential, armScope } from '../../src/adapters/arm/client.js';
import { CONTRIBUTOR, OWNER, READER, USER_ACCESS_ADMINISTRATOR } from '../fakes/arm/fake-arm.js';
import { testCert } from '../fakes/arm/certs.js';
import { FAKE_TOKEN, ids, LOCATION, setup, SUB } from './helpers.js';

const run = promisify(execFile);

describe('armScope: the token audience for the az cloud', () => {
  it.each([
    ['https://management.azure.com/', 'https://management.core.windows.net/', 'https://management.azure.com/.default'],
    ['https://management.azure.com/', undefined, 'https://management.azure.com/.default'],
    ['https://management.chinacloudapi.cn/', 'https://management.core.chinacloudapi.cn/', 'https://management.chinacloudapi.cn/.default'],
    ['https://management.usgovcloudapi.net/', 'https://management.core.usgovcloudapi.net/', 'https://management.usgovcloudapi.net/.default'],
    // Azure Stack Hub: ARM's own URL is not an audience; az uses activeDirectoryResourceId
    ['https://management.local.azurestack.external/', 'https://management.adfs.azurestack.local/4de154de-f8a8-4017-af41-df619da68155', 'https://management.adfs.azurestack.local/4de154de-f8a8-4017-af41-df619da68155/.default'],
    // a resource id with a trailing slash keeps it (AzureCliCredential strips "/.default")
    ['https://127.0.0.1:4443/', 'https://management.core.windows.net/', 'https://management.core.windows.net//.default'],
    ['https://127.0.0.1:4443/', undefined, 'https://127.0.0.1:4443/.default'],
  ])('%s (%s) -> %s', (rm, adr, scope) => {
    expect(armScope(rm, adr)).toBe(scope);
  });
});

describe('permissions: wildcard matching of actions and notActions', () => {
  it('matches ARM action patterns case-insensitively', () => {
    expect(actionMatches('*', ROLE_ASSIGNMENT_WRITE)).toBe(true);
    expect(actionMatches('Microsoft.Authorization/*', ROLE_ASSIGNMENT_WRITE)).toBe(true);
    expect(actionMatches('microsoft.authorization/*/write', ROLE_ASSIGNMENT_WRITE)).toBe(true);
    expect(actionMatches('*/read', ROLE_ASSIGNMENT_WRITE)).toBe(false);
    expect(actionMatches('Microsoft.Authorization/roleAssignments/read', ROLE_ASSIGNMENT_WRITE)).toBe(false);
    expect(actionMatches('Microsoft.Storage/*', 'Microsoft.StorageSync/x')).toBe(false);
  });

  it.each([
    ['Owner', OWNER, true],
    ['User Access Administrator', USER_ACCESS_ADMINISTRATOR, true],
    ['Contributor', CONTRIBUTOR, false],
    ['Reader', READER, false],
    ['Contributor + User Access Administrator', [...CONTRIBUTOR, ...USER_ACCESS_ADMINISTRATOR], true],
  ])('%s -> can create role assignments: %s', (_name, perms, allowed) => {
    const p = perms.map((x) => ({ actions: x.actions, notActions: x.notActions ?? [] }));
    expect(isActionAllowed(p, ROLE_ASSIGNMENT_WRITE)).toEqual({ allowed, conditional: false });
  });

  it('an allowing entry with an ABAC condition is reported as conditional', () => {
    expect(isActionAllowed([{ actions: [ROLE_ASSIGNMENT_WRITE], notActions: [], condition: 'x' }], ROLE_ASSIGNMENT_WRITE)).toEqual({ allowed: true, conditional: true });
  });
});

describe('CachingCredential: one token per scope per run', () => {
  function counting(expiresInMs: number): TokenCredential & { calls: number } {
    const c = {
      calls: 0,
      async getToken(): Promise<AccessToken> {
        c.calls++;
        await new Promise((r) => setTimeout(r, 20));
        return { token: `t${c.calls}`, expiresOnTimestamp: Date.now() + expiresInMs };
      },
    };
    return c;
  }

  it('concurrent requests share one call; later ones reuse the token', async () => {
    const inner = counting(3_600_000);
    const seen: string[] = [];
    const cred = new CachingCredential(inner, (t) => seen.push(t));
    const tokens = await Promise.all(Array.from({ length: 8 }, () => cred.getToken('https://management.azure.com/.default')));
    expect(new Set(tokens.map((t) => t.token))).toEqual(new Set(['t1']));
    await cred.getToken(['https://management.azure.com/.default']);
    expect(inner.calls).toBe(1);
    expect(seen).toEqual(['t1']);
    await cred.getToken('https://graph.microsoft.com/.default');
    expect(inner.calls).toBe(2);
  });

  it('asks again within 5 minutes of expiry, and on a claims challenge', async () => {
    const inner = counting(4 * 60_000);
    const cred = new CachingCredential(inner);
    await cred.getToken('s');
    await cred.getToken('s');
    expect(inner.calls).toBe(2);
    const fresh = counting(3_600_000);
    const cred2 = new CachingCredential(fresh);
    await cred2.getToken('s');
    await cred2.getToken('s', { claims: '{"access_token":{}}' });
    expect(fresh.calls).toBe(2);
  });

  it('a failure becomes an ArmError, is remembered briefly (one az process per burst), then asked again', async () => {
    let n = 0;
    const cred = new CachingCredential(
      {
        async getToken() {
          n++;
          if (n === 1) throw new Error("Please run 'az login' from a command prompt to authenticate before using this credential.");
          return { token: 'ok', expiresOnTimestamp: Date.now() + 3_600_000 };
        },
      },
      undefined,
      undefined,
      50,
    );
    const e = await cred.getToken('s').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ArmError);
    expect((e as ArmError).message).toContain("Please run 'az login'");
    await expect(cred.getToken('s')).rejects.toBeInstanceOf(ArmError);
    expect(n).toBe(1);
    await new Promise((r) => setTimeout(r, 60));
    expect((await cred.getToken('s')).token).toBe('ok');
    expect(n).toBe(2);
  });
});

describe('ArmAdapter against the fake ARM', () => {
  it('takes the endpoint from `az cloud show` once and the public cloud scope from it', async () => {
    const { ctx, arm, azCommands } = await setup();
    const ep = await ctx.arm.endpoint();
    expect(ep).toEqual({ cloud: 'AzureCloud', url: arm.url.replace(/\/$/, ''), scope: 'https://management.core.windows.net//.default' });
    await ctx.arm.endpoint();
    expect(azCommands()).toEqual(['cloud show']);
  });

  it('the default az cloud (public Azure) gives management.azure.com', async () => {
    const { ctx } = await setup({ cloud: () => ({ name: 'AzureCloud', endpoints: { resourceManager: 'https://management.azure.com/', activeDirectoryResourceId: 'https://management.core.windows.net/' } }) });
    expect(await ctx.arm.endpoint()).toEqual({ cloud: 'AzureCloud', url: 'https://management.azure.com', scope: 'https://management.azure.com/.default' });
  });

  it('many calls through five SDK clients and the raw pipeline start one az token process', async () => {
    const { ctx, azCommands } = await setup();
    await Promise.all([
      ctx.arm.providers.providerStates(SUB, ['Microsoft.Compute', 'Microsoft.Storage']),
      ctx.arm.names.storageNameAvailable(SUB, 'stx1'),
      ctx.arm.names.registryNameAvailable(SUB, 'acrx1'),
      ctx.arm.names.keyVaultNameAvailable(SUB, 'kv-x1'),
      ctx.arm.names.deletedVault(SUB, LOCATION, 'kv-x1'),
      ctx.arm.quota.computeUsages(SUB, LOCATION),
      ctx.arm.quota.mlComputeUsages(SUB, LOCATION),
      ctx.arm.quota.vmSkus(SUB, LOCATION),
      ctx.arm.authorization.permissions(`/subscriptions/${SUB}`),
      ctx.arm.resources.getResource(ids.aks, '2024-09-01'),
    ]);
    expect(azCommands().filter((c) => c === 'account get-access-token')).toHaveLength(1);
    expect(azCommands().filter((c) => c === 'cloud show')).toHaveLength(1);
  });

  it('typed results: usages (Azure ML workspace-level entries left out), SKUs (VMs only), deleted vaults', async () => {
    const { ctx } = await setup({ arm: { deletedVaults: [{ name: 'kv-old', location: LOCATION, purgeProtectionEnabled: true }] } });
    const usages = await ctx.arm.quota.computeUsages(SUB, LOCATION);
    expect(usages.cores).toEqual({ current: 4, limit: 100, label: 'Total Regional vCPUs' });
    expect(usages.lowPriorityCores?.limit).toBe(100);
    const ml = await ctx.arm.quota.mlComputeUsages(SUB, LOCATION);
    expect(ml['Total Cluster LowPriority Regional vCPUs']).toMatchObject({ current: 0, limit: 100 });
    expect(ml['Standard DSv2 Family Cluster LowPriority vCPUs']?.limit).toBe(Number.POSITIVE_INFINITY);
    const skus = await ctx.arm.quota.vmSkus(SUB, LOCATION);
    expect(skus.Standard_D4s_v5).toEqual({ family: 'standardDSv5Family', vCPUs: 4 });
    expect(Object.keys(skus)).not.toContain('Premium_LRS');
    const dv = await ctx.arm.names.deletedVault(SUB, LOCATION, 'kv-old');
    expect(dv).toMatchObject({ name: 'kv-old', location: LOCATION, purgeProtectionEnabled: true });
    expect(dv?.scheduledPurgeDate).toBeInstanceOf(Date);
    expect(await ctx.arm.names.deletedVault(SUB, LOCATION, 'kv-none')).toBeNull();
  });

  it('getResource returns null on 404 (resource or resource group missing) and the resource otherwise', async () => {
    const { ctx, arm } = await setup();
    expect(await ctx.arm.resources.getResource(ids.aks, '2024-09-01')).toBeNull();
    arm.addResource(ids.aks, { type: 'Microsoft.ContainerService/managedClusters', location: LOCATION });
    expect(await ctx.arm.resources.getResource(ids.aks, '2024-09-01')).toMatchObject({ name: 'aksmlops01', location: LOCATION });
    expect(await ctx.arm.resources.getResource(ids.vault, '2023-07-01')).toBeNull();
    expect(arm.calls('GET', /managedClusters\/aksmlops01$/).every((r) => r.query['api-version'] === '2024-09-01')).toBe(true);
  });

  it('federated credentials of a managed identity: list (null when the identity is missing), put, duplicate refused, delete (true, then false)', async () => {
    const { ctx, arm } = await setup();
    const id = ids.pipelineIdentity;
    expect(await ctx.arm.identity.federatedCredentials(id)).toBeNull();
    arm.addResource(id, { type: 'Microsoft.ManagedIdentity/userAssignedIdentities', location: LOCATION });
    expect(await ctx.arm.identity.federatedCredentials(id)).toEqual([]);
    const fc = { issuer: 'https://login.microsoftonline.com/t/v2.0', subject: '/eid1/c/pub/t/x/a/y/sc/org/conn', audiences: ['api://AzureADTokenExchange'] };
    expect(await ctx.arm.identity.putFederatedCredential(id, 'azure-mlops-conn', fc)).toMatchObject({ name: 'azure-mlops-conn', ...fc });
    expect(await ctx.arm.identity.putFederatedCredential(id, 'azure-mlops-conn', fc)).toMatchObject({ name: 'azure-mlops-conn' }); // a PUT again is idempotent
    expect(await ctx.arm.identity.federatedCredentials(id)).toEqual([{ id: `${id}/federatedIdentityCredentials/azure-mlops-conn`, name: 'azure-mlops-conn', ...fc }]);
    const dup = (await ctx.arm.identity.putFederatedCredential(id, 'other-name', fc).catch((x: unknown) => x)) as ArmError;
    expect(dup).toBeInstanceOf(ArmError);
    expect(dup.message).toMatch(/adding the federated credential other-name: .*400.*already has this issuer and subject/);
    const put = arm.calls('PUT', /federatedIdentityCredentials\/azure-mlops-conn$/)[0]!;
    expect(put.query['api-version']).toBe('2023-01-31');
    expect(put.body).toEqual({ properties: fc });
    expect(await ctx.arm.identity.deleteFederatedCredential(id, 'azure-mlops-conn')).toBe(true);
    expect(await ctx.arm.identity.deleteFederatedCredential(id, 'azure-mlops-conn')).toBe(false);
    expect(await ctx.arm.identity.federatedCredentials(id)).toEqual([]);
  });

  it('a 403 on a federated credential names the ManagedIdentity permission', async () => {
    const { ctx, arm } = await setup({ arm: { faults: [{ method: 'PUT', path: '/federatedIdentityCredentials/', status: 403, body: { error: { code: 'AuthorizationFailed', message: 'no' } } }] } });
    arm.addResource(ids.pipelineIdentity, { type: 'Microsoft.ManagedIdentity/userAssignedIdentities' });
    const e = (await ctx.arm.identity.putFederatedCredential(ids.pipelineIdentity, 'n1x', { issuer: 'i', subject: 's', audiences: ['a'] }).catch((x: unknown) => x)) as ArmError;
    expect(e.action).toBe('Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write');
  });

  it('az not signed in: every check says so, after one az token process', async () => {
    const { ctx, azCommands } = await setup({ az: { loggedIn: false } });
    const { runPreflightChecks } = await import('../../src/steps/azure-preflight.js');
    const checks = await runPreflightChecks(ctx);
    for (const c of checks) {
      expect(c.status).toBe('missing');
      expect(c.summary).toMatch(/Cannot get an Azure Resource Manager token from az: .*Please run 'az login'/);
    }
    expect(azCommands().filter((c) => c === 'account get-access-token')).toHaveLength(1);
  });

  it('a 403 names the permission the call needs, with the service code and message, never the token', async () => {
    const { ctx } = await setup({
      arm: { faults: [{ method: 'GET', path: '/skus$', status: 403, body: { error: { code: 'AuthorizationFailed', message: "The client 'dev@contoso.com' does not have authorization to perform action 'Microsoft.Compute/skus/read'." } } }] },
    });
    const e = (await ctx.arm.quota.vmSkus(SUB, LOCATION).catch((x: unknown) => x)) as ArmError;
    expect(e).toBeInstanceOf(ArmError);
    expect(e.code).toBe('AuthorizationFailed');
    expect(e.details.statusCode).toBe(403);
    expect(e.action).toBe('Microsoft.Compute/skus/read');
    expect(e.message).toContain(`lacks the permission 'Microsoft.Compute/skus/read' on /subscriptions/${SUB}`);
    expect(e.message).toContain('does not have authorization');
    expect(JSON.stringify(e) + e.message + String(e.stack)).not.toContain(FAKE_TOKEN);
    expect(e.cause).toBeUndefined();
  });

  it('a 401 says to sign in again', async () => {
    const { ctx } = await setup({ arm: { faults: [{ path: '/providers/Microsoft\\.Compute$', status: 401, body: { error: { code: 'ExpiredAuthenticationToken', message: 'The access token expiry UTC time is earlier than current UTC time.' } } }] } });
    const e = (await ctx.arm.providers.providerStates(SUB, ['Microsoft.Compute']).catch((x: unknown) => x)) as ArmError;
    expect(e.message).toContain('rejected the token (401 ExpiredAuthenticationToken)');
    expect(e.message).toContain('az login');
  });

  it('an unknown route gets a 501 naming it (and the adapter reports the service message)', async () => {
    const { ctx } = await setup();
    const e = (await ctx.arm.resources.getResource(`/subscriptions/${SUB}/providers/Microsoft.Unknown/things/x`, '2020-01-01').catch((x: unknown) => x)) as ArmError;
    expect(e.message).toContain('501 NotImplementedInFake');
    expect(e.message).toContain(`fake ARM does not serve GET /subscriptions/${SUB}/providers/Microsoft.Unknown/things/x`);
  });

  it('a hanging endpoint fails within the call cap instead of hanging the run', async () => {
    const { ctx } = await setup({
      adapter: { callTimeoutMs: 800, attemptTimeoutMs: 300, retry: { maxRetries: 5, retryDelayInMs: 10, maxRetryDelayInMs: 20 } },
      arm: { faults: [{ path: '/skus$', status: 200, delayMs: 5_000, times: 100 }] },
    });
    const started = Date.now();
    const e = (await ctx.arm.quota.vmSkus(SUB, LOCATION).catch((x: unknown) => x)) as ArmError;
    expect(e).toBeInstanceOf(ArmError);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(e.message).toMatch(/listing VM sizes in westeurope: (no answer within 1 s|the request was aborted)/);
  });

  it('a long Retry-After is cut short by the call cap', async () => {
    const { ctx } = await setup({
      adapter: { callTimeoutMs: 700 },
      arm: { faults: [{ path: '/usages$', status: 429, headers: { 'Retry-After': '120' }, times: 100 }] },
    });
    const started = Date.now();
    const e = (await ctx.arm.quota.computeUsages(SUB, LOCATION).catch((x: unknown) => x)) as ArmError;
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(e.message).toContain('no answer within 1 s');
  });

  it('an endpoint nobody listens on is "cannot reach", quickly', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const { ctx } = await setup({
      cloud: () => ({ name: 'AzureCloud', endpoints: { resourceManager: `https://127.0.0.1:${port}/`, activeDirectoryResourceId: 'https://management.core.windows.net/' } }),
      adapter: { retry: { maxRetries: 1, retryDelayInMs: 10, maxRetryDelayInMs: 20 } },
    });
    const e = (await ctx.arm.providers.providerStates(SUB, ['Microsoft.Compute']).catch((x: unknown) => x)) as ArmError;
    expect(e).toBeInstanceOf(ArmError);
    expect(e.message).toContain(`cannot reach https://127.0.0.1:${port}`);
  });

  it('an untrusted certificate is refused (the SDK client without the test CA)', async () => {
    const { ctx, arm } = await setup();
    const { ArmAdapter } = await import('../../src/adapters/arm/index.js');
    const strict = new ArmAdapter(ctx.az, { retry: { maxRetries: 0 } });
    const e = (await strict.providers.providerStates(SUB, ['Microsoft.Compute']).catch((x: unknown) => x)) as ArmError;
    expect(e).toBeInstanceOf(ArmError);
    expect(e.message).toMatch(/self-signed|certificate/i);
    expect(arm.requests).toHaveLength(0);
  });

  it('subprocesses can trust the fake with NODE_EXTRA_CA_CERTS and the SDK default HTTP client', async () => {
    const { arm } = await setup();
    const script = `
      const { createDefaultHttpClient, createPipelineRequest } = await import('@azure/core-rest-pipeline');
      const res = await createDefaultHttpClient().sendRequest(createPipelineRequest({ url: process.argv[1] + 'subscriptions/x/providers/Microsoft.Compute?api-version=1' }));
      console.log(res.status);`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, arm.url], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: testCert().certFile },
      cwd: new URL('../..', import.meta.url).pathname,
    });
    expect(stdout.trim()).toBe('401'); // TLS accepted; no bearer token -> 401 from the fake
  });
});
