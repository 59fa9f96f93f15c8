import { AzError, type AzAccount } from '../adapters/az.js';
import { formatCommand } from '../adapters/process.js';
import { StepError, UsageError } from '../engine/errors.js';
import { defineStep, type Change, type CheckResult, type Context } from '../engine/types.js';
import { howToSet } from '../config/fields.js';

/**
 * README: "az login", "az account list -o table", "az account set -s {subscriptionId}".
 * The subscription is pinned in state on the first run, so a later change of az's default
 * subscription never redirects a re-run to another subscription.
 */
type Ctx = Pick<Context, 'az' | 'answers' | 'state' | 'ui' | 'log'>;

export const LOGIN_FIX = 'Run `az login` (in CI: `az login --service-principal ...`, `--identity`, or the AzureCLI task), then re-run.';

/**
 * What this step records (its state data), read by the steps after it through the accessors below:
 * the subscription the deployment works in, pinned on the first run, and its tenant.
 */
export type AzureLogin = { subscriptionId: string; subscriptionName: string; tenantId: string };

/** azure-login's facts as recorded (or as this run's survey anticipated them); empty before it ran. */
export function loginOf(ctx: Pick<Context, 'state'>): Partial<AzureLogin> {
  return ctx.state.stepData<AzureLogin>('azure-login');
}

/** The deployment's subscription: pinned by azure-login, else az's current one. */
export async function subscriptionOf(ctx: Pick<Context, 'state' | 'az'>): Promise<string> {
  return loginOf(ctx).subscriptionId ?? (await ctx.az.account()).id;
}

/** The deployment's tenant: pinned by azure-login, else az's current one. */
export async function tenantOf(ctx: Pick<Context, 'state' | 'az'>): Promise<string> {
  return loginOf(ctx).tenantId ?? (await ctx.az.account()).tenantId;
}

/** The subscription this deployment wants: the answer, else the one pinned by an earlier run. */
function wanted(ctx: Ctx): string | undefined {
  return ctx.answers.maybe('subscription') ?? loginOf(ctx).subscriptionId;
}

const loginFacts = (acc: AzAccount): AzureLogin => ({ subscriptionId: acc.id, subscriptionName: acc.name, tenantId: acc.tenantId });

function matches(acc: AzAccount, want: string): boolean {
  return acc.id.toLowerCase() === want.toLowerCase() || acc.name.toLowerCase() === want.toLowerCase();
}

/**
 * The subscriptions `want` names: the one with that id, else every one with that name. Names are not
 * unique (two "Pay-As-You-Go" in two tenants): several are listed by the caller, never guessed.
 */
function matching(accounts: readonly AzAccount[], want: string): AzAccount[] {
  const byId = accounts.filter((a) => a.id.toLowerCase() === want.toLowerCase());
  return byId.length ? byId : accounts.filter((a) => a.name.toLowerCase() === want.toLowerCase());
}

export async function currentAccount(ctx: Pick<Context, 'az'>): Promise<AzAccount | undefined> {
  try {
    return await ctx.az.account();
  } catch (e) {
    if (e instanceof AzError && e.kind === 'not-logged-in') return undefined;
    throw e;
  }
}

function describe(acc: AzAccount): string {
  return `${acc.name} (${acc.id})${acc.user?.name ? ` as ${acc.user.name}` : ''}`;
}

export const azureLoginStep = defineStep({
  id: 'azure-login',
  title: 'Azure sign-in and subscription',
  dependsOn: ['tools'],
  /** Before any work: sign in when needed (az login is the user's own), then pick the subscription. */
  async prepare(ctx) {
    let acc = await currentAccount(ctx);
    if (!acc) {
      ctx.log.info(`Not signed in to Azure: running ${ctx.log.c.bold('az login')} first (nothing is created before you confirm the plan).`);
      await ctx.az.login();
      acc = await currentAccount(ctx);
      if (!acc) throw new StepError('Still not signed in to Azure after `az login`.', LOGIN_FIX, 'azure-login');
    }
    if (wanted(ctx)) return;
    const enabled = (await ctx.az.accounts()).filter((a) => a.state === 'Enabled' || a.state === undefined);
    if (enabled.length < 2) return;
    const chosen = await ctx.ui.select(
      `Azure subscription (${howToSet('subscription')} next time)`,
      enabled.map((a) => ({ name: `${a.name} (${a.id})`, value: a.id })),
      enabled.some((a) => a.id === acc.id) ? acc.id : enabled[0]!.id,
    );
    ctx.answers.choose('subscription', chosen);
  },
  async check(ctx: Ctx): Promise<CheckResult> {
    const acc = await currentAccount(ctx);
    if (!acc) return { status: 'missing', summary: 'not signed in to Azure', fix: LOGIN_FIX };
    const want = wanted(ctx);
    if (want && !matches(acc, want)) {
      // Switching az's default is all that is left: later checks read the subscription from these facts.
      const found = matching(await ctx.az.accounts(), want);
      const target = found.length === 1 ? found[0] : undefined;
      return {
        status: 'missing',
        summary: `az is on subscription ${describe(acc)}, this deployment uses ${target ? describe(target) : want}`,
        fix: `az account set --subscription ${want}`,
        ...(target && (target.state ?? 'Enabled') === 'Enabled' ? { anticipated: loginFacts(target) } : {}),
      };
    }
    if (acc.state && acc.state !== 'Enabled') {
      return { status: 'missing', summary: `subscription ${describe(acc)} is ${acc.state}`, fix: 'Use an enabled subscription (--subscription) or re-enable it in the Azure portal.' };
    }
    return { status: 'ok', summary: describe(acc), record: loginFacts(acc) };
  },
  async plan(ctx) {
    const acc = await currentAccount(ctx);
    if (!acc) {
      if (!ctx.ui.interactive) throw new StepError('Not signed in to Azure.', LOGIN_FIX, 'azure-login');
      return [{ action: 'run', what: 'sign in to Azure (opens the browser or shows a device code), then choose the subscription', commands: ['az login'] }];
    }
    return subscriptionChanges(ctx, acc);
  },
  async apply(ctx, changes) {
    for (const ch of changes) {
      if (ch.commands?.[0] === 'az login') {
        await ctx.az.login();
        const acc = await currentAccount(ctx);
        if (!acc) throw new StepError('Still not signed in to Azure after `az login`.', LOGIN_FIX, 'azure-login');
        for (const more of await subscriptionChanges(ctx, acc)) await applySubscription(ctx, more);
        continue;
      }
      await applySubscription(ctx, ch);
    }
  },
});

async function applySubscription(ctx: Ctx, ch: Change): Promise<void> {
  const id = ch.record?.subscriptionId;
  if (typeof id !== 'string') return;
  if (ch.commands?.length) await ctx.az.setAccount(id);
  const acc = await ctx.az.account();
  await ctx.state.setStepData('azure-login', loginFacts(acc));
}

async function subscriptionChanges(ctx: Ctx, acc: AzAccount): Promise<Change[]> {
    const accounts = await ctx.az.accounts();
    // prepare() asked for it in a terminal; otherwise az's current subscription.
    const want = wanted(ctx) ?? acc.id;
    const found = matching(accounts, want);
    if (found.length > 1) {
      throw new UsageError(
        `${found.length} subscriptions are named '${want}': ${found.map(describe).join(', ')}.`,
        `Pass the id of the one you mean with ${howToSet('subscription')}.`,
      );
    }
    const target = found[0];
    if (!target) {
      throw new UsageError(
        `Subscription '${want}' is not among the ${accounts.length} subscriptions az can see.`,
        `List them with \`az account list -o table\` and pass the id or name with ${howToSet('subscription')}.`,
      );
    }
    if (target.state && target.state !== 'Enabled') {
      throw new UsageError(`Subscription ${describe(target)} is ${target.state}.`, `Choose an enabled subscription with ${howToSet('subscription')}.`);
    }
    if (target.id === acc.id) return [{ action: 'set', what: `use subscription ${describe(target)}`, record: { subscriptionId: target.id } }];
    return [
      {
        action: 'set',
        what: `switch az's default subscription to ${describe(target)} (was ${acc.name})`,
        commands: [formatCommand('az', ['account', 'set', '--subscription', target.id])],
        record: { subscriptionId: target.id },
      },
    ];
}
