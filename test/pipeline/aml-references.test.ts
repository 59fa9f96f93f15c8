// Every file the Azure ML YAML and the pipelines reference exists, in the layout the CLI pushes:
// devops_pipelines/ as is, the content of templates/ at the repository root. Azure ML resolves
// local paths relative to the YAML file that names them; the pipelines run from the repo root.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadYaml, PIPELINES_DIR, pipelineFiles, TEMPLATES_DIR, type Yaml } from './helpers.js';

const AML_DIR = join(TEMPLATES_DIR, 'aml');
const SCHEMAS = 'https://azuremlschemas.azureedge.net/latest/';
const aml = (file: string) => loadYaml(join(AML_DIR, file));
const isFile = (path: string) => existsSync(path) && statSync(path).isFile();
const isDir = (path: string) => existsSync(path) && statSync(path).isDirectory();
const pipelineText = (file: string) => readFileSync(join(PIPELINES_DIR, file), 'utf8');

describe('Azure ML YAML', () => {
  it.each([
    ['pipeline-job.yml', 'pipelineJob'],
    ['environment.yml', 'environment'],
    ['endpoint.yml', 'kubernetesOnlineEndpoint'],
    ['deployment.yml', 'kubernetesOnlineDeployment'],
  ])('%s declares the %s schema', (file, schema) => {
    expect(aml(file).$schema).toBe(`${SCHEMAS}${schema}.schema.json`);
  });

  it('pipeline job: each step runs a script that exists in its code folder, with declared inputs/outputs', () => {
    const job = aml('pipeline-job.yml');
    expect(job.type).toBe('pipeline');
    expect(job.settings.default_compute).toMatch(/^azureml:/);
    expect(Object.keys(job.jobs)).toEqual(['train', 'evaluate', 'register']);
    for (const [name, step] of Object.entries(job.jobs as Record<string, Yaml>)) {
      expect(step.type, name).toBe('command');
      const code = join(AML_DIR, step.code);
      expect(isDir(code), `${name}: code ${step.code}`).toBe(true);
      const script = /^python (\S+\.py)\b/.exec(step.command)?.[1];
      expect(script && isFile(join(code, script)), `${name}: ${step.command}`).toBe(true);
      for (const [, kind, key] of String(step.command).matchAll(/\$\{\{(inputs|outputs)\.(\w+)\}\}/g)) {
        expect(step[kind!]?.[key!], `${name}: ${kind}.${key}`).toBeDefined();
      }
      // Bindings point at pipeline inputs or at outputs of earlier steps.
      for (const value of Object.values(step.inputs ?? {})) {
        const binding = /^\$\{\{parent\.(?:inputs\.(\w+)|jobs\.(\w+)\.outputs\.(\w+))\}\}$/.exec(String(value));
        expect(binding, `${name}: ${value}`).not.toBeNull();
        if (binding![1]) expect(job.inputs[binding![1]], `${name}: ${value}`).toBeDefined();
        else expect(job.jobs[binding![2]!].outputs[binding![3]!], `${name}: ${value}`).toBeDefined();
      }
    }
  });

  it('environment: the conda file exists and pins the scikit-learn the Model CI tests with', () => {
    const environment = aml('environment.yml');
    expect(environment.image).toMatch(/^mcr\.microsoft\.com\/azureml\//);
    const conda = join(AML_DIR, environment.conda_file);
    expect(isFile(conda)).toBe(true);
    const pip = (loadYaml(conda).dependencies as unknown[]).find((d): d is Yaml => typeof d === 'object')!.pip as string[];
    const sklearn = pip.find((p) => p.startsWith('scikit-learn=='));
    for (const needed of ['mlflow', 'azureml-mlflow', 'azureml-inference-server-http', 'joblib', 'numpy']) {
      expect(pip.some((p) => p === needed || p.startsWith(`${needed}>`) || p.startsWith(`${needed}=`)), needed).toBe(true);
    }
    const devRequirements = readFileSync(join(TEMPLATES_DIR, 'requirements-dev.txt'), 'utf8');
    expect(devRequirements).toMatch(new RegExp(`^${sklearn!.replace(/[.]/g, '\\.')}$`, 'm'));
  });

  it('endpoint: key auth on the attached Kubernetes compute', () => {
    const endpoint = aml('endpoint.yml');
    expect(endpoint.compute).toMatch(/^azureml:/);
    expect(endpoint.auth_mode).toBe('key');
  });

  it('deployment: scoring script exists, resources and probes set, model and environment are references', () => {
    const deployment = aml('deployment.yml');
    const code = join(AML_DIR, deployment.code_configuration.code);
    expect(isFile(join(code, deployment.code_configuration.scoring_script))).toBe(true);
    expect(deployment.model).toMatch(/^azureml:[\w-]+:\d+$/);
    expect(deployment.environment).toMatch(/^azureml:/);
    expect(deployment.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    expect(deployment.resources.limits).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    for (const probe of ['liveness_probe', 'readiness_probe']) {
      expect(deployment[probe], probe).toMatchObject({ initial_delay: expect.any(Number), period: expect.any(Number) });
    }
  });

  it('what the pipeline overrides with --set exists in the files', () => {
    const main = pipelineText('azdo-ci-build-train.yml');
    const job = aml('pipeline-job.yml');
    for (const [, input] of main.matchAll(/ inputs\.(\w+)=/g)) expect(job.inputs[input!], input).toBeDefined();
    for (const [, step] of main.matchAll(/ jobs\.(\w+)\.environment=/g)) expect(job.jobs[step!].environment).toBeDefined();
    expect([...main.matchAll(/ jobs\.(\w+)\.environment=/g)].map((m) => m[1])).toEqual(Object.keys(job.jobs));
    for (const key of ['name', 'endpoint_name', 'model', 'environment']) expect(aml('deployment.yml')[key], key).toBeDefined();
    for (const key of ['name', 'compute']) expect(aml('endpoint.yml')[key], key).toBeDefined();
  });
});

describe('files the pipelines use', () => {
  it('every repository path in the pipelines exists in the pushed layout', () => {
    const used = new Set<string>();
    for (const file of pipelineFiles()) {
      const text = pipelineText(file);
      for (const [, path] of text.matchAll(/(?:^|[\s"'=])((?:aml|scripts|src|data|tests)\/[\w./-]+\.\w+)/gm)) used.add(path!);
      for (const [, path] of text.matchAll(/-r (\S+\.txt)/g)) used.add(path!);
      for (const [, template] of text.matchAll(/template: (\S+)/g)) {
        expect(isFile(join(PIPELINES_DIR, template!)), `${file}: template ${template}`).toBe(true);
      }
    }
    expect([...used].sort()).toEqual([
      'aml/deployment.yml', 'aml/endpoint.yml', 'aml/ensure-environment.sh', 'aml/pipeline-job.yml',
      'data/sample-request.json', 'requirements-dev.txt', 'scripts/model_versions.py', 'scripts/smoke_check.py',
    ]);
    for (const path of used) expect(isFile(join(TEMPLATES_DIR, path)), path).toBe(true);
  });

  it('ensure-environment.sh registers the environment file that exists next to it', () => {
    const script = readFileSync(join(AML_DIR, 'ensure-environment.sh'), 'utf8');
    for (const [, name] of script.matchAll(/"\$here\/([\w.-]+)"/g)) {
      expect(isFile(join(AML_DIR, name!)), name).toBe(true);
    }
    expect(script).toMatch(/^set -euo pipefail$/m);
  });

  it('the sample request has rows of ten numbers', () => {
    const sample = JSON.parse(readFileSync(join(TEMPLATES_DIR, 'data', 'sample-request.json'), 'utf8'));
    expect(sample.data.length).toBeGreaterThan(0);
    for (const row of sample.data) {
      expect(row).toHaveLength(10);
      expect(row.every((value: unknown) => typeof value === 'number')).toBe(true);
    }
  });

  it('the README explains every top-level folder of the pushed repository', () => {
    const readme = readFileSync(join(TEMPLATES_DIR, 'README.md'), 'utf8');
    const folders = ['devops_pipelines', ...['aml', 'data', 'scripts', 'src', 'tests'].filter((d) => isDir(join(TEMPLATES_DIR, d)))];
    for (const folder of folders) expect(readme, folder).toContain(`${folder}/`);
  });
});
