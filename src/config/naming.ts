/**
 * Every Azure name derived from the prefix, with the Azure naming rule it must satisfy.
 * The prefix rule is computed from this table (the tightest rule wins), so adding a derived
 * name here automatically tightens validation. terraform/variables.tf carries the same bound.
 */
export interface DerivedName {
  what: string;
  template: string; // `{prefix}` is replaced
  min: number;
  max: number;
  /** Characters allowed in the whole name. */
  pattern: RegExp;
}

/** terraform/locals.tf `names.managed_pool` (a test compares them). */
const MANAGED_POOL_TEMPLATE = 'mdp-{prefix}';

export const derivedNames: readonly DerivedName[] = [
  { what: 'ML resource group', template: 'rg-{prefix}-ml', min: 1, max: 90, pattern: /^[-\w.()]+$/ },
  { what: 'DevOps resource group', template: 'rg-{prefix}-devops', min: 1, max: 90, pattern: /^[-\w.()]+$/ },
  { what: 'Azure ML workspace', template: 'aml-{prefix}', min: 3, max: 33, pattern: /^[a-zA-Z0-9][\w-]*$/ },
  { what: 'AKS cluster and DNS prefix', template: 'aks{prefix}', min: 1, max: 54, pattern: /^[a-zA-Z0-9][a-zA-Z0-9-]*$/ },
  { what: 'storage account', template: 'st{prefix}', min: 3, max: 24, pattern: /^[a-z0-9]+$/ },
  { what: 'terraform state storage account (--state-backend azurerm)', template: 'sttf{prefix}', min: 3, max: 24, pattern: /^[a-z0-9]+$/ },
  { what: 'key vault', template: 'kv-{prefix}', min: 3, max: 24, pattern: /^[a-zA-Z][a-zA-Z0-9-]*$/ },
  { what: 'container registry', template: 'acr{prefix}', min: 5, max: 50, pattern: /^[a-zA-Z0-9]+$/ },
  { what: 'pipeline managed identity', template: 'id-{prefix}-pipeline', min: 3, max: 128, pattern: /^[a-zA-Z0-9][\w-]*$/ },
  // Microsoft.DevOpsInfrastructure/pools (REST spec 2025-01-21, poolName; 3-44 characters): also the
  // name of the Azure DevOps agent pool the service creates for it (--agents-host managed-pool).
  { what: 'Managed DevOps Pool', template: MANAGED_POOL_TEMPLATE, min: 3, max: 44, pattern: /^[a-zA-Z0-9][a-zA-Z0-9-.]*$/ },
];

const PLACEHOLDER = '{prefix}';

export function deriveName(template: string, prefix: string): string {
  return template.replace(PLACEHOLDER, prefix);
}

/** The prefix length bounds every derived name allows. */
export function prefixBounds(): { min: number; max: number; tightest: DerivedName } {
  let min = 1;
  let max = Number.POSITIVE_INFINITY;
  let tightest = derivedNames[0]!;
  for (const d of derivedNames) {
    const fixed = d.template.length - PLACEHOLDER.length;
    min = Math.max(min, d.min - fixed);
    if (d.max - fixed < max) {
      max = d.max - fixed;
      tightest = d;
    }
  }
  return { min, max, tightest };
}

export const PREFIX_CHARS = /^[a-z0-9]+$/;

/** Returns null when the prefix is valid, else a sentence saying which rule it breaks. */
export function prefixProblem(prefix: string): string | null {
  const { min, max, tightest } = prefixBounds();
  if (!PREFIX_CHARS.test(prefix)) {
    return `'${prefix}' may only contain lowercase letters a-z and digits 0-9 (it becomes part of the storage account name st${prefix.toLowerCase().replace(/[^a-z0-9]/g, '')}, which allows nothing else)`;
  }
  if (prefix.length < min) return `'${prefix}' is ${prefix.length} characters; at least ${min} are needed (container registry names are 5+ characters: acr{prefix})`;
  if (prefix.length > max) {
    return `'${prefix}' is ${prefix.length} characters; at most ${max} fit (the ${tightest.what} name ${deriveName(tightest.template, prefix)} would exceed ${tightest.max} characters)`;
  }
  for (const d of derivedNames) {
    const name = deriveName(d.template, prefix);
    if (!d.pattern.test(name)) return `the ${d.what} name '${name}' would be invalid`;
  }
  return null;
}

/** The names the seed README uses, which the variable group and the pipeline rely on. */
export function namesFor(prefix: string) {
  return {
    mlResourceGroup: `rg-${prefix}-ml`,
    devopsResourceGroup: `rg-${prefix}-devops`,
    workspace: `aml-${prefix}`,
    aks: `aks${prefix}`,
    storageAccount: `st${prefix}`,
    keyVault: `kv-${prefix}`,
    containerRegistry: `acr${prefix}`,
    stateStorageAccount: `sttf${prefix}`,
    stateResourceGroup: `rg-${prefix}-tfstate`,
    pipelineApp: `azure-mlops-${prefix}-pipeline`,
    pipelineIdentity: `id-${prefix}-pipeline`,
    agentVm: `vm-${prefix}-agents`,
    /** The Managed DevOps Pool and the Azure DevOps agent pool the service creates for it. */
    managedPool: deriveName(MANAGED_POOL_TEMPLATE, prefix),
  };
}
