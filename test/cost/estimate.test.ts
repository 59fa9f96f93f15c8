// The estimate of a run (src/engine/estimate.ts) against the fake Retail Prices API: the default
// deployment's total equals the sum of the right meters, computed here straight from the fake's
// catalogue; every page is followed; failures become "unavailable"; the cache of a day.
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PricesAdapter } from '../../src/adapters/prices.js';
import { ASSUMED_LOG_GB_PER_DAY } from '../../src/config/cost.js';
import { estimateCost, PRICES_CACHE_FILE } from '../../src/engine/estimate.js';
import type { CatalogueItem } from '../fakes/prices/catalogue.js';
import { closedPortUrl, FakePrices } from '../fakes/prices/server.js';
import { testContext } from '../helpers/context.js';

const fakes: FakePrices[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});
async function fake() {
  const f = await FakePrices.start({ pageSize: 2 });
  fakes.push(f);
  return f;
}

async function ctxFor(url: string, flags: Record<string, string> = {}, stateDir = mkdtempSync(join(tmpdir(), 'aml-cost-'))) {
  const cwd = mkdtempSync(join(tmpdir(), 'aml-cost-cwd-'));
  const { ctx } = await testContext({ env: { AZURE_MLOPS_PRICES_URL: url }, cwd, flags: { prefix: 'mlops01', location: 'westeurope', ...flags }, global: { stateDir } });
  return ctx;
}

/** The one Linux pay-as-you-go, primary-region row of a meter, found by its exact names. */
function row(catalogue: CatalogueItem[], where: Partial<CatalogueItem>): CatalogueItem {
  const rows = catalogue.filter((i) => i.type === 'Consumption' && i.isPrimaryMeterRegion && Object.entries(where).every(([k, v]) => i[k as keyof CatalogueItem] === v));
  if (rows.length !== 1) throw new Error(`${rows.length} rows for ${JSON.stringify(where)}`);
  return rows[0]!;
}

/** The default deployment's month, from the catalogue: what the README's table says it prices. */
function expectedMonthly(c: CatalogueItem[]): number {
  const we = { armRegionName: 'westeurope' };
  const vm = (armSkuName: string, productName: string, meterName: string) => row(c, { ...we, armSkuName, productName, meterName }).retailPrice;
  const named = (serviceName: string, meterName: string, armRegionName = 'westeurope') => row(c, { serviceName, meterName, armRegionName }).retailPrice;
  const logs = c.filter((i) => i.armRegionName === 'westeurope' && i.meterName === 'Analytics Logs Data Ingestion');
  const paid = logs.find((i) => i.tierMinimumUnits === 5)!.retailPrice;
  expect(logs.find((i) => i.tierMinimumUnits === 0)!.retailPrice).toBe(0);
  const gb = Math.round(ASSUMED_LOG_GB_PER_DAY * (730 / 24) * 100) / 100;
  return (
    3 * 730 * vm('Standard_D4s_v5', 'Virtual Machines Dsv5 Series', 'D4s v5') + // AKS nodes
    1 * 730 * vm('Standard_D2s_v5', 'Virtual Machines Dsv5 Series', 'D2s v5') + // agent VM
    0 * 730 * vm('Standard_DS3_v2', 'Virtual Machines DSv2 Series', 'DS3 v2 Low Priority') + // training at 0 nodes
    3 * named('Storage', 'P10 LRS Disk') + // AKS OS disks
    1 * named('Storage', 'E6 LRS Disk') + // agent OS disk
    (730 / 24) * named('Container Registry', 'Basic Registry Unit') +
    2 * 730 * named('Load Balancer', 'Standard Included LB Rules and Outbound Rules', 'Global') +
    1 * 730 * named('NAT Gateway', 'Standard Gateway', 'Global') +
    2 * 730 * named('Virtual Network', 'Standard IPv4 Static Public IP') +
    (gb - 5) * paid
  );
}

describe('the cost estimate of the default deployment', () => {
  it('is the sum of the right meters (Linux, pay-as-you-go, primary region; low priority for training)', async () => {
    const f = await fake();
    const e = await estimateCost(await ctxFor(f.url), { persist: false });
    expect(e.unavailable).toBeUndefined();
    expect(e.complete).toBe(true);
    expect(e.items.filter((i) => i.unavailable)).toEqual([]);
    expect(e.monthly).toBeCloseTo(expectedMonthly(f.catalogue), 2);
    expect(e).toMatchObject({ currency: 'USD', region: 'westeurope', hoursPerMonth: 730, basis: 'retail list price before discounts, not a quote', source: f.url });
    const training = e.items.find((i) => i.id === 'training-cluster')!;
    expect(training).toMatchObject({ quantity: 0, monthly: 0, meter: 'DS3 v2 Low Priority', unit: '1 Hour', hours: 730 });
    expect(training.unitPrice).toBe(row(f.catalogue, { armRegionName: 'westeurope', armSkuName: 'Standard_DS3_v2', productName: 'Virtual Machines DSv2 Series', meterName: 'DS3 v2 Low Priority' }).retailPrice);
    expect(e.items.find((i) => i.id === 'load-balancers')).toMatchObject({ priceRegion: 'Global', quantity: 2 });
    expect(e.items.find((i) => i.id === 'aks-nodes')).toMatchObject({ priceRegion: 'westeurope', meter: 'D4s v5' });
    expect(e.items.filter((i) => i.assumption).map((i) => i.id)).toEqual(['aks-os-disks', 'log-analytics']);
    expect(Date.parse(e.fetchedAt!)).toBeGreaterThan(0);
  });

  it('follows every page of every query, asks each filter once, all pay-as-you-go in the primary region', async () => {
    const f = await fake();
    await estimateCost(await ctxFor(f.url), { persist: false });
    const filters = [...new Set(f.requests.map((r) => r.filter!))];
    expect(filters.length).toBeGreaterThanOrEqual(10);
    for (const filter of filters) {
      const n = f.select({ filter, currency: 'USD', apiVersion: '2023-01-01-preview', meterRegion: 'primary' }).length;
      const skips = f.requests.filter((r) => r.filter === filter).map((r) => r.skip);
      expect(skips, filter).toEqual(Array.from({ length: Math.max(1, Math.ceil(n / f.pageSize)) }, (_, i) => i * f.pageSize));
    }
    expect(f.requests.some((r) => r.skip > 0)).toBe(true);
    for (const r of f.requests) {
      expect(r.filter).toContain("priceType eq 'Consumption'");
      expect(r).toMatchObject({ currency: 'USD', meterRegion: 'primary' });
    }
    // The networking meters were asked in the region first, then under Global.
    expect(filters.filter((x) => x.includes("serviceName eq 'Load Balancer'")).map((x) => /armRegionName eq '(\w+)'/.exec(x)![1])).toEqual(['westeurope', 'Global']);
  });

  it('passes the currency through', async () => {
    const f = await fake();
    const e = await estimateCost(await ctxFor(f.url, { currency: 'EUR' }), { persist: false });
    expect(e.currency).toBe('EUR');
    expect(f.requests.every((r) => r.currency === 'EUR')).toBe(true);
    expect(e.monthly).toBeCloseTo(expectedMonthly(f.catalogue) * 0.92, 1);
  });

  it('an unknown VM size: that item is unavailable, the rest is priced', async () => {
    const f = await fake();
    const e = await estimateCost(await ctxFor(f.url, { agentVmSize: 'Standard_D64s_v9' }), { persist: false });
    expect(e.unavailable).toBeUndefined();
    expect(e.complete).toBe(false);
    expect(e.items.find((i) => i.id === 'agent-vm')).toMatchObject({ monthly: null, unitPrice: null, unavailable: 'no pay-as-you-go Linux price for Standard_D64s_v9 in westeurope' });
    expect(e.items.filter((i) => i.monthly !== null)).toHaveLength(e.items.length - 1);
  });
});

describe('when the API fails, the estimate is unavailable and says why (it never throws)', () => {
  it('nothing listening', async () => {
    const e = await estimateCost(await ctxFor(await closedPortUrl()), { persist: true });
    expect(e).toMatchObject({ monthly: null, unavailable: expect.stringMatching(/^cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/) });
  });

  it('an API that never answers: given up at the one deadline of the whole estimate', async () => {
    const f = await fake();
    f.fail({ hang: true });
    const ctx = await ctxFor(f.url);
    // The server never answers, so the outcome does not depend on the machine's speed.
    ctx.prices = new PricesAdapter({ endpoint: f.url, timeoutMs: 300 });
    const e = await estimateCost(ctx, { persist: false });
    expect(e).toMatchObject({ monthly: null, unavailable: expect.stringMatching(/did not answer within 0\.3 s$/) });
  });

  it('HTTP 500', async () => {
    const f = await fake();
    f.fail({ status: 500 });
    const e = await estimateCost(await ctxFor(f.url), { persist: true });
    expect(e).toMatchObject({ monthly: null, unavailable: expect.stringContaining('answered HTTP 500') });
  });
});

describe('the price cache (<state-dir>/prices.json)', () => {
  it('init writes it (0600) and uses it within a day; after a day it asks again', async () => {
    const f = await fake();
    const stateDir = mkdtempSync(join(tmpdir(), 'aml-cost-state-'));
    const t0 = new Date('2026-12-01T10:00:00Z');
    const first = await estimateCost(await ctxFor(f.url, {}, stateDir), { persist: true, now: () => t0 });
    const file = join(stateDir, PRICES_CACHE_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8')).version).toBe(1);
    const asked = f.requests.length;

    const sameDay = await estimateCost(await ctxFor(f.url, {}, stateDir), { persist: true, now: () => new Date(t0.getTime() + 23 * 3600_000) });
    expect(f.requests.length).toBe(asked);
    expect(sameDay.monthly).toBe(first.monthly);
    expect(sameDay.fetchedAt).toBe(t0.toISOString());

    const nextDay = await estimateCost(await ctxFor(f.url, {}, stateDir), { persist: true, now: () => new Date(t0.getTime() + 25 * 3600_000) });
    expect(f.requests.length).toBe(2 * asked);
    expect(nextDay.fetchedAt).toBe(new Date(t0.getTime() + 25 * 3600_000).toISOString());
  });

  it('plan (persist: false) writes nothing, not even the state dir; it may read what init cached', async () => {
    const f = await fake();
    const stateDir = join(mkdtempSync(join(tmpdir(), 'aml-cost-state-')), '.azure-mlops');
    await estimateCost(await ctxFor(f.url, {}, stateDir), { persist: false });
    expect(existsSync(stateDir)).toBe(false);

    await estimateCost(await ctxFor(f.url, {}, stateDir), { persist: true });
    const asked = f.requests.length;
    const before = readFileSync(join(stateDir, PRICES_CACHE_FILE), 'utf8');
    await estimateCost(await ctxFor(f.url, { currency: 'EUR' }, stateDir), { persist: false }); // not cached: asks
    expect(f.requests.length).toBeGreaterThan(asked);
    expect(readFileSync(join(stateDir, PRICES_CACHE_FILE), 'utf8')).toBe(before);
    const again = f.requests.length;
    await estimateCost(await ctxFor(f.url, {}, stateDir), { persist: false }); // cached by init
    expect(f.requests.length).toBe(again);
  });

  it('a damaged cache is ignored and replaced', async () => {
    const f = await fake();
    const stateDir = mkdtempSync(join(tmpdir(), 'aml-cost-state-'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(stateDir, PRICES_CACHE_FILE), '{"version": 1, "entries": {"x": 42}}');
    const e = await estimateCost(await ctxFor(f.url, {}, stateDir), { persist: true });
    expect(e.complete).toBe(true);
    expect(Object.keys(JSON.parse(readFileSync(join(stateDir, PRICES_CACHE_FILE), 'utf8')).entries).length).toBeGreaterThan(5);
  });
});
