import type { AnswerSet } from './resolve.js';
import { plannedCompute, SIZING_DEFAULTS } from './sizing.js';

/**
 * What the deployment costs a month: which Azure meters it runs on, how to ask the Azure Retail
 * Prices API for them, which of the answered prices is the right one, and the arithmetic.
 *
 * It lives in config/, beside sizing.ts, because it is the same kind of knowledge: what the answers
 * and the terraform module's defaults make the deployment create. Someone changing a default in
 * terraform/variables.tf (or a VM size in sizing.ts) finds the bill of materials next door; the VM
 * sizes and counts are not repeated here but read from plannedCompute(), which the quota check
 * uses too. Pure code: the HTTP client is src/adapters/prices.ts, the cache and the run
 * src/engine/estimate.ts, the text src/ui/plan.ts.
 */

export const HOURS_PER_MONTH = 730;
export const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;
export const ESTIMATE_BASIS = 'retail list price before discounts, not a quote';
/** The one usage-based item priced: Container Insights and App Insights logs, an assumption. */
export const ASSUMED_LOG_GB_PER_DAY = 1;
/** Region the API files some networking meters under instead of the resource's region. */
export const GLOBAL_PRICE_REGION = 'Global';

/**
 * Billed defaults the estimate needs beyond the VM sizes (those are SIZING_DEFAULTS). KEEP IN SYNC
 * with the terraform module (a test compares the variables' defaults).
 */
export const BILLED_DEFAULTS = {
  /**
   * The AKS nodes' OS disk: the module sets neither os_disk_type nor os_disk_size_gb, so AKS's own
   * defaults apply: a managed disk of 128 GiB, Premium SSD for VM sizes with premium storage
   * (the "s" sizes, e.g. Standard_D4s_v5). An assumption, said so in the estimate.
   */
  aksOsDiskGb: 128,
  /** terraform: agent_os_disk_size_gb */
  agentOsDiskGb: 64,
  /** terraform/devops_agents.tf: os_disk.storage_account_type (not a variable) */
  agentOsDiskType: 'StandardSSD_LRS',
  /** terraform: container_registry_sku */
  containerRegistrySku: 'Basic',
  /** terraform: log_retention_days (Log Analytics includes 31 days, so no retention charge) */
  logRetentionDays: 30,
  /**
   * Standard load balancers AKS creates (network_profile.load_balancer_sku = "standard"): "kubernetes"
   * for outbound traffic (outbound_type = "loadBalancer") and "kubernetes-internal" for the inference
   * router's internal load balancer.
   */
  loadBalancers: 2,
  /** Standard static public IPs: AKS's outbound IP and the NAT gateway's (the agent VM has none by default). */
  publicIps: 2,
  /** terraform/network.tf: azurerm_nat_gateway.agents (the agents' outbound path) */
  natGateways: 1,
} as const;

export type BillingUnit = 'hour' | 'day' | 'month' | 'gb';

/** One line of the bill: a quantity of one meter. */
export interface CostLine {
  id: string;
  what: string;
  /** The SKU as Azure names it (a VM size, a disk tier, a registry tier). */
  sku: string;
  /** Units billed by `unit`: nodes or VMs running all month, disks, GB a month. */
  quantity: number;
  /** What the meter counts: each of `quantity` is billed per hour, per day, per month, or is a GB. */
  unit: BillingUnit;
  /** The OData $filter terms beside region and price type. */
  query: { serviceName: string; armSkuName?: string; productName?: string; skuName?: string };
  /** The meter's exact name; absent for a VM size (its one Linux pay-as-you-go meter). */
  meterName?: string;
  /** Use the VM size's Low Priority meter (the training cluster's training_low_priority). */
  lowPriority?: boolean;
  /** Look in region 'Global' when the resource's region has no such meter (networking meters). */
  globalFallback?: boolean;
  note?: string;
  /** Set when the line rests on an assumption rather than on the deployment's settings. */
  assumption?: string;
}

/** The fields of a Retail Prices API item the estimate reads (src/adapters/prices.ts parses them). */
export interface PriceRow {
  currencyCode: string;
  tierMinimumUnits: number;
  retailPrice: number;
  armRegionName: string;
  effectiveStartDate?: string | undefined;
  meterName: string;
  productName: string;
  skuName: string;
  serviceName: string;
  armSkuName: string;
  unitOfMeasure: string;
  type: string;
  isPrimaryMeterRegion?: boolean | undefined;
}

/** Disk tiers by capacity (GiB): the smallest that holds the size is billed. */
const DISK_TIERS: ReadonlyArray<[number, number]> = [
  [4, 1], [8, 2], [16, 3], [32, 4], [64, 6], [128, 10], [256, 15], [512, 20], [1024, 30],
  [2048, 40], [4096, 50], [8192, 60], [16384, 70], [32767, 80],
];

/** `Premium_LRS`, 128 → P10 LRS (Premium SSD), `StandardSSD_LRS`, 64 → E6 LRS (Standard SSD). */
export function diskSku(type: 'Premium_LRS' | 'StandardSSD_LRS', sizeGb: number): { tier: string; productName: string } {
  const n = (DISK_TIERS.find(([gb]) => gb >= sizeGb) ?? DISK_TIERS[DISK_TIERS.length - 1]!)[1];
  return type === 'Premium_LRS'
    ? { tier: `P${n} LRS`, productName: 'Premium SSD Managed Disks' }
    : { tier: `E${n} LRS`, productName: 'Standard SSD Managed Disks' };
}

/** Premium storage capable VM sizes carry an "s" among their feature letters (D4s_v5, DS3_v2, E8as_v5). */
export function supportsPremiumStorage(vmSize: string): boolean {
  const name = vmSize.replace(/^(Standard|Basic)_/, '').split('_')[0]!;
  return /^[A-Z]+S\d/.test(name) || /^[A-Z]+\d+[a-z]*s[a-z]*$/.test(name);
}

/** The deployment's bill of materials, from the answers and the module's defaults. */
export function costLines(answers: Pick<AnswerSet, 'maybe'>): CostLine[] {
  const lines: CostLine[] = [];
  const d = BILLED_DEFAULTS;
  for (const c of plannedCompute(answers)) {
    const base = { sku: c.vmSize, quantity: c.atRest, unit: 'hour' as const, query: { serviceName: 'Virtual Machines', armSkuName: c.vmSize } };
    if (c.role === 'aks-nodes') lines.push({ id: 'aks-nodes', what: 'AKS nodes', ...base });
    else if (c.role === 'agent-vm') lines.push({ id: 'agent-vm', what: 'agent VM', ...base, note: `${answers.maybe('agents') ?? 4} Azure Pipelines agents on one VM` });
    else if (c.role === 'managed-pool') {
      // "Managed DevOps Pools pricing": the Azure services the pool uses at standard rates (compute
      // per hour of jobs run) plus Azure DevOps' self-hosted parallel jobs; no standby agents here, so
      // nothing runs between jobs. A month's figure needs your job hours: the hourly price is shown.
      lines.push({
        id: 'managed-pool',
        what: 'Managed DevOps Pool agents',
        ...base,
        note: `${c.atRest} machines between jobs (no standby agents), up to ${c.count} at a time while jobs run: billed per machine-hour of jobs`,
        assumption: `no job hours counted: multiply the hourly price by your pipeline's job hours a month (the machines' OS disks and data egress come on top); Azure DevOps bills these agents as self-hosted parallel jobs (one free per organization), and ${c.count} at a time need ${c.count} of them`,
      });
    } else {
      const lowPriority = c.priority === 'lowPriority';
      lines.push({
        id: 'training-cluster',
        what: `Azure ML training cluster${lowPriority ? ' (low priority)' : ''}`,
        ...base,
        lowPriority,
        note: `${c.atRest} nodes at rest (scales ${c.atRest}-${c.count} while training): billed per node-hour of training`,
      });
    }
  }
  const aksDisk = diskSku(supportsPremiumStorage(SIZING_DEFAULTS.aksNodeVmSize) ? 'Premium_LRS' : 'StandardSSD_LRS', d.aksOsDiskGb);
  lines.push({
    id: 'aks-os-disks',
    what: 'AKS node OS disks',
    sku: aksDisk.tier,
    quantity: SIZING_DEFAULTS.aksNodeCount,
    unit: 'month',
    query: { serviceName: 'Storage', productName: aksDisk.productName, skuName: aksDisk.tier },
    meterName: `${aksDisk.tier} Disk`,
    assumption: `AKS's default OS disk: a ${d.aksOsDiskGb} GiB managed ${aksDisk.productName.replace(' Managed Disks', '')} disk per node`,
  });
  const agentDisk = diskSku(d.agentOsDiskType, d.agentOsDiskGb);
  // A managed pool's machines have no disk between jobs: no agent VM disk billed all month.
  if (answers.maybe('agentsHost') !== 'managed-pool')
    lines.push({
      id: 'agent-os-disk',
      what: 'agent VM OS disk',
      sku: agentDisk.tier,
      quantity: 1,
      unit: 'month',
      query: { serviceName: 'Storage', productName: agentDisk.productName, skuName: agentDisk.tier },
      meterName: `${agentDisk.tier} Disk`,
      note: `${d.agentOsDiskGb} GiB; disk transactions not included`,
    });
  lines.push({
    id: 'container-registry',
    what: 'container registry',
    sku: d.containerRegistrySku,
    quantity: 1,
    unit: 'day',
    query: { serviceName: 'Container Registry', skuName: d.containerRegistrySku },
    meterName: `${d.containerRegistrySku} Registry Unit`,
    note: 'includes its storage allowance; images beyond it are billed per GB',
  });
  lines.push({
    id: 'load-balancers',
    what: 'Standard load balancers (AKS outbound, inference ILB)',
    sku: 'Standard',
    quantity: d.loadBalancers,
    unit: 'hour',
    query: { serviceName: 'Load Balancer', skuName: 'Standard' },
    meterName: 'Standard Included LB Rules and Outbound Rules',
    globalFallback: true,
    note: 'first 5 rules each; data processed not included',
  });
  lines.push({
    id: 'nat-gateway',
    what: "NAT gateway (the agents' outbound path)",
    sku: 'Standard',
    quantity: d.natGateways,
    unit: 'hour',
    query: { serviceName: 'NAT Gateway', skuName: 'Standard' },
    meterName: 'Standard Gateway',
    globalFallback: true,
    note: 'data processed not included',
  });
  lines.push({
    id: 'public-ips',
    what: 'static public IPs (AKS outbound, NAT gateway)',
    sku: 'Standard',
    quantity: d.publicIps,
    unit: 'hour',
    query: { serviceName: 'Virtual Network', productName: 'IP Addresses', skuName: 'Standard' },
    meterName: 'Standard IPv4 Static Public IP',
    globalFallback: true,
  });
  lines.push({
    id: 'log-analytics',
    what: 'Log Analytics ingestion (Container Insights, App Insights)',
    sku: 'Analytics Logs',
    quantity: round(ASSUMED_LOG_GB_PER_DAY * DAYS_PER_MONTH, 2),
    unit: 'gb',
    query: { serviceName: 'Log Analytics' },
    meterName: 'Analytics Logs Data Ingestion',
    assumption: `${ASSUMED_LOG_GB_PER_DAY} GB/day ingested (a small AKS cluster with Container Insights; yours may differ)`,
    note: `tiered as the price list says (its free GB are per billing account); ${d.logRetentionDays} days of retention are included`,
  });
  return lines;
}

/** What the estimate leaves out, for the plan, --json and the README. */
export const NOT_INCLUDED: readonly string[] = [
  'usage: training node-hours (priced per node-hour above), data processed by the load balancers and the NAT gateway, outbound data transfer, storage account capacity and transactions, key vault operations, disk transactions, registry storage beyond its allowance',
  'no charge of their own: the Azure ML workspace, the AKS control plane (Free tier), the VNET, managed identities',
  'Azure DevOps: one self-hosted parallel job per organization is free; more parallel jobs are billed by Azure DevOps',
  'taxes, discounts, reservations, savings plans, credits and agreements',
];

const quote = (v: string) => `'${v.replace(/'/g, "''")}'`;

/** The OData $filter for a line: pay-as-you-go (`priceType eq 'Consumption'`) in one region. */
export function priceFilter(line: CostLine, region: string): string {
  const terms = [`serviceName eq ${quote(line.query.serviceName)}`, `armRegionName eq ${quote(region)}`, `priceType eq 'Consumption'`];
  if (line.query.armSkuName) terms.push(`armSkuName eq ${quote(line.query.armSkuName)}`);
  if (line.query.productName) terms.push(`productName eq ${quote(line.query.productName)}`);
  if (line.query.skuName) terms.push(`skuName eq ${quote(line.query.skuName)}`);
  return terms.join(' and ');
}

/** "1 Hour", "1/Hour", "100 Hours", "1/Day", "1/Month", "1 GB" → what one price counts. */
export function parseUnit(unitOfMeasure: string): { per: number; unit: BillingUnit } | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)?\s*\/?\s*(hours?|days?|months?|gb)\s*$/i.exec(unitOfMeasure);
  if (!m) return undefined;
  const word = m[2]!.toLowerCase();
  const unit: BillingUnit = word.startsWith('hour') ? 'hour' : word.startsWith('day') ? 'day' : word.startsWith('month') ? 'month' : 'gb';
  return { per: m[1] ? Number(m[1]) : 1, unit };
}

const SPOT = /\bSpot\b/i;
const LOW_PRIORITY = /\bLow Priority\b/i;

export type MeterChoice = { rows: PriceRow[]; meterName: string; unitOfMeasure: string } | { unavailable: string };

/**
 * The right meter among the API's answer: pay-as-you-go, primary meter region, Linux (no
 * "Windows" product), neither Spot nor Low Priority unless the line asks for Low Priority, the
 * line's meter name, a unit it can bill. Several rows left = the price tiers of one meter (the
 * newest row per tier wins; two prices for one tier and date are refused, not guessed between).
 */
export function selectMeter(line: CostLine, rows: readonly PriceRow[]): MeterChoice {
  const fits = rows.filter((r) => {
    if (r.type !== 'Consumption' || r.isPrimaryMeterRegion === false) return false;
    if (/windows/i.test(r.productName)) return false;
    const spot = SPOT.test(r.skuName) || SPOT.test(r.meterName);
    const lowPriority = LOW_PRIORITY.test(r.skuName) || LOW_PRIORITY.test(r.meterName);
    if (spot || lowPriority !== Boolean(line.lowPriority)) return false;
    if (line.meterName && r.meterName !== line.meterName) return false;
    return parseUnit(r.unitOfMeasure)?.unit === line.unit;
  });
  const what = `${line.lowPriority ? 'low-priority' : 'pay-as-you-go'}${line.query.serviceName === 'Virtual Machines' ? ' Linux' : ''} price for ${line.meterName ?? line.sku}`;
  if (fits.length === 0) return { unavailable: `no ${what}` };
  const meters = [...new Set(fits.map((r) => r.meterName))];
  if (meters.length > 1) return { unavailable: `several meters match ${line.sku} (${meters.join(', ')})` };
  // One row per tier: the newest price; two different prices of the same date are a filter gone wrong.
  const byTier = new Map<number, PriceRow>();
  for (const r of fits) {
    const seen = byTier.get(r.tierMinimumUnits);
    const [a, b] = [r.effectiveStartDate ?? '', seen?.effectiveStartDate ?? ''];
    if (seen && a === b && r.retailPrice !== seen.retailPrice) {
      return { unavailable: `several prices for ${meters[0]} (${seen.retailPrice}: ${seen.productName}; ${r.retailPrice}: ${r.productName})` };
    }
    if (!seen || a > b) byTier.set(r.tierMinimumUnits, r);
  }
  const tiers = [...byTier.values()].sort((a, b) => a.tierMinimumUnits - b.tierMinimumUnits);
  return { rows: tiers, meterName: meters[0]!, unitOfMeasure: tiers[0]!.unitOfMeasure };
}

/** Billed units a month: quantity × hours (or days) for time meters, the quantity itself otherwise. */
export function monthlyUnits(line: Pick<CostLine, 'quantity' | 'unit'>): number {
  if (line.unit === 'hour') return line.quantity * HOURS_PER_MONTH;
  if (line.unit === 'day') return line.quantity * DAYS_PER_MONTH;
  return line.quantity;
}

/** Price of `units` along the tiers (each tier's price applies from its minimum to the next one's). */
export function tieredCost(tiers: readonly PriceRow[], units: number): number {
  let total = 0;
  tiers.forEach((t, i) => {
    const per = parseUnit(t.unitOfMeasure)?.per ?? 1;
    const from = t.tierMinimumUnits;
    const to = tiers[i + 1]?.tierMinimumUnits ?? Number.POSITIVE_INFINITY;
    const inTier = Math.max(0, Math.min(units, to) - from);
    total += (inTier * t.retailPrice) / per;
  });
  return total;
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export interface EstimateItem {
  id: string;
  what: string;
  sku: string;
  /** The meter priced (null when unavailable). */
  meter: string | null;
  /** Region the price is filed under (the resource's, or Global). */
  priceRegion: string | null;
  quantity: number;
  /** Price per `unit` (the charged tier's for tiered meters). */
  unitPrice: number | null;
  /** The API's unitOfMeasure: "1 Hour", "1/Month", "1/Day", "1 GB". */
  unit: string | null;
  /** Hours a month for hourly meters (730), else null. */
  hours: number | null;
  monthly: number | null;
  note?: string;
  assumption?: string;
  /** Why this item has no price. */
  unavailable?: string;
}

export interface CostEstimate {
  version: 1;
  currency: string;
  region: string;
  basis: string;
  hoursPerMonth: number;
  /** Sum of the items priced (null when none could be). */
  monthly: number | null;
  /** Every item has a price. */
  complete: boolean;
  /** When the oldest price used was fetched (null when none). */
  fetchedAt: string | null;
  source: string;
  /** Why there is no estimate at all. */
  unavailable?: string;
  items: EstimateItem[];
  notIncluded: readonly string[];
}

/** What the engine found for one line: the API's rows (and where/when), or why there are none. */
export type LineQuote = { rows: readonly PriceRow[]; region: string; fetchedAt: string } | { error: string };

/** The estimate from the bill of materials and the API's answers. */
export function buildEstimate(input: { lines: readonly CostLine[]; quotes: ReadonlyMap<string, LineQuote>; currency: string; region: string; source: string }): CostEstimate {
  const items: EstimateItem[] = [];
  /** Unrounded monthly amounts: the total is rounded once. */
  let total = 0;
  const fetched: string[] = [];
  const errors: string[] = [];
  for (const line of input.lines) {
    const base = { id: line.id, what: line.what, sku: line.sku, quantity: line.quantity };
    const words = { ...(line.note ? { note: line.note } : {}), ...(line.assumption ? { assumption: line.assumption } : {}) };
    const none = { meter: null, priceRegion: null, unitPrice: null, unit: null, hours: null, monthly: null };
    const q = input.quotes.get(line.id);
    if (!q || 'error' in q) {
      const why = q && 'error' in q ? q.error : 'not asked';
      errors.push(why);
      items.push({ ...base, ...none, ...words, unavailable: why });
      continue;
    }
    const choice = selectMeter(line, q.rows);
    if ('unavailable' in choice) {
      items.push({ ...base, ...none, ...words, unavailable: `${choice.unavailable} in ${input.region}` });
      continue;
    }
    fetched.push(q.fetchedAt);
    const units = monthlyUnits(line);
    // The unit price shown is the tier the quantity ends in (the paid one for free-then-paid meters).
    const tier = [...choice.rows].reverse().find((t) => t.tierMinimumUnits <= Math.max(units, 0)) ?? choice.rows[0]!;
    const monthly = tieredCost(choice.rows, units);
    total += monthly;
    items.push({
      ...base,
      meter: choice.meterName,
      priceRegion: q.region,
      unitPrice: tier.retailPrice / (parseUnit(tier.unitOfMeasure)?.per ?? 1),
      unit: choice.unitOfMeasure,
      hours: line.unit === 'hour' ? HOURS_PER_MONTH : null,
      monthly: round(monthly),
      ...words,
    });
  }
  const priced = items.filter((i) => i.monthly !== null);
  const allFailedAlike = priced.length === 0 && errors.length === input.lines.length && errors.length > 0;
  return {
    version: 1,
    currency: input.currency,
    region: input.region,
    basis: ESTIMATE_BASIS,
    hoursPerMonth: HOURS_PER_MONTH,
    monthly: priced.length ? round(total) : null,
    complete: priced.length === items.length,
    fetchedAt: fetched.length ? fetched.sort()[0]! : null,
    source: input.source,
    ...(allFailedAlike ? { unavailable: errors[0]! } : priced.length === 0 ? { unavailable: 'no item could be priced' } : {}),
    items,
    notIncluded: NOT_INCLUDED,
  };
}
