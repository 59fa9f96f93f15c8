import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { answerFields, answerKeys, flagName } from '../../src/config/fields.js';
import { buildProgramForDocs } from '../helpers/program.js';
import { steps } from '../../src/steps/index.js';
import { FIC_PROPAGATION_DEFAULT_MS, FIC_PROPAGATION_ENV, MODEL_NOT_BETTER_TAG, NOT_BETTER_FINDING } from '../../src/steps/pipeline.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
/** Asserts without dumping the whole README on failure. */
const mentions = (text: string) => expect(readme.includes(text), `README should mention ${text}`).toBe(true);

describe('README, --help and the code agree', () => {
  it('documents every answer flag, its env vars and its default', () => {
    for (const k of answerKeys) {
      const f = answerFields[k];
      mentions(`\`${f.flag.replace('|', '\\|')}\``);
      for (const e of f.env) mentions(e);
      if ('defaultValue' in f) mentions(`\`${f.defaultValue}\``);
    }
  });

  it('documents every option and command of the CLI', async () => {
    const program = await buildProgramForDocs();
    for (const o of program.options) mentions(o.long!);
    for (const c of program.commands) {
      mentions(`\`${c.name()}\``);
      for (const o of c.options) mentions(o.long!);
    }
  });

  it('shows every --help example in the README, and destroy takes only the answers it reads', async () => {
    const program = await buildProgramForDocs(); // first: it keeps src/cli.ts from parsing argv
    const { EXAMPLES, DESTROY_ANSWERS } = await import('../../src/cli.js');
    for (const [, line] of Object.values(EXAMPLES).flat()) mentions(line);
    const destroy = program.commands.find((c) => c.name() === 'destroy')!;
    const answerFlags = destroy.options.map((o) => o.long!).filter((l) => answerKeys.some((k) => flagName(k) === l));
    expect(answerFlags).toEqual(DESTROY_ANSWERS.map((k) => flagName(k)));
    mentions(`\`destroy\` takes only ${answerFlags.map((f) => `\`${f}\``).join(' and ')}`);
  });

  it('documents every step and every exit code', () => {
    for (const s of steps) mentions(`\`${s.id}\``);
    for (const code of [0, 1, 2, 3, 130]) expect(readme).toMatch(new RegExp(`\\| ${code} \\|`));
  });

  it('describes the "model not better" outcome as the pipeline and doctor have it: a succeeded, tagged run, never a canceled one', () => {
    mentions(`\`${MODEL_NOT_BETTER_TAG}\``);
    mentions(NOT_BETTER_FINDING);
    expect(readme).not.toMatch(/ends \*?canceled\*? is the|canceled is the .?model not better/i);
    const pushed = readFileSync(new URL('../../templates/README.md', import.meta.url), 'utf8');
    expect(pushed).toContain(`**\`${MODEL_NOT_BETTER_TAG}\`**`);
    expect(pushed).not.toMatch(/cancels itself\*\*|Stop builds\*\* for the project's build service/);
  });

  it('says what --run does right after the federated credential is created, with the window and its env var', () => {
    mentions(`\`${FIC_PROPAGATION_ENV}\` (default ${FIC_PROPAGATION_DEFAULT_MS})`);
    mentions(`waits until the credential is ${FIC_PROPAGATION_DEFAULT_MS / 60_000} minutes old`);
    mentions('AADSTS70021');
  });

  it('gives the two set-up commands, and .ci/run runs the same test command', () => {
    expect(readme).toMatch(/npm ci && npm run build && node bin\/azure-mlops\.js init/);
    expect(readme).toMatch(/\nnpm test\n/);
    const ci = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8');
    expect(ci).toMatch(/\nnpm test\n/);
  });
});
