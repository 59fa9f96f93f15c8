import { z } from 'zod';
import { formatCommand } from '../adapters/process.js';
import type { Endpoint } from '../adapters/devops.js';
import { StepError, UsageError } from '../engine/errors.js';
import { createdBy, describedConflict, refusedCheck } from '../engine/deployment.js';
import { createTracked, recordFound } from '../engine/ownership.js';
import type { StateStore } from '../engine/state.js';
import { defineStep, type Change, type CheckResult, type Context } from '../engine/types.js';
import { deploymentId, deploymentValues } from './deployment-values.js';
import { projectIdNamed, projectRefOf } from './devops-project.js';
import { ensureClientSecret, pipelineIdentity, recordedIdentity, type PipelineIdentity } from './service-principal.js';
import { PRE_EXISTING } from '../engine/teardown.js';

/**
 * README: "Create a new service connection of type Azure Resource Manager ... Scope level Machine
 * Learning Workspace ... Name your service connection AzureMLWorkspace."
 *
 * Uses the step-4 identity. `federated` (default): scheme WorkloadIdentityFederation — the
 * connection's issuer and subject are read back from Azure DevOps and added to the identity as a
 * federated credential (audience api://AzureADTokenExchange); no secret exists anywhere. On the
 * default managed identity that credential is an ARM child resource
 * (…/userAssignedIdentities/{name}/federatedIdentityCredentials/{name}); on an app registration it
 * is added with `az ad app federated-credential` (Microsoft Graph).
 * `secret`: scheme ServicePrincipal with the client secret held in memory. An existing connection
 * with other values is updated in place, never duplicated; one whose description names another
 * deployment (src/engine/deployment.ts) is refused, never updated.
 */
type Ctx = Pick<Context, 'devops' | 'answers' | 'state' | 'az' | 'arm' | 'secrets' | 'log' | 'signal'>;

const AUDIENCE = 'api://AzureADTokenExchange';
const ficSchema = z.array(z.object({ id: z.string().optional(), name: z.string(), issuer: z.string(), subject: z.string(), audiences: z.array(z.string()).optional() }).passthrough());

/**
 * The clouds an Azure DevOps `azurerm` connection knows, by the name `az cloud show` gives, with the
 * resource manager URL Azure DevOps pairs with each. Source: Azure DevOps' own endpoint type
 * definitions (GET {org}/_apis/serviceendpoint/types; the 7.1 example
 * ../shared/azure-devops-rest-specs/serviceEndpoint/7.1/httpExamples/endpoints/ListEndpointTypes.json
 * lists environment values AzureCloud, AzureChinaCloud, AzureUSGovernment — plus AzureGermanCloud,
 * which Microsoft closed in 2021 — and maps each to its endpointUrl). az's cloud names are the same
 * (azure-cli `azure/cli/core/cloud.py`: AZURE_PUBLIC_CLOUD 'AzureCloud', AZURE_CHINA_CLOUD
 * 'AzureChinaCloud', AZURE_US_GOV_CLOUD 'AzureUSGovernment').
 */
export const DEVOPS_CLOUDS: Readonly<Record<string, string>> = {
  AzureCloud: 'https://management.azure.com/',
  AzureChinaCloud: 'https://management.chinacloudapi.cn/',
  AzureUSGovernment: 'https://management.usgovcloudapi.net/',
};

export interface DevOpsCloud {
  environment: string;
  url: string;
}

/** The connection's cloud, from the active az cloud (the same `az cloud show` ARM calls use). */
export async function devopsCloud(ctx: Pick<Context, 'arm'>): Promise<DevOpsCloud> {
  const { cloud } = await ctx.arm.endpoint();
  const url = DEVOPS_CLOUDS[cloud];
  if (!url) {
    throw new UsageError(
      `az is set to the cloud '${cloud}', which an Azure DevOps Azure Resource Manager service connection cannot target (it knows ${Object.keys(DEVOPS_CLOUDS).join(', ')}).`,
      `Switch az to one of them (az cloud set --name AzureCloud, then az login), or create the service connection by hand in Project settings > Service connections.`,
    );
  }
  return { environment: cloud, url };
}

/** The endpoint as it should be (without the secret, which is added only when sending). */
export function desiredEndpoint(ctx: Ctx, cloud: DevOpsCloud): Record<string, unknown> {
  const v = deploymentValues(ctx);
  const id = pipelineIdentity(ctx);
  const federated = ctx.answers.get('auth') === 'federated';
  const name = ctx.answers.get('serviceConnection');
  const project = projectRefOf(ctx);
  return {
    name,
    type: 'azurerm',
    url: cloud.url,
    description: `Azure ML workspace ${v.workspace} (${createdBy(deploymentId(ctx))})`,
    owner: 'library',
    isShared: false,
    authorization: {
      scheme: federated ? 'WorkloadIdentityFederation' : 'ServicePrincipal',
      parameters: federated
        ? { tenantid: id.tenantId ?? v.tenantId, serviceprincipalid: id.appId ?? '<client id>' }
        : { tenantid: id.tenantId ?? v.tenantId, serviceprincipalid: id.appId ?? '<client id>', authenticationType: 'spnKey' },
    },
    data: {
      environment: cloud.environment,
      scopeLevel: 'AzureMLWorkspace',
      subscriptionId: v.subscriptionId,
      subscriptionName: v.subscriptionName,
      resourceGroupName: v.resourceGroup,
      mlWorkspaceName: v.workspace,
      mlWorkspaceLocation: v.location,
      creationMode: 'Manual',
    },
    serviceEndpointProjectReferences: [{ projectReference: { id: project.id ?? '<project id>', name: project.name }, name, description: `Azure ML workspace ${v.workspace}` }],
  };
}

/** Fields of the existing endpoint that differ from the wanted ones. */
export function endpointDrift(existing: Endpoint, want: Record<string, unknown>): string[] {
  const w = want as { type: string; authorization: { scheme: string; parameters: Record<string, string> }; data: Record<string, string> };
  const out: string[] = [];
  if ((existing.type ?? '').toLowerCase() !== w.type) out.push(`type ${existing.type} (want ${w.type})`);
  if (existing.authorization?.scheme !== w.authorization.scheme) out.push(`scheme ${existing.authorization?.scheme} (want ${w.authorization.scheme})`);
  for (const k of ['tenantid', 'serviceprincipalid']) {
    if ((existing.authorization?.parameters?.[k] ?? '').toLowerCase() !== (w.authorization.parameters[k] ?? '').toLowerCase()) out.push(`${k}`);
  }
  for (const k of ['environment', 'scopeLevel', 'subscriptionId', 'resourceGroupName', 'mlWorkspaceName', 'mlWorkspaceLocation']) {
    if ((existing.data?.[k] ?? '').toLowerCase() !== (w.data[k] ?? '').toLowerCase()) out.push(`${k} ${existing.data?.[k] ?? '(none)'} (want ${w.data[k]})`);
  }
  return out;
}

/** Where the connection's federated credential lives: on the managed identity (ARM) or on the app (Graph, through az). */
interface FicHome {
  /** For messages: "managed identity id-x-pipeline" / "app azure-mlops-x-pipeline". */
  what: string;
  /** Ownership record of a credential created here (destroy deletes it the same way). */
  meta: Record<string, string>;
  /** The credentials, or null when the identity itself does not exist. */
  list(): Promise<Array<{ issuer: string; subject: string }> | null>;
  create(name: string, issuer: string, subject: string, description: string): Promise<{ id: string }>;
  /** What the plan shows. */
  command(name: string): string;
}

function ficHome(ctx: Ctx, identity: Partial<PipelineIdentity>): FicHome | undefined {
  if (identity.kind === 'managed-identity') {
    const resourceId = identity.resourceId;
    if (!resourceId) return undefined;
    return {
      what: `managed identity ${identity.displayName ?? resourceId.split('/').pop()}`,
      meta: { identityId: resourceId },
      list: () => ctx.arm.identity.federatedCredentials(resourceId),
      create: async (name, issuer, subject) => {
        const fc = await ctx.arm.identity.putFederatedCredential(resourceId, name, { issuer, subject, audiences: [AUDIENCE] });
        return { id: fc.id ?? fc.name };
      },
      command: (name) => `PUT ${resourceId}/federatedIdentityCredentials/${name} (issuer, subject, audience ${AUDIENCE})`,
    };
  }
  const appId = identity.appId;
  if (!appId) return undefined;
  return {
    what: `app ${identity.displayName ?? appId}`,
    meta: { appId },
    list: () => ctx.az.json(['ad', 'app', 'federated-credential', 'list', '--id', appId], ficSchema),
    create: async (name, issuer, subject, description) => {
      const params = JSON.stringify({ name, issuer, subject, audiences: [AUDIENCE], description });
      const fic = await ctx.az.json(['ad', 'app', 'federated-credential', 'create', '--id', appId, '--parameters', params], z.object({ id: z.string().optional(), name: z.string() }).passthrough());
      return { id: fic.id ?? fic.name };
    },
    command: () => formatCommand('az', ['ad', 'app', 'federated-credential', 'create', '--id', appId, '--parameters', `<issuer, subject, audience ${AUDIENCE}>`]),
  };
}

/** What this step records (its state data) once the connection is in place. */
type ConnectionRecord = { endpointId: string };

/** The connection's id, as this step recorded it. */
export function endpointIdOf(ctx: Pick<Context, 'state'>): string | undefined {
  return ctx.state.stepData<ConnectionRecord>('service-connection').endpointId;
}

/** Federated credential names: the connection's id makes them unique per connection (<= 120 characters). */
const ficName = (endpointId: string) => `azure-mlops-${endpointId}`.slice(0, 120);

/**
 * When this deployment created the federated credential of the connection `endpointId` (the time
 * its ownership record holds), or undefined when it did not create one (it was found, or the
 * connection uses a secret). A pipeline run waits on it: see runAndFollow in pipeline.ts.
 */
export function credentialCreatedAt(state: StateStore, endpointId: string | undefined): number | undefined {
  if (!endpointId) return undefined;
  const r = state.resource('federated-credential', ficName(endpointId));
  if (!r?.createdByUs) return undefined;
  const t = Date.parse(r.at);
  return Number.isFinite(t) ? t : undefined;
}

function wif(e: Endpoint): { issuer?: string; subject?: string } {
  const p = e.authorization?.parameters ?? {};
  return { ...(p.workloadIdentityFederationIssuer ? { issuer: p.workloadIdentityFederationIssuer } : {}), ...(p.workloadIdentityFederationSubject ? { subject: p.workloadIdentityFederationSubject } : {}) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What check() found, for plan(). */
export interface ServiceConnectionFacts {
  /** The connection named --service-connection in the project, when there is one. */
  existing?: { id: string };
  /** Its fields that differ from the wanted ones (none when it matches or does not exist). */
  drift: string[];
  /** Federated: the pipeline identity already trusts the connection's issuer and subject. */
  trusted?: boolean;
}

export const serviceConnectionStep = defineStep({
  id: 'service-connection',
  title: 'Service connection to the ML workspace',
  dependsOn: ['devops-project', 'service-principal', 'terraform'],
  async check(ctx: Ctx): Promise<CheckResult<ServiceConnectionFacts>> {
    const name = ctx.answers.get('serviceConnection');
    const project = ctx.answers.get('project');
    const existing = await ctx.devops.findEndpoint(project, name);
    if (!existing) return { status: 'missing', summary: `no service connection '${name}' in '${project}'`, facts: { drift: [] } };
    const conflict = describedConflict(`service connection '${existing.name}'`, existing.description, deploymentId(ctx));
    if (conflict) return refusedCheck(conflict, 'serviceConnection');
    const drift = endpointDrift(existing, desiredEndpoint(ctx, await devopsCloud(ctx)));
    const facts: ServiceConnectionFacts = { existing: { id: existing.id }, drift };
    if (drift.length) return { status: 'missing', summary: `'${name}' points elsewhere: ${drift.join(', ')}`, facts };
    if (ctx.answers.get('auth') === 'federated') {
      const { issuer, subject } = wif(existing);
      const home = ficHome(ctx, pipelineIdentity(ctx));
      if (!issuer || !subject || !home) return { status: 'missing', summary: `'${name}' has no workload identity issuer/subject yet`, facts };
      const fics = await home.list();
      if (fics === null) return { status: 'missing', summary: `the pipeline's ${home.what} does not exist`, fix: 'Run azure-mlops init: terraform recreates it, then this step adds its federated credential.', facts };
      if (!fics.some((f) => f.subject === subject && f.issuer === issuer)) return { status: 'missing', summary: `the ${home.what} has no federated credential for ${subject}`, facts };
      facts.trusted = true;
    }
    if (existing.isReady === false) return { status: 'missing', summary: `'${name}' is not ready yet`, facts };
    return { status: 'ok', summary: `'${name}' → ${deploymentValues(ctx).workspace} (${existing.authorization?.scheme})`, record: { endpointId: existing.id } satisfies ConnectionRecord, facts };
  },
  async plan(ctx, found) {
    const want = desiredEndpoint(ctx, await devopsCloud(ctx)) as { authorization: { scheme: string }; data: Record<string, string> };
    const name = ctx.answers.get('serviceConnection');
    const details = [`scheme ${want.authorization.scheme}, scope AzureMLWorkspace`, ...Object.entries(want.data).filter(([k]) => /Name|Id|Location|environment/.test(k)).map(([k, v]) => `${k} = ${v}`)];
    const existing = found.facts?.existing;
    const changes: Change[] = [];
    // A connection that exists and matches is left as it is: only its trust (below) may be missing.
    if (!existing || found.facts?.drift.length) changes.push({ action: existing ? 'update' : 'create', what: `service connection '${name}' (type azurerm)`, details });
    if (ctx.answers.get('auth') === 'federated' && !found.facts?.trusted) {
      const identity = pipelineIdentity(ctx);
      const home = ficHome(ctx, identity);
      const on = home?.what ?? (identity.kind === 'managed-identity' ? `managed identity ${identity.displayName} (once terraform has created it)` : 'the pipeline app');
      changes.push({ action: 'create', what: `a federated credential on the ${on} for the connection's issuer and subject (no secret anywhere)`, details: [home?.command(ficName(existing?.id ?? endpointIdOf(ctx) ?? '<connection id>')) ?? `audience ${AUDIENCE}`] });
    }
    return changes;
  },
  async apply(ctx) {
    const name = ctx.answers.get('serviceConnection');
    const project = ctx.answers.get('project');
    const identity = pipelineIdentity(ctx);
    if (!deploymentValues(ctx).applied) throw new StepError('terraform outputs are missing from the state', 'Re-run azure-mlops init (the terraform step records them).', 'service-connection');
    if (!identity.appId) {
      throw new StepError(
        identity.kind === 'managed-identity' ? "terraform's outputs name no pipeline managed identity (pipeline_identity_client_id)" : 'the pipeline service principal is not known yet',
        identity.kind === 'managed-identity' ? 'Re-run azure-mlops init; a custom --terraform-dir must have the bundled module\'s pipeline_identity_* outputs.' : 'Re-run azure-mlops init.',
        'service-connection',
      );
    }
    const body = desiredEndpoint(ctx, await devopsCloud(ctx)) as { authorization: { parameters: Record<string, string> } } & Record<string, unknown>;
    const existing = await ctx.devops.findEndpoint(project, name);
    // Another deployment's connection is refused here, before a client secret is made for it.
    const ours = existing
      ? await recordFound(ctx.state, {
          kind: 'service-connection',
          name,
          step: 'service-connection',
          id: existing.id,
          meta: { project },
          owner: { what: `service connection '${existing.name}'`, description: existing.description, deploymentId: deploymentId(ctx), rename: 'serviceConnection' },
        })
      : true;
    // One found there (not ours) keeps its description.
    if (existing && !ours) body.description = existing.description ?? '';
    // The secret goes into the request body only (HTTPS), never into state or logs.
    if (ctx.answers.get('auth') === 'secret') body.authorization.parameters.serviceprincipalkey = await ensureClientSecret(ctx, identity.appId);
    let endpoint: Endpoint;
    if (existing) {
      endpoint = endpointDrift(existing, body).length || ctx.answers.get('auth') === 'secret' ? await ctx.devops.updateEndpoint(existing.id, { ...body, id: existing.id }) : existing;
    } else {
      endpoint = await createTracked(ctx.state, { kind: 'service-connection', name, step: 'service-connection', meta: { project } }, async () => (await ctx.devops.createEndpoint(project, body)).value);
    }
    if (ctx.answers.get('auth') === 'federated') {
      let { issuer, subject } = wif(endpoint);
      if (!issuer || !subject) ({ issuer, subject } = wif((await ctx.devops.getEndpoint(project, endpoint.id)) ?? endpoint));
      if (!issuer || !subject) throw new StepError(`Azure DevOps did not return the workload identity issuer/subject of '${name}'`, 'Re-run azure-mlops init; if it persists, check the connection in Project settings > Service connections.', 'service-connection');
      const home = ficHome(ctx, identity);
      if (!home) throw new StepError("terraform's outputs name no pipeline managed identity (pipeline_identity_id)", 'Re-run azure-mlops init; a custom --terraform-dir must have the bundled module\'s pipeline_identity_* outputs.', 'service-connection');
      const fics = await home.list();
      if (fics === null) throw new StepError(`the pipeline's ${home.what} does not exist`, 'Re-run azure-mlops init: terraform recreates it.', 'service-connection');
      if (!fics.some((f) => f.subject === subject && f.issuer === issuer)) {
        const fname = ficName(endpoint.id);
        await createTracked(ctx.state, { kind: 'federated-credential', name: fname, step: 'service-connection', meta: home.meta }, () =>
          home.create(fname, issuer!, subject!, `Azure DevOps service connection ${name} (${project})`),
        );
      }
    }
    // Wait until Azure DevOps reports the connection ready (it verifies it asynchronously).
    for (let i = 0; i < 30 && !ctx.signal.aborted; i++) {
      const cur = await ctx.devops.getEndpoint(project, endpoint.id);
      if (cur?.isReady !== false) break;
      await sleep(Math.min(2000, 200 * 2 ** i));
    }
  },
  teardown: {
    owns: { 'service-connection': 'service connection', 'federated-credential': 'federated credential' },
    async plan(kit) {
      const { devops, answers, arm, az } = kit.ctx;
      const found = { step: 'service-connection' as const, name: answers.maybe('serviceConnection'), id: endpointIdOf(kit.ctx), meta: kit.projectMeta() };
      for (const r of kit.recordsOrFound('service-connection', found)) {
        if (!r.createdByUs) kit.keep(r, PRE_EXISTING);
        else
          kit.del(r, {
            run: async (a) => {
              const project = kit.projectOf(r);
              const id = await kit.idOf(a, async () => (await devops.findEndpoint(project, r.name))?.id);
              const pid = id ? await projectIdNamed(kit.ctx, project) : undefined;
              if (!id || !pid) return 'gone';
              await devops.deleteEndpoint(id, [pid]);
              return 'deleted';
            },
          });
      }
      // Its trust on the pipeline identity: the identity's other credentials stay.
      const appOfStep = recordedIdentity(kit.ctx).appId;
      for (const r of kit.records('federated-credential')) {
        if (!r.createdByUs) kit.keep(r, PRE_EXISTING);
        else
          kit.del(r, {
            reason: `trust of the service connection on ${r.meta?.identityId ? `managed identity ${r.meta.identityId.split('/').pop()}` : `app ${r.meta?.appId ?? appOfStep ?? '?'}`}`,
            run: async () => {
              // On the pipeline's managed identity: an ARM child resource, by its name.
              if (r.meta?.identityId) return (await arm.identity.deleteFederatedCredential(r.meta.identityId, r.name)) ? 'deleted' : 'gone';
              const appId = r.meta?.appId ?? appOfStep;
              if (!appId) return 'gone';
              // By id, or by name when the create was interrupted (az takes either).
              return (await az.deleteFederatedCredential(appId, r.id || r.name)) ? 'deleted' : 'gone';
            },
          });
      }
    },
  },
});
