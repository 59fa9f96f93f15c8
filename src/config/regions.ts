import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Azure public-cloud region names (`az account list-locations --query "[].name"`, late 2026).
 * Used to refuse a typo before anything is created; sovereign-cloud users can bypass the list
 * with AZURE_MLOPS_ALLOW_ANY_REGION=1.
 */
export const azureRegions: readonly string[] = [
  'australiacentral', 'australiacentral2', 'australiaeast', 'australiasoutheast', 'austriaeast',
  'belgiumcentral', 'brazilsouth', 'brazilsoutheast', 'canadacentral', 'canadaeast', 'centralindia',
  'centralus', 'chilecentral', 'denmarkeast', 'eastasia', 'eastus', 'eastus2', 'francecentral',
  'francesouth', 'germanynorth', 'germanywestcentral', 'indonesiacentral', 'israelcentral',
  'italynorth', 'japaneast', 'japanwest', 'koreacentral', 'koreasouth', 'malaysiawest',
  'mexicocentral', 'newzealandnorth', 'northcentralus', 'northeurope', 'norwayeast', 'norwaywest',
  'polandcentral', 'qatarcentral', 'southafricanorth', 'southafricawest', 'southcentralus',
  'southeastasia', 'southindia', 'spaincentral', 'swedencentral', 'swedensouth', 'switzerlandnorth',
  'switzerlandwest', 'uaecentral', 'uaenorth', 'uksouth', 'ukwest', 'westcentralus', 'westeurope',
  'westindia', 'westus', 'westus2', 'westus3',
];

/**
 * Regions where a user-assigned managed identity cannot have federated identity credentials, so the
 * default pipeline identity (id-{prefix}-pipeline, federated with the service connection) cannot work.
 * Source: Microsoft Entra, "Important considerations and restrictions for federated identity
 * credentials", section "Unsupported regions (user-assigned managed identities)"
 * (learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations; MicrosoftDocs/
 * entra-docs docs/workload-id/workload-identity-federation-considerations.md), December 2026.
 * An app registration's credentials live in the tenant, not in a region: that mode is unaffected.
 */
export const noFederatedCredentialsOnManagedIdentity: Readonly<Record<string, string>> = {
  malaysiasouth: 'Malaysia South',
  newzealandnorth: 'New Zealand North',
};

/**
 * Where the region picker starts, without starting az (each az process costs about a second):
 * az's own default location — the AZURE_DEFAULTS_LOCATION variable, else `location` in the
 * `[defaults]` section of az's config file (`$AZURE_CONFIG_DIR/config`, default `~/.azure/config`),
 * which is what `az config set defaults.location=…` writes (knack's CLIConfig: env var
 * AZURE_{SECTION}_{OPTION} over the file) — else azd's global default, eastus2
 * (Azure/azure-dev cli/azd/pkg/account/manager.go, GetDefaultLocationName). A value that is not a
 * known region is ignored.
 */
export const FALLBACK_REGION = 'eastus2';

export function defaultRegion(env: NodeJS.ProcessEnv, home: string, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): { region: string; from: string } {
  const known = (v: string | undefined) => (v && azureRegions.includes(normalizeRegion(v)) ? normalizeRegion(v) : undefined);
  const fromEnv = known(env.AZURE_DEFAULTS_LOCATION);
  if (fromEnv) return { region: fromEnv, from: 'AZURE_DEFAULTS_LOCATION' };
  const file = join(env.AZURE_CONFIG_DIR || join(home, '.azure'), 'config');
  try {
    const fromFile = known(iniValue(read(file), 'defaults', 'location'));
    if (fromFile) return { region: fromFile, from: "az's defaults.location" };
  } catch {
    // no az config file: nothing configured
  }
  return { region: FALLBACK_REGION, from: 'default' };
}

/** `key` of `[section]` in an INI text (az's config file), undefined when absent. */
function iniValue(text: string, section: string, key: string): string | undefined {
  let current = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head) {
      current = head[1]!.trim().toLowerCase();
      continue;
    }
    const kv = /^([^=:]+)[=:](.*)$/.exec(line);
    if (kv && current === section && kv[1]!.trim().toLowerCase() === key) return kv[2]!.trim();
  }
  return undefined;
}

/** "West Europe" -> "westeurope" (az accepts display names in some places, ARM wants names). */
export function normalizeRegion(input: string): string {
  return input.toLowerCase().replace(/[\s_-]+/g, '');
}

/** Closest known region by edit distance, for "did you mean". */
export function suggestRegion(input: string): string | undefined {
  const n = normalizeRegion(input);
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const r of azureRegions) {
    const d = editDistance(n, r);
    if (d < bestD) {
      bestD = d;
      best = r;
    }
  }
  return bestD <= Math.max(2, Math.floor(n.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}
