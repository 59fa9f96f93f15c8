import { z } from 'zod';
import { AzError } from '../adapters/az.js';
import { formatCommand } from '../adapters/process.js';
import { namesFor } from '../config/naming.js';
import { DEPLOYMENT_TAG, sharedDeploymentId } from '../engine/deployment.js';
import { createTracked, recordFound } from '../engine/ownership.js';
import { defineStep, type Change, type Context } from '../engine/types.js';
import { PRE_EXISTING } from '../engine/teardown.js';
import { loginOf } from './azure-login.js';

/**
 * `--state-backend azurerm`: terraform state in Azure Storage instead of the state dir, so a team
 * (or a CI job on another machine) shares it. A storage account `sttf{prefix}` in its own resource
 * group `rg-{prefix}-tfstate` (outside rg-{prefix}-ml, so destroying the deployment never deletes
 * its own state), blob versioning on (every state version recoverable), TLS 1.2, no public blob
 * access, one container `tfstate`. Terraform's azurerm backend locks the state with a blob lease.
 * The local backend (default) needs nothing: this step is then satisfied at once.
 */
type Ctx = Pick<Context, 'az' | 'answers' | 'state' | 'log'>;

export const STATE_CONTAINER = 'tfstate';

export function backendSettings(ctx: Pick<Context, 'answers' | 'state'>): { resourceGroup: string; account: string; container: string; key: string } {
  const n = namesFor(ctx.answers.get('prefix'));
  return { resourceGroup: n.stateResourceGroup, account: n.stateStorageAccount, container: STATE_CONTAINER, key: `azure-mlops-${ctx.answers.get('prefix')}.tfstate` };
}

async function found<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof AzError && e.kind === 'not-found') return undefined;
    throw e;
  }
}

const groupSchema = z.object({ id: z.string(), name: z.string() }).passthrough();
const accountSchema = z.object({ id: z.string(), name: z.string() }).passthrough();

async function survey(ctx: Ctx) {
  const b = backendSettings(ctx);
  const group = await found(ctx.az.json(['group', 'show', '--name', b.resourceGroup], groupSchema));
  const account = group ? await found(ctx.az.json(['storage', 'account', 'show', '--name', b.account, '--resource-group', b.resourceGroup], accountSchema)) : undefined;
  const versioning = account
    ? (await ctx.az.json(['storage', 'account', 'blob-service-properties', 'show', '--account-name', b.account, '--resource-group', b.resourceGroup], z.object({ isVersioningEnabled: z.boolean().nullish() }).passthrough())).isVersioningEnabled === true
    : false;
  const container = account
    ? (await ctx.az.json(['storage', 'container', 'exists', '--name', b.container, '--account-name', b.account, '--auth-mode', 'key'], z.object({ exists: z.boolean() }))).exists
    : false;
  return { b, group, account, versioning, container };
}

function commands(ctx: Ctx, s: Awaited<ReturnType<typeof survey>>): Array<{ what: string; args: string[]; action: Change['action'] }> {
  const { b } = s;
  const loc = ctx.answers.get('location');
  const out: Array<{ what: string; args: string[]; action: Change['action'] }> = [];
  if (!s.group) out.push({ action: 'create', what: `resource group ${b.resourceGroup}`, args: ['group', 'create', '--name', b.resourceGroup, '--location', loc, '--tags', 'managed-by=azure-mlops', `${DEPLOYMENT_TAG}=${sharedDeploymentId(b)}`] });
  if (!s.account)
    out.push({
      action: 'create',
      what: `storage account ${b.account} (TLS 1.2, no public blob access)`,
      args: ['storage', 'account', 'create', '--name', b.account, '--resource-group', b.resourceGroup, '--location', loc, '--sku', 'Standard_LRS', '--kind', 'StorageV2', '--min-tls-version', 'TLS1_2', '--allow-blob-public-access', 'false', '--https-only', 'true'],
    });
  if (!s.versioning) out.push({ action: 'update', what: 'blob versioning on (every state version recoverable)', args: ['storage', 'account', 'blob-service-properties', 'update', '--account-name', b.account, '--resource-group', b.resourceGroup, '--enable-versioning', 'true'] });
  if (!s.container) out.push({ action: 'create', what: `container ${b.container}`, args: ['storage', 'container', 'create', '--name', b.container, '--account-name', b.account, '--auth-mode', 'key'] });
  return out;
}

export const terraformBackendStep = defineStep({
  id: 'terraform-backend',
  title: 'Terraform state backend',
  createsAzureResources: true,
  dependsOn: ['azure-login', 'azure-preflight'],
  async check(ctx: Ctx) {
    if (ctx.answers.get('stateBackend') === 'local') return { status: 'ok', summary: 'local state in the state dir (--state-backend azurerm to share it)' };
    const s = await survey(ctx);
    const todo = commands(ctx, s);
    if (todo.length === 0) return { status: 'ok', summary: `azurerm: ${s.b.account}/${s.b.container}/${s.b.key} (versioned, lease-locked)` };
    return { status: 'missing', summary: `azurerm backend not ready: ${todo.map((t) => t.what.split(' (')[0]).join(', ')} missing` };
  },
  async plan(ctx) {
    if (ctx.answers.get('stateBackend') === 'local') return [];
    const s = await survey(ctx).catch(() => undefined);
    const list = s ? commands(ctx, s) : commands(ctx, { b: backendSettings(ctx), group: undefined, account: undefined, versioning: false, container: false });
    return list.map((t) => ({ action: t.action, what: t.what, commands: [formatCommand('az', t.args)] }));
  },
  async apply(ctx) {
    const s = await survey(ctx);
    const { b } = s;
    for (const t of commands(ctx, s)) {
      if (t.args[0] === 'group') {
        await createTracked(ctx.state, { kind: 'tfstate-resource-group', name: b.resourceGroup, step: 'terraform-backend' }, async () => ctx.az.json(t.args, groupSchema));
      } else if (t.args[2] === 'create' && t.args[1] === 'account') {
        await createTracked(ctx.state, { kind: 'tfstate-storage-account', name: b.account, step: 'terraform-backend', meta: { resourceGroup: b.resourceGroup } }, async () => ctx.az.json(t.args, accountSchema));
      } else {
        await ctx.az.json(t.args, z.unknown());
      }
    }
    if (s.group) await recordFound(ctx.state, { kind: 'tfstate-resource-group', name: b.resourceGroup, step: 'terraform-backend', id: s.group.id });
    ctx.az.invalidate();
  },
  teardown: {
    owns: { 'tfstate-resource-group': 'terraform state resource group', 'tfstate-storage-account': 'terraform state storage account' },
    async plan(kit) {
      const { az, state, answers } = kit.ctx;
      const subscription = loginOf(kit.ctx).subscriptionId;
      const made = answers.maybe('stateBackend') === 'azurerm' && state.data.steps['terraform-backend']?.status === 'done';
      const b = made ? backendSettings(kit.ctx) : undefined;
      const group = kit.recordsOrFound('tfstate-resource-group', { step: 'terraform-backend', name: b?.resourceGroup, id: b?.resourceGroup })[0];
      const accounts = kit.recordsOrFound('tfstate-storage-account', { step: 'terraform-backend', name: b?.account, id: b?.account, ...(b ? { meta: { resourceGroup: b.resourceGroup } } : {}) });
      const BACKEND = "pass --delete-state-backend to delete it (it keeps every version of terraform's state)";
      for (const r of accounts) {
        const inOurGroup = group?.createdByUs && group.name === r.meta?.resourceGroup;
        if (!r.createdByUs) kit.keep(r, PRE_EXISTING);
        else if (!kit.opts.deleteStateBackend) kit.keep(r, BACKEND);
        else if (!inOurGroup) kit.del(r, { run: async () => ((await az.deleteStorageAccount(r.name, r.meta?.resourceGroup ?? group?.name ?? '', subscription)) ? 'deleted' : 'gone') });
      }
      if (group) {
        const inside = accounts.filter((r) => r.createdByUs && r.meta?.resourceGroup === group.name);
        if (!group.createdByUs) kit.keep(group, PRE_EXISTING);
        else if (!kit.opts.deleteStateBackend) kit.keep(group, BACKEND);
        else
          kit.del(group, {
            reason: inside.length ? `with the storage account ${inside.map((x) => x.name).join(', ')} in it` : undefined,
            records: [group, ...inside],
            run: async () => ((await az.deleteGroup(group.name, subscription)) ? 'deleted' : 'gone'),
          });
      }
    },
  },
});
