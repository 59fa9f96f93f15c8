// Every pipeline YAML file validates against Microsoft's official Azure Pipelines schema.
// The schema is not in this repository: AZURE_PIPELINES_SCHEMA points at it (.ci/run sets it to
// ../shared/azure-pipelines-schema/service-schema.json). Unset: skipped with the reason, unless
// AZURE_MLOPS_REQUIRE_ALL_TESTS is set, then failed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { describe, expect, it, type TestContext } from 'vitest';
import { parse } from 'yaml';
import { PIPELINES_DIR, pipelineFiles, requireOrSkip } from './helpers.js';

type Kind = 'pipeline' | 'jobsTemplate' | 'variablesTemplate';
let validators: Record<Kind, ValidateFunction> | undefined;

function schemaProblem(): string | undefined {
  const path = process.env.AZURE_PIPELINES_SCHEMA;
  if (!path) return 'AZURE_PIPELINES_SCHEMA is not set (path to the official service-schema.json)';
  if (!existsSync(path)) return `AZURE_PIPELINES_SCHEMA points to a missing file: ${path}`;
  return undefined;
}

function validator(ctx: TestContext, kind: Kind = 'pipeline'): ValidateFunction {
  requireOrSkip(ctx, schemaProblem());
  if (!validators) {
    const schema = JSON.parse(readFileSync(process.env.AZURE_PIPELINES_SCHEMA!, 'utf8'));
    // draft-07 with non-standard keywords (firstProperty, ignoreCase, ...), hence strict: false.
    // Azure Pipelines reads every YAML scalar as a string ("120", "true") and the schema types
    // them so, while task inputs are typed boolean/number: coerceTypes converts between the two
    // as the service does.
    const ajv = new Ajv({ strict: false, unicodeRegExp: false, allErrors: true, coerceTypes: true });
    ajv.addSchema(schema, 'azure-pipelines');
    const compile = (definition: string) =>
      ajv.compile({ $ref: `azure-pipelines${definition}` });
    validators = {
      pipeline: compile(''),
      // Template files are validated against the schema's definition for their kind.
      jobsTemplate: compile('#/definitions/jobsTemplate'),
      variablesTemplate: compile('#/definitions/variablesTemplate'),
    };
  }
  return validators[kind];
}

/** A file with only variables is a variables template; jobs without triggers, a jobs template. */
function kindOf(document: Record<string, unknown>): Kind {
  const keys = Object.keys(document).filter((key) => key !== 'parameters');
  if (keys.length === 1 && keys[0] === 'variables') return 'variablesTemplate';
  if (keys.length === 1 && keys[0] === 'jobs') return 'jobsTemplate';
  return 'pipeline';
}

function errorsOf(validate: ValidateFunction): string {
  return (validate.errors ?? [])
    .slice(0, 15)
    .map((error) => `${error.instancePath || '/'} ${error.message} ${JSON.stringify(error.params)}`)
    .join('\n');
}

describe('pipeline YAML files against the official Azure Pipelines schema', () => {
  it('finds the pipelines, the jobs template and the variables template', () => {
    expect(pipelineFiles()).toEqual([
      'azdo-ci-build-train.yml',
      'azdo-model-ci-job.yml',
      'azdo-pr-build-train.yml',
      'azdo-variables.yml',
    ]);
  });

  for (const file of pipelineFiles()) {
    it(`${file} is valid`, (ctx) => {
      const document = parse(readFileSync(join(PIPELINES_DIR, file), 'utf8'));
      const validate = validator(ctx, kindOf(document));
      const valid = validate(document);
      expect(valid, errorsOf(validate)).toBe(true);
    });
  }

  // Negative controls: the validator really checks tasks, their inputs and the structure.
  it.for([
    ['an unknown task', { steps: [{ task: 'AzureMLModelDeploy@0', inputs: {} }] }],
    ['a misspelled AzureCLI@2 input', {
      steps: [{ task: 'AzureCLI@2', inputs: { azureSubscription: 'x', scriptType: 'bash', inlineScrip: 'az version' } }],
    }],
    ['AzureCLI@2 without its required scriptType', {
      steps: [{ task: 'AzureCLI@2', inputs: { azureSubscription: 'x', inlineScript: 'az version' } }],
    }],
    ['a misspelled stage property', { stages: [{ stage: 'A', dependOn: 'B', jobs: [] }] }],
    ['a pool given as a number list', { pool: [1, 2], steps: [{ script: 'echo' }] }],
  ] as const)('rejects %s', ([, document], ctx) => {
    expect(validator(ctx)(document)).toBe(false);
  });
});
