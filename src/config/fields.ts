/**
 * The answers the CLI needs, as plain metadata: flag, env vars, help text, default.
 * Kept free of zod so `azure-mlops --help` loads nothing heavy; the schemas live in schema.ts.
 * This table drives the commander options, env resolution, prompts and the README table
 * (a test checks the README lists every flag and env var here).
 */
export interface AnswerField {
  /** Flag as commander spells it, e.g. `--prefix <prefix>`. */
  flag: string;
  /** Env vars in precedence order (first wins). */
  env: readonly string[];
  description: string;
  /** Shown in --help and applied when nothing else gives a value. */
  defaultValue?: string | number;
  /** Human note on the default when it is derived (e.g. "the project name"). */
  defaultNote?: string;
}

export const answerFields = {
  prefix: {
    flag: '--prefix <prefix>',
    env: ['AZURE_MLOPS_PREFIX'],
    description:
      'name prefix for every Azure resource (2-20 lowercase letters/digits; globally unique: st{prefix}, kv-{prefix}, acr{prefix})',
  },
  location: {
    flag: '--location <region>',
    env: ['AZURE_MLOPS_LOCATION'],
    description: 'Azure region, e.g. westeurope, eastus2',
  },
  subscription: {
    flag: '--subscription <id|name>',
    env: ['AZURE_MLOPS_SUBSCRIPTION', 'ARM_SUBSCRIPTION_ID'],
    description: "Azure subscription id or name (default: az's current subscription)",
  },
  org: {
    flag: '--org <url>',
    env: ['AZURE_MLOPS_ORG'],
    description: 'Azure DevOps organization URL, e.g. https://dev.azure.com/myorg',
  },
  project: {
    flag: '--project <name>',
    env: ['AZURE_MLOPS_PROJECT'],
    description: 'Azure DevOps project (created when missing)',
  },
  agentsHost: {
    flag: '--agents-host <host>',
    env: ['AZURE_MLOPS_AGENTS_HOST'],
    description:
      "where the pipeline's agents run: 'vm' (a self-hosted agent VM in the VNET, agents registered by azure-mlops) or 'managed-pool' (a Managed DevOps Pool injected into the VNET: machines started per job, no agent registration)",
    defaultValue: 'vm',
  },
  pool: {
    flag: '--pool <name>',
    env: ['AZURE_MLOPS_POOL'],
    description: "self-hosted agent pool of the agent VM (--agents-host vm; a managed pool's is mdp-{prefix}, created by the service)",
    defaultValue: 'pool001',
  },
  agents: {
    flag: '--agents <n>',
    env: ['AZURE_MLOPS_AGENTS'],
    description: "number of pipeline agents on the agent VM, or the managed pool's maximum concurrency (1-16)",
    defaultValue: 4,
  },
  agentVmSize: {
    flag: '--agent-vm-size <size>',
    env: ['AZURE_MLOPS_AGENT_VM_SIZE'],
    description: 'VM size of the agent VM (--agents-host vm)',
    defaultValue: 'Standard_D2s_v5',
  },
  sshKey: {
    flag: '--ssh-key <path>',
    env: ['AZURE_MLOPS_SSH_KEY'],
    description: 'SSH public key for the agent VM (default: ~/.ssh/id_ed25519.pub, then ~/.ssh/id_rsa.pub)',
  },
  serviceConnection: {
    flag: '--service-connection <name>',
    env: ['AZURE_MLOPS_SERVICE_CONNECTION'],
    description: 'Azure Resource Manager service connection scoped to the ML workspace',
    defaultValue: 'AzureMLWorkspace',
  },
  variableGroup: {
    flag: '--variable-group <name>',
    env: ['AZURE_MLOPS_VARIABLE_GROUP'],
    description: "the pipeline's variable group",
    defaultValue: 'devopsforai-aml-vg',
  },
  repo: {
    flag: '--repo <name>',
    env: ['AZURE_MLOPS_REPO'],
    description: 'Azure Repos repository for the pipeline and ML code',
    defaultNote: 'the project name',
  },
  auth: {
    flag: '--auth <mode>',
    env: ['AZURE_MLOPS_AUTH'],
    description: "service connection auth: 'federated' (workload identity, no secret) or 'secret'",
    defaultValue: 'federated',
  },
  devopsAuth: {
    flag: '--devops-auth <kind>',
    env: ['AZURE_MLOPS_DEVOPS_AUTH'],
    description: "force the Azure DevOps credential: 'pat' (AZURE_DEVOPS_EXT_PAT / --pat-stdin / prompt) or 'entra' (a Microsoft Entra token from your az login)",
    defaultNote: 'automatic: a PAT when one is given, else a Microsoft Entra token from your az login',
  },
  pipelineIdentity: {
    flag: '--pipeline-identity <kind>',
    env: ['AZURE_MLOPS_PIPELINE_IDENTITY'],
    description:
      "the pipeline's Azure identity: 'managed-identity' (id-{prefix}-pipeline, created by terraform; needs no Microsoft Entra directory rights) or 'app-registration' (an app registration + service principal, see --sp-name)",
    defaultNote: "managed-identity; app-registration with --auth secret or --sp-name",
  },
  spName: {
    flag: '--sp-name <name>',
    env: ['AZURE_MLOPS_SP_NAME'],
    description: "display name of the pipeline's app registration / service principal (created, or reused when it exists; --pipeline-identity app-registration)",
    defaultNote: 'azure-mlops-{prefix}-pipeline',
  },
  terraformDir: {
    flag: '--terraform-dir <dir>',
    env: ['AZURE_MLOPS_TERRAFORM_DIR'],
    description: 'apply your own fork of the terraform module instead of the bundled one (same variables and outputs: checked before anything runs)',
    defaultNote: 'the bundled terraform/',
  },
  stateBackend: {
    flag: '--state-backend <kind>',
    env: ['AZURE_MLOPS_STATE_BACKEND'],
    description: "terraform state: 'local' (in the state dir) or 'azurerm' (a storage account sttf{prefix} with versioning and blob-lease locking)",
    defaultValue: 'local',
  },
  currency: {
    flag: '--currency <code>',
    env: ['AZURE_MLOPS_CURRENCY'],
    description: "currency of the plan's cost estimate (ISO 4217 code the Azure Retail Prices API knows, e.g. EUR, GBP)",
    defaultValue: 'USD',
  },
} as const satisfies Record<string, AnswerField>;

export type AnswerKey = keyof typeof answerFields;
export const answerKeys = Object.keys(answerFields) as AnswerKey[];

/** `--agent-vm-size <size>` -> `--agent-vm-size` */
export function flagName(key: AnswerKey): string {
  return answerFields[key].flag.split(' ')[0]!;
}

/** Where to set an answer, for error messages: "--prefix or AZURE_MLOPS_PREFIX". */
export function howToSet(key: AnswerKey): string {
  const f = answerFields[key];
  return `${flagName(key)} or ${f.env.join(' / ')}`;
}

/** Env var that carries the Azure DevOps PAT (the convention az devops and azd use). */
export const PAT_ENV = 'AZURE_DEVOPS_EXT_PAT';
