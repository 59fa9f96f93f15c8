// The pipeline's inline scripts, run for real with bash against a fake `az` (a shell script on
// PATH that answers like az and records its calls) and a fake scoring endpoint on 127.0.0.1.
// Variables reach the scripts as the agent passes them: as environment variables, from
// azdo-variables.yml and the variable group.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, type TestContext } from 'vitest';
import { MODEL_NOT_BETTER_TAG } from '../../src/steps/pipeline.js';
import { loadYaml, PIPELINES_DIR, requireOrSkip, TEMPLATES_DIR, type Yaml } from './helpers.js';

const pipeline = loadYaml(join(PIPELINES_DIR, 'azdo-ci-build-train.yml'));
const stageSteps = (name: string): Yaml[] =>
  (pipeline.stages as Yaml[]).find((s) => s.stage === name)!.jobs[0].steps;
const trainModel = stageSteps('Train').find((s) => s.name === 'TrainModel')!.inputs.inlineScript as string;
const deploy = stageSteps('Deploy').find((s) => s.task === 'AzureCLI@2')!.inputs.inlineScript as string;
const smokeTest = stageSteps('SmokeTest').find((s) => s.task === 'AzureCLI@2')!.inputs.inlineScript as string;

const FAKE_AZ = String.raw`#!/usr/bin/env bash
# Fake az: records each call, answers from files in $FAKE_AZ_STATE.
state="$FAKE_AZ_STATE"
printf '%s\n' "$*" >> "$state/calls.log"
has() { case " $* " in *" $1 "*) return 0;; esac; return 1; }
case "$1" in extension|configure) exit 0;; esac  # recorded above
case "$2 $3" in
  "compute show") printf 'name\tkubernetes\n' ;;
  "environment show") [ -f "$state/environment" ] || exit 1 ;;
  "environment create") touch "$state/environment" ;;
  "model list")
    if [ -f "$state/models.json" ]; then cat "$state/models.json"
    else echo "ERROR: (UserError) ResourceNotFoundError: the model could not be found" >&2; exit 1; fi ;;
  "model show") echo '{"name": "diabetes-ridge"}' ;;
  "job create") [ -f "$state/models-after.json" ] && cp "$state/models-after.json" "$state/models.json"
                echo "job-123" ;;
  "job show") if [[ "$*" == *"--query status"* ]]; then cat "$state/job-status"; else echo "https://ml.azure.com/runs/job-123"; fi ;;
  "job cancel") ;;
  "online-endpoint show")
    if [[ "$*" == *"--query scoring_uri"* ]]; then echo "$FAKE_SCORING_URI"
    elif [[ "$*" == *"--query"* ]]; then echo '{}'
    else [ -f "$state/endpoint" ] || exit 1; fi ;;
  "online-endpoint create") touch "$state/endpoint" ;;
  "online-endpoint update") ;;
  "online-endpoint get-credentials") echo "$FAKE_ENDPOINT_KEY" ;;
  "online-deployment show") [ -f "$state/deployment" ] || exit 1 ;;
  "online-deployment create"|"online-deployment update") touch "$state/deployment" ;;
  *) echo "fake az: unexpected call: $*" >&2; exit 2 ;;
esac
`;

/** The variables as the agent exports them: template defaults, then the group's values. */
function pipelineEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const v of loadYaml(join(PIPELINES_DIR, 'azdo-variables.yml')).variables as Yaml[]) env[v.name] = String(v.value);
  return {
    ...env,
    RESOURCE_GROUP: 'rg-test-ml', WORKSPACE_NAME: 'aml-test', WORKSPACE_SVC_CONNECTION: 'AzureMLWorkspace',
    AKS_COMPUTE_NAME: 'aks-compute', TRAINING_COMPUTE_NAME: 'cpu-cluster', POOL_NAME: 'pool001',
    BUILD_BUILDID: '42', BUILD_BUILDNUMBER: '20261126.1', REQUESTED_MODEL_VERSION: '',
  };
}

let dir: string;
let servers: Server[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'azure-mlops-pipeline-'));
  writeFileSync(join(dir, 'az'), FAKE_AZ);
  writeFileSync(join(dir, 'sleep'), '#!/bin/sh\nexit 0\n'); // the scripts' waits, made instant
  chmodSync(join(dir, 'az'), 0o755);
  chmodSync(join(dir, 'sleep'), 0o755);
  writeFileSync(join(dir, 'job-status'), 'Completed\n');
});

afterEach(async () => {
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  servers = [];
  rmSync(dir, { recursive: true, force: true });
});

function prerequisites(ctx: TestContext) {
  const missing = ['bash', 'python3', 'sha256sum'].filter(
    (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0,
  );
  requireOrSkip(ctx, missing.length ? `missing on PATH: ${missing.join(', ')}` : undefined);
}

/** Runs a script with bash -c from the repository root (templates/), asynchronously so that the
 * fake servers of this process can answer it. */
function run(script: string, extraEnv: Record<string, string> = {}) {
  const env = {
    PATH: `${dir}:${process.env.PATH}`, HOME: dir, LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1',
    FAKE_AZ_STATE: dir, AGENT_TEMPDIRECTORY: dir, ...pipelineEnv(), ...extraEnv,
  };
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd: TEMPLATES_DIR, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const calls = () => readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n');
const models = (file: string, versions: Array<[string, string, string]>) =>
  writeFileSync(join(dir, file), JSON.stringify(versions.map(([version, build, mse]) => (
    { name: 'diabetes-ridge', version, tags: { build_id: build, mse, r2: '0.45' } }))));

async function serve(handler: (request: IncomingMessage, body: string) => [number, string]): Promise<string> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const [status, answer] = handler(request, body);
      response.writeHead(status, { 'Content-Type': 'application/json' }).end(answer);
    });
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('Train: TrainModel step', () => {
  it('passes the production metric as the baseline and outputs the version this build registered', async (ctx) => {
    prerequisites(ctx);
    models('models.json', [['2', '40', '2900.1'], ['10', '41', '2870.25'], ['9', '39', '2880.0']]);
    models('models-after.json', [['2', '40', '2900.1'], ['10', '41', '2870.25'], ['9', '39', '2880.0'], ['11', '42', '2856.5']]);
    const { code, stdout, stderr } = await run(trainModel);
    expect(code, stderr).toBe(0);
    const submit = calls().find((line) => line.startsWith('ml job create'))!;
    expect(submit).toContain('--file aml/pipeline-job.yml');
    expect(submit).toContain('inputs.baseline_metric=2870.25'); // version 10's mse
    expect(submit).toContain('inputs.build_id=42');
    expect(submit).toContain('inputs.alpha=0.1');
    expect(submit).toContain('settings.default_compute=azureml:cpu-cluster');
    expect(submit).toMatch(/jobs\.train\.environment=azureml:diabetes-env:h[0-9a-f]{12}\b/);
    expect(calls()).toContainEqual(expect.stringMatching(/^ml environment create --file .*aml\/environment\.yml --set version=h[0-9a-f]{12}/));
    expect(stdout).toContain('##vso[task.setvariable variable=MODEL_VERSION;isOutput=true]11\n');
    expect(stdout).not.toContain('build.addbuildtag');
    // The ml extension at the version pinned in azdo-variables.yml, before any other az call.
    expect(calls().slice(0, 2)).toEqual([
      `extension add --name ml --version ${pipelineEnv().AZ_ML_EXTENSION_VERSION} --yes --only-show-errors`,
      'configure --defaults group=rg-test-ml workspace=aml-test',
    ]);
  });

  it('when nothing was registered: succeeds with no version, a warning and the model-not-better tag', async (ctx) => {
    prerequisites(ctx);
    models('models.json', [['1', '40', '2856.5']]);
    const { code, stdout, stderr } = await run(trainModel);
    expect(code, stderr).toBe(0);
    expect(stdout).not.toContain('variable=MODEL_VERSION');
    expect(stdout).toContain('##vso[task.logissue type=warning]The new model is not better than the production model: nothing registered, nothing deployed\n');
    expect(stdout).toContain(`##vso[build.addbuildtag]${MODEL_NOT_BETTER_TAG}\n`);
  });

  it('uses "none" as the baseline for the first model (the model does not exist yet)', async (ctx) => {
    prerequisites(ctx);
    models('models-after.json', [['1', '42', '2856.5']]);
    const { code, stdout, stderr } = await run(trainModel);
    expect(code, stderr).toBe(0);
    expect(calls().find((line) => line.startsWith('ml job create'))).toContain('inputs.baseline_metric=none');
    expect(stdout).toContain('isOutput=true]1\n');
  });

  it('fails when the Azure ML job fails', async (ctx) => {
    prerequisites(ctx);
    models('models.json', []);
    writeFileSync(join(dir, 'job-status'), 'Failed\n');
    const { code, stdout } = await run(trainModel);
    expect(code).toBe(1);
    expect(stdout).toContain('##vso[task.logissue type=error]Azure ML job job-123 ended with status Failed');
    expect(stdout).not.toMatch(/MODEL_VERSION|build\.addbuildtag/);
  });
});

describe('Deploy', () => {
  it('creates the endpoint and the deployment with the version, then gives it all the traffic', async (ctx) => {
    prerequisites(ctx);
    const { code, stderr } = await run(deploy, { MODEL_VERSION: '11' });
    expect(code, stderr).toBe(0);
    const azCalls = calls().filter((line) => /^ml online-/.test(line));
    expect(azCalls[0]).toBe('ml online-endpoint show --name diabetes-ridge -o none --only-show-errors');
    expect(azCalls[1]).toBe('ml online-endpoint create --file aml/endpoint.yml --only-show-errors -o none ' +
      '--set name=diabetes-ridge compute=azureml:aks-compute');
    expect(azCalls[3]).toMatch(/^ml online-deployment create --file aml\/deployment\.yml --only-show-errors -o none --set name=blue endpoint_name=diabetes-ridge model=azureml:diabetes-ridge:11 environment=azureml:diabetes-env:h[0-9a-f]{12}$/);
    expect(azCalls[4]).toBe('ml online-endpoint update --name diabetes-ridge --traffic blue=100 --only-show-errors -o none');
  });

  it('updates the deployment when the endpoint and deployment exist', async (ctx) => {
    prerequisites(ctx);
    for (const file of ['endpoint', 'deployment', 'environment']) writeFileSync(join(dir, file), '');
    const { code, stderr } = await run(deploy, { MODEL_VERSION: '3' });
    expect(code, stderr).toBe(0);
    expect(calls().some((line) => line.startsWith('ml online-endpoint create'))).toBe(false);
    expect(calls().some((line) => line.startsWith('ml environment create'))).toBe(false);
    expect(calls()).toContainEqual(expect.stringMatching(/^ml online-deployment update .*model=azureml:diabetes-ridge:3 /));
  });

  it('refuses a version that is not a plain version string before any az call', async (ctx) => {
    prerequisites(ctx);
    const { code, stdout } = await run(deploy, { MODEL_VERSION: '3; echo injected' });
    expect(code).toBe(1);
    expect(stdout).toContain('Invalid model version: use letters, digits');
    expect(stdout).not.toContain('injected'); // the raw value is not echoed into a logging command
    expect(calls).toThrow(); // calls.log was never written
  });
});

describe('SmokeTest', () => {
  const key = 'fake-endpoint-key-abcdef0123456789';

  it('posts the sample request with the key and passes on one prediction per row', async (ctx) => {
    prerequisites(ctx);
    const requests: Array<{ auth?: string; rows: number }> = [];
    const url = await serve((request, body) => {
      requests.push({ auth: request.headers.authorization, rows: JSON.parse(body).data.length });
      return [200, JSON.stringify({ predictions: [150.5, 75.25, 140] })];
    });
    const { code, stdout, stderr } = await run(smokeTest, { FAKE_SCORING_URI: `${url}/score`, FAKE_ENDPOINT_KEY: key });
    expect(code, stderr).toBe(0);
    expect(requests).toEqual([{ auth: `Bearer ${key}`, rows: 3 }]);
    expect(stdout).toContain('Smoke test passed: 3 predictions');
    // The key is printed once, inside the setsecret command the agent consumes to mask it.
    expect((stdout + stderr).split('\n').filter((line) => line.includes(key))).toEqual([`##vso[task.setsecret]${key}`]);
  });

  it('fails when the answer does not hold one prediction per row', async (ctx) => {
    prerequisites(ctx);
    const url = await serve(() => [200, JSON.stringify({ predictions: [150.5] })]);
    const { code, stderr } = await run(smokeTest, { FAKE_SCORING_URI: `${url}/score`, FAKE_ENDPOINT_KEY: key });
    expect(code).toBe(1);
    expect(stderr).toContain('SMOKE TEST FAILED: expected 3 predictions, got 1');
  });
});
