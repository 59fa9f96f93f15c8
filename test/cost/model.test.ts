// The pure cost model (src/config/cost.ts): the bill of materials agrees with the terraform module,
// the filters sent, which of the API's meters is the right one, units, tiers and totals.
import { beforeAll, describe, expect, it } from 'vitest';
import { BILLED_DEFAULTS, buildEstimate, costLines, diskSku, monthlyUnits, parseUnit, priceFilter, selectMeter, supportsPremiumStorage, tieredCost, type CostLine, type PriceRow } from '../../src/config/cost.js';
import { SIZING_DEFAULTS } from '../../src/config/sizing.js';
import { defaultCatalogue } from '../fakes/prices/catalogue.js';
import { blocksOf, MODULE_DIR, parseModule, resourcesOf, type JsonObject, type TfFile } from '../terraform/helpers.js';

const answers = (values: Record<string, unknown> = {}) => ({ maybe: (k: string) => values[k] }) as never;
const line = (id: string, values: Record<string, unknown> = {}) => costLines(answers(values)).find((l) => l.id === id)!;

describe('the bill of materials follows the terraform module', () => {
  let files: TfFile[] = [];
  beforeAll(async () => {
    files = await parseModule(MODULE_DIR);
  });
  const variable = (name: string) => blocksOf(files, 'variable').get(name)?.default;
  const resource = (type: string, name: string) => resourcesOf(files).find((r) => r.type === type && r.name === name)?.body as JsonObject;
  const block = (body: JsonObject, name: string) => (body[name] as JsonObject[])[0]!;

  it('VM sizes and counts (sizing.ts, which the quota check shares) are the variables’ defaults', () => {
    expect(variable('aks_node_count')).toBe(SIZING_DEFAULTS.aksNodeCount);
    expect(variable('aks_node_vm_size')).toBe(SIZING_DEFAULTS.aksNodeVmSize);
    expect(variable('agent_vm_size')).toBe(SIZING_DEFAULTS.agentVmSize);
    expect(variable('managed_pool_vm_size')).toBe(SIZING_DEFAULTS.managedPoolVmSize);
    expect(variable('training_vm_size')).toBe(SIZING_DEFAULTS.trainingVmSize);
    expect(variable('training_max_nodes')).toBe(SIZING_DEFAULTS.trainingMaxNodes);
    expect(variable('training_low_priority')).toBe(SIZING_DEFAULTS.trainingLowPriority);
    const training = resource('azurerm_machine_learning_compute_cluster', 'training');
    expect(block(training, 'scale_settings').min_node_count).toBe(SIZING_DEFAULTS.trainingMinNodes);
  });

  it('disks, registry, networking and logs are what the module creates', () => {
    expect(variable('agent_os_disk_size_gb')).toBe(BILLED_DEFAULTS.agentOsDiskGb);
    expect(variable('container_registry_sku')).toBe(BILLED_DEFAULTS.containerRegistrySku);
    expect(variable('log_retention_days')).toBe(BILLED_DEFAULTS.logRetentionDays);
    expect(block(resource('azurerm_linux_virtual_machine', 'agents'), 'os_disk').storage_account_type).toBe(BILLED_DEFAULTS.agentOsDiskType);
    const aks = resource('azurerm_kubernetes_cluster', 'main');
    expect(aks.sku_tier).toBe('Free'); // no control-plane charge (listed as not included)
    expect(block(aks, 'default_node_pool').os_disk_size_gb).toBeUndefined(); // AKS's default 128 GiB: an assumption
    expect(block(aks, 'default_node_pool').os_disk_type).toBeUndefined();
    expect(block(aks, 'network_profile')).toMatchObject({ load_balancer_sku: 'standard', outbound_type: 'loadBalancer' });
    const natGateways = resourcesOf(files).filter((r) => r.type === 'azurerm_nat_gateway');
    expect(natGateways.length).toBe(BILLED_DEFAULTS.natGateways);
    // One public IP of ours without a count (the NAT gateway's) + AKS's outbound IP; the agent VM's is off by default.
    const ips = resourcesOf(files).filter((r) => r.type === 'azurerm_public_ip');
    expect(ips.filter((r) => r.body.count === undefined).length + 1).toBe(BILLED_DEFAULTS.publicIps);
    expect(variable('agent_public_ip_enabled')).toBe(false);
  });

  it('the answers change what they should: the agent VM size, not the rest', () => {
    expect(line('agent-vm', { agentVmSize: 'Standard_D4s_v5' })).toMatchObject({ sku: 'Standard_D4s_v5', quantity: 1 });
    expect(line('aks-nodes')).toMatchObject({ sku: 'Standard_D4s_v5', quantity: 3, unit: 'hour' });
    expect(line('training-cluster')).toMatchObject({ sku: 'Standard_DS3_v2', quantity: 0, lowPriority: true });
    expect(line('aks-os-disks')).toMatchObject({ sku: 'P10 LRS', quantity: 3, unit: 'month', meterName: 'P10 LRS Disk' });
    expect(line('agent-os-disk')).toMatchObject({ sku: 'E6 LRS', meterName: 'E6 LRS Disk' });
    expect(line('log-analytics').assumption).toMatch(/1 GB\/day/);
  });
});

describe('with a Managed DevOps Pool (--agents-host managed-pool)', () => {
  const mp = { agentsHost: 'managed-pool', agents: 3 };
  const ids = (values: Record<string, unknown>) => costLines(answers(values)).map((l) => l.id);

  it('no agent VM and no VM disk all month: the pool\'s machines priced per hour, none counted, said how it is billed', () => {
    expect(ids(mp)).not.toContain('agent-vm');
    expect(ids(mp)).not.toContain('agent-os-disk');
    expect(ids({})).toEqual(expect.arrayContaining(['agent-vm', 'agent-os-disk']));
    const pool = line('managed-pool', mp);
    expect(pool).toMatchObject({ sku: SIZING_DEFAULTS.managedPoolVmSize, quantity: 0, unit: 'hour', query: { serviceName: 'Virtual Machines', armSkuName: 'Standard_D2ads_v5' } });
    expect(pool.note).toContain('up to 3 at a time');
    expect(pool.assumption).toMatch(/job hours/);
    expect(pool.assumption).toMatch(/self-hosted parallel jobs .*3 at a time need 3/);
    // The NAT gateway stays: the pool's subnet goes out through it too.
    expect(ids(mp)).toContain('nat-gateway');
  });

  it('prices at 0 a month with the hourly price shown, not 730 h', () => {
    const rows = (defaultCatalogue() as PriceRow[]).filter((r) => r.armSkuName === 'Standard_D2ads_v5' && r.armRegionName === 'westeurope');
    const e = buildEstimate({ lines: [line('managed-pool', mp)], quotes: new Map([['managed-pool', { rows, region: 'westeurope', fetchedAt: '2026-12-01T00:00:00Z' }]]), currency: 'USD', region: 'westeurope', source: 'x' });
    expect(e.items[0]).toMatchObject({ monthly: 0, unitPrice: 0.103, meter: 'D2ads v5', quantity: 0 });
  });
});

describe('pieces', () => {
  it('disk tiers and premium storage', () => {
    expect(diskSku('Premium_LRS', 128)).toEqual({ tier: 'P10 LRS', productName: 'Premium SSD Managed Disks' });
    expect(diskSku('StandardSSD_LRS', 64)).toEqual({ tier: 'E6 LRS', productName: 'Standard SSD Managed Disks' });
    expect(diskSku('StandardSSD_LRS', 65).tier).toBe('E10 LRS');
    for (const s of ['Standard_D4s_v5', 'Standard_DS3_v2', 'Standard_E8as_v5', 'Standard_B2ms']) expect(supportsPremiumStorage(s), s).toBe(true);
    for (const s of ['Standard_D4_v5', 'Standard_D2_v3', 'Standard_A2_v2', 'Standard_D4d_v5']) expect(supportsPremiumStorage(s), s).toBe(false);
  });

  it('units', () => {
    expect(parseUnit('1 Hour')).toEqual({ per: 1, unit: 'hour' });
    expect(parseUnit('1/Hour')).toEqual({ per: 1, unit: 'hour' });
    expect(parseUnit('100 Hours')).toEqual({ per: 100, unit: 'hour' });
    expect(parseUnit('1/Day')).toEqual({ per: 1, unit: 'day' });
    expect(parseUnit('1/Month')).toEqual({ per: 1, unit: 'month' });
    expect(parseUnit('1 GB')).toEqual({ per: 1, unit: 'gb' });
    expect(parseUnit('1 GB/Month')).toBeUndefined();
    expect(parseUnit('10K')).toBeUndefined();
    expect(monthlyUnits({ quantity: 3, unit: 'hour' })).toBe(2190);
    expect(monthlyUnits({ quantity: 1, unit: 'day' })).toBeCloseTo(30.4167, 4);
  });

  it('tiers: each price from its minimum to the next one', () => {
    const t = (min: number, price: number) => ({ tierMinimumUnits: min, retailPrice: price, unitOfMeasure: '1 GB' }) as PriceRow;
    expect(tieredCost([t(0, 0), t(5, 3)], 30)).toBe(75);
    expect(tieredCost([t(0, 0), t(5, 3)], 4)).toBe(0);
    expect(tieredCost([t(0, 2)], 10)).toBe(20);
  });

  it('the filter: service, region, pay-as-you-go, and the SKU terms', () => {
    expect(priceFilter(line('aks-nodes'), 'westeurope')).toBe("serviceName eq 'Virtual Machines' and armRegionName eq 'westeurope' and priceType eq 'Consumption' and armSkuName eq 'Standard_D4s_v5'");
    expect(priceFilter(line('aks-os-disks'), 'westeurope')).toBe("serviceName eq 'Storage' and armRegionName eq 'westeurope' and priceType eq 'Consumption' and productName eq 'Premium SSD Managed Disks' and skuName eq 'P10 LRS'");
    const odd: CostLine = { ...line('aks-nodes'), query: { serviceName: "O'Brien" } };
    expect(priceFilter(odd, 'x')).toContain("serviceName eq 'O''Brien'");
  });
});

describe('the right meter among many', () => {
  const rows = defaultCatalogue() as PriceRow[];
  const d4 = rows.filter((r) => r.armSkuName === 'Standard_D4s_v5' && r.armRegionName === 'westeurope');

  it('Linux pay-as-you-go in the primary region: not Windows, Spot, Low Priority, Reservation, DevTest', () => {
    expect(d4.length).toBeGreaterThan(5); // the catalogue carries the traps
    const choice = selectMeter(line('aks-nodes'), d4);
    expect(choice).toMatchObject({ meterName: 'D4s v5', unitOfMeasure: '1 Hour' });
    if (!('rows' in choice)) throw new Error('no meter');
    expect(choice.rows).toHaveLength(1);
    expect(choice.rows[0]).toMatchObject({ productName: 'Virtual Machines Dsv5 Series', type: 'Consumption', isPrimaryMeterRegion: true, retailPrice: 0.23 });
  });

  it('the Low Priority meter when the training cluster is low priority, the regular one when not', () => {
    const ds3 = rows.filter((r) => r.armSkuName === 'Standard_DS3_v2' && r.armRegionName === 'westeurope');
    const low = selectMeter(line('training-cluster'), ds3);
    expect(low).toMatchObject({ meterName: 'DS3 v2 Low Priority' });
    expect('rows' in low && low.rows[0]!.productName).toBe('Virtual Machines DSv2 Series');
    expect(selectMeter({ ...line('training-cluster'), lowPriority: false }, ds3)).toMatchObject({ meterName: 'DS3 v2' });
  });

  it('an unknown SKU or a meter in another unit is unavailable, saying what is missing', () => {
    expect(selectMeter({ ...line('agent-vm'), sku: 'Standard_D99s_v9' }, [])).toEqual({ unavailable: 'no pay-as-you-go Linux price for Standard_D99s_v9' });
    const disk = rows.filter((r) => r.skuName === 'E6 LRS' && r.armRegionName === 'westeurope');
    expect(selectMeter(line('agent-os-disk'), disk)).toMatchObject({ meterName: 'E6 LRS Disk' }); // not "Disk Operations" (10K)
  });

  it('the estimate: totals of unrounded amounts, tiers, an item without a price', () => {
    const lines = [line('aks-nodes'), line('log-analytics'), { ...line('agent-vm'), sku: 'Standard_X1' }];
    const la = rows.filter((r) => r.serviceName === 'Log Analytics' && r.armRegionName === 'westeurope');
    const quotes = new Map([
      ['aks-nodes', { rows: d4, region: 'westeurope', fetchedAt: '2026-12-02T10:00:00.000Z' }],
      ['log-analytics', { rows: la, region: 'westeurope', fetchedAt: '2026-12-01T09:00:00.000Z' }],
      ['agent-vm', { rows: [], region: 'westeurope', fetchedAt: '2026-12-02T10:00:00.000Z' }],
    ]);
    const e = buildEstimate({ lines, quotes, currency: 'USD', region: 'westeurope', source: 'x' });
    const logs = 2.99 * (30.42 - 5);
    expect(e.monthly).toBeCloseTo(3 * 730 * 0.23 + logs, 2);
    expect(e.complete).toBe(false);
    expect(e.fetchedAt).toBe('2026-12-01T09:00:00.000Z'); // the oldest price used
    expect(e.items.find((i) => i.id === 'log-analytics')).toMatchObject({ unitPrice: 2.99, unit: '1 GB', hours: null });
    expect(e.items.find((i) => i.id === 'agent-vm')).toMatchObject({ monthly: null, unavailable: expect.stringContaining('no pay-as-you-go Linux price for Standard_X1 in westeurope') });
  });

  it('every line failing the same way makes the whole estimate unavailable', () => {
    const lines = costLines(answers());
    const e = buildEstimate({ lines, quotes: new Map(lines.map((l) => [l.id, { error: 'cannot reach prices.azure.com (ENOTFOUND)' }])), currency: 'USD', region: 'westeurope', source: 'x' });
    expect(e).toMatchObject({ monthly: null, complete: false, fetchedAt: null, unavailable: 'cannot reach prices.azure.com (ENOTFOUND)' });
  });
});
