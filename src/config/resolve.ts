import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { answerFields, answerKeys, flagName, howToSet, PAT_ENV, type AnswerKey } from './fields.js';
import { answersSchema, showText, unsafeTextProblem, type Answers } from './schema.js';
import { azureRegions, defaultRegion, noFederatedCredentialsOnManagedIdentity } from './regions.js';
import { namesFor } from './naming.js';
import { SIZING_DEFAULTS } from './sizing.js';
import { UsageError } from '../engine/errors.js';
import type { Ui } from '../ui/prompts.js';

/**
 * Answer resolution: flag > env (AZURE_MLOPS_<NAME>, ARM_SUBSCRIPTION_ID) > config file > saved
 * state > default > prompt. Every value is validated where it came from, so an error names the
 * flag, the env var or the file to fix.
 */

export type AnswerSource = 'flag' | 'env' | 'config' | 'state' | 'default' | 'prompt';

export class AnswerSet {
  constructor(
    private readonly values: Partial<Answers>,
    private readonly sources: Partial<Record<AnswerKey, string>> = {},
  ) {}

  /** The answer, or a UsageError (exit 2) naming its flag and env var. */
  get<K extends AnswerKey>(key: K): Answers[K] {
    const v = this.values[key];
    if (v === undefined) throw missingAnswer([key]);
    return v as Answers[K];
  }

  maybe<K extends AnswerKey>(key: K): Answers[K] | undefined {
    return this.values[key] as Answers[K] | undefined;
  }

  /** An answer a person gave during the run (a step's prepare(), e.g. the subscription picked from a list). */
  choose<K extends AnswerKey>(key: K, value: Answers[K]): void {
    (this.values as Record<string, unknown>)[key] = value;
    this.sources[key] = 'prompt';
  }

  has(key: AnswerKey): boolean {
    return this.values[key] !== undefined;
  }

  sourceOf(key: AnswerKey): string | undefined {
    return this.sources[key];
  }

  /** Non-secret answers, for the state file and --json. */
  toRecord(): Record<string, string | number> {
    const out: Record<string, string | number> = {};
    for (const k of answerKeys) {
      const v = this.values[k];
      if (v !== undefined) out[k] = v as string | number;
    }
    return out;
  }
}

export function missingAnswer(keys: AnswerKey[]): UsageError {
  if (keys.length === 1) {
    const k = keys[0]!;
    return new UsageError(`Missing ${flagName(k)} (env ${answerFields[k].env.join(' or ')}): ${answerFields[k].description}.`, `Pass ${flagName(k)} (or set the env var, or put it in --config <file>).`);
  }
  const lines = keys.map((k) => `  ${flagName(k)} (env ${answerFields[k].env.join(' or ')}): ${answerFields[k].description}`);
  return new UsageError(
    `Missing ${keys.length === 1 ? 'an answer' : `${keys.length} answers`} needed in non-interactive mode:\n${lines.join('\n')}`,
    `Pass ${keys.map((k) => flagName(k)).join(', ')} (or set the env vars, or put them in --config <file>).`,
  );
}

export interface ResolveInput {
  /** Commander option values keyed by answer key (undefined when not given). */
  flags: Partial<Record<AnswerKey, string | number | undefined>>;
  env: NodeJS.ProcessEnv;
  configFile?: string | undefined;
  saved: Record<string, string | number | boolean>;
  /** Where the saved answers live, for messages. */
  stateFile: string;
  /** Answers this command cannot run without. */
  required: readonly AnswerKey[];
  interactive: boolean;
  ui?: Ui;
}

const fieldSchemas = answersSchema.shape;

/** Schema check plus the character rule every answer obeys (see unsafeTextProblem). */
function problemOf(key: AnswerKey, raw: unknown): { problem: string } | { value: unknown } {
  const unsafe = unsafeTextProblem(raw);
  if (unsafe) return { problem: unsafe };
  const r = fieldSchemas[key].safeParse(raw);
  return r.success ? { value: r.data } : { problem: r.error.issues[0]?.message ?? 'invalid value' };
}

function validateOne(key: AnswerKey, raw: unknown, where: string): unknown {
  const r = problemOf(key, raw);
  if ('value' in r) return r.value;
  throw new UsageError(`Invalid ${flagName(key)} ${showText(where)}: ${r.problem}`, `Fix it with ${howToSet(key)}.`);
}

/** Reads the --config file: JSON with answer keys (camelCase or the flag's kebab-case). */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`Cannot read the config file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'Check the path given to --config (env AZURE_MLOPS_CONFIG).');
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`The config file ${path} is not valid JSON: ${(e as Error).message}`, 'Fix the file given to --config (env AZURE_MLOPS_CONFIG); it is a JSON object like {"prefix": "mlops01", "location": "westeurope"}.');
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new UsageError(`The config file ${path} must hold a JSON object of answers.`, 'Example: {"prefix": "mlops01", "location": "westeurope"} (--config / AZURE_MLOPS_CONFIG).');
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (/^(pat|token|password|secret|clientSecret|devopsPat)$/i.test(k)) {
      throw new UsageError(`The config file ${path} contains '${k}': secrets never go into files.`, `Remove it; give the PAT through ${PAT_ENV} or --pat-stdin.`);
    }
    const key = answerKeys.find((a) => a === k || flagName(a).slice(2) === k);
    if (!key) {
      throw new UsageError(`The config file ${path} has an unknown key '${k}'.`, `Fix the file given to --config (env AZURE_MLOPS_CONFIG); known keys: ${answerKeys.join(', ')}.`);
    }
    out[key] = v;
  }
  return out;
}

export async function resolveAnswers(input: ResolveInput): Promise<AnswerSet> {
  const config = input.configFile ? await readConfigFile(input.configFile) : {};
  const values: Partial<Record<AnswerKey, unknown>> = {};
  const sources: Partial<Record<AnswerKey, string>> = {};

  for (const key of answerKeys) {
    const field = answerFields[key];
    const flag = input.flags[key];
    if (flag !== undefined) {
      values[key] = validateOne(key, flag, `'${flag}'`);
      sources[key] = 'flag';
      continue;
    }
    const envName = field.env.find((e) => input.env[e] !== undefined && input.env[e] !== '');
    if (envName) {
      values[key] = validateOne(key, input.env[envName], `(from ${envName}='${input.env[envName]}')`);
      sources[key] = `env ${envName}`;
      continue;
    }
    if (config[key] !== undefined) {
      values[key] = validateOne(key, config[key], `(from '${key}' in ${input.configFile})`);
      sources[key] = 'config';
      continue;
    }
    if (input.saved[key] !== undefined) {
      values[key] = validateOne(key, input.saved[key], `(saved in ${input.stateFile} by an earlier run)`);
      sources[key] = 'state';
      continue;
    }
    if ('defaultValue' in field) {
      values[key] = validateOne(key, field.defaultValue, '(default)');
      sources[key] = 'default';
    }
  }

  // A state dir belongs to one deployment: a different prefix would silently create a second one.
  const savedPrefix = input.saved.prefix;
  if (savedPrefix !== undefined && values.prefix !== undefined && values.prefix !== savedPrefix) {
    throw new UsageError(
      `${input.stateFile} belongs to the deployment with prefix '${savedPrefix}', but ${sources.prefix} says '${String(values.prefix)}'.`,
      `Use --prefix ${String(savedPrefix)} to continue that deployment, or --state-dir <new dir> (env AZURE_MLOPS_STATE_DIR) for a new one.`,
    );
  }

  const missing = input.required.filter((k) => values[k] === undefined);
  if (missing.length) {
    if (!input.interactive || !input.ui) throw missingAnswer(missing);
    for (const key of missing) {
      values[key] = await promptFor(key, input.ui, input.env);
      sources[key] = 'prompt';
    }
  }

  resolvePipelineIdentity(values, sources, input.saved);
  refuseAgentVmAnswersForManagedPool(values, sources);
  if (values.spName === undefined && values.prefix !== undefined) {
    values.spName = namesFor(String(values.prefix)).pipelineApp;
    sources.spName = 'default';
  }
  // The repository defaults to the project's name (Azure DevOps creates one like that too).
  if (values.repo === undefined && values.project !== undefined) {
    values.repo = values.project;
    sources.repo = 'default';
  }
  return new AnswerSet(values as Partial<Answers>, sources);
}

/**
 * The pipeline identity. Default: a user-assigned managed identity (terraform creates it; Azure
 * DevOps federates with it; no Entra directory rights needed). An app registration when a client
 * secret is asked for (a managed identity cannot have one), when an app is named with --sp-name,
 * or when the state was written before managed identities existed here (its deployment uses an app).
 */
function resolvePipelineIdentity(values: Partial<Record<AnswerKey, unknown>>, sources: Partial<Record<AnswerKey, string>>, saved: ResolveInput['saved']): void {
  const named = sources.spName !== undefined && sources.spName !== 'state';
  if (values.pipelineIdentity === 'managed-identity') {
    if (values.auth === 'secret') {
      throw new UsageError(
        `--pipeline-identity managed-identity (${sources.pipelineIdentity}) cannot use --auth secret (${sources.auth}): a managed identity has no client secret.`,
        `Use --auth federated (env AZURE_MLOPS_AUTH), or --pipeline-identity app-registration (env AZURE_MLOPS_PIPELINE_IDENTITY).`,
      );
    }
    if (named) {
      throw new UsageError(
        `--sp-name (${sources.spName}) names an app registration, but --pipeline-identity is managed-identity (${sources.pipelineIdentity}).`,
        `Drop --sp-name (env AZURE_MLOPS_SP_NAME), or use --pipeline-identity app-registration (env AZURE_MLOPS_PIPELINE_IDENTITY).`,
      );
    }
    refuseRegionWithoutManagedIdentityFederation(values, sources);
    return;
  }
  if (values.pipelineIdentity !== undefined) return;
  const fromEarlierVersion = saved.prefix !== undefined && saved.pipelineIdentity === undefined;
  if (values.auth === 'secret' || named || fromEarlierVersion) {
    values.pipelineIdentity = 'app-registration';
    sources.pipelineIdentity = fromEarlierVersion && values.auth !== 'secret' && !named ? 'state' : 'default';
  } else {
    values.pipelineIdentity = 'managed-identity';
    sources.pipelineIdentity = 'default';
    refuseRegionWithoutManagedIdentityFederation(values, sources);
  }
}

/**
 * --pool and --agent-vm-size describe the agent VM. With a Managed DevOps Pool the service creates
 * the Azure DevOps pool itself (named like the pool resource, mdp-{prefix}) and the machines' size
 * is the module's managed_pool_vm_size: a value given for either now (flag, env, config file) would
 * be silently ignored, so it is refused. Saved answers of an earlier agent-VM run are not refused.
 */
function refuseAgentVmAnswersForManagedPool(values: Partial<Record<AnswerKey, unknown>>, sources: Partial<Record<AnswerKey, string>>): void {
  if (values.agentsHost !== 'managed-pool') return;
  const given = (k: AnswerKey) => sources[k] !== undefined && sources[k] !== 'state' && sources[k] !== 'default';
  const why: Partial<Record<AnswerKey, string>> = {
    pool: 'a Managed DevOps Pool brings its own Azure DevOps agent pool, which the service creates and names like the pool resource (mdp-{prefix})',
    agentVmSize: `the managed pool's machines have the terraform module's managed_pool_vm_size (${SIZING_DEFAULTS.managedPoolVmSize}, the service's default size)`,
  };
  for (const k of ['pool', 'agentVmSize'] as const) {
    if (!given(k)) continue;
    throw new UsageError(
      `${flagName(k)} (${sources[k]}) is for the agent VM, but --agents-host is managed-pool (${sources.agentsHost}): ${why[k]}.`,
      `Drop ${howToSet(k)}, or use --agents-host vm (env AZURE_MLOPS_AGENTS_HOST).`,
    );
  }
}

/** The managed identity lives in --location; some regions cannot give it a federated credential. */
function refuseRegionWithoutManagedIdentityFederation(values: Partial<Record<AnswerKey, unknown>>, sources: Partial<Record<AnswerKey, string>>): void {
  const region = typeof values.location === 'string' ? noFederatedCredentialsOnManagedIdentity[values.location] : undefined;
  if (!region) return;
  throw new UsageError(
    `--location ${String(values.location)} (${sources.location}): Microsoft Entra does not support federated identity credentials on user-assigned managed identities in ${region}, so the default pipeline identity (--pipeline-identity managed-identity, ${sources.pipelineIdentity}) cannot sign in from Azure Pipelines there.`,
    `Use --pipeline-identity app-registration (env AZURE_MLOPS_PIPELINE_IDENTITY; needs the right to register applications), or another region with --location (env AZURE_MLOPS_LOCATION).`,
  );
}

async function promptFor(key: AnswerKey, ui: Ui, env: NodeJS.ProcessEnv): Promise<unknown> {
  const field = answerFields[key];
  if (key === 'location') {
    const start = defaultRegion(env, env.HOME || homedir());
    return validateOne(key, await ui.search(`Azure region (${flagName(key)}) — type to filter`, azureRegions, start.region), '(prompt)');
  }
  const raw = await ui.input(`${field.description} (${flagName(key)})`, {
    validate: (v) => {
      const r = problemOf(key, v);
      return 'value' in r ? true : r.problem;
    },
  });
  return validateOne(key, raw, '(prompt)');
}
