import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Creates a real key pair with ssh-keygen (no passphrase) and returns the public key path. */
export function makeKey(dir: string, name: string, type: 'ed25519' | 'rsa' | 'ecdsa' = 'ed25519', bits?: number): string {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-f', file, '-C', 'test@azure-mlops']);
  return `${file}.pub`;
}

export const readText = (p: string) => readFileSync(p, 'utf8');
