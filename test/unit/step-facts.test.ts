import { describe, expect, it } from 'vitest';
import { AnswerSet } from '../../src/config/resolve.js';
import { packageRoot } from '../../src/engine/context.js';
import { StepError } from '../../src/engine/errors.js';
import type { StateStore } from '../../src/engine/state.js';
import type { CheckResult, Context } from '../../src/engine/types.js';
import type { Answers } from '../../src/config/schema.js';
import { azurePreflightStep, type PreflightFacts } from '../../src/steps/azure-preflight.js';
import { pipelineStep } from '../../src/steps/pipeline.js';
import { createRepositoryStep } from '../../src/steps/repository.js';
import { serviceConnectionStep } from '../../src/steps/service-connection.js';
import { servicePrincipalStep, type ServicePrincipalFacts } from '../../src/steps/service-principal.js';
import { variableGroupStep } from '../../src/steps/variable-group.js';

/**
 * plan() reads its check's typed facts, never its sentence: each plan below gets a literal context
 * (no server: any outside call throws) and a finding whose summary says nothing.
 */

/** Any call to an outside service fails the test: the plan must decide from the facts alone. */
const noServer = new Proxy({}, { get: (_t, key) => (key === 'then' ? undefined : () => Promise.reject(new Error(`unexpected call: ${String(key)}`))) });

const ANSWERS: Partial<Answers> = {
  prefix: 'mlops01',
  location: 'westeurope',
  org: 'https://dev.azure.com/acme',
  project: 'mlops',
  pool: 'pool001',
  serviceConnection: 'AzureMLWorkspace',
  variableGroup: 'devopsforai-aml-vg',
  repo: 'mlops',
  auth: 'federated',
  pipelineIdentity: 'managed-identity',
  spName: 'azure-mlops-mlops01-pipeline',
};

function literalState(data: Record<string, Record<string, unknown>> = {}): StateStore {
  return { data: { outputs: {}, resources: [], steps: {}, data }, stepData: (step: string) => ({ ...data[step] }), resource: () => undefined } as unknown as StateStore;
}

/** A context with only what a plan reads; the rest are servers it must not call. */
function literalContext(answers: Partial<Answers> = {}, data: Record<string, Record<string, unknown>> = {}): Context {
  return {
    answers: new AnswerSet({ ...ANSWERS, ...answers }),
    state: literalState(data),
    arm: { ...noServer, endpoint: async () => ({ cloud: 'AzureCloud' }) },
    devops: noServer,
    az: noServer,
    run: { packageRoot: packageRoot() },
  } as unknown as Context;
}

/** A finding whose sentence gives nothing away. */
const found = <F>(status: CheckResult['status'], facts?: F): CheckResult<F> => ({ status, summary: '…', ...(facts ? { facts } : {}) });

describe('service connection: plan from the facts', () => {
  it('a connection that exists and matches is not planned again: only its missing trust, on its own id', async () => {
    const changes = await serviceConnectionStep.plan(literalContext(), found('missing', { existing: { id: 'e1' }, drift: [] }));
    expect(changes.map((c) => c.action)).toEqual(['create']);
    expect(changes[0]?.what).toMatch(/federated credential/);
    // Trusted already (e.g. only not ready yet): nothing to create at all.
    expect(await serviceConnectionStep.plan(literalContext(), found('missing', { existing: { id: 'e1' }, drift: [], trusted: true }))).toEqual([]);
  });

  it("'update' when the existing connection drifted", async () => {
    const changes = await serviceConnectionStep.plan(literalContext(), found('missing', { existing: { id: 'e1' }, drift: ['subscriptionId a (want b)'] }));
    expect(changes[0]).toMatchObject({ action: 'update', what: "service connection 'AzureMLWorkspace' (type azurerm)" });
  });

  it("'create' when nothing exists, or when it was not checked yet", async () => {
    expect((await serviceConnectionStep.plan(literalContext(), found('missing', { drift: [] })))[0]?.action).toBe('create');
    expect((await serviceConnectionStep.plan(literalContext(), found('skipped')))[0]?.action).toBe('create');
  });

  it('federated: the federated credential is planned too; with a secret it is not', async () => {
    expect((await serviceConnectionStep.plan(literalContext(), found('missing', { drift: [] }))).map((c) => c.action)).toEqual(['create', 'create']);
    expect((await serviceConnectionStep.plan(literalContext({ auth: 'secret' }), found('missing', { drift: [] }))).map((c) => c.action)).toEqual(['create']);
  });
});

describe('variable group: plan from the facts', () => {
  it("'update' when the group differs, 'create' when there is none", async () => {
    expect((await variableGroupStep.plan(literalContext(), found('missing', { existing: { id: 7 }, drift: ['POOL_NAME missing'] })))[0]?.action).toBe('update');
    expect((await variableGroupStep.plan(literalContext(), found('missing', { drift: [] })))[0]?.action).toBe('create');
    expect((await variableGroupStep.plan(literalContext(), found('skipped')))[0]?.action).toBe('create');
  });
});

describe('pipeline: plan from the facts', () => {
  it('an existing pipeline is only authorized; a missing one is created first', async () => {
    expect((await pipelineStep.plan(literalContext(), found('missing', { existing: { id: 3 }, unauthorized: ['agent queue pool001'] }))).map((c) => c.action)).toEqual(['update']);
    expect((await pipelineStep.plan(literalContext(), found('missing', { unauthorized: [] }))).map((c) => c.action)).toEqual(['create', 'update']);
    expect((await pipelineStep.plan(literalContext(), found('skipped'))).map((c) => c.action)).toEqual(['create', 'update']);
  });
});

describe('repository: plan from the facts', () => {
  const step = createRepositoryStep();

  it('a repository with commits is never overwritten: the plan stops, naming --push-to', async () => {
    const e = await step.plan(literalContext(), found('missing', { existing: { id: 'r1' }, hasCommits: true })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StepError);
    expect((e as StepError).fix).toContain('--push-to');
  });

  it('with --push-to the same repository gets a new branch', async () => {
    const changes = await createRepositoryStep({ pushTo: 'azure-mlops' }).plan(literalContext(), found('missing', { existing: { id: 'r1' }, hasCommits: true }));
    expect(changes.map((c) => c.what)).toEqual([expect.stringMatching(/^first commit on 'azure-mlops'/)]);
  });

  it('no repository: created, then the first commit; an empty one gets only the commit', async () => {
    expect((await step.plan(literalContext(), found('missing', { hasCommits: false }))).map((c) => c.what)).toEqual(["Azure Repos repository 'mlops'", expect.stringMatching(/^first commit on 'main'/)]);
    expect((await step.plan(literalContext(), found('skipped'))).map((c) => c.what)[0]).toBe("Azure Repos repository 'mlops'");
    expect((await step.plan(literalContext(), found('missing', { existing: { id: 'r1' }, hasCommits: false }))).map((c) => c.what)).toEqual([expect.stringMatching(/^first commit on 'main'/)]);
  });
});

describe('pipeline identity (app registration): plan from the facts', () => {
  const ctx = () => literalContext({ pipelineIdentity: 'app-registration' });

  it('several apps with the name: the plan stops with the check\'s own words', async () => {
    const r: CheckResult<ServicePrincipalFacts> = { status: 'missing', summary: 'two apps', fix: 'delete one', facts: { apps: [{ appId: 'a1' }, { appId: 'a2' }] } };
    await expect(servicePrincipalStep.plan(ctx(), r)).rejects.toMatchObject({ message: 'two apps', fix: 'delete one' });
  });

  it('an app found without its service principal: only the service principal is created, for that app', async () => {
    const changes = await servicePrincipalStep.plan(ctx(), found('missing', { apps: [{ appId: 'a1' }] }));
    expect(changes.map((c) => c.commands?.[0])).toEqual(['az ad sp create --id a1']);
  });

  it('nothing found, or not checked yet: the app and its service principal', async () => {
    for (const r of [found<ServicePrincipalFacts>('missing', { apps: [] }), found<ServicePrincipalFacts>('skipped')]) {
      expect((await servicePrincipalStep.plan(ctx(), r)).map((c) => c.commands?.[0])).toEqual(['az ad app create --display-name azure-mlops-mlops01-pipeline', "az ad sp create --id '<appId>'"]);
    }
  });
});

describe('Azure preflight: plan from the facts (no second survey)', () => {
  const register = { action: 'run' as const, what: 'register resource provider Microsoft.Storage', commands: ['az provider register --namespace Microsoft.Storage'], record: { namespace: 'Microsoft.Storage' } };

  it('what the step can fix becomes the plan, without asking Azure again', async () => {
    const changes = await azurePreflightStep.plan(literalContext(), found<PreflightFacts>('missing', { problems: [{ text: 'Microsoft.Storage is NotRegistered', fix: 'init registers it', change: register }] }));
    expect(changes).toEqual([register]);
  });

  it('a problem only a person can fix stops the plan with its fix', async () => {
    const facts = { problems: [{ text: 'the storage account name stmlops01 is taken', fix: 'Choose another --prefix.' }, { text: 'Microsoft.Storage is NotRegistered', fix: 'init registers it', change: register }] };
    await expect(azurePreflightStep.plan(literalContext(), found<PreflightFacts>('missing', facts))).rejects.toMatchObject({ message: expect.stringContaining('stmlops01 is taken'), fix: 'Choose another --prefix.' });
  });
});
