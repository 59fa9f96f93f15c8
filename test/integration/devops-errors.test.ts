import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { unreachableError } from '../../src/adapters/devops.js';
import { runCli } from '../helpers/cli.js';
import { PAT, worldsPerTest, type World } from '../helpers/world.js';

// Every Azure DevOps error a person can hit ends with a "fix:" line (src/cli.ts prints a CliError's
// fix; DevOpsError is one). The CLI process against the fake Azure DevOps server, and a closed port.
const world = worldsPerTest();

const withOrg = (w: World, org: string) => w.args.map((a) => (a === w.devops.orgUrl ? org : a));

/** A port nothing listens on: bound by the OS, then closed. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

function fixLine(stderr: string): string {
  const line = stderr.split('\n').find((l) => /^\s*fix: /.test(l));
  expect(line, `no fix line in:\n${stderr}`).toBeDefined();
  return line!;
}

describe('Azure DevOps errors carry their fix to the screen', () => {
  it('a refused PAT (401): the page to create one and the scopes it needs; nothing created', async () => {
    const w = await world();
    const r = await runCli(['init', '--yes', ...w.args], { env: { ...w.env, AZURE_DEVOPS_EXT_PAT: 'wrongPAT000000000000000000' }, cwd: w.cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/credential was refused by .* \(HTTP 401\): the PAT is invalid or expired/);
    expect(fixLine(r.stderr)).toContain(`fix: Create a PAT at ${w.devops.orgUrl}/_usersSettings/tokens with these scopes: Agent Pools (Read & manage), Build (Read & execute)`);
    expect(r.stderr).not.toContain('wrongPAT000000000000000000');
    expect(w.devops.mutating()).toEqual([]);
  });

  it('a PAT answered by the sign-in page (203): the same fix', async () => {
    const w = await world({ devops: { badAuth: '203' } });
    const r = await runCli(['init', '--yes', ...w.args], { env: { ...w.env, AZURE_DEVOPS_EXT_PAT: 'expiredPAT0000000000000000' }, cwd: w.cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/HTTP 203: a sign-in page instead of data/);
    expect(fixLine(r.stderr)).toContain('/_usersSettings/tokens with these scopes:');
  });

  it('an organization that does not exist (404): check the URL', async () => {
    const w = await world();
    const org = w.devops.orgUrl.replace(/\/[^/]+$/, '/nosuchorg');
    const r = await runCli(['init', '--yes', ...withOrg(w, org)], { env: w.env, cwd: w.cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${org} is not an Azure DevOps organization (HTTP 404: not found).`);
    expect(fixLine(r.stderr)).toContain(`fix: Check the organization URL ${org} (--org, env AZURE_MLOPS_ORG)`);
  });

  it('a host that does not answer (closed port): the URL tried, the code, and what to check', async () => {
    const w = await world();
    const org = `http://127.0.0.1:${await closedPort()}/contoso`;
    const r = await runCli(['init', '--yes', ...withOrg(w, org)], { env: w.env, cwd: w.cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Could not reach ${org}/_apis/connectionData: ECONNREFUSED`);
    expect(fixLine(r.stderr)).toMatch(/fix: Nothing answers at 127\.0\.0\.1:\d+: check the URL and its port \(--org, env AZURE_MLOPS_ORG\), then your network, and, behind a proxy, HTTPS_PROXY/);
    expect(r.stderr).not.toContain(PAT);
  });

  it('a permission the PAT lacks mid-run (403): the scopes, and init --json carries the fix too', async () => {
    const w = await world();
    w.devops.inject({ method: 'POST', path: /distributedtask\/pools$/i, status: 403, times: Infinity });
    const r = await runCli(['init', '--yes', '--json', ...w.args], { env: w.env, cwd: w.cwd });
    expect(r.code).toBe(1);
    expect(fixLine(r.stderr)).toContain('fix: The PAT or account lacks a permission for this; the PAT needs: Agent Pools (Read & manage)');
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, exitCode: 1, error: { fix: expect.stringContaining('Agent Pools (Read & manage)') } });
  });

  it('a server error that outlasts the retries (500): what to do about it', async () => {
    const w = await world();
    w.devops.inject({ method: 'POST', path: /distributedtask\/pools$/i, status: 500, times: Infinity });
    const r = await runCli(['init', '--yes', ...w.args], { env: w.env, cwd: w.cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/create pool pool001 failed: HTTP 500/);
    expect(fixLine(r.stderr)).toContain('fix: Azure DevOps failed on its side; wait a little and re-run: what is done is kept.');
  });
});

describe('unreachableError: requests that got no HTTP answer', () => {
  const url = 'https://dev.azure.com/contoso/_apis/connectionData';
  const err = (code: string | undefined, message = 'x') => Object.assign(new Error(message), code ? { code } : {});
  it.each([
    ['ENOTFOUND', err('ENOTFOUND'), /does not resolve: check the URL/],
    ['EAI_AGAIN', err('EAI_AGAIN'), /does not resolve/],
    ['ECONNREFUSED', err('ECONNREFUSED'), /Nothing answers at dev\.azure\.com/],
    ['ETIMEDOUT', err('ETIMEDOUT'), /HTTPS_PROXY.*AZURE_MLOPS_HTTP_TIMEOUT_MS/],
    ['timeout', err(undefined, 'Request timeout: /contoso/_apis/connectionData'), /AZURE_MLOPS_HTTP_TIMEOUT_MS/],
    ['SELF_SIGNED_CERT_IN_CHAIN', err('SELF_SIGNED_CERT_IN_CHAIN'), /NODE_EXTRA_CA_CERTS/],
  ])('%s', (code, e, fix) => {
    const d = unreachableError(url, e);
    expect(d?.message).toMatch(new RegExp(`^Could not reach ${url.replaceAll('.', '\\.')}: ${code}`));
    expect(d?.fix).toMatch(fix);
    expect(d?.exitCode).toBe(1);
  });
  it('is not used for HTTP answers or unknown errors', () => {
    expect(unreachableError(url, Object.assign(new Error('boom'), { statusCode: 500, code: 'ECONNRESET' }))).toBeUndefined();
    expect(unreachableError(url, new Error('something else'))).toBeUndefined();
  });
});
