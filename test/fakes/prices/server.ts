// A fake Azure Retail Prices API on 127.0.0.1 (plain HTTP, like any mirror AZURE_MLOPS_PRICES_URL may
// name). It follows the service as documented at
// learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices:
//
// - GET {path}?$filter=…&currencyCode='EUR'&api-version=…&meterRegion='primary', no authentication;
// - the answer is {BillingCurrency, CustomerEntityId, CustomerEntityType, Items, NextPageLink, Count}:
//   a page of items, Count = the items in this page, NextPageLink = the next page's absolute URL
//   (the same query with $skip) or null on the last page;
// - $filter is OData; the filter field for an item's `type` is `priceType`; from api-version
//   2023-01-01-preview on, filter values are case-sensitive (case-insensitive before);
// - meterRegion='primary' keeps only primary meter regions (isPrimaryMeterRegion true);
// - currencyCode takes one of the currencies the page lists as supported; prices are converted from
//   USD (the fake's rates are invented), currencyCode says which.
//
// The fake understands the OData the CLI sends, `field eq 'value'` joined by `and`, and answers 400
// (the service's error body shape: {"Error": {"Code", "Message"}}) to anything else, so a new filter
// form shows up as a failure instead of being silently ignored. It records every request, pages
// `pageSize` items at a time (small, so that paging happens), and injects faults.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { defaultCatalogue, type CatalogueItem } from './catalogue.js';

/** Currencies the API documents as supported, with the fake's invented rates from USD. */
export const FAKE_RATES: Record<string, number> = {
  USD: 1, AUD: 1.5, BRL: 5, CAD: 1.35, CHF: 0.9, CNY: 7.2, DKK: 6.9, EUR: 0.92, GBP: 0.79, INR: 83,
  JPY: 150, KRW: 1350, NOK: 10.5, NZD: 1.65, RUB: 90, SEK: 10.4, TWD: 32,
};

export interface PricesRequest {
  url: string;
  filter: string | undefined;
  currency: string | undefined;
  apiVersion: string | undefined;
  meterRegion: string | undefined;
  skip: number;
}

export type PricesFault = { status: number; body?: string; times?: number } | { hang: true; times?: number };

export interface FakePricesOptions {
  catalogue?: CatalogueItem[];
  /** Items per page (the service: 100 or 1000; small here so every query pages). */
  pageSize?: number;
}

type Clause = { field: string; value: string };

class FilterError extends Error {}

/** `a eq 'x' and b eq 'y''s'` → clauses. Anything else is a FilterError. */
export function parseFilter(filter: string): Clause[] {
  const clauses: Clause[] = [];
  const re = /^\s*([A-Za-z]+)\s+eq\s+'((?:[^']|'')*)'\s*/;
  let rest = filter;
  for (;;) {
    const m = re.exec(rest);
    if (!m) throw new FilterError(`the fake understands only "field eq 'value'" joined by "and", not: ${rest}`);
    clauses.push({ field: m[1]!, value: m[2]!.replace(/''/g, "'") });
    rest = rest.slice(m[0].length);
    if (rest === '') return clauses;
    const and = /^and\s+/i.exec(rest);
    if (!and) throw new FilterError(`the fake understands only "and" between clauses, not: ${rest}`);
    rest = rest.slice(and[0].length);
  }
}

const FIELDS: Record<string, keyof CatalogueItem> = {
  armregionname: 'armRegionName',
  location: 'location',
  meterid: 'meterId',
  metername: 'meterName',
  productid: 'productId',
  skuid: 'skuId',
  productname: 'productName',
  skuname: 'skuName',
  servicename: 'serviceName',
  serviceid: 'serviceId',
  servicefamily: 'serviceFamily',
  pricetype: 'type',
  armskuname: 'armSkuName',
};

const unquote = (v: string | undefined) => v?.replace(/^'(.*)'$/, '$1');

export class FakePrices {
  readonly requests: PricesRequest[] = [];
  catalogue: CatalogueItem[];
  pageSize: number;
  private faults: Array<PricesFault & { remaining: number }> = [];
  private readonly sockets = new Set<Socket>();
  private readonly hung: http.ServerResponse[] = [];

  private constructor(
    private readonly server: http.Server,
    opts: FakePricesOptions,
  ) {
    this.catalogue = opts.catalogue ?? defaultCatalogue();
    this.pageSize = opts.pageSize ?? 3;
  }

  static async start(opts: FakePricesOptions = {}): Promise<FakePrices> {
    let fake: FakePrices | undefined;
    const server = http.createServer((req, res) => fake!.handle(req, res));
    fake = new FakePrices(server, opts);
    server.on('connection', (s) => {
      fake!.sockets.add(s);
      s.on('close', () => fake!.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** What AZURE_MLOPS_PRICES_URL points at. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/retail/prices`;
  }

  /** The next `times` (default: every) requests get this answer instead. */
  fail(fault: PricesFault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? Number.POSITIVE_INFINITY });
  }

  clearFaults(): void {
    this.faults = [];
  }

  async stop(): Promise<void> {
    for (const r of this.hung.splice(0)) r.destroy();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The items a filter selects (no paging), as the service would list them. */
  select(query: { filter?: string; currency?: string; apiVersion?: string; meterRegion?: string }): CatalogueItem[] {
    const clauses = query.filter ? parseFilter(query.filter) : [];
    const caseSensitive = (query.apiVersion ?? '') >= '2023-01-01-preview';
    const same = (a: string, b: string) => (caseSensitive ? a === b : a.toLowerCase() === b.toLowerCase());
    const rate = FAKE_RATES[query.currency ?? 'USD']!;
    return this.catalogue
      .filter((i) => query.meterRegion !== 'primary' || i.isPrimaryMeterRegion)
      .filter((i) =>
        clauses.every((c) => {
          const field = FIELDS[c.field.toLowerCase()];
          if (!field) throw new FilterError(`Could not find a property named '${c.field}'`);
          return same(String(i[field]), c.value);
        }),
      )
      .map((i) => ({
        ...i,
        currencyCode: query.currency ?? 'USD',
        retailPrice: Math.round(i.retailPrice * rate * 1e6) / 1e6,
        unitPrice: Math.round(i.unitPrice * rate * 1e6) / 1e6,
      }));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const q = url.searchParams;
    const record: PricesRequest = {
      url: url.pathname + url.search,
      filter: q.get('$filter') ?? undefined,
      currency: unquote(q.get('currencyCode') ?? undefined),
      apiVersion: q.get('api-version') ?? undefined,
      meterRegion: unquote(q.get('meterRegion') ?? undefined),
      skip: Number(q.get('$skip') ?? 0),
    };
    this.requests.push(record);
    const fault = this.faults.find((f) => f.remaining > 0);
    if (fault) {
      fault.remaining--;
      if ('hang' in fault) {
        this.hung.push(res);
        return;
      }
      res.writeHead(fault.status, { 'content-type': 'application/json' });
      res.end(fault.body ?? JSON.stringify({ Error: { Code: 'InternalServerError', Message: 'An error occurred while processing the request.' } }));
      return;
    }
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' || url.pathname !== '/api/retail/prices') {
      send(404, { Error: { Code: 'NotFound', Message: `${req.method} ${url.pathname} is not part of the Retail Prices API` } });
      return;
    }
    if (record.currency !== undefined && FAKE_RATES[record.currency] === undefined) {
      send(400, { Error: { Code: 'BadRequest', Message: `Invalid currency code '${record.currency}'` } });
      return;
    }
    let items: CatalogueItem[];
    try {
      items = this.select({ ...(record.filter !== undefined ? { filter: record.filter } : {}), ...(record.currency ? { currency: record.currency } : {}), ...(record.apiVersion ? { apiVersion: record.apiVersion } : {}), ...(record.meterRegion ? { meterRegion: record.meterRegion } : {}) });
    } catch (e) {
      if (!(e instanceof FilterError)) throw e;
      send(400, { Error: { Code: 'BadRequest', Message: `Invalid OData parameters supplied: ${e.message}` } });
      return;
    }
    const page = items.slice(record.skip, record.skip + this.pageSize);
    let next: string | null = null;
    if (record.skip + this.pageSize < items.length) {
      // The same query as sent, with the next $skip (the raw text kept, not re-encoded).
      const kept = url.search.replace(/^\?/, '').split('&').filter((p) => p && !/^(\$|%24)skip=/i.test(p));
      next = `http://${req.headers.host ?? '127.0.0.1'}${url.pathname}?${[...kept, `$skip=${record.skip + this.pageSize}`].join('&')}`;
    }
    send(200, { BillingCurrency: record.currency ?? 'USD', CustomerEntityId: 'Default', CustomerEntityType: 'Retail', Items: page, NextPageLink: next, Count: page.length });
  }
}

/** A URL on 127.0.0.1 where nothing listens (a port just released). */
export async function closedPortUrl(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${port}/api/retail/prices`;
}
