import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRegion, FALLBACK_REGION } from '../../src/config/regions.js';
import { terminalsPerTest } from '../helpers/terminal.js';
import { worldsPerTest, type World } from '../helpers/world.js';

// The region picker in a person's terminal: it starts on az's default location and says typing filters.
const term = terminalsPerTest();
const world = worldsPerTest();

/** The world's answers without --location, so plan asks for it. */
function withoutLocation(w: World): string[] {
  const i = w.args.indexOf('--location');
  return [...w.args.slice(0, i), ...w.args.slice(i + 2)];
}

/** The line the picker's cursor is on. */
const cursorLine = (screen: string) => screen.split('\n').find((l) => l.startsWith('❯'))?.slice(1).trim();

describe('the region picker', () => {
  it("starts on AZURE_DEFAULTS_LOCATION (az's default location), says typing filters, and filters", async () => {
    const w = await world();
    const t = term(['plan', ...withoutLocation(w)], { env: { ...w.env, AZURE_DEFAULTS_LOCATION: 'North Europe' }, cwd: w.cwd });
    const screen = await t.waitFor(/Azure region \(--location\) — type to filter[\s\S]*❯/);
    expect(cursorLine(screen)).toBe('northeurope');
    await t.type('swed');
    const filtered = await t.waitFor(/swedensouth/);
    expect(filtered).not.toContain('westeurope');
    expect(cursorLine(filtered)).toBe('swedencentral');
    await t.press('down');
    await t.waitFor(/❯ swedensouth/);
    await t.press('enter');
    await t.waitFor(/Azure region \(--location\) — type to filter swedensouth/);
  });

  it("starts on az's defaults.location from its config file, else on eastus2", async () => {
    const w = await world();
    const azDir = join(w.home, '.azure');
    mkdirSync(azDir, { recursive: true });
    writeFileSync(join(azDir, 'config'), '[core]\noutput = json\n\n[defaults]\ngroup = rg1\nlocation = uksouth\n');
    const t = term(['plan', ...withoutLocation(w)], { env: { ...w.env, AZURE_CONFIG_DIR: azDir }, cwd: w.cwd });
    expect(cursorLine(await t.waitFor(/type to filter[\s\S]*❯/))).toBe('uksouth');
    t.dispose();

    const bare = term(['plan', ...withoutLocation(w)], { env: { ...w.env, AZURE_CONFIG_DIR: join(w.home, 'none') }, cwd: w.cwd });
    expect(cursorLine(await bare.waitFor(/type to filter[\s\S]*❯/))).toBe(FALLBACK_REGION);
  });
});

describe('defaultRegion', () => {
  const files = (text?: string) => (p: string) => {
    if (text === undefined || p !== '/h/.azure/config') throw new Error('ENOENT');
    return text;
  };
  it.each([
    ['the env var, normalised', { AZURE_DEFAULTS_LOCATION: 'West Europe' }, '[defaults]\nlocation=uksouth', 'westeurope'],
    ["az's config file", {}, '[defaults]\nlocation = uksouth', 'uksouth'],
    ['an unknown region is ignored', { AZURE_DEFAULTS_LOCATION: 'moon' }, '[defaults]\nlocation = mars', 'eastus2'],
    ['location of another section is not it', {}, '[core]\nlocation = uksouth', 'eastus2'],
    ['no config file', {}, undefined, 'eastus2'],
  ])('%s', (_, env, text, want) => {
    expect(defaultRegion(env, '/h', files(text)).region).toBe(want);
  });
});
