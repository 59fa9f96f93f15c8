import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { answerFields, answerKeys, flagName } from '../../src/config/fields.js';
import { resolveAnswers, type ResolveInput } from '../../src/config/resolve.js';
import { normalizeOrgUrl } from '../../src/config/schema.js';
import { UsageError } from '../../src/engine/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'answers-'));
function configFile(content: string): string {
  const f = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(f, content);
  return f;
}

const base: ResolveInput = { flags: {}, env: {}, saved: {}, stateFile: '.azure-mlops/state.json', required: [], interactive: false };
const resolve = (over: Partial<ResolveInput>) => resolveAnswers({ ...base, ...over });

async function usageError(p: Promise<unknown>): Promise<UsageError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    expect((e as UsageError).exitCode).toBe(2);
    return e as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('answer resolution: flag > env > config file > saved state > default', () => {
  const cfg = configFile(JSON.stringify({ prefix: 'fromconfig', location: 'northeurope', 'agent-vm-size': 'Standard_D4s_v5' }));
  it.each([
    ['flag wins over everything', { flags: { prefix: 'fromflag' }, env: { AZURE_MLOPS_PREFIX: 'fromenv' }, configFile: cfg, saved: {} }, 'fromflag', 'flag'],
    ['env wins over config and state', { env: { AZURE_MLOPS_PREFIX: 'fromenv' }, configFile: cfg }, 'fromenv', 'env AZURE_MLOPS_PREFIX'],
    ['config wins over state', { configFile: cfg, saved: {} }, 'fromconfig', 'config'],
    ['state when nothing else', { saved: { prefix: 'fromstate' } }, 'fromstate', 'state'],
  ] as const)('%s', async (_name, input, value, source) => {
    const a = await resolve(input as Partial<ResolveInput>);
    expect(a.get('prefix')).toBe(value);
    expect(a.sourceOf('prefix')).toBe(source);
  });

  it('applies defaults and derives the repository from the project', async () => {
    const a = await resolve({ flags: { project: 'mlops' } });
    expect(a.get('pool')).toBe('pool001');
    expect(a.get('agents')).toBe(4);
    expect(a.get('serviceConnection')).toBe('AzureMLWorkspace');
    expect(a.get('variableGroup')).toBe('devopsforai-aml-vg');
    expect(a.get('auth')).toBe('federated');
    expect(a.get('repo')).toBe('mlops');
    expect(a.get('stateBackend')).toBe('local');
    expect(a.maybe('terraformDir')).toBeUndefined();
  });

  it.each([
    ['default: a managed identity', {}, 'managed-identity', 'default'],
    ['--auth secret: an app registration (a managed identity has no secret)', { flags: { auth: 'secret' } }, 'app-registration', 'default'],
    ['--sp-name names an app: an app registration', { flags: { spName: 'their-app' } }, 'app-registration', 'default'],
    ['AZURE_MLOPS_SP_NAME too', { env: { AZURE_MLOPS_SP_NAME: 'their-app' } }, 'app-registration', 'default'],
    ['asked for', { env: { AZURE_MLOPS_PIPELINE_IDENTITY: 'app-registration' } }, 'app-registration', 'env AZURE_MLOPS_PIPELINE_IDENTITY'],
    ['saved by this version', { saved: { prefix: 'abc', pipelineIdentity: 'managed-identity', spName: 'azure-mlops-abc-pipeline' } }, 'managed-identity', 'state'],
    ['a state written before managed identities existed (its deployment has an app)', { saved: { prefix: 'abc', spName: 'azure-mlops-abc-pipeline' } }, 'app-registration', 'state'],
  ] as const)('pipeline identity — %s', async (_name, input, kind, source) => {
    const a = await resolve(input as Partial<ResolveInput>);
    expect(a.get('pipelineIdentity')).toBe(kind);
    expect(a.sourceOf('pipelineIdentity')).toBe(source);
  });

  it('a managed identity with --auth secret or --sp-name is refused, naming both flags and env vars', async () => {
    const e = await usageError(resolve({ flags: { pipelineIdentity: 'managed-identity', auth: 'secret' } }));
    expect(e.message).toMatch(/--pipeline-identity managed-identity.*--auth secret.*no client secret/);
    expect(e.fix).toContain('AZURE_MLOPS_AUTH');
    expect(e.fix).toContain('AZURE_MLOPS_PIPELINE_IDENTITY');
    const e2 = await usageError(resolve({ env: { AZURE_MLOPS_PIPELINE_IDENTITY: 'managed-identity', AZURE_MLOPS_SP_NAME: 'x' } }));
    expect(e2.message).toMatch(/--sp-name \(env AZURE_MLOPS_SP_NAME\)/);
    expect(e2.fix).toContain('AZURE_MLOPS_PIPELINE_IDENTITY');
  });

  it.each([
    ['newzealandnorth', {}, 'New Zealand North'],
    ['malaysiasouth', { AZURE_MLOPS_ALLOW_ANY_REGION: '1' }, 'Malaysia South'],
  ])('the default managed identity is refused in %s (no federated credentials there), naming the alternative', async (location, env, region) => {
    const before = process.env.AZURE_MLOPS_ALLOW_ANY_REGION;
    Object.assign(process.env, env);
    try {
      const e = await usageError(resolve({ flags: { location } }));
      expect(e.message).toContain(region);
      expect(e.message).toContain('--location');
      expect(e.fix).toContain('--pipeline-identity app-registration');
      expect(e.fix).toContain('AZURE_MLOPS_PIPELINE_IDENTITY');
      expect(e.fix).toContain('AZURE_MLOPS_LOCATION');
      // An app registration's credentials are not regional: that mode is accepted there.
      const a = await resolve({ flags: { location, pipelineIdentity: 'app-registration' } });
      expect(a.get('pipelineIdentity')).toBe('app-registration');
      // So is --auth secret, which implies an app registration.
      expect((await resolve({ flags: { location, auth: 'secret' } })).get('pipelineIdentity')).toBe('app-registration');
    } finally {
      if (before === undefined) delete process.env.AZURE_MLOPS_ALLOW_ANY_REGION;
      else process.env.AZURE_MLOPS_ALLOW_ANY_REGION = before;
    }
  });

  it('derives the pipeline identity name from the prefix', async () => {
    expect((await resolve({ flags: { prefix: 'abc' } })).get('spName')).toBe('azure-mlops-abc-pipeline');
    expect((await resolve({ flags: { prefix: 'abc', spName: 'mine' } })).get('spName')).toBe('mine');
  });

  it('reads kebab-case keys from the config file and coerces numbers from env', async () => {
    const a = await resolve({ configFile: cfg, env: { AZURE_MLOPS_AGENTS: '6' } });
    expect(a.get('agentVmSize')).toBe('Standard_D4s_v5');
    expect(a.get('agents')).toBe(6);
    expect(a.get('location')).toBe('northeurope');
  });

  it('ARM_SUBSCRIPTION_ID is honoured, AZURE_MLOPS_SUBSCRIPTION before it', async () => {
    expect((await resolve({ env: { ARM_SUBSCRIPTION_ID: 'sub-a' } })).get('subscription')).toBe('sub-a');
    expect((await resolve({ env: { ARM_SUBSCRIPTION_ID: 'sub-a', AZURE_MLOPS_SUBSCRIPTION: 'sub-b' } })).get('subscription')).toBe('sub-b');
  });

  it('normalises a region display name', async () => {
    expect((await resolve({ flags: { location: 'West Europe' } })).get('location')).toBe('westeurope');
  });

  it('a missing required answer in non-interactive mode names every flag and env var', async () => {
    const e = await usageError(resolve({ required: ['prefix', 'org'] }));
    expect(e.message).toContain('--prefix (env AZURE_MLOPS_PREFIX)');
    expect(e.message).toContain('--org (env AZURE_MLOPS_ORG)');
  });

  it('refuses a prefix different from the one the state dir was made for', async () => {
    const e = await usageError(resolve({ flags: { prefix: 'other' }, saved: { prefix: 'first' } }));
    expect(e.message).toContain("'first'");
    expect(e.fix).toContain('--state-dir');
  });

  it('get() of an absent answer is a usage error naming the flag', async () => {
    const a = await resolve({});
    expect(() => a.get('org')).toThrow(/--org/);
  });
});

describe('bad input: every answer, each rejection names the flag and the env var', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['prefix', 'UPPER', /lowercase/],
    ['prefix', 'x', /at least 2/],
    ['prefix', 'waytoolongprefixforazure', /at most 20/],
    ['prefix', 'has-dash', /lowercase/],
    ['location', 'westeruope', /did you mean 'westeurope'/],
    ['location', 'mars', /not an Azure region/],
    ['subscription', '   ', /empty/],
    ['org', 'dev.azure.com/myorg', /not a URL/],
    ['org', 'http://dev.azure.com/myorg', /http/],
    ['org', 'https://dev.azure.com/', /no organization/],
    ['org', 'https://dev.azure.com/myorg/myproject', /--project myproject/],
    ['org', 'https://user:pw@dev.azure.com/myorg', /credentials/],
    ['org', 'ftp://dev.azure.com/x', /https/],
    ['project', 'bad/name', /'\/'/],
    ['project', '_hidden', /cannot start/],
    ['project', 'x'.repeat(65), /at most 64/],
    ['project', 'CON', /reserved/],
    ['agentsHost', 'aci', /'vm' .*or 'managed-pool'/],
    ['pool', 'pool:1', /':'/],
    ['agents', '0', /at least 1/],
    ['agents', '100', /at most 16/],
    ['agents', 'four', /whole number/],
    ['agents', '2.5', /whole number/],
    ['agentVmSize', 'D2s_v5', /Standard_D2s_v5/],
    ['serviceConnection', 'a|b', /'\|'/],
    ['variableGroup', 'group;x', /';'/],
    ['repo', 'repo.', /end with/],
    ['auth', 'password', /federated/],
    ['pipelineIdentity', 'service-principal', /'managed-identity' or 'app-registration'/],
    ['spName', ' padded ', /spaces/],
    ['terraformDir', '', /empty/],
    ['stateBackend', 's3', /'local' or 'azurerm'/],
    ['devopsAuth', 'oauth', /'pat' or 'entra'/],
    ['currency', 'eur', /three capital letters .*did you mean 'EUR'/],
    ['currency', 'EURO', /not a currency code/],
  ];
  it.each(cases)('--%s %j', async (key, value, msg) => {
    const k = key as keyof typeof answerFields;
    const e = await usageError(resolve({ flags: { [k]: value } }));
    expect(e.message).toMatch(msg);
    expect(e.message).toContain(flagName(k));
    expect(e.fix).toContain(answerFields[k].env[0]);
  });

  it('names the env var when the bad value came from the environment', async () => {
    const e = await usageError(resolve({ env: { AZURE_MLOPS_AGENTS: '100' } }));
    expect(e.message).toContain('AZURE_MLOPS_AGENTS');
  });

  it('covers every answer field', () => {
    expect(new Set(cases.map((c) => c[0]))).toEqual(new Set(answerKeys.filter((k) => k !== 'sshKey')));
  });

  // Integers are decimal digits only: Number() would read all of these as 4 or 10.
  it.each(['0x4', '4.0', ' 4', '4 ', '1e1', '0b100', '0o4', '+4', '-0', '', 'Infinity', '4_0'])('--agents %j is refused', async (value) => {
    const e = await usageError(resolve({ flags: { agents: value } }));
    expect(e.message).toMatch(/--agents/);
    expect(e.message).toMatch(/decimal digits|whole number/);
    expect(e.fix).toContain('AZURE_MLOPS_AGENTS');
  });

  it('--agents in decimal digits, or a JSON integer in the config file, is taken', async () => {
    expect((await resolve({ flags: { agents: '7' } })).get('agents')).toBe(7);
    expect((await resolve({ configFile: configFile('{"agents": 3}') })).get('agents')).toBe(3);
    await usageError(resolve({ configFile: configFile('{"agents": 2.5}') }));
    await usageError(resolve({ configFile: configFile('{"agents": "0x4"}') }));
  });

  // Control, bidirectional-override and zero-width characters make a name look like another.
  const tricks: Array<[string, string]> = [
    ['U+202E right-to-left override', 'ml\u202Eops'],
    ['U+200B zero-width space', 'ml\u200Bops'],
    ['U+2066 left-to-right isolate', 'ml\u2066ops'],
    ['U+200F right-to-left mark', 'mlops\u200F'],
    ['U+061C Arabic letter mark', 'ml\u061Cops'],
    ['U+FEFF zero-width no-break space', '\uFEFFmlops'],
    ['U+2060 word joiner', 'ml\u2060ops'],
    ['U+0085 next line (C1 control)', 'ml\u0085ops'],
    ['U+0007 bell (C0 control)', 'ml\u0007ops'],
  ];
  const names = ['project', 'pool', 'repo', 'serviceConnection', 'variableGroup', 'spName', 'prefix', 'subscription', 'terraformDir', 'sshKey', 'agentVmSize', 'org', 'location'] as const;
  it.each(tricks)('%s is refused in every answer, from a flag or an env var, naming both', async (_n, value) => {
    for (const k of names) {
      const v = k === 'org' ? `https://dev.azure.com/${value}` : value;
      const e = await usageError(resolve({ flags: { [k]: v } }));
      expect(e.message, k).toContain(flagName(k));
      expect(e.message, k).toMatch(/U\+[0-9A-F]{4} \((a control|a bidirectional-text control|a zero-width) character\)/);
      expect(e.fix, k).toContain(answerFields[k].env[0]);
      // The message shows the character escaped, never raw.
      expect(e.message).not.toMatch(/[\u0000-\u0008\u0085\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/);
      const env = answerFields[k].env[0]!;
      const fromEnv = await usageError(resolve({ env: { [env]: v } }));
      expect(fromEnv.message, k).toContain(env);
    }
    const fromConfig = await usageError(resolve({ configFile: configFile(JSON.stringify({ project: value })) }));
    expect(fromConfig.message).toMatch(/--project/);
  });
});

describe('--agents-host', () => {
  it("defaults to 'vm' and takes AZURE_MLOPS_AGENTS_HOST", async () => {
    expect((await resolve({})).get('agentsHost')).toBe('vm');
    const a = await resolve({ env: { AZURE_MLOPS_AGENTS_HOST: 'managed-pool' } });
    expect(a.get('agentsHost')).toBe('managed-pool');
    expect(a.sourceOf('agentsHost')).toBe('env AZURE_MLOPS_AGENTS_HOST');
  });

  it.each([
    ['--pool', { flags: { agentsHost: 'managed-pool', pool: 'mypool' } }, /--pool \(flag\) is for the agent VM.*mdp-\{prefix\}/],
    ['AZURE_MLOPS_AGENT_VM_SIZE', { flags: { agentsHost: 'managed-pool' }, env: { AZURE_MLOPS_AGENT_VM_SIZE: 'Standard_D4s_v5' } }, /--agent-vm-size \(env AZURE_MLOPS_AGENT_VM_SIZE\) is for the agent VM.*managed_pool_vm_size/],
  ] as const)('managed-pool refuses an agent-VM answer given now: %s', async (_what, input, msg) => {
    const e = await usageError(resolve(input as Partial<ResolveInput>));
    expect(e.message).toMatch(msg);
    expect(e.fix).toMatch(/--agents-host vm/);
  });

  it('managed-pool keeps the saved answers of an earlier agent-VM run (switching hosts)', async () => {
    const a = await resolve({ flags: { agentsHost: 'managed-pool' }, saved: { prefix: 'mlops01', pool: 'pool001', agentVmSize: 'Standard_D4s_v5' } });
    expect(a.get('agentsHost')).toBe('managed-pool');
  });
});

describe('config file problems are usage errors', () => {
  it.each([
    ['unreadable', join(dir, 'missing.json'), /Cannot read the config file .*ENOENT/],
    ['not JSON', configFile('{prefix: nope'), /not valid JSON/],
    ['not an object', configFile('[1,2]'), /JSON object/],
    ['unknown key', configFile('{"prefx": "abc"}'), /unknown key 'prefx'/],
    ['a secret', configFile('{"pat": "abcdefgh"}'), /secrets never go into files/],
  ])('%s', async (_n, file, msg) => {
    const e = await usageError(resolve({ configFile: file }));
    expect(e.message).toMatch(msg);
    expect(`${e.message} ${e.fix}`).toMatch(/--config|AZURE_DEVOPS_EXT_PAT/);
  });
  it('a bad value in the config file names the file and the key', async () => {
    const f = configFile('{"agents": 0}');
    const e = await usageError(resolve({ configFile: f }));
    expect(e.message).toContain(`'agents' in ${f}`);
  });
});

describe('organization URL forms', () => {
  it.each([
    ['https://dev.azure.com/myorg', 'https://dev.azure.com/myorg'],
    ['https://dev.azure.com/myorg/', 'https://dev.azure.com/myorg'],
    ['https://myorg.visualstudio.com', 'https://myorg.visualstudio.com'],
    ['https://tfs.contoso.com/tfs/DefaultCollection/', 'https://tfs.contoso.com/tfs/DefaultCollection'],
    ['http://127.0.0.1:8080/myorg', 'http://127.0.0.1:8080/myorg'],
    ['http://localhost:9000/org', 'http://localhost:9000/org'],
  ])('%s', (raw, url) => {
    expect(normalizeOrgUrl(raw)).toEqual({ url });
  });
});
