import { describe, expect, it } from 'vitest';
import { ArmError, CachingCredential, signedOut } from '../../src/adapters/arm/client.js';
import { AzError } from '../../src/adapters/az.js';

/** doctor's "not signed in to Azure" is read from the errors' kinds and status, not their text. */
describe('signedOut', () => {
  const notLoggedIn = new AzError("az account get-access-token failed: Please run 'az login' to setup account.", 'not-logged-in', {});

  it('az not signed in, directly or as the cause of an ARM call that got no token', async () => {
    expect(signedOut(notLoggedIn)).toBe(true);
    const cred = new CachingCredential({ getToken: () => Promise.reject(notLoggedIn) });
    const e = await cred.getToken('https://management.azure.com/.default').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ArmError);
    expect((e as ArmError).code).toBe('CredentialUnavailable');
    // As ArmAdapter.call() rethrows it, named after the call.
    expect(signedOut(new ArmError(`read subscription: ${(e as Error).message}`, 'CredentialUnavailable', {}, undefined, { cause: e }))).toBe(true);
  });

  it('a token Azure Resource Manager refuses (401)', () => {
    expect(signedOut(new ArmError('rejected the token', 'InvalidAuthenticationToken', { statusCode: 401 }))).toBe(true);
  });

  it('anything else is not, whatever its message says', async () => {
    const slow = new AzError('az account get-access-token did not finish within 300 s', 'failed', {});
    const e = await new CachingCredential({ getToken: () => Promise.reject(slow) }).getToken('x').catch((x: unknown) => x);
    expect(signedOut(e)).toBe(false);
    expect(signedOut(new ArmError('forbidden: run az login as someone else', 'AuthorizationFailed', { statusCode: 403 }))).toBe(false);
    expect(signedOut(new Error("Please run 'az login'"))).toBe(false);
  });
});
