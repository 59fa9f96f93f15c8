import type { AnswerSet } from '../config/resolve.js';
import type { ArmAdapter } from '../adapters/arm/index.js';
import type { AzAdapter } from '../adapters/az.js';
import type { DevOpsAdapter } from '../adapters/devops.js';
import type { PricesAdapter } from '../adapters/prices.js';
import type { ProcessRunner } from '../adapters/process.js';
import type { SshAdapter } from '../adapters/ssh.js';
import type { TerraformAdapter } from '../adapters/terraform.js';
import type { ToolsAdapter } from '../adapters/tools.js';
import type { Logger } from '../ui/logger.js';
import type { Ui } from '../ui/prompts.js';
import type { Redactor } from '../ui/redact.js';
import type { Secrets } from './secrets.js';
import type { StateStore } from './state.js';

export type StepId =
  | 'tools'
  | 'ssh-key'
  | 'azure-login'
  | 'service-principal'
  | 'agents'
  | 'azure-preflight'
  | 'terraform-backend'
  | 'devops-project'
  | 'agent-pool'
  | 'extension'
  | 'terraform'
  | 'service-connection'
  | 'variable-group'
  | 'repository'
  | 'pipeline';

/**
 * The kinds of outside object a step creates and records (state.json `resources`), each owned by
 * exactly one step, which says how it is found, kept or removed (its `teardown`).
 */
export type ResourceKind =
  | 'entra-app'
  | 'entra-sp'
  | 'devops-project'
  | 'agent-pool'
  | 'agent-queue'
  | 'devops-extension'
  | 'tfstate-resource-group'
  | 'tfstate-storage-account'
  | 'terraform-deployment'
  | 'agent'
  | 'service-connection'
  | 'federated-credential'
  | 'variable-group'
  | 'repository'
  | 'pipeline';

export type CheckStatus = 'ok' | 'missing' | 'warning' | 'skipped';

/**
 * What a step's check found. `summary`, `fix` and `details` are for people; `facts` are for the
 * step's own plan(): typed findings (what was found, what differs) that plan() reads instead of
 * reading a sentence back. Facts are never printed, saved or returned by --json; they are absent
 * when the step was not checked (it waits for an earlier step), so plan() handles `facts` undefined.
 */
export interface CheckResult<F = undefined> {
  status: CheckStatus;
  /** One line: what was found. */
  summary: string;
  /** One line: the command or flag that fixes it (missing / warning). */
  fix?: string;
  details?: string[];
  /** Non-secret facts the engine saves as this step's state data when the step is satisfied. */
  record?: Record<string, unknown>;
  /**
   * Not done yet, but what the step's state data will be once applied is already known, and
   * applying it changes nothing its dependents' checks read (e.g. the subscription to switch az to).
   * The survey then checks the dependents against these facts instead of leaving them pending, so
   * the one plan is complete. Never written to the state file by the survey.
   */
  anticipated?: Record<string, unknown>;
  /**
   * The step must not go on: what it found is another deployment's (src/engine/deployment.ts).
   * Comes with status 'missing'. init (and its dry run) refuses the whole run with it, a UsageError
   * (exit 2), once the read-only survey is done, before anything is created (the first refusal in
   * step order wins); doctor shows the check as missing with `fix`.
   */
  refusal?: { message: string; fix: string };
  /** The step's typed findings for its plan() (see above). */
  facts?: F;
}

export type ChangeAction = 'create' | 'update' | 'delete' | 'run' | 'set' | 'install' | 'manual';

/** One thing apply() will do. `commands` are the exact command lines, secrets shown as ***. */
export interface Change {
  action: ChangeAction;
  what: string;
  commands?: string[];
  details?: string[];
  /** Values apply() needs (never secrets: plans are printed and returned by --json). */
  record?: Record<string, unknown>;
  /** false: the step asks its own, better-informed confirmation (terraform shows its real plan first). */
  confirm?: boolean;
}

/** How the whole run behaves (from the global flags). */
export interface RunFlags {
  dryRun: boolean;
  yes: boolean;
  interactive: boolean;
  json: boolean;
  verbose: boolean;
  stateDir: string;
  cwd: string;
  homeDir: string;
  /** Root of the installed package (terraform/, devops_pipelines/, templates/ live here). */
  packageRoot: string;
  toolVersion: string;
  /**
   * This process's run, unique per run: a step may trust what an apply of this same run recorded
   * (terraform's re-check right after its apply) instead of asking again.
   */
  runId: string;
}

/** Everything a step may use. Steps declare the subset they need with Pick<Context, ...>. */
export interface Context {
  answers: AnswerSet;
  state: StateStore;
  log: Logger;
  ui: Ui;
  proc: ProcessRunner;
  az: AzAdapter;
  tools: ToolsAdapter;
  ssh: SshAdapter;
  arm: ArmAdapter;
  terraform: TerraformAdapter;
  /** Azure DevOps of --org (its methods fail with a usage error when no org was given). */
  devops: DevOpsAdapter;
  /** The Azure Retail Prices API (the plan's cost estimate). */
  prices: PricesAdapter;
  /** Which Azure DevOps credential is used (a PAT, or an Entra token from the az login) and the agents' registration token. */
  devopsCredential: import('./devops-credential.js').DevOpsCredential;
  /** PAT and client secret: memory only, registered with the redactor. */
  secrets: Secrets;
  redactor: Redactor;
  run: RunFlags;
  env: NodeJS.ProcessEnv;
  /** Aborted on Ctrl-C: long waits and child processes watch it. */
  signal: AbortSignal;
}

/**
 * A README step as code. `check` never changes anything (doctor runs it alone); `plan` assembles
 * what `apply` would do without side effects (it may throw a UsageError when the step cannot
 * proceed without input), from the facts its check found; `apply` is idempotent; the engine
 * re-checks after it. `C` is the narrow context the step uses, `F` the facts its check finds.
 * The engine holds steps as `Step` (facts unknown) and hands each plan() its own check's result.
 */
export interface Step<C = Context, F = unknown> {
  id: StepId;
  title: string;
  dependsOn: readonly StepId[];
  /**
   * Questions before any work (interactive runs only, in step order, one at a time): an answer
   * only a person can give (which subscription), or a credential. Never changes anything outside
   * this machine's az sign-in; doctor never calls it.
   */
  prepare?(ctx: C): Promise<void>;
  check(ctx: C): Promise<CheckResult<F>>;
  /** `found`: this step's check, or `{ status: 'skipped' }` without facts when it was not checked. */
  plan(ctx: C, found: CheckResult<F>): Promise<Change[]>;
  apply(ctx: C, changes: Change[]): Promise<void>;
  /** The end of its objects' life: what `destroy` deletes or keeps of what this step recorded. */
  teardown?: StepTeardown;
  /** Its apply creates Azure resources: the run's confirmation then defaults to No (as terraform and azd do). */
  createsAzureResources?: boolean;
}

/**
 * A step's part of `destroy`. `owns` names every kind it records (the destroy list shows these
 * words); `plan` looks at its records (and its step data, for objects init found already there)
 * and tells the kit, read-only, what to delete and how, or what to keep and why. `destroy` plans
 * the steps in the reverse of their order and deletes in that order.
 */
export interface StepTeardown {
  owns: Partial<Record<ResourceKind, string>>;
  plan(kit: import('./teardown.js').TeardownKit): Promise<void>;
}

/**
 * Declares a step with its narrow context `C` (`type Ctx = Pick<Context, ...>`, written once) and
 * the facts `F` of its check, both inferred from `check(ctx: Ctx): Promise<CheckResult<Facts>>`
 * (or given: `defineStep<Ctx, Facts>`). The engine passes the full context.
 */
export function defineStep<C extends Partial<Context>, F = undefined>(step: Step<C, F>): Step<Context, F> {
  return step as unknown as Step<Context, F>;
}
