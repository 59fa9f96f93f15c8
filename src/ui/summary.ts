import type { Colors } from './colors.js';
import { formatDuration } from './prompts.js';

/**
 * The end of a successful `init`, as azd, terraform and gh end theirs: what was made, links to
 * it, how long it took, and what to do next. The same data goes into `init --json` (`summary`).
 */
export interface InitSummary {
  version: string;
  durationMs: number;
  /** Steps done in this run / already in place. */
  created: string[];
  found: string[];
  links: Array<{ what: string; url: string }>;
  next: string[];
  outputs: Record<string, unknown>;
}

/** Portal and Azure ML studio hosts per az cloud (public, US Government, China). */
const PORTALS: Record<string, { portal: string; studio: string }> = {
  AzureCloud: { portal: 'https://portal.azure.com', studio: 'https://ml.azure.com' },
  AzureUSGovernment: { portal: 'https://portal.azure.us', studio: 'https://ml.azure.us' },
  AzureChinaCloud: { portal: 'https://portal.azure.cn', studio: 'https://studio.ml.azure.cn' },
};

export interface LinkFacts {
  org: string;
  project: string;
  pipelineId?: number | undefined;
  runUrl?: string | undefined;
  cloud?: string | undefined;
  subscriptionId?: string | undefined;
  tenantId?: string | undefined;
  resourceGroups: string[];
  workspace?: { resourceGroup: string; name: string } | undefined;
}

export function summaryLinks(f: LinkFacts): InitSummary['links'] {
  const links: InitSummary['links'] = [];
  const project = `${f.org}/${encodeURIComponent(f.project)}`;
  links.push({ what: 'Azure DevOps project', url: project });
  if (f.pipelineId !== undefined) links.push({ what: 'Pipeline', url: `${project}/_build?definitionId=${f.pipelineId}` });
  if (f.runUrl) links.push({ what: 'Pipeline run', url: f.runUrl });
  const hosts = PORTALS[f.cloud ?? 'AzureCloud'];
  if (hosts && f.subscriptionId && f.workspace) {
    // The studio opens a workspace from its ARM id (wsid) and tenant (tid).
    const wsid = `/subscriptions/${f.subscriptionId}/resourceGroups/${f.workspace.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${f.workspace.name}`;
    links.push({ what: 'Azure ML studio', url: `${hosts.studio}/?wsid=${wsid}${f.tenantId ? `&tid=${f.tenantId}` : ''}` });
  }
  if (hosts && f.subscriptionId) {
    for (const rg of f.resourceGroups) {
      links.push({ what: `Resource group ${rg}`, url: `${hosts.portal}/#${f.tenantId ? `@${f.tenantId}` : ''}/resource/subscriptions/${f.subscriptionId}/resourceGroups/${rg}/overview` });
    }
  }
  return links;
}

export function renderSummary(s: InitSummary, c: Colors): string[] {
  const lines = ['', c.bold(c.green(`Done in ${formatDuration(s.durationMs)}.`)) + c.dim(` azure-mlops ${s.version}`)];
  if (s.created.length) lines.push(`  Created or changed: ${s.created.join(', ')}`);
  if (s.found.length) lines.push(c.dim(`  Already in place: ${s.found.join(', ')}`));
  if (s.links.length) {
    lines.push('', c.bold('Links:'));
    const width = Math.max(...s.links.map((l) => l.what.length));
    for (const l of s.links) lines.push(`  ${l.what.padEnd(width)}  ${l.url}`);
  }
  if (s.next.length) {
    lines.push('', c.bold('Next:'));
    for (const n of s.next) lines.push(`  ${n}`);
  }
  return lines;
}
