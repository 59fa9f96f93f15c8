import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePublicKey } from '../../src/adapters/ssh.js';
import { makeKey } from '../helpers/keys.js';

const dir = mkdtempSync(join(tmpdir(), 'ssh-'));

describe('OpenSSH public key validation (what Azure Linux VMs accept)', () => {
  it('accepts a real ed25519 key and a real 3072-bit RSA key', () => {
    const ed = parsePublicKey(readFileSync(makeKey(dir, 'ed'), 'utf8'), 'ed.pub');
    expect(ed).toMatchObject({ type: 'ssh-ed25519', bits: 256, comment: 'test@azure-mlops' });
    const rsa = parsePublicKey(readFileSync(makeKey(dir, 'rsa', 'rsa', 3072), 'utf8'), 'rsa.pub');
    expect(rsa).toMatchObject({ type: 'ssh-rsa', bits: 3072 });
  });

  it('refuses a 1024-bit RSA key', () => {
    const r = parsePublicKey(readFileSync(makeKey(dir, 'rsa1k', 'rsa', 1024), 'utf8'), 'rsa1k.pub');
    expect(r).toEqual({ problem: expect.stringMatching(/1024-bit RSA key; Azure requires at least 2048/) });
  });

  it('refuses ECDSA keys', () => {
    const r = parsePublicKey(readFileSync(makeKey(dir, 'ec', 'ecdsa'), 'utf8'), 'ec.pub');
    expect(r).toEqual({ problem: expect.stringMatching(/ecdsa-sha2-nistp256 key; Azure Linux VMs accept only/) });
  });

  it('refuses a private key, naming the .pub to use', () => {
    makeKey(dir, 'priv');
    const r = parsePublicKey(readFileSync(join(dir, 'priv'), 'utf8'), join(dir, 'priv'));
    expect(r).toEqual({ problem: expect.stringMatching(/is a PRIVATE key/) });
  });

  it.each([
    ['garbage', 'hello world'],
    ['empty', ''],
    ['bad base64', 'ssh-ed25519 !!!notbase64!!! me'],
    ['type mismatch', `ssh-rsa ${readFileSync(makeKey(dir, 'mm'), 'utf8').split(' ')[1]} x`],
    ['two keys', `${readFileSync(makeKey(dir, 'k1'), 'utf8')}${readFileSync(makeKey(dir, 'k2'), 'utf8')}`],
    ['truncated', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA== x'],
  ])('refuses %s', (_n, text) => {
    const f = join(dir, 'x.pub');
    writeFileSync(f, text);
    expect(parsePublicKey(text, f)).toHaveProperty('problem');
  });
});
