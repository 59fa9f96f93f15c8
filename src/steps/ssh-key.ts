import { join } from 'node:path';
import { UsageError } from '../engine/errors.js';
import { defineStep, type Context } from '../engine/types.js';
import { howToSet } from '../config/fields.js';
import { formatCommand } from '../adapters/process.js';
import type { PublicKey } from '../adapters/ssh.js';

/**
 * README: "If you don't yet have a public SSH key defined in ~/.ssh/id_rsa.pub, run ssh-keygen".
 * The agent VM allows SSH with this key only (no password).
 */
export async function locatePublicKey(ctx: Pick<Context, 'answers' | 'ssh'>): Promise<{ key?: PublicKey; problems: string[]; explicit: boolean }> {
  const explicit = ctx.answers.maybe('sshKey');
  const paths = explicit ? [explicit] : ctx.ssh.candidates();
  const problems: string[] = [];
  for (const p of paths) {
    if (!explicit && !(await ctx.ssh.exists(p))) continue;
    const r = await ctx.ssh.read(p);
    if ('problem' in r) problems.push(r.problem);
    else return { key: r, problems, explicit: Boolean(explicit) };
  }
  if (!explicit && problems.length === 0) problems.push(`no public key at ${paths.join(' or ')}`);
  return { problems, explicit: Boolean(explicit) };
}

const defaultPrivate = (home: string) => join(home, '.ssh', 'id_ed25519');

type Ctx = Pick<Context, 'answers' | 'ssh' | 'ui' | 'run'>;

export const sshKeyStep = defineStep({
  id: 'ssh-key',
  title: 'SSH public key',
  dependsOn: [],
  async check(ctx: Ctx) {
    const { key, problems } = await locatePublicKey(ctx);
    if (key) return { status: 'ok', summary: `${key.path} (${key.type}${key.bits ? `, ${key.bits} bits` : ''})`, record: { path: key.path, type: key.type } };
    return { status: 'missing', summary: problems.join('; '), fix: `ssh-keygen -t ed25519 -f ~/.ssh/id_ed25519, or pass ${howToSet('sshKey')}` };
  },
  async plan(ctx, found) {
    const { explicit } = await locatePublicKey(ctx);
    if (explicit) throw new UsageError(`Invalid ${howToSet('sshKey')}: ${found.summary}`, `Pass the path of an OpenSSH public key (ssh-rsa 2048+ bits or ssh-ed25519) with ${howToSet('sshKey')}.`);
    const priv = defaultPrivate(ctx.run.homeDir);
    const command = formatCommand('ssh-keygen', ctx.ssh.keygenArgs(priv));
    if (await ctx.ssh.exists(priv)) {
      // Never overwrite a private key: derive its public half instead.
      throw new UsageError(`${priv} exists but has no valid ${priv}.pub.`, `Recreate the public key with: ssh-keygen -y -f ${priv} > ${priv}.pub (or pass ${howToSet('sshKey')}).`);
    }
    if (!ctx.ui.interactive) {
      throw new UsageError(`No SSH public key found for the agent VM (${found.summary}).`, `Create one with: ${command}  — or pass ${howToSet('sshKey')}.`);
    }
    return [{ action: 'run', what: `create an SSH key pair ${priv} (you choose the passphrase)`, commands: [command] }];
  },
  async apply(ctx) {
    await ctx.ssh.keygen(defaultPrivate(ctx.run.homeDir));
  },
});
