import { z } from 'zod';
import { ExternalError } from '../engine/errors.js';

/**
 * The Azure Retail Prices API: `GET https://prices.azure.com/api/retail/prices`, unauthenticated,
 * an OData `$filter`, `currencyCode`, answers `{BillingCurrency, CustomerEntityId, Items, NextPageLink,
 * Count}` a page at a time (learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices).
 *
 * - api-version 2023-01-01-preview with `meterRegion='primary'`: only the primary meter of each region
 *   (without it the API also returns the non-primary meters); filter values are case-sensitive there.
 * - every `NextPageLink` is followed, up to MAX_PAGES (a loop guard, not a limit anyone should reach);
 * - every page is parsed through a schema; an item in another currency than the one asked for is an
 *   error rather than a silently wrong total;
 * - one deadline for a whole query, pages included (a few seconds: a plan must not wait on prices);
 *   a caller asking several queries passes AbortSignal.timeout(timeoutMs) to bound them all.
 * What to ask and what to do with the answer is not here: see src/config/cost.ts.
 */

export const RETAIL_PRICES_URL = 'https://prices.azure.com/api/retail/prices';
export const RETAIL_PRICES_API_VERSION = '2023-01-01-preview';
/** Env var overriding the endpoint (tests, proxies, mirrors). */
export const PRICES_URL_ENV = 'AZURE_MLOPS_PRICES_URL';
export const DEFAULT_PRICES_TIMEOUT_MS = 5_000;
const MAX_PAGES = 50;

/** One price (meter × tier) as the API returns it; fields we do not use are dropped. */
export const priceItemSchema = z.object({
  currencyCode: z.string(),
  tierMinimumUnits: z.number().default(0),
  retailPrice: z.number(),
  unitPrice: z.number(),
  armRegionName: z.string(),
  location: z.string().optional(),
  effectiveStartDate: z.string().optional(),
  meterId: z.string().optional(),
  meterName: z.string(),
  productName: z.string(),
  skuName: z.string(),
  serviceName: z.string(),
  /** Empty for meters that are not a VM size (disks, registries, logs…). */
  armSkuName: z.string().default(''),
  unitOfMeasure: z.string(),
  /** Consumption, Reservation, DevTestConsumption… */
  type: z.string(),
  isPrimaryMeterRegion: z.boolean().optional(),
  reservationTerm: z.string().optional(),
});
export type PriceItem = z.output<typeof priceItemSchema>;

const pageSchema = z.object({
  BillingCurrency: z.string().optional(),
  Items: z.array(priceItemSchema),
  NextPageLink: z.string().nullable().optional(),
  Count: z.number().optional(),
});

/** Why prices could not be had, in words fit for "estimate unavailable: <reason>". */
export class PricesError extends ExternalError {
  constructor(
    readonly reason: string,
    details: ConstructorParameters<typeof ExternalError>[1] = {},
  ) {
    super(reason, details);
    this.name = 'PricesError';
  }
}

export interface PricesAdapterOptions {
  /** The API's URL (default RETAIL_PRICES_URL, or AZURE_MLOPS_PRICES_URL). */
  endpoint?: string;
  /** Deadline of one query, all its pages included. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Told every URL requested (--verbose shows them). */
  onRequest?: (url: string) => void;
}

export class PricesAdapter {
  readonly endpoint: string;
  readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly onRequest: ((url: string) => void) | undefined;

  constructor(opts: PricesAdapterOptions = {}) {
    this.endpoint = opts.endpoint || RETAIL_PRICES_URL;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_PRICES_TIMEOUT_MS;
    this.fetchFn = opts.fetch ?? fetch;
    this.onRequest = opts.onRequest;
  }

  /** The first page's URL: the exact request sent (shown with --verbose). */
  firstPageUrl(filter: string, currency: string): string {
    // Spelled as the API's documentation spells it ($filter, quoted values, %20 for spaces) rather
    // than URLSearchParams' form encoding (%24filter, +).
    let u: URL;
    try {
      u = new URL(this.endpoint);
    } catch {
      throw new PricesError(`the prices endpoint '${this.endpoint}' is not a URL (${PRICES_URL_ENV})`);
    }
    const params = [`api-version=${RETAIL_PRICES_API_VERSION}`, `meterRegion='primary'`, `currencyCode='${encodeURIComponent(currency)}'`, `$filter=${encodeURIComponent(filter)}`];
    u.search = `${u.search ? `${u.search}&` : '?'}${params.join('&')}`;
    return u.toString();
  }

  /** Every item matching the OData filter, all pages followed. Throws PricesError. */
  async query(filter: string, currency: string, signal?: AbortSignal): Promise<PriceItem[]> {
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const abort = signal ? AbortSignal.any([deadline, signal]) : deadline;
    const items: PriceItem[] = [];
    let url: string | null | undefined = this.firstPageUrl(filter, currency);
    for (let page = 0; url; page++) {
      if (page >= MAX_PAGES) throw new PricesError(`the price list did not end after ${MAX_PAGES} pages (${this.host()})`);
      const body = await this.getPage(url, abort, deadline);
      const parsed = pageSchema.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new PricesError(`unexpected answer from ${this.host()} (${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'})`);
      }
      const other = parsed.data.Items.find((i) => i.currencyCode !== currency);
      if (other) throw new PricesError(`${this.host()} answered in ${other.currencyCode}, not ${currency}`);
      items.push(...parsed.data.Items);
      url = parsed.data.NextPageLink;
    }
    return items;
  }

  private host(): string {
    try {
      return new URL(this.endpoint).host;
    } catch {
      return this.endpoint;
    }
  }

  private async getPage(url: string, abort: AbortSignal, deadline: AbortSignal): Promise<unknown> {
    let res: Response;
    this.onRequest?.(url);
    try {
      res = await this.fetchFn(url, { signal: abort, headers: { accept: 'application/json' } });
    } catch (e) {
      throw this.failure(e, abort, deadline);
    }
    if (!res.ok) {
      // The API's error body is {"Error": {"Code", "Message"}} for a bad filter; keep it short.
      const text = await res.text().catch(() => '');
      const message = /"Message"\s*:\s*"([^"]{1,200})"/.exec(text)?.[1];
      throw new PricesError(`${this.host()} answered HTTP ${res.status}${message ? `: ${message}` : ''}`, { statusCode: res.status });
    }
    try {
      return await res.json();
    } catch (e) {
      if (abort.aborted) throw this.failure(e, abort, deadline);
      throw new PricesError(`${this.host()} did not answer JSON`);
    }
  }

  private failure(e: unknown, abort: AbortSignal, deadline: AbortSignal): PricesError {
    // Our deadline, or the caller's (a signal from AbortSignal.timeout(): one deadline for several queries).
    if (deadline.aborted || (abort.reason as Error | undefined)?.name === 'TimeoutError') {
      return new PricesError(`${this.host()} did not answer within ${Math.round(this.timeoutMs / 100) / 10} s`);
    }
    if (abort.aborted) return new PricesError('cancelled');
    // fetch() wraps the network error: TypeError('fetch failed') with the socket error as its cause.
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
    return new PricesError(`cannot reach ${this.host()} (${why})`);
  }
}
