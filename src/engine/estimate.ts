import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { priceItemSchema, PricesError, type PriceItem } from '../adapters/prices.js';
import { buildEstimate, costLines, GLOBAL_PRICE_REGION, priceFilter, selectMeter, type CostEstimate, type CostLine, type LineQuote } from '../config/cost.js';
import { writeStateFile } from './state.js';
import type { Context } from './types.js';

/**
 * The cost estimate of a run (init, plan): the bill of materials (config/cost.ts) priced through
 * the Retail Prices API (adapters/prices.ts), with a cache of a day in `<state-dir>/prices.json`.
 *
 * - `plan` reads the cache but never writes it (plan writes nothing): its prices live in memory.
 * - One request per distinct filter, all at once; a line whose meter the API files under 'Global'
 *   (load balancer, NAT gateway) is asked again there; one deadline (the adapter's) for it all.
 * - It never throws: whatever goes wrong becomes "estimate unavailable: <why>" (or one item's
 *   reason), and the run goes on with its exit code untouched.
 */

export const PRICES_CACHE_FILE = 'prices.json';
export const PRICES_CACHE_TTL_MS = 24 * 60 * 60 * 1000;

const cacheSchema = z.object({
  version: z.literal(1),
  entries: z.record(z.string(), z.object({ fetchedAt: z.string(), items: z.array(priceItemSchema) })),
});
type Cache = z.output<typeof cacheSchema>;

type Ctx = Pick<Context, 'answers' | 'prices' | 'run' | 'log' | 'redactor' | 'signal'>;

export interface EstimateOptions {
  /** Write fresh prices to the cache (init); false in plan. */
  persist: boolean;
  /** The clock (tests). */
  now?: () => Date;
}

export async function estimateCost(ctx: Ctx, opts: EstimateOptions): Promise<CostEstimate> {
  const currency = ctx.answers.maybe('currency') ?? 'USD';
  const region = ctx.answers.maybe('location') ?? '';
  const lines = costLines(ctx.answers);
  const source = ctx.prices.endpoint;
  try {
    return await priceLines(ctx, opts, lines, currency, region);
  } catch (e) {
    // A bug must not break a run either; say so instead of pricing.
    ctx.log.debug(`cost estimate: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return buildEstimate({ lines, quotes: new Map(lines.map((l) => [l.id, { error: `internal error (${e instanceof Error ? e.message : String(e)})` }])), currency, region, source });
  }
}

async function priceLines(ctx: Ctx, opts: EstimateOptions, lines: CostLine[], currency: string, region: string): Promise<CostEstimate> {
  const now = opts.now ?? (() => new Date());
  const cacheFile = join(ctx.run.stateDir, PRICES_CACHE_FILE);
  const cache = await readCache(cacheFile);
  const fresh = new Map<string, { fetchedAt: string; items: PriceItem[] }>();
  const pending = new Map<string, Promise<{ fetchedAt: string; items: PriceItem[] } | PricesError>>();
  const keyOf = (filter: string) => `${ctx.prices.endpoint} ${currency} ${filter}`;
  // One deadline for the whole estimate (the Global second round included), and Ctrl-C.
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(ctx.prices.timeoutMs)]);

  const ask = (filter: string) => {
    const key = keyOf(filter);
    const hit = cache?.entries[key];
    if (hit && now().getTime() - Date.parse(hit.fetchedAt) < PRICES_CACHE_TTL_MS && Date.parse(hit.fetchedAt) <= now().getTime()) return Promise.resolve(hit);
    let p = pending.get(key);
    if (!p) {
      p = ctx.prices.query(filter, currency, signal).then(
        (items) => {
          const got = { fetchedAt: now().toISOString(), items };
          fresh.set(key, got);
          return got;
        },
        (e: unknown) => (e instanceof PricesError ? e : new PricesError(e instanceof Error ? e.message : String(e))),
      );
      pending.set(key, p);
    }
    return p;
  };

  const quoteIn = async (line: CostLine, where: string): Promise<LineQuote> => {
    const r = await ask(priceFilter(line, where));
    return r instanceof PricesError ? { error: r.reason } : { rows: r.items, region: where, fetchedAt: r.fetchedAt };
  };

  const quotes = new Map<string, LineQuote>();
  await Promise.all(
    lines.map(async (line) => {
      let q = await quoteIn(line, region);
      if (line.globalFallback && !('error' in q) && 'unavailable' in selectMeter(line, q.rows)) {
        const global = await quoteIn(line, GLOBAL_PRICE_REGION);
        if ('error' in global || !('unavailable' in selectMeter(line, global.rows))) q = global;
      }
      quotes.set(line.id, q);
    }),
  );

  if (opts.persist && fresh.size > 0) await writeCache(ctx, cacheFile, cache, fresh, now());
  return buildEstimate({ lines, quotes, currency, region, source: ctx.prices.endpoint });
}

async function readCache(file: string): Promise<Cache | undefined> {
  try {
    const parsed = cacheSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // none yet, or unreadable: prices are fetched again
  }
}

async function writeCache(ctx: Ctx, file: string, old: Cache | undefined, fresh: Map<string, { fetchedAt: string; items: PriceItem[] }>, now: Date): Promise<void> {
  const entries: Cache['entries'] = {};
  for (const [k, v] of Object.entries(old?.entries ?? {})) if (now.getTime() - Date.parse(v.fetchedAt) < PRICES_CACHE_TTL_MS) entries[k] = v;
  for (const [k, v] of fresh) entries[k] = v;
  try {
    await writeStateFile(ctx.run.stateDir, PRICES_CACHE_FILE, `${JSON.stringify({ version: 1, entries }, null, 2)}\n`, ctx.redactor);
  } catch (e) {
    // A cache that cannot be written costs a request next time, nothing more.
    ctx.log.debug(`cannot write ${file}: ${(e as Error).message}`);
  }
}
