import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  define: { __PACKAGE_VERSION__: JSON.stringify(pkg.version) },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Several suites spawn real processes (terraform, the packed CLI, python); keep the
    // 2-core CI machine from being oversubscribed.
    maxWorkers: 2,
    env: { FORCE_COLOR: '0', NO_COLOR: '1' },
  },
});
