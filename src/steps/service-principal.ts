import { z } from 'zod';
import { formatCommand } from '../adapters/process.js';
import { StepError } from '../engine/errors.js';
import { createTracked, recordFound } from '../engine/ownership.js';
import { defineStep, type Change, type CheckResult, type Context } from '../engine/types.js';
import { namesFor } from '../config/naming.js';
import { PRE_EXISTING } from '../engine/teardown.js';
import { tenantOf } from './azure-login.js';

/**
 * README: "az ad sp create-for-rbac --skip-assignment" + "az ad sp show --query objectId".
 *
 * The pipeline's identity (the Azure DevOps service connection's), one of two kinds
 * (`--pipeline-identity`):
 *
 * `managed-identity` (default): a user-assigned managed identity, id-{prefix}-pipeline, that
 * terraform creates in the ML resource group with its one role. This step then creates nothing:
 * the seed's "create a service principal" is done by terraform, and needs no Microsoft Entra
 * directory rights (many tenants forbid users to register apps). Azure DevOps federates with a
 * managed identity like with an app; its federated credential is an Azure resource under the
 * identity, so reading and writing it needs only the ARM token (doctor: no Microsoft Graph).
 *
 * `app-registration` (with --auth secret, --sp-name, or asked for): an app registration + its service principal, with NO role assignment
 * (terraform grants it scoped roles in the ML resource group from its object id). Instead of
 * create-for-rbac (whose --skip-assignment is deprecated and a no-op on az >= 2.37, and which
 * always mints a secret) this runs `az ad app create` + `az ad sp create`, which never assign a
 * role on any az version, and reuses an existing app by display name.
 * az >= 2.37 (Microsoft Graph) returns the object id as `id`; older az as `objectId`: both are read.
 *
 * Auth `federated` (default): no secret is ever created; the service-connection step adds a
 * federated credential. Auth `secret`: a client secret is added (`credential reset --append`, which
 * keeps the app's other credentials), held in memory only and handed to the service-connection step.
 */

type Ctx = Pick<Context, 'az' | 'answers' | 'state' | 'secrets' | 'log'>;

const adObject = z
  .object({ appId: z.string(), displayName: z.string().nullish(), id: z.string().optional(), objectId: z.string().optional() })
  .passthrough()
  .transform((o) => ({ appId: o.appId, displayName: o.displayName ?? '', objectId: (o.id ?? o.objectId) as string }))
  .refine((o) => Boolean(o.objectId), 'no id/objectId in az output');

const secretOutput = z.object({ password: z.string().min(1), appId: z.string(), tenant: z.string().optional() });

export const SECRET_DISPLAY_NAME = 'azure-mlops';

export type PipelineIdentityKind = 'managed-identity' | 'app-registration';

export interface PipelineIdentity {
  kind: PipelineIdentityKind;
  /** Client id: the app's appId, or the managed identity's client id (the connection's serviceprincipalid). */
  appId: string;
  appObjectId: string;
  objectId: string; // the service principal's object id
  tenantId: string;
  displayName: string;
  /** Managed identity only: its resource id, parent of the federated credential. */
  resourceId?: string;
}

/** Several app registrations answer to the name: which one is ours cannot be told. */
export function ambiguous(facts: ServicePrincipalFacts | undefined): boolean {
  return (facts?.apps.length ?? 0) > 1;
}

export function identityKind(ctx: Pick<Context, 'answers'>): PipelineIdentityKind {
  return ctx.answers.get('pipelineIdentity');
}

/**
 * What this step recorded (its state data): all of an app registration; of a managed identity, its
 * kind, tenant and name (terraform's outputs hold the rest: read it with pipelineIdentity()).
 */
export function recordedIdentity(ctx: Pick<Context, 'state'>): Partial<PipelineIdentity> {
  return ctx.state.stepData<PipelineIdentity & Record<string, unknown>>('service-principal');
}

/**
 * The identity for terraform and the service connection: as recorded by this step (app), or from
 * terraform's outputs (managed identity; empty until terraform has applied).
 */
export function pipelineIdentity(ctx: Pick<Context, 'state' | 'answers'>): Partial<PipelineIdentity> {
  const recorded = recordedIdentity(ctx);
  if (identityKind(ctx) === 'app-registration') return { ...recorded, kind: 'app-registration' };
  const o = (ctx.state.data.outputs ?? {}) as Record<string, unknown>;
  const out = (k: string) => (typeof o[k] === 'string' && o[k] ? (o[k] as string) : undefined);
  const prefix = ctx.answers.maybe('prefix');
  const known = {
    displayName: prefix ? namesFor(prefix).pipelineIdentity : undefined,
    tenantId: recorded.tenantId ?? out('tenant_id'),
    appId: out('pipeline_identity_client_id'),
    objectId: out('pipeline_principal_id'),
    resourceId: out('pipeline_identity_id'),
  };
  return { kind: 'managed-identity', ...Object.fromEntries(Object.entries(known).filter(([, v]) => v)) };
}

/**
 * Makes sure a client secret is in memory (auth mode `secret`). A resumed run that no longer has
 * it adds a new one with --append — never wiping the app's other credentials.
 */
export async function ensureClientSecret(ctx: Pick<Context, 'az' | 'secrets' | 'state'>, appId: string): Promise<string> {
  if (ctx.secrets.clientSecret) return ctx.secrets.clientSecret;
  const out = await ctx.az.json(['ad', 'app', 'credential', 'reset', '--id', appId, '--append', '--display-name', SECRET_DISPLAY_NAME, '--years', '1'], secretOutput, { secretStdout: true });
  ctx.secrets.setClientSecret(out.password);
  await ctx.state.addHistory('client-secret-added', `app ${appId}`);
  return out.password;
}

/** What check() found, for plan() (and doctor). */
export interface ServicePrincipalFacts {
  /**
   * The app registrations named exactly --sp-name (app-registration only). More than one: which
   * is ours cannot be told, and nothing proceeds.
   */
  apps: Array<{ appId: string }>;
}

export const servicePrincipalStep = defineStep({
  id: 'service-principal',
  title: 'Pipeline identity',
  dependsOn: ['azure-login'],
  async check(ctx: Ctx): Promise<CheckResult<ServicePrincipalFacts>> {
    if (identityKind(ctx) === 'managed-identity') {
      // Nothing to create here: terraform creates the identity with its role (see the file comment).
      const n = namesFor(ctx.answers.get('prefix'));
      const tenantId = await tenantOf(ctx);
      return {
        status: 'ok',
        summary: `managed identity ${n.pipelineIdentity}, created by terraform in ${n.mlResourceGroup} (no app registration)`,
        record: { kind: 'managed-identity', tenantId, displayName: n.pipelineIdentity } satisfies Partial<PipelineIdentity>,
      };
    }
    const name = ctx.answers.get('spName');
    const apps = await ctx.az.appsByName(name);
    const facts = { apps: apps.map((a) => ({ appId: a.appId })) };
    if (apps.length > 1) {
      return {
        status: 'missing',
        summary: `${apps.length} app registrations are named '${name}' (${apps.map((a) => a.appId).join(', ')})`,
        fix: `Delete the extra ones (az ad app delete --id <appId>) or choose another name with --sp-name (env AZURE_MLOPS_SP_NAME).`,
        facts,
      };
    }
    const app = apps[0];
    if (!app) return { status: 'missing', summary: `no app registration named '${name}'`, facts };
    const sp = await ctx.az.servicePrincipalOf(app.appId);
    if (!sp) return { status: 'missing', summary: `app '${name}' (${app.appId}) has no service principal`, facts };
    const tenantId = await tenantOf(ctx);
    return {
      status: 'ok',
      summary: `${name} (app ${app.appId}, object ${sp.objectId})`,
      record: { kind: 'app-registration', appId: app.appId, appObjectId: app.objectId, objectId: sp.objectId, tenantId, displayName: name } satisfies PipelineIdentity,
      facts,
    };
  },
  async plan(ctx, found) {
    // The managed identity is terraform's (its check is ok at once); nothing is planned here for it.
    if (identityKind(ctx) === 'managed-identity') return [];
    const name = ctx.answers.get('spName');
    if (ambiguous(found.facts)) throw new StepError(found.summary, found.fix, 'service-principal');
    // Not checked (it waits for the sign-in): nothing known yet, so the plan shows both creates.
    const apps = found.facts?.apps ?? [];
    const changes: Change[] = [];
    if (!apps[0]) changes.push({ action: 'create', what: `app registration '${name}' (no role assignment)`, commands: [formatCommand('az', ['ad', 'app', 'create', '--display-name', name])] });
    changes.push({ action: 'create', what: `its service principal`, commands: [formatCommand('az', ['ad', 'sp', 'create', '--id', apps[0]?.appId ?? '<appId>'])] });
    if (ctx.answers.get('auth') === 'secret') {
      changes.push({
        action: 'create',
        what: 'a client secret, kept in memory only (never written anywhere)',
        commands: [formatCommand('az', ['ad', 'app', 'credential', 'reset', '--id', apps[0]?.appId ?? '<appId>', '--append', '--display-name', SECRET_DISPLAY_NAME, '--years', '1'])],
      });
    }
    return changes;
  },
  async apply(ctx) {
    const name = ctx.answers.get('spName');
    let app = (await ctx.az.appsByName(name))[0];
    if (app) {
      await recordFound(ctx.state, { kind: 'entra-app', name, step: 'service-principal', id: app.appId });
    } else {
      app = await createTracked(ctx.state, { kind: 'entra-app', name, step: 'service-principal' }, async () => {
        const a = await ctx.az.json(['ad', 'app', 'create', '--display-name', name], adObject);
        return { ...a, id: a.appId };
      });
    }
    let sp = await ctx.az.servicePrincipalOf(app.appId);
    if (sp) {
      await recordFound(ctx.state, { kind: 'entra-sp', name, step: 'service-principal', id: sp.objectId, meta: { appId: app.appId } });
    } else {
      const appId = app.appId;
      sp = await createTracked(ctx.state, { kind: 'entra-sp', name, step: 'service-principal', meta: { appId } }, async () => {
        const s = await ctx.az.json(['ad', 'sp', 'create', '--id', appId], adObject);
        return { ...s, id: s.objectId };
      });
    }
    ctx.az.invalidate();
    const tenantId = await tenantOf(ctx);
    await ctx.state.setStepData('service-principal', { kind: 'app-registration', appId: app.appId, appObjectId: app.objectId, objectId: sp.objectId, tenantId, displayName: name } satisfies PipelineIdentity);
    if (ctx.answers.get('auth') === 'secret') await ensureClientSecret(ctx, app.appId);
  },
  teardown: {
    owns: { 'entra-app': 'app registration', 'entra-sp': 'service principal' },
    async plan(kit) {
      const { az, answers } = kit.ctx;
      const d = recordedIdentity(kit.ctx);
      const name = d.displayName ?? answers.maybe('spName');
      const app = kit.recordsOrFound('entra-app', { step: 'service-principal', name, id: d.appId })[0];
      const sp = kit.recordsOrFound('entra-sp', { step: 'service-principal', name, id: d.objectId, ...(d.appId ? { meta: { appId: d.appId } } : {}) })[0];
      if (app) {
        if (!app.createdByUs) kit.keep(app, PRE_EXISTING);
        else {
          const withSp = sp && (sp.createdByUs || sp.meta?.appId === app.id) ? [sp] : [];
          kit.del(app, {
            reason: withSp.length ? 'its service principal goes with it' : undefined,
            records: [app, ...withSp],
            run: async (a) => {
              const appId = await kit.idOf(a, async () => {
                const apps = await az.appsByName(app.name);
                if (apps.length > 1) throw new StepError(`${apps.length} app registrations are named '${app.name}' (${apps.map((x) => x.appId).join(', ')}); destroy cannot tell which one init created`, `Delete the right one yourself (az ad app delete --id <appId>), then re-run \`azure-mlops destroy\`.`);
                return apps[0]?.appId;
              });
              if (!appId) return 'gone';
              return (await az.deleteApp(appId)) ? 'deleted' : 'gone';
            },
          });
        }
      }
      if (sp && !app?.createdByUs) {
        if (!sp.createdByUs) kit.keep(sp, PRE_EXISTING);
        else
          kit.del(sp, {
            run: async (a) => {
              const appId = sp.meta?.appId ?? app?.id;
              const id = await kit.idOf(a, async () => (appId ? (await az.servicePrincipalOf(appId))?.objectId : undefined));
              if (!id) return 'gone';
              return (await az.deleteServicePrincipal(id)) ? 'deleted' : 'gone';
            },
          });
      }
    },
  },
});
