import { z } from 'zod';
import { prefixProblem } from './naming.js';
import { azureRegions, normalizeRegion, suggestRegion } from './regions.js';

/**
 * One zod schema for every answer. Messages say which rule failed and what would be valid; the
 * resolver adds the flag and env var that set the value.
 */

const prefix = z.string().superRefine((v, ctx) => {
  const problem = prefixProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const location = z
  .string()
  .transform((v) => normalizeRegion(v))
  .superRefine((v, ctx) => {
    if (process.env.AZURE_MLOPS_ALLOW_ANY_REGION === '1') return;
    if (!azureRegions.includes(v)) {
      const hint = suggestRegion(v);
      ctx.addIssue({
        code: 'custom',
        message: `'${v}' is not an Azure region name${hint ? ` (did you mean '${hint}'?)` : ''}; list them with: az account list-locations -o table`,
      });
    }
  });

/**
 * Characters no answer may contain: C0/C1 controls and DEL; the bidirectional marks, embeddings,
 * overrides and isolates (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), which make a
 * name display as another ("Trojan Source", CVE-2021-42574); and the zero-width characters
 * (U+200B–U+200D, U+2060, U+FEFF), which make two different names look the same. Applied to every
 * answer, wherever it comes from (flag, env, config file, saved state, prompt).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_CHAR = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/u;

const unsafeKind = (c: number): string =>
  c < 0x20 || (c >= 0x7f && c <= 0x9f) ? 'a control character' : c === 0x200b || c === 0x200c || c === 0x200d || c === 0x2060 || c === 0xfeff ? 'a zero-width character' : 'a bidirectional-text control character';

/** Why this value cannot be an answer (a control, bidirectional or zero-width character), or undefined. */
export function unsafeTextProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = UNSAFE_CHAR.exec(value);
  if (!m) return undefined;
  const code = m[0].codePointAt(0)!;
  return `it contains U+${code.toString(16).toUpperCase().padStart(4, '0')} (${unsafeKind(code)}) at position ${m.index + 1}; such characters make a name look like another, so they are refused`;
}

/** A value safe to print: control, bidirectional and zero-width characters shown as \u{…}. */
export function showText(value: string): string {
  return value.replace(new RegExp(UNSAFE_CHAR.source, 'gu'), (c) => `\\u{${c.codePointAt(0)!.toString(16).toUpperCase()}}`);
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isGuid = (v: string) => GUID.test(v);

const subscription = z
  .string()
  .trim()
  .min(1, 'the subscription id or name is empty')
  .max(128, 'a subscription name has at most 128 characters');

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Parses and normalises an Azure DevOps organization / collection URL. */
export function normalizeOrgUrl(raw: string): { url?: string; problem?: string } {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return { problem: `'${raw}' is not a URL; use https://dev.azure.com/{organization}` };
  }
  if (u.username || u.password) return { problem: 'the organization URL must not contain credentials; pass the PAT through AZURE_DEVOPS_EXT_PAT or --pat-stdin' };
  if (u.search || u.hash) return { problem: `'${raw}' has a query or fragment; use https://dev.azure.com/{organization}` };
  if (u.protocol === 'http:') {
    if (!LOOPBACK.has(u.hostname)) return { problem: `'${raw}' uses http; Azure DevOps needs https (http is only accepted for a local test server on loopback)` };
  } else if (u.protocol !== 'https:') {
    return { problem: `'${raw}' must be an https URL, e.g. https://dev.azure.com/{organization}` };
  }
  const segments = u.pathname.split('/').filter(Boolean);
  const host = u.hostname.toLowerCase();
  if (host === 'dev.azure.com') {
    if (segments.length === 0) return { problem: `'${raw}' has no organization; use https://dev.azure.com/{organization}` };
    const org = segments[0]!;
    if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,48}[A-Za-z0-9]?$/.test(org)) return { problem: `'${org}' is not a valid organization name (letters, digits and hyphens, up to 50)` };
    if (segments.length > 1) {
      return { problem: `'${raw}' points inside the organization; pass the organization URL https://dev.azure.com/${org} and the project with --project ${decodeURIComponent(segments[1]!)}` };
    }
    return { url: `https://dev.azure.com/${org}` };
  }
  if (host.endsWith('.visualstudio.com')) {
    if (segments.length > 0) return { problem: `'${raw}' points inside the organization; use https://${host}` };
    return { url: `https://${host}` };
  }
  // Azure DevOps Server: any https collection URL, e.g. https://tfs.contoso.com/tfs/DefaultCollection
  return { url: `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}` };
}

const org = z.string().transform((v, ctx) => {
  const { url, problem } = normalizeOrgUrl(v);
  if (problem || !url) {
    ctx.addIssue({ code: 'custom', message: problem ?? 'invalid URL' });
    return z.NEVER;
  }
  return url;
});

/**
 * Azure DevOps naming restrictions (projects, repos, pools, service connections, variable groups):
 * https://learn.microsoft.com/azure/devops/organizations/settings/naming-restrictions
 */
// eslint-disable-next-line no-control-regex
const DEVOPS_FORBIDDEN = /[\\/:*?"'<>;#$*{},+=[\]|\u0000-\u001f\u007f]/;
const RESERVED = /^(App_Browsers|App_code|App_Data|App_GlobalResources|App_LocalResources|App_Themes|App_WebResources|bin|web\.config|AUX|COM\d|CON|LPT\d|NUL|PRN|SERVER|SignalR|DefaultCollection|Web)$/i;
export function devopsName(what: string, max = 64) {
  return z
    .string()
    .min(1, `the ${what} name is empty`)
    .max(max, `a ${what} name has at most ${max} characters`)
    .superRefine((v, ctx) => {
      const bad = v.match(DEVOPS_FORBIDDEN);
      if (bad) ctx.addIssue({ code: 'custom', message: `'${v}' contains '${bad[0]}', which Azure DevOps does not allow in a ${what} name` });
      else if (v.startsWith('_') || v.startsWith('.') || v.endsWith('.')) ctx.addIssue({ code: 'custom', message: `a ${what} name cannot start with '_' or '.', or end with '.'` });
      else if (RESERVED.test(v)) ctx.addIssue({ code: 'custom', message: `'${v}' is a reserved name in Azure DevOps` });
      else if (v.trim() !== v) ctx.addIssue({ code: 'custom', message: `the ${what} name has leading or trailing spaces` });
    });
}

/**
 * A whole number written in decimal digits only. `Number()` (and z.coerce) would take `0x4`, `4.0`,
 * ` 4`, `1e1` or `0b100` as 4 or 10: a typo or a trick would silently become a count. A JSON number
 * (config file, saved state, default) must be an integer.
 */
export function decimalInteger(what: string) {
  return z.union([z.number(), z.string()], { message: `${what} must be a whole number` }).transform((v, ctx) => {
    if (typeof v === 'string' && !/^[0-9]{1,9}$/.test(v)) {
      ctx.addIssue({ code: 'custom', message: `'${showText(v)}' is not a whole number written in decimal digits (e.g. 4)` });
      return z.NEVER;
    }
    return Number(v);
  });
}

const agents = decimalInteger('the agent count').pipe(
  z
    .number()
    .int('the agent count must be a whole number')
    .min(1, 'at least 1 agent is needed to run the pipeline')
    .max(16, 'at most 16 agents fit on one agent VM (each needs its own CPU share and disk)'),
);

const vmSize = z
  .string()
  .regex(/^(Standard|Basic)_[A-Za-z0-9_]+$/, 'an Azure VM size looks like Standard_D2s_v5 (see: az vm list-sizes -l <region> -o table)');

const sshKey = z.string().min(1, 'the SSH key path is empty');

const auth = z.enum(['federated', 'secret'], { message: "use 'federated' (workload identity federation, no secret) or 'secret'" });

/** An ISO 4217 code as the Retail Prices API takes it (`currencyCode='EUR'`): three capitals. */
const currency = z.string().superRefine((v, ctx) => {
  if (/^[A-Z]{3}$/.test(v)) return;
  const hint = /^[a-zA-Z]{3}$/.test(v.trim()) ? ` (did you mean '${v.trim().toUpperCase()}'?)` : '';
  ctx.addIssue({ code: 'custom', message: `'${v}' is not a currency code: three capital letters such as USD, EUR or GBP${hint}` });
});

export const answersSchema = z.object({
  prefix,
  location,
  subscription,
  org,
  project: devopsName('project'),
  agentsHost: z.enum(['vm', 'managed-pool'], { message: "use 'vm' (a self-hosted agent VM) or 'managed-pool' (a Managed DevOps Pool)" }),
  pool: devopsName('agent pool'),
  agents,
  agentVmSize: vmSize,
  sshKey,
  serviceConnection: devopsName('service connection', 86),
  variableGroup: devopsName('variable group', 128),
  repo: devopsName('repository'),
  auth,
  pipelineIdentity: z.enum(['managed-identity', 'app-registration'], { message: "use 'managed-identity' or 'app-registration'" }),
  spName: z
    .string()
    .min(1, 'the service principal name is empty')
    .max(120, 'an app registration display name has at most 120 characters')
    .refine((v) => v.trim() === v, 'the name has leading or trailing spaces'),
  terraformDir: z.string().min(1, 'the terraform directory path is empty'),
  stateBackend: z.enum(['local', 'azurerm'], { message: "use 'local' or 'azurerm'" }),
  devopsAuth: z.enum(['pat', 'entra'], { message: "use 'pat' or 'entra'" }),
  currency,
});

/** Fully resolved answers (some may still be absent, e.g. in doctor). */
export type Answers = z.output<typeof answersSchema>;

/** Where the pipeline's agents run (--agents-host). */
export type AgentsHost = Answers['agentsHost'];
