// `init --run` right after the pipeline's federated credential was created. Microsoft Entra accepts
// a new credential only once it has propagated, and answers AADSTS70021 until then (Entra "Important
// considerations and restrictions for federated identity credentials", "Time for federated credential
// changes to propagate"). The fake world fails a run's first AzureCLI job, with that issue in its
// timeline, while the credential is younger than the world's `propagationMs` when the run starts.
//
// The CLI's window (AZURE_MLOPS_FIC_PROPAGATION_MS) is kept short: every wait here is under a second.
// Where the outcome depends on how soon after the credential the run starts, the credential is
// created in-process by the service-connection step and runAndFollow (what `init --run` calls next)
// runs at once, so no child process's start-up or load on the machine moves the run's start; the
// other cases run the CLI. Times are only compared as lower bounds.
import { describe, expect, it } from 'vitest';
import { CancelledError } from '../../src/engine/errors.js';
import { runAndFollow } from '../../src/steps/pipeline.js';
import { serviceConnectionStep } from '../../src/steps/service-connection.js';
import { runCli } from '../helpers/cli.js';
import { AADSTS70021, SUB, pipelineIdentityId, worldContext, worldsPerTest, type World } from '../helpers/world.js';

const world = worldsPerTest();

/** The pipeline identity's (only) federated credential in the fake ARM, with when it was written. */
function credential(w: World): { id: string; writtenAt: number } {
  const [fic] = w.arm.ficsOf(pipelineIdentityId(SUB));
  expect(fic).toBeDefined();
  return w.arm.federatedCredentialFor(fic!.properties.issuer, fic!.properties.subject)!;
}

/** A deployment made by `init`; then, in-process, its credential is created anew right now (as by init's service-connection step). */
async function freshCredential(w: World, windowMs: number) {
  const init = await runCli(['init', '--yes', ...w.args], { env: w.env, cwd: w.cwd });
  expect(init.code, init.stderr.slice(-1500)).toBe(0);
  delete w.arm.world.resources[credential(w).id.toLowerCase()];
  const { ctx, io } = await worldContext(w, {}, {}, { AZURE_MLOPS_FIC_PROPAGATION_MS: String(windowMs) });
  await serviceConnectionStep.apply(ctx, []);
  return { ctx, io, writtenAt: credential(w).writtenAt };
}

const WAITING = /The pipeline's federated credential was created [\d.m]+s ago; Microsoft Entra can take a few minutes to accept it: waiting [\d.m]+s before queuing the run\./;
const RETRYING = /Run (\d+) could not sign in to Azure with the service connection 'AzureMLWorkspace': AADSTS70021: No matching federated identity record found for presented assertion\. Microsoft Entra answers this way while a new federated credential is still propagating: waiting [\d.]+s, then queuing the run once more\./;

describe('init --run right after the federated credential is created', () => {
  it('waits until the credential is as old as the window before queuing; the run then signs in and succeeds (--no-wait waits too)', async () => {
    const w = await world({ propagationMs: 400 });
    const { ctx, io, writtenAt } = await freshCredential(w, 400);
    const outcome = await runAndFollow(ctx, { wait: true, pollMs: 10 });
    expect(io.all()).toMatch(WAITING);
    expect(w.devops.world.builds).toHaveLength(1);
    const run = w.devops.world.builds[0]!;
    expect(Date.parse(run.queueTime) - writtenAt).toBeGreaterThanOrEqual(400);
    expect(run.result).toBe('succeeded');
    expect(outcome).toMatchObject({ runId: run.id, state: 'completed', result: 'succeeded' });
    expect(outcome.retriedRunId).toBeUndefined();
    expect(io.all()).not.toContain('AADSTS70021');

    // --no-wait: the same wait, then it returns once the run is queued.
    delete w.arm.world.resources[credential(w).id.toLowerCase()];
    await serviceConnectionStep.apply(ctx, []);
    const again = credential(w).writtenAt;
    const queued = await runAndFollow(ctx, { wait: false });
    expect(io.all().match(new RegExp(WAITING, 'g'))).toHaveLength(2);
    expect(w.devops.world.builds).toHaveLength(2);
    expect(Date.parse(w.devops.world.builds[1]!.queueTime) - again).toBeGreaterThanOrEqual(400);
    expect(queued).toMatchObject({ runId: w.devops.world.builds[1]!.id, state: expect.not.stringMatching(/completed/) });
  });

  it('Ctrl-C while waiting queues nothing', async () => {
    const w = await world({ propagationMs: 60_000 });
    const { ctx } = await freshCredential(w, 60_000);
    const ctrlC = new AbortController();
    const task = ctx.ui.task.bind(ctx.ui);
    ctx.signal = ctrlC.signal;
    ctx.ui.task = (title, fn) => {
      if (/federated credential/.test(title)) ctrlC.abort();
      return task(title, fn);
    };
    const e = await runAndFollow(ctx, { wait: true, pollMs: 10 }).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(CancelledError);
    expect((e as CancelledError).fix).toBe('Run azure-mlops init --run to queue it.');
    expect(w.devops.world.builds).toEqual([]);
  });

  it('a run whose Azure login fails with AADSTS70021 is queued once more, after the window, and succeeds', async () => {
    // Entra is slower than the window: the first run starts about 300ms after the credential was
    // written (< 600ms: refused), the second at least 600ms after (300ms, the run, 300ms: accepted).
    const w = await world({ propagationMs: 600 });
    const { ctx, io, writtenAt } = await freshCredential(w, 300);
    const outcome = await runAndFollow(ctx, { wait: true, pollMs: 10 });
    const [first, second, ...more] = w.devops.world.builds;
    expect(more).toEqual([]);
    expect(Date.parse(first!.queueTime) - writtenAt).toBeGreaterThanOrEqual(300);
    expect(first?.result).toBe('failed');
    expect(first?.failure).toEqual({ stage: 'Train', job: 'Train', issues: [{ type: 'error', message: AADSTS70021 }] });
    expect(io.all()).toMatch(/ ✖ Train and evaluate: failed/);
    expect(io.all()).toMatch(RETRYING);
    expect(io.all().match(RETRYING)?.[1]).toBe(String(first?.id));
    expect(Date.parse(second!.queueTime) - Date.parse(first!.finishTime!)).toBeGreaterThanOrEqual(300);
    expect(second?.result).toBe('succeeded');
    expect(outcome).toMatchObject({ runId: second?.id, result: 'succeeded', retriedRunId: first?.id });
  });

  it('when the credential never becomes usable: two runs, then exit 1 saying what to check', async () => {
    const w = await world({ propagationMs: Infinity });
    const r = await runCli(['init', '--yes', '--run', '--json', ...w.args], { env: { ...w.env, AZURE_MLOPS_FIC_PROPAGATION_MS: '200' }, cwd: w.cwd });
    expect(r.code, r.stderr.slice(-1500)).toBe(1);
    expect(w.devops.world.builds.map((b) => b.result)).toEqual(['failed', 'failed']);
    expect(r.stderr).toMatch(RETRYING);
    expect(r.stderr).toContain(`The pipeline run failed twice to sign in to Azure with the service connection 'AzureMLWorkspace' (${AADSTS70021}): `);
    expect(r.stderr).toContain(
      "fix: Check that the connection's workload identity issuer and subject (Project settings > Service connections > AzureMLWorkspace) match a federated credential of the pipeline's identity (azure-mlops doctor compares them), wait a few minutes and re-run azure-mlops init --run.",
    );
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, exitCode: 1, error: { fix: expect.stringContaining('re-run azure-mlops init --run') } });
  });

  it('a run that fails for another reason is not queued again', async () => {
    const w = await world({
      devops: { onRunComplete: () => ({ result: 'failed', failedJob: { stage: 'Train', job: 'Train' }, issues: [{ type: 'error', message: 'ERROR: (UserError) Compute cpu-cluster not found in workspace aml-mlops01.' }] }) },
    });
    const r = await runCli(['init', '--yes', '--run', '--json', ...w.args], { env: { ...w.env, AZURE_MLOPS_FIC_PROPAGATION_MS: '200' }, cwd: w.cwd });
    expect(r.code, r.stderr.slice(-1500)).toBe(1);
    expect(w.devops.world.builds).toHaveLength(1);
    expect(r.stderr).toContain('The pipeline run failed: ');
    expect(r.stderr).not.toMatch(/could not sign in|queuing the run once more/);
  });
});
