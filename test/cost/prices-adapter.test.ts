// The Retail Prices client (src/adapters/prices.ts) against the fake API: paging, currency,
// primary meter regions, and every way it can fail (each a PricesError with a reason, never a hang).
import { afterEach, describe, expect, it } from 'vitest';
import { PricesAdapter, PricesError, RETAIL_PRICES_API_VERSION } from '../../src/adapters/prices.js';
import { closedPortUrl, FakePrices } from '../fakes/prices/server.js';

const fakes: FakePrices[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});
async function fake(opts: Parameters<typeof FakePrices.start>[0] = {}) {
  const f = await FakePrices.start(opts);
  fakes.push(f);
  return f;
}
const D4 = "serviceName eq 'Virtual Machines' and armRegionName eq 'westeurope' and priceType eq 'Consumption' and armSkuName eq 'Standard_D4s_v5'";

async function reason(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(PricesError);
  return (e as PricesError).reason;
}

describe('the Retail Prices client', () => {
  it('follows every NextPageLink and returns every item the filter selects', async () => {
    const f = await fake({ pageSize: 2 });
    const expected = f.select({ filter: D4, apiVersion: RETAIL_PRICES_API_VERSION, meterRegion: 'primary', currency: 'USD' });
    expect(expected.length).toBeGreaterThan(4); // several pages
    const items = await new PricesAdapter({ endpoint: f.url }).query(D4, 'USD');
    expect(items.map((i) => i.meterId)).toEqual(expected.map((i) => i.meterId));
    expect(f.requests.map((r) => r.skip)).toEqual(Array.from({ length: Math.ceil(expected.length / 2) }, (_, i) => i * 2));
    // Each page carried the same query: filter, currency, api-version, primary meter regions only.
    for (const r of f.requests) expect(r).toMatchObject({ filter: D4, currency: 'USD', apiVersion: RETAIL_PRICES_API_VERSION, meterRegion: 'primary' });
    expect(items.every((i) => i.isPrimaryMeterRegion !== false)).toBe(true);
  });

  it('passes the currency as currencyCode and gets prices in it', async () => {
    const f = await fake();
    const usd = await new PricesAdapter({ endpoint: f.url }).query(D4, 'USD');
    const eur = await new PricesAdapter({ endpoint: f.url }).query(D4, 'EUR');
    expect(f.requests.at(-1)!.currency).toBe('EUR');
    expect(eur.every((i) => i.currencyCode === 'EUR')).toBe(true);
    expect(eur[0]!.retailPrice).toBeCloseTo(usd[0]!.retailPrice * 0.92, 5);
  });

  it('an item in another currency than asked is an error, not a wrong total', async () => {
    const f = await fake();
    // A mirror that answers in pounds whatever was asked.
    const fetchUsd: typeof fetch = async (url) => {
      const res = await fetch(url);
      const body = (await res.json()) as { Items: Array<{ currencyCode: string }> };
      for (const i of body.Items) i.currencyCode = 'GBP';
      return new Response(JSON.stringify(body), { status: 200 });
    };
    expect(await reason(new PricesAdapter({ endpoint: f.url, fetch: fetchUsd }).query(D4, 'USD'))).toMatch(/answered in GBP, not USD/);
  });

  it('HTTP 500: the status, and the service’s message when it sends one', async () => {
    const f = await fake();
    f.fail({ status: 500 });
    expect(await reason(new PricesAdapter({ endpoint: f.url }).query(D4, 'USD'))).toMatch(/^127\.0\.0\.1:\d+ answered HTTP 500: An error occurred/);
  });

  it('an unsupported currency: the API’s 400 message', async () => {
    const f = await fake();
    expect(await reason(new PricesAdapter({ endpoint: f.url }).query(D4, 'XYZ'))).toMatch(/HTTP 400: Invalid currency code 'XYZ'/);
  });

  it('nothing listening: "cannot reach" with the socket error', async () => {
    expect(await reason(new PricesAdapter({ endpoint: await closedPortUrl() }).query(D4, 'USD'))).toMatch(/^cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/);
  });

  it('an answer that never comes ends at the deadline', async () => {
    const f = await fake();
    f.fail({ hang: true });
    // The server never answers, so this ends by the deadline whatever the machine's speed.
    expect(await reason(new PricesAdapter({ endpoint: f.url, timeoutMs: 300 }).query(D4, 'USD'))).toMatch(/did not answer within 0\.3 s/);
  });

  it('a page of another shape is refused, naming the field', async () => {
    const f = await fake();
    f.fail({ status: 200, body: JSON.stringify({ Items: [{ retailPrice: 'cheap' }], NextPageLink: null }) });
    expect(await reason(new PricesAdapter({ endpoint: f.url }).query(D4, 'USD'))).toMatch(/unexpected answer from .*Items\.0\./);
  });

  it('a bad endpoint is a reason, not a crash', async () => {
    expect(await reason(new PricesAdapter({ endpoint: 'not a url' }).query(D4, 'USD'))).toMatch(/'not a url' is not a URL \(AZURE_MLOPS_PRICES_URL\)/);
  });

  it('the fake refuses filters it does not understand (so a new form cannot pass unnoticed)', async () => {
    const f = await fake();
    expect(await reason(new PricesAdapter({ endpoint: f.url }).query("contains(meterName, 'Spot')", 'USD'))).toMatch(/HTTP 400: Invalid OData/);
  });
});
