import { mkdtempSync, readFileSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/ui/redact.js';
import { ProcessRunner } from '../../src/adapters/process.js';
import { Logger } from '../../src/ui/logger.js';
import { StateStore } from '../../src/engine/state.js';
import { UsageError } from '../../src/engine/errors.js';
import { writeFileSync } from 'node:fs';

const CANARY = 'canary-pat-7f3a9c2e1b4d';

describe('Redactor', () => {
  it('masks a secret and its Basic-auth and URL encodings', () => {
    const r = new Redactor();
    r.add(CANARY);
    const basic = Buffer.from(`:${CANARY}`).toString('base64');
    expect(r.redact(`token=${CANARY} auth=Basic ${basic}`)).toBe('token=*** auth=Basic ***');
    expect(r.redactValue({ a: [CANARY] })).toEqual({ a: ['***'] });
  });
  it('ignores empty and tiny values (they would mask ordinary text)', () => {
    const r = new Redactor();
    r.add('');
    r.add('ab');
    expect(r.redact('about')).toBe('about');
  });
});

describe('ProcessRunner: a secret never reaches a child', () => {
  const runner = () => {
    const r = new Redactor();
    r.add(CANARY);
    const log = new Logger({ out: process.stdout, err: process.stderr, color: false, verbose: false, json: false, redactor: r });
    return new ProcessRunner(log, r, { PATH: '/usr/bin', AZURE_DEVOPS_EXT_PAT: CANARY, MY_COPY: `x${CANARY}`, HOME: '/h' });
  };
  it('not on its command line', () => {
    expect(() => runner().assertNoSecretInArgs('az', ['--token', CANARY])).toThrow(/refusing to pass a secret on the command line/);
  });
  it('not in the environment it inherits, nor in what an adapter adds', () => {
    const env = runner().env({ ARM_SUBSCRIPTION_ID: 'sub' });
    expect(env).toEqual({ PATH: '/usr/bin', HOME: '/h', ARM_SUBSCRIPTION_ID: 'sub' });
    expect(() => runner().env({ TF_VAR_x: CANARY })).toThrow(/refusing to pass a secret in TF_VAR_x/);
  });
});

describe('StateStore', () => {
  it('writes atomically with mode 0600 and a .gitignore, and reads back', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'state-')), '.azure-mlops');
    const s = await StateStore.load(dir, '1.0.0', new Redactor());
    expect(s.persisted).toBe(false);
    await s.setAnswers({ prefix: 'abc', agents: 4 });
    await s.recordResource({ kind: 'devops-project', id: 'p1', name: 'mlops', createdByUs: true, step: 'devops-project' });
    await s.recordResource({ kind: 'devops-project', id: 'p1', name: 'mlops', createdByUs: false, step: 'devops-project' });
    expect(statSync(join(dir, 'state.json')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toContain('*');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const again = await StateStore.load(dir, '1.0.0', new Redactor());
    expect(again.data.answers).toEqual({ prefix: 'abc', agents: 4 });
    expect(again.data.resources).toHaveLength(1);
    expect(again.resource('devops-project')?.createdByUs).toBe(true); // sticky
  });

  it('refuses to write a registered secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    const r = new Redactor();
    r.add(CANARY);
    const s = await StateStore.load(dir, '1.0.0', r);
    await expect(s.setStepData('x', { token: CANARY })).rejects.toThrow(/refusing to write a secret/);
  });

  it('concurrent updates are serialised and all land', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    const s = await StateStore.load(dir, '1.0.0', new Redactor());
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.setStepData(`s${i}`, { i })));
    const again = await StateStore.load(dir, '1.0.0', new Redactor());
    expect(Object.keys(again.data.data)).toHaveLength(20);
  });

  it('a corrupt state file is a usage error naming --state-dir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    writeFileSync(join(dir, 'state.json'), '{"version": 2}');
    await expect(StateStore.load(dir, '1.0.0', new Redactor())).rejects.toBeInstanceOf(UsageError);
    writeFileSync(join(dir, 'state.json'), 'nope');
    await expect(StateStore.load(dir, '1.0.0', new Redactor())).rejects.toThrow(/not valid JSON/);
  });
});
