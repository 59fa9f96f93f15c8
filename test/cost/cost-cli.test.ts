// The cost estimate through the built CLI in the fake world: plan and init show it, --json carries
// it in the shape the README documents, failures never change the exit code, --currency is an
// answer like the others, init caches prices for a day and plan writes nothing, doctor prices nothing.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { worldsPerTest } from '../helpers/world.js';
import { closedPortUrl } from '../fakes/prices/server.js';

const world = worldsPerTest();

/** The schema documented in the README ("Cost estimate"), so the two cannot drift apart. */
function readmeSchema(): object {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = readme.split('```json').map((b) => b.split('```')[0]!).find((b) => b.includes('"title": "azure-mlops plan --json: estimate"'));
  if (!block) throw new Error('README has no cost estimate schema');
  return JSON.parse(block) as object;
}
const validate = new Ajv({ strict: false }).compile(readmeSchema());

describe('azure-mlops plan with the cost estimate', () => {
  it('prints it under the plan, with the basis and the date, and writes nothing', async () => {
    const w = await world();
    const r = await runCli(['plan', ...w.args], { env: w.env, cwd: w.cwd });
    expect(r.code, r.stderr).toBe(0);
    const text = r.stdout;
    expect(text).toMatch(/Cost estimate: about [\d,]+\.\d\d USD a month in westeurope \(730 h; retail list price before discounts, not a quote; prices fetched \d{4}-\d\d-\d\d \d\d:\d\d UTC\)/);
    expect(text).toMatch(/AKS nodes: 3 × Standard_D4s_v5 at 0\.23 USD\/hour × 730 h/);
    expect(text).toMatch(/0\.00 {2}Azure ML training cluster \(low priority\): Standard_DS3_v2 at 0\.0586 USD\/hour/);
    expect(text).toContain('assumed: 1 GB/day ingested');
    expect(text).toContain('not included:');
    // Under the plan, before the dry-run's last words.
    expect(text.indexOf('Cost estimate')).toBeGreaterThan(text.indexOf('Pipeline'));
    expect(text.indexOf('Cost estimate')).toBeLessThan(text.indexOf('Dry run: nothing was changed'));
    expect(existsSync(w.stateDir)).toBe(false);
    expect(w.prices.requests.length).toBeGreaterThan(10);
  });

  it('--json: the estimate as the README documents it', async () => {
    const w = await world();
    const r = await runCli(['plan', '--json', ...w.args], { env: w.env, cwd: w.cwd });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(validate(doc.estimate), JSON.stringify(validate.errors)).toBe(true);
    expect(doc.estimate).toMatchObject({ currency: 'USD', complete: true, region: 'westeurope', source: w.prices.url });
    expect(doc.estimate.items).toHaveLength(10);
    expect(r.stderr).toContain('Cost estimate: about'); // human text on stderr under --json
    // The schema can fail: a priced item without its unit, an unpriced one without a reason.
    const broken = structuredClone(doc.estimate);
    delete broken.items[0].unit;
    expect(validate(broken)).toBe(false);
    const unexplained = structuredClone(doc.estimate);
    unexplained.items[0].monthly = null;
    expect(validate(unexplained)).toBe(false);
  });

  it('an unreachable API: "estimate unavailable" and exit 0, also in --json', async () => {
    const w = await world();
    const env = { ...w.env, AZURE_MLOPS_PRICES_URL: await closedPortUrl() };
    const r = await runCli(['plan', ...w.args], { env, cwd: w.cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Cost estimate unavailable: cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    expect(r.stdout).toContain('Dry run: nothing was changed');
    const j = await runCli(['plan', '--json', ...w.args], { env, cwd: w.cwd });
    expect(j.code).toBe(0);
    const doc = JSON.parse(j.stdout);
    expect(doc.ok).toBe(true);
    expect(validate(doc.estimate), JSON.stringify(validate.errors)).toBe(true);
    expect(doc.estimate).toMatchObject({ monthly: null, unavailable: expect.stringContaining('cannot reach') });
  });

  it('HTTP 500 from the API: "estimate unavailable" and exit 0', async () => {
    const w = await world();
    w.prices.fail({ status: 500 });
    const r = await runCli(['plan', ...w.args], { env: w.env, cwd: w.cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Cost estimate unavailable: 127\.0\.0\.1:\d+ answered HTTP 500/);
  });

  it('--currency is passed as currencyCode; a malformed one is exit 2 naming the flag and env var', async () => {
    const w = await world();
    const eur = await runCli(['plan', ...w.args, '--currency', 'EUR'], { env: w.env, cwd: w.cwd });
    expect(eur.code, eur.stderr).toBe(0);
    expect(eur.stdout).toMatch(/Cost estimate: about [\d,.]+ EUR a month .*EUR prices are for reference/);
    expect(w.prices.requests.every((q) => q.currency === 'EUR')).toBe(true);

    const azCalls = w.az.calls().length;
    const flag = await runCli(['plan', ...w.args, '--currency', 'eur'], { env: w.env, cwd: w.cwd });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("Invalid --currency 'eur'");
    expect(flag.stderr).toContain("did you mean 'EUR'?");
    expect(flag.stderr).toContain('AZURE_MLOPS_CURRENCY');
    const env = await runCli(['plan', ...w.args], { env: { ...w.env, AZURE_MLOPS_CURRENCY: 'EURO' }, cwd: w.cwd });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain("(from AZURE_MLOPS_CURRENCY='EURO')");
    expect(w.az.calls().length).toBe(azCalls); // refused before anything ran
  });
});

describe('init and the price cache', () => {
  it('init shows the estimate and caches prices (0600); a later plan uses them and writes nothing; doctor prices nothing', async () => {
    const w = await world();
    const r = await runCli(['init', '--yes', ...w.args], { env: w.env, cwd: w.cwd });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/Cost estimate: about [\d,.]+ USD a month/);
    const cache = join(w.stateDir, 'prices.json');
    expect(statSync(cache).mode & 0o777).toBe(0o600);
    const cached = readFileSync(cache, 'utf8');
    const asked = w.prices.requests.length;
    expect(asked).toBeGreaterThan(10);

    const plan = await runCli(['plan'], { env: w.env, cwd: w.cwd });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/Cost estimate: about [\d,.]+ USD a month/);
    expect(w.prices.requests.length).toBe(asked);
    expect(readFileSync(cache, 'utf8')).toBe(cached);

    const doctor = await runCli(['doctor', '--only', 'local'], { env: w.env, cwd: w.cwd });
    expect(doctor.stdout).not.toContain('Cost estimate');
    expect(w.prices.requests.length).toBe(asked);
  });
});
