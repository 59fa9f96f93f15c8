// What the multi-stage pipeline must do, read from its YAML: stages and their dependencies, the
// modelVersion parameter, variables (template, then group), the self-hosted pool everywhere, the
// "model not better" path (Train succeeds, tags the run, later stages skipped), the pinned ml
// extension, keepAzSessionActive where a task waits on Azure ML, the smoke test, and secret hygiene.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repositoryFiles } from '../../src/adapters/bundle.js';
import { MODEL_NOT_BETTER_TAG } from '../../src/steps/pipeline.js';
import { listFiles, loadYaml, PIPELINES_DIR, pipelineFiles, ROOT, type Yaml } from './helpers.js';

const MAIN = 'azdo-ci-build-train.yml';
const PR = 'azdo-pr-build-train.yml';
const POOL_EXPRESSION = '${{ variables.POOL_NAME }}';
/** What the CLI puts in the variable group (DESIGN.md section 1 step 10, and the lead's list). */
const GROUP_VARIABLES = [
  'RESOURCE_GROUP', 'WORKSPACE_NAME', 'WORKSPACE_SVC_CONNECTION', 'skipComponentGovernanceDetection',
  'AKS_COMPUTE_NAME', 'TRAINING_COMPUTE_NAME', 'POOL_NAME',
];

const load = (file: string) => loadYaml(join(PIPELINES_DIR, file));
/** How every AzureCLI@2 task gets the ml extension: the pinned version, never --upgrade. */
const ADD_ML = 'az extension add --name ml --version "$AZ_ML_EXTENSION_VERSION" --yes --only-show-errors';

/** The pipeline's stages with `- template:` job entries replaced by the template's jobs. */
function stagesOf(file: string): Yaml[] {
  return (load(file).stages as Yaml[]).map((stage) => ({
    ...stage,
    jobs: (stage.jobs as Yaml[]).flatMap((job) => {
      if (!job.template) return [job];
      const template = load(job.template);
      return (template.jobs as Yaml[]).map((inner) => ({ ...inner, usedWith: job.parameters }));
    }),
  }));
}

const stage = (file: string, name: string) => {
  const found = stagesOf(file).find((s) => s.stage === name);
  if (!found) throw new Error(`${file} has no stage ${name}`);
  return found;
};
const steps = (job: Yaml): Yaml[] => job.steps as Yaml[];
const scriptOf = (step: Yaml): string => String(step.bash ?? step.script ?? step.inputs?.inlineScript ?? '');
const allSteps = (file: string) => stagesOf(file).flatMap((s) => (s.jobs as Yaml[]).flatMap(steps));
const templateVariables = () =>
  new Map((load('azdo-variables.yml').variables as Yaml[]).map((v) => [v.name as string, String(v.value)]));
/** Collapse whitespace so multi-line conditions compare as one line. */
const flat = (text: unknown) => String(text).replace(/\s+/g, ' ').trim();

describe('azdo-ci-build-train.yml', () => {
  const pipeline = load(MAIN);

  it('runs on pushes to main, not for docs or infrastructure, and not for pull requests', () => {
    expect(pipeline.trigger.branches.include).toEqual(['main']);
    expect(pipeline.trigger.paths.exclude).toEqual(expect.arrayContaining(['docs/*', 'README.md', 'terraform/*']));
    expect(pipeline.pr).toBe('none');
  });

  it('has the four stages in order, each depending on the previous ones', () => {
    const stages = stagesOf(MAIN);
    expect(stages.map((s) => s.stage)).toEqual(['ModelCI', 'Train', 'Deploy', 'SmokeTest']);
    expect(stages.map((s) => s.displayName)).toEqual(['Model CI', 'Train and evaluate', 'Deploy to AKS', 'Smoke test']);
    expect(stages[0]!.dependsOn).toBeUndefined();
    expect(stages[1]!.dependsOn).toBe('ModelCI');
    expect(stages[2]!.dependsOn).toEqual(['ModelCI', 'Train']);
    expect(stages[3]!.dependsOn).toBe('Deploy');
  });

  it('takes a modelVersion runtime parameter; blank means the version this run registers', () => {
    const parameter = (pipeline.parameters as Yaml[]).find((p) => p.name === 'modelVersion');
    expect(parameter).toMatchObject({ type: 'string' });
    expect(String(parameter!.default).trim()).toBe('');
    const requested = (pipeline.variables as Yaml[]).find((v) => v.name === 'REQUESTED_MODEL_VERSION');
    expect(requested!.value).toBe("${{ replace(parameters.modelVersion, ' ', '') }}");
    // A requested version skips training and is what Deploy deploys; otherwise Train's output.
    expect(flat(stage(MAIN, 'Train').condition)).toBe("and(succeeded(), eq(variables.REQUESTED_MODEL_VERSION, ''))");
    const deployJob = stage(MAIN, 'Deploy').jobs[0];
    expect(flat(deployJob.variables.MODEL_VERSION)).toBe(
      "$[ coalesce(variables.REQUESTED_MODEL_VERSION, stageDependencies.Train.Train.outputs['TrainModel.MODEL_VERSION']) ]",
    );
  });

  it('reads the variables template first and the variable group after it, so the group wins', () => {
    const variables = pipeline.variables as Yaml[];
    expect(variables[0]).toEqual({ template: 'azdo-variables.yml' });
    expect(variables[1]).toEqual({ group: 'devopsforai-aml-vg' });
    expect(variables.slice(2).every((v) => v.name && !v.template && !v.group)).toBe(true);
  });

  it('gets defaults for the pool and the names from the variables template', () => {
    const defaults = templateVariables();
    expect(defaults.get('POOL_NAME')).toBe('pool001');
    for (const name of ['MODEL_NAME', 'ENDPOINT_NAME', 'DEPLOYMENT_NAME', 'METRIC_NAME', 'ALPHA',
      'TRAINING_COMPUTE_NAME', 'AKS_COMPUTE_NAME']) {
      expect(defaults.get(name), name).toBeTruthy();
    }
    expect(['mse', 'r2']).toContain(defaults.get('METRIC_NAME'));
  });

  it('runs every job on the self-hosted pool named by POOL_NAME (compile time), never a hosted image', () => {
    const jobs = stagesOf(MAIN).flatMap((s) => s.jobs as Yaml[]);
    expect(jobs.length).toBe(4);
    for (const job of jobs) {
      expect(job.pool.vmImage, job.job).toBeUndefined();
      if (job.usedWith) {
        expect(job.pool.name).toBe('${{ parameters.poolName }}');
        expect(job.usedWith.poolName).toBe(POOL_EXPRESSION);
      } else {
        expect(job.pool.name, job.job).toBe(POOL_EXPRESSION);
      }
    }
  });

  it('does Azure work with AzureCLI@2 on the workspace service connection and the ml extension', () => {
    const azureSteps = allSteps(MAIN).filter((step) => step.task);
    expect(azureSteps.filter((step) => step.task === 'AzureCLI@2').length).toBe(3);
    for (const step of azureSteps.filter((s) => s.task === 'AzureCLI@2')) {
      expect(step.inputs).toMatchObject({
        azureSubscription: '$(WORKSPACE_SVC_CONNECTION)', scriptType: 'bash', scriptLocation: 'inlineScript',
      });
      expect(scriptOf(step)).toMatch(/^set -euo pipefail$/m);
      // The extension first, then the defaults, before any other az call.
      const lines = scriptOf(step).split('\n').filter((line) => /^\s*az /.test(line)).map((line) => line.trim());
      expect(lines.slice(0, 2)).toEqual([ADD_ML, 'az configure --defaults group="$RESOURCE_GROUP" workspace="$WORKSPACE_NAME"']);
    }
    // Built-in tasks only.
    expect(new Set(allSteps(MAIN).filter((s) => s.task).map((s) => s.task))).toEqual(
      new Set(['AzureCLI@2', 'PublishTestResults@2']),
    );
  });

  it('Model CI lints, tests and publishes the test results even when tests fail', () => {
    const job = stage(MAIN, 'ModelCI').jobs[0];
    const scripts = steps(job).map(scriptOf).join('\n');
    expect(scripts).toContain('pip install --quiet -r requirements-dev.txt');
    expect(scripts).toMatch(/-m pytest .*--junitxml=/s);
    expect(scripts).toContain('-m flake8 src scripts tests');
    const publish = steps(job).find((s) => s.task === 'PublishTestResults@2')!;
    expect(publish.condition).toBe('succeededOrFailed()');
    expect(publish.inputs).toMatchObject({ testResultsFormat: 'JUnit', searchFolder: '$(Common.TestResultsDirectory)' });
  });

  it('Train submits the Azure ML pipeline job, waits for it and outputs the registered version', () => {
    const [train] = stage(MAIN, 'Train').jobs;
    const submit = steps(train).find((s) => s.name === 'TrainModel')!;
    const script = scriptOf(submit);
    expect(script).toContain('az ml job create --file aml/pipeline-job.yml');
    expect(script).toContain('inputs.baseline_metric="$baseline"');
    expect(script).toContain('inputs.build_id="$BUILD_BUILDID"');
    expect(script).toMatch(/az ml job show --name "\$job_name" --query status/);
    expect(script).toMatch(/Completed\) break/);
    expect(script).toMatch(/Failed\|Canceled\|NotResponding\)[\s\S]*?exit 1/);
    expect(script).toContain('##vso[task.setvariable variable=MODEL_VERSION;isOutput=true]$version');
  });

  it('when the new model is not better: Train succeeds with a warning and the model-not-better tag, the later stages are skipped', () => {
    const [train] = stage(MAIN, 'Train').jobs;
    const trainSteps = steps(train);
    const submit = scriptOf(trainSteps.find((s) => s.name === 'TrainModel')!);
    // No version registered by this build: no output variable, a warning, the tag; and no failure.
    const notBetter = submit.slice(submit.indexOf('registered-by'));
    const [registered, otherwise] = notBetter.split(/^\s*else$/m);
    expect(registered).toContain('isOutput=true');
    expect(otherwise).toContain('echo "##vso[task.logissue type=warning]The new model is not better than the production model: nothing registered, nothing deployed"');
    expect(otherwise).toContain(`echo "##vso[build.addbuildtag]${MODEL_NOT_BETTER_TAG}"`);
    const commands = otherwise!.split('\n').filter((line) => !/^\s*#/.test(line)).join('\n');
    expect(commands).not.toMatch(/\bexit\b|setvariable/);
    // The run never cancels itself (that needs "Stop builds"): no call to the Builds API, no token,
    // no step after TrainModel.
    expect(trainSteps.at(-1)!.name).toBe('TrainModel');
    const everything = JSON.stringify(load(MAIN));
    expect(everything).not.toMatch(/cancelling|_apis\/build|System\.AccessToken|SYSTEM_ACCESSTOKEN|sleep 300/);

    // Deploy (and so SmokeTest) needs the version Train registered, or a requested one.
    expect(flat(stage(MAIN, 'Deploy').condition)).toBe(
      "and( eq(dependencies.ModelCI.result, 'Succeeded'), or( and(eq(dependencies.Train.result, 'Succeeded'), " +
        "ne(dependencies.Train.outputs['Train.TrainModel.MODEL_VERSION'], '')), " +
        "and(eq(dependencies.Train.result, 'Skipped'), ne(variables.REQUESTED_MODEL_VERSION, '')) ) )",
    );
    expect(stage(MAIN, 'SmokeTest').condition).toBeUndefined(); // default: only after a successful Deploy
  });

  it('Deploy creates or updates the Kubernetes endpoint and gives the deployment all the traffic', () => {
    const script = scriptOf(steps(stage(MAIN, 'Deploy').jobs[0]).find((s) => s.task === 'AzureCLI@2')!);
    expect(script).toContain('az ml online-endpoint create --file aml/endpoint.yml');
    expect(script).toContain('compute="azureml:$AKS_COMPUTE_NAME"');
    expect(script).toContain('az ml online-deployment "$action" --file aml/deployment.yml');
    expect(script).toContain('model="azureml:$MODEL_NAME:$MODEL_VERSION"');
    expect(script).toContain('--traffic "$DEPLOYMENT_NAME=100"');
    // The version is checked before it is used in a command line.
    expect(script.indexOf('=~ ^[A-Za-z0-9._-]+$')).toBeLessThan(script.indexOf('az ml model show'));
  });

  it('SmokeTest scores the sample request from the self-hosted agent with the key kept secret', () => {
    const [job] = stage(MAIN, 'SmokeTest').jobs;
    expect(job.pool.name).toBe(POOL_EXPRESSION);
    const script = scriptOf(steps(job).find((s) => s.task === 'AzureCLI@2')!);
    expect(script).toContain('az ml online-endpoint show --name "$ENDPOINT_NAME" --query scoring_uri');
    expect(script).toContain('endpoint_key=$(az ml online-endpoint get-credentials --name "$ENDPOINT_NAME" --query primaryKey -o tsv)');
    expect(script.indexOf('##vso[task.setsecret]$endpoint_key')).toBeGreaterThan(script.indexOf('get-credentials'));
    expect(script).toContain('ENDPOINT_KEY="$endpoint_key" python3 scripts/smoke_check.py');
    expect(script).toContain('--payload data/sample-request.json');
    // The key is used only by the setsecret command and the env of the check.
    expect(script.split('\n').filter((line) => line.includes('$endpoint_key')).map((line) => line.trim())).toEqual([
      'echo "##vso[task.setsecret]$endpoint_key"',
      'ENDPOINT_KEY="$endpoint_key" python3 scripts/smoke_check.py \\',
    ]);
  });
});

describe('azdo-pr-build-train.yml', () => {
  it('runs Model CI only, from the same jobs template, without the variable group', () => {
    const pipeline = load(PR);
    expect(pipeline.trigger).toBe('none');
    expect(pipeline.pr.branches.include).toEqual(['main']);
    expect(pipeline.variables).toEqual([{ template: 'azdo-variables.yml' }]);
    const stages = stagesOf(PR);
    expect(stages.map((s) => s.stage)).toEqual(['ModelCI']);
    expect(stages[0]!.jobs.map((j: Yaml) => j.job)).toEqual(['LintAndTest']);
    expect(stages[0]!.jobs[0].usedWith).toEqual({ poolName: POOL_EXPRESSION });
    expect(load(MAIN).stages[0].jobs).toEqual(load(PR).stages[0].jobs);
  });
});

describe('every pipeline file', () => {
  const files = pipelineFiles();

  it('never traces commands and needs no System.AccessToken', () => {
    for (const file of files) {
      const text = JSON.stringify(load(file));
      expect(text, file).not.toMatch(/set -[a-wyz]*x|set -o xtrace/);
      expect(text, file).not.toMatch(/System\.AccessToken/i);
    }
  });

  it('uses in its scripts only variables it defines (template, group, pipeline, job, step env)', () => {
    const defined = new Set([...templateVariables().keys(), ...GROUP_VARIABLES, 'REQUESTED_MODEL_VERSION']);
    for (const file of [MAIN, PR]) {
      for (const s of stagesOf(file)) {
        for (const job of s.jobs as Yaml[]) {
          const jobDefined = new Set([...defined, ...Object.keys(job.variables ?? {})]);
          for (const step of steps(job)) {
            const script = scriptOf(step);
            const assigned = new Set([...script.matchAll(/^\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
            for (const [, name] of script.matchAll(/\$\{?([A-Z][A-Z0-9_]*)/g)) {
              if (/^(BUILD|SYSTEM|AGENT)_/.test(name!) || name === 'SECONDS') continue; // predefined, bash
              const known = jobDefined.has(name!) || assigned.has(name!) || name! in (step.env ?? {});
              expect(known, `${file} ${job.job}: $${name} is not defined`).toBe(true);
            }
          }
        }
      }
    }
  });
});

/** Every step of a pipeline file, wherever it sits (stages, jobs, templates). */
function stepsIn(node: unknown): Yaml[] {
  if (Array.isArray(node)) return node.flatMap(stepsIn);
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node as Yaml).flatMap(([key, value]) =>
    key === 'steps' && Array.isArray(value) ? [...(value as Yaml[]), ...value.flatMap(stepsIn)] : stepsIn(value),
  );
}
const everyStep = () => pipelineFiles().flatMap((file) => stepsIn(load(file)).map((step) => ({ file, step })));
const azureCliTasks = () => everyStep().filter(({ step }) => step.task === 'AzureCLI@2');

/** Text files of the package and the repository it pushes (what could carry a second pin). */
function shippedFiles(): string[] {
  const dirs = ['devops_pipelines', 'templates', 'terraform', 'src', 'scripts', 'bin'];
  return [
    ...dirs.flatMap((dir) => listFiles(join(ROOT, dir), `${dir}/`)),
    'README.md', 'package.json',
  ].filter((path) => !/(^|\/)(\.terraform|__pycache__|node_modules)\//.test(path) && statSync(join(ROOT, path)).size < 2_000_000);
}

describe('the az ml extension: one pinned version, added by each task', () => {
  const version = templateVariables().get('AZ_ML_EXTENSION_VERSION');

  it('azdo-variables.yml pins a 2.x release in AZ_ML_EXTENSION_VERSION', () => {
    expect(version).toMatch(/^2\.\d+\.\d+$/);
  });

  it('every AzureCLI@2 task of every pipeline file adds exactly that version; nothing upgrades or installs it otherwise', () => {
    expect(azureCliTasks().length).toBeGreaterThanOrEqual(3);
    for (const { file, step } of azureCliTasks()) {
      expect(scriptOf(step).split('\n').map((line) => line.trim()), `${file} ${step.displayName}`).toContain(ADD_ML);
    }
    for (const { file, step } of everyStep()) {
      for (const line of scriptOf(step).split('\n').map((l) => l.trim())) {
        if (/\baz\s+extension\s+(add|update)\b/.test(line)) expect(line, `${file} ${step.displayName}`).toBe(ADD_ML);
        expect(line, file).not.toMatch(/\baz\s+extension\b.*(--upgrade|--system)/);
      }
    }
  });

  it('the version appears in azdo-variables.yml only: no other file pins the ml extension or sets the variable', () => {
    const token = new RegExp(`(?<![\\d.])${version!.replace(/\./g, '\\.')}(?![\\d.])`);
    const literalPin = /az\s+extension\s+add\b[^\n]*\s(--name|-n)\s+ml\b[^\n]*--version\s+['"]?\d/;
    const setsVariable = /name:\s*AZ_ML_EXTENSION_VERSION\b|\bAZ_ML_EXTENSION_VERSION\s*[:=]/;
    const offenders = shippedFiles().filter((path) => {
      if (path === 'devops_pipelines/azdo-variables.yml') return false;
      const text = readFileSync(join(ROOT, path), 'utf8');
      return token.test(text) || literalPin.test(text) || setsVariable.test(text);
    });
    expect(offenders).toEqual([]);
    expect(GROUP_VARIABLES).not.toContain('AZ_ML_EXTENSION_VERSION');
  });
});

describe('keepAzSessionActive', () => {
  const waitsOnAzureMl = (step: Yaml) => /\baz ml job create\b|\bonline-deployment\b/.test(scriptOf(step));

  it('is true on every AzureCLI@2 task that waits on Azure ML (job create and wait, online deployment create/update)', () => {
    const waiting = azureCliTasks().filter(({ step }) => waitsOnAzureMl(step));
    expect(waiting.map(({ step }) => step.name ?? step.displayName)).toEqual(['TrainModel', 'Create or update the endpoint and deployment']);
    for (const { file, step } of waiting) expect(step.inputs.keepAzSessionActive, `${file} ${step.displayName}`).toBe(true);
  });

  it('init --auth secret pushes it as false (AzureCLI@2 fails on it with a non-federated connection) and changes nothing else', async () => {
    const pushed = async (auth: 'federated' | 'secret') =>
      new Map((await repositoryFiles(ROOT, { pool: 'pool001', auth })).map((f) => [f.path, f.content.toString('utf8')]));
    const [federated, secret] = [await pushed('federated'), await pushed('secret')];
    let changed = 0;
    for (const file of pipelineFiles()) {
      const path = `/devops_pipelines/${file}`;
      expect(federated.get(path), file).toBe(readFileSync(join(PIPELINES_DIR, file), 'utf8'));
      const before = federated.get(path)!.split('\n');
      const after = secret.get(path)!.split('\n');
      expect(after.length).toBe(before.length);
      const diff = before.map((line, i) => [line, after[i]!]).filter(([a, b]) => a !== b);
      for (const [a, b] of diff) {
        expect(a).toMatch(/^\s*keepAzSessionActive: true$/);
        expect(b).toBe(a!.replace('true', 'false'));
      }
      changed += diff.length;
      for (const step of stepsIn(parse(secret.get(path)!)).filter((s) => s.task === 'AzureCLI@2')) {
        expect(step.inputs.keepAzSessionActive ?? false, file).toBe(false);
      }
    }
    expect(changed).toBe(2);
  });
});
