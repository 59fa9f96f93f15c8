import { access, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { runAttached, type ProcessRunner } from './process.js';
import { ExternalError } from '../engine/errors.js';

/**
 * SSH public keys for the agent VM. Azure Linux VMs accept OpenSSH `ssh-rsa` keys of 2048 bits or
 * more and `ssh-ed25519` keys; nothing else (ECDSA/DSA are refused by Azure).
 */
export const ACCEPTED_KEY_TYPES = ['ssh-rsa', 'ssh-ed25519'] as const;

export interface PublicKey {
  path: string;
  type: (typeof ACCEPTED_KEY_TYPES)[number];
  /** The single-line key as Azure wants it: "type base64 [comment]". */
  line: string;
  bits?: number;
  comment?: string;
}

/** Validates OpenSSH public-key text. Returns the key or a sentence saying what is wrong. */
export function parsePublicKey(text: string, path: string): PublicKey | { problem: string } {
  const trimmed = text.trim();
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(trimmed)) {
    return { problem: `${path} is a PRIVATE key; give the public key instead (usually the same path with .pub)` };
  }
  if (/^---- BEGIN SSH2 PUBLIC KEY ----/.test(trimmed)) {
    return { problem: `${path} is in SSH2 (RFC 4716) format; convert it with: ssh-keygen -i -f ${path} > key.pub` };
  }
  const lines = trimmed.split(/\r?\n/).filter((l) => l.trim() && !l.startsWith('#'));
  if (lines.length !== 1) return { problem: `${path} should hold exactly one OpenSSH public key line ("ssh-ed25519 AAAA... comment")` };
  const [type, b64, ...rest] = lines[0]!.trim().split(/\s+/);
  if (!type || !b64) return { problem: `${path} is not an OpenSSH public key ("ssh-ed25519 AAAA... comment")` };
  if (!ACCEPTED_KEY_TYPES.includes(type as PublicKey['type'])) {
    if (/^(ecdsa-|ssh-dss|sk-)/.test(type)) return { problem: `${path} is a ${type} key; Azure Linux VMs accept only ssh-rsa (2048+ bits) and ssh-ed25519 keys` };
    return { problem: `${path} is not an OpenSSH public key ("ssh-ed25519 AAAA... comment")` };
  }
  if (!/^[A-Za-z0-9+/]+={0,3}$/.test(b64)) return { problem: `${path}: the key data is not base64` };
  const blob = Buffer.from(b64, 'base64');
  // The blob starts with the key type again, as an SSH string: uint32 length + bytes.
  const inner = readSshString(blob, 0);
  if (!inner || inner.value.toString('ascii') !== type) return { problem: `${path}: the key data does not match its type ${type} (corrupted key?)` };
  const key: PublicKey = { path, type: type as PublicKey['type'], line: `${type} ${b64}${rest.length ? ` ${rest.join(' ')}` : ''}` };
  if (rest.length) key.comment = rest.join(' ');
  if (type === 'ssh-rsa') {
    const e = readSshString(blob, inner.next);
    const n = e && readSshString(blob, e.next);
    if (!n) return { problem: `${path}: truncated RSA key` };
    const modulus = n.value[0] === 0 ? n.value.subarray(1) : n.value;
    key.bits = modulus.length * 8;
    if (key.bits < 2048) return { problem: `${path} is a ${key.bits}-bit RSA key; Azure requires at least 2048 bits (create one with: ssh-keygen -t ed25519)` };
  } else {
    const k = readSshString(blob, inner.next);
    if (!k || k.value.length !== 32) return { problem: `${path}: truncated ed25519 key` };
    key.bits = 256;
  }
  return key;
}

function readSshString(buf: Buffer, offset: number): { value: Buffer; next: number } | undefined {
  if (offset + 4 > buf.length) return undefined;
  const len = buf.readUInt32BE(offset);
  if (offset + 4 + len > buf.length) return undefined;
  return { value: buf.subarray(offset + 4, offset + 4 + len), next: offset + 4 + len };
}

export class SshAdapter {
  constructor(
    private readonly proc: ProcessRunner,
    readonly homeDir: string,
  ) {}

  /** Default places, in the order the CLI prefers them. */
  candidates(): string[] {
    return [join(this.homeDir, '.ssh', 'id_ed25519.pub'), join(this.homeDir, '.ssh', 'id_rsa.pub')];
  }

  async exists(path: string): Promise<boolean> {
    try {
      await access(path, constants.F_OK);
      return true;
    } catch {
      return false;
    }
  }

  async read(path: string): Promise<PublicKey | { problem: string }> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return { problem: code === 'ENOENT' ? `${path} does not exist` : `cannot read ${path} (${code ?? (e as Error).message})` };
    }
    return parsePublicKey(text, path);
  }

  /** The command that creates the default key (shown to the user; run by keygen()). */
  keygenArgs(privatePath: string): string[] {
    return ['-t', 'ed25519', '-f', privatePath, '-C', 'azure-mlops'];
  }

  /** Runs ssh-keygen with the terminal attached so the user can choose a passphrase. */
  async keygen(privatePath: string): Promise<void> {
    const code = await runAttached(this.proc, 'ssh-keygen', this.keygenArgs(privatePath));
    if (code !== 0) throw new ExternalError(`ssh-keygen exited with ${code}`, { exitCode: code });
  }
}
