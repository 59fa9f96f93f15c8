// The fake world without vitest, so benchmark scripts can start it too (bench/world.mjs).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FakeArm, type FakeArmWorld } from '../fakes/arm/fake-arm.js';
import { testCert } from '../fakes/arm/certs.js';
import { FakeDevOps } from '../fakes/devops/server.js';
import type { Build, FakeDevOpsOptions, RunCompletion } from '../fakes/devops/types.js';
import { FakeAz } from '../fakes/fake-az.js';
import { FakePrices, type FakePricesOptions } from '../fakes/prices/server.js';
import { FIXTURE_MODULE, TF_SHIM_BIN, terraformShimEnv } from '../fakes/fake-terraform.js';
import { baseEnv, tempWorld } from './cli.js';
import { makeKey } from './keys.js';

/** Canary secrets: tests prove they appear nowhere they must not. Letters and digits only (PAT rules). */
export const PAT = 'canaryPAT7f3a9c2e1b4d6a8f0e2c4b6d';
export const CLIENT_SECRET = 'canarySECRET5e7a9c1b3d5f7a9c1e3b';
export const SUB = '22222222-2222-2222-2222-222222222222';
/** The fake az's second subscription ("Contoso Prod"). */
export const SUB2 = '33333333-3333-3333-3333-333333333333';
export const PREFIX = 'mlops01';
/** The Microsoft Entra token the fake az hands out for Azure DevOps' resource id (fake-az-impl.mjs `account get-access-token`). */
export const DEVOPS_TOKEN = 'fake-token-for-499b84ac1321427faa17267ca6975798';

/** The pipeline's managed identity as the terraform fixture names it (its federated credentials live under it in the fake ARM). */
export const pipelineIdentityId = (sub: string, prefix = PREFIX) => `/subscriptions/${sub}/resourceGroups/rg-${prefix}-ml/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-${prefix}-pipeline`;

/**
 * What Microsoft Entra answers a federated login with while the credential has not propagated yet.
 * Source: Microsoft Entra, "Important considerations and restrictions for federated identity
 * credentials", section "Time for federated credential changes to propagate"
 * (learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations): "A token request
 * made several minutes after configuring the federated identity credential may fail ... with error
 * message: `AADSTS70021: No matching federated identity record found for presented assertion.`"
 */
export const AADSTS70021 = 'AADSTS70021: No matching federated identity record found for presented assertion.';

export interface World {
  home: string;
  cwd: string;
  root: string;
  stateDir: string;
  az: FakeAz;
  arm: FakeArm;
  devops: FakeDevOps;
  /** The Azure Retail Prices API (AZURE_MLOPS_PRICES_URL points at it). */
  prices: FakePrices;
  env: Record<string, string>;
  /** The answers of a full init, for the CLI (flags). */
  args: string[];
  /** The same, for in-process contexts. */
  flags: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * The whole fake world: fake az (first on PATH), fake ARM over HTTPS (its CA via
 * NODE_EXTRA_CA_CERTS for child processes), the fake Azure DevOps server, and the real terraform
 * behind the recording shim on the provider-free fixture module, whose resource groups appear in the
 * fake ARM while they exist (FIXTURE_ARM_DIR). Running the agents' register
 * script on the VM (an ARM run command) brings the agents online in the fake pool when — and only
 * when — the run command carried the right PAT. Terraform's apply of a Managed DevOps Pool (the
 * fixture's ARM PUT) makes its service create the Azure DevOps pool and queue; its destroy removes them.
 */
export async function startWorld(
  opts: {
    az?: Record<string, unknown>;
    arm?: Partial<FakeArmWorld>;
    devops?: FakeDevOpsOptions;
    prices?: FakePricesOptions;
    env?: Record<string, string>;
    /** The name `az cloud show` answers (its endpoints stay the fake ARM's). */
    cloud?: string;
    /**
     * How long Microsoft Entra takes to accept a new federated credential (of a managed identity, in
     * the fake ARM): a run that starts sooner after the credential was written fails its first
     * AzureCLI job with AADSTS70021. Default 0 (at once); Infinity: never.
     */
    propagationMs?: number;
  } = {},
): Promise<World> {
  const w = tempWorld('aml-world-');
  makeKey(join(w.home, '.ssh'), 'id_ed25519');
  const arm = await FakeArm.start(opts.arm);
  // The resource groups terraform's apply creates (with their tags) appear in the fake ARM, and its
  // destroy removes them: the fixture writes them here (FIXTURE_ARM_DIR).
  const armDir = join(w.root, 'arm-resources');
  mkdirSync(armDir, { recursive: true });
  arm.resourceDir = armDir;
  const propagationMs = opts.propagationMs ?? 0;
  // The run's first AzureCLI job signs in with its service connection first: when the connection is
  // federated and the managed identity's credential for its issuer/subject was written less than
  // propagationMs before the run started, Entra refuses the login and that job fails. (Credentials
  // on an app registration live in the fake az's own state: not modelled.)
  const federatedLogin = (build: Build): RunCompletion | undefined => {
    if (!(propagationMs > 0)) return undefined;
    const started = Date.parse(build.startTime ?? build.queueTime);
    for (const stage of build.stages) {
      for (const job of stage.jobs) {
        const use = job.connections.find((c) => /^AzureCLI@/i.test(c.task));
        if (!use) continue;
        const endpoint = devops.world.endpointsOf(build.projectId).find((e) => e.name.toLowerCase() === use.name.toLowerCase() || e.id === use.name.toLowerCase());
        const p = endpoint?.authorization.parameters ?? {};
        if (endpoint?.authorization.scheme !== 'WorkloadIdentityFederation' || !p.workloadIdentityFederationIssuer || !p.workloadIdentityFederationSubject) return undefined;
        const fic = arm.federatedCredentialFor(p.workloadIdentityFederationIssuer, p.workloadIdentityFederationSubject);
        if (!fic || started - fic.writtenAt >= propagationMs) return undefined;
        return { result: 'failed', failedJob: { stage: stage.name, job: job.name }, issues: [{ type: 'error', message: AADSTS70021 }] };
      }
    }
    return undefined;
  };
  // The organization accepts the PAT and the Entra token of the az login (a member, connected to the
  // tenant), unless a test gives another `bearer` (an organization that refuses it).
  const bearer = opts.devops?.bearer ?? DEVOPS_TOKEN;
  const devops = await FakeDevOps.start({ pat: PAT, onRunComplete: federatedLogin, ...opts.devops, bearer });
  const prices = await FakePrices.start(opts.prices);
  // What terraform's apply creates in Azure and later calls address directly.
  for (const sub of [SUB, SUB2]) {
    arm.addResource(`/subscriptions/${sub}/resourceGroups/rg-${PREFIX}-devops/providers/Microsoft.Compute/virtualMachines/vm-${PREFIX}-agents`, { location: 'westeurope', type: 'Microsoft.Compute/virtualMachines' });
    arm.addResource(`/subscriptions/${sub}/resourceGroups/rg-${PREFIX}-ml/providers/Microsoft.MachineLearningServices/workspaces/aml-${PREFIX}`, { location: 'westeurope', type: 'Microsoft.MachineLearningServices/workspaces' });
    arm.addResource(`/subscriptions/${sub}/resourceGroups/rg-${PREFIX}-ml/providers/Microsoft.ContainerService/managedClusters/aks${PREFIX}`, { location: 'westeurope', type: 'Microsoft.ContainerService/managedClusters' });
    arm.addResource(pipelineIdentityId(sub), { location: 'westeurope', type: 'Microsoft.ManagedIdentity/userAssignedIdentities' });
  }
  arm.onRunCommand = (_vmId, body) => {
    const p = Object.fromEntries((body.properties?.parameters ?? []).map((x) => [x.name, x.value]));
    const token = body.properties?.protectedParameters?.find((x) => x.name === 'AZP_TOKEN')?.value;
    // config.sh --auth pat sends the token as a Basic password; Azure DevOps takes a PAT or a Microsoft
    // Entra access token there (agent CredentialProvider.cs PersonalAccessToken; az devops extension
    // services.py sends its Entra token the same way; see terraform/modules/agent-bootstrap).
    if (token !== PAT && token !== bearer) return { exitCode: 1, output: 'config.sh: VS30063: You are not authorized to access the organization.' };
    const existing = new Set(devops.world.agents.map((a) => a.name));
    for (let i = 1; i <= Number(p.AZP_AGENTS); i++) {
      const name = `${p.AZP_AGENT_PREFIX}-${i}`;
      if (!existing.has(name)) devops.addAgent(String(p.AZP_POOL), { name, status: 'online' });
    }
    return { exitCode: 0, output: `registered ${p.AZP_AGENTS} agents` };
  };
  // The Managed DevOps Pools service (--agents-host managed-pool). Terraform's apply of the pool is an
  // ARM PUT (the fixture module sends it to this fake ARM: FIXTURE_ARM_URL below); the service then
  // "creates a corresponding agent pool in your Azure DevOps organization" with the account that
  // created the pool ("Prerequisites for Managed DevOps Pools", Verify Azure DevOps permissions),
  // named like the pool resource (DESIGN.md 2a), and adds it to the projects of the organization
  // profile (to every project when none is named: "Configure security settings", Add pool to all
  // projects); a project it cannot add it to fails the creation (same page). The pool resource's
  // DELETE removes the Azure DevOps pool with its queues.
  arm.onManagedPool = (event, poolId, body) => {
    const name = poolId.split('/').pop()!;
    if (event === 'delete') {
      devops.removePool(name);
      return undefined;
    }
    const org = (body.properties?.organizationProfile?.organizations ?? []).find((o) => o.url.replace(/\/+$/, '').toLowerCase() === devops.orgUrl.replace(/\/+$/, '').toLowerCase());
    if (!org) return undefined; // another organization: not this fake's
    const projects = org.projects?.length ? org.projects : devops.world.projects.filter((p) => p.state === 'wellFormed').map((p) => p.name);
    const unknown = projects.filter((p) => !devops.world.findProject(p));
    if (unknown.length) return { status: 400, code: 'BadRequest', message: `Could not add the pool to the Azure DevOps project(s) ${unknown.join(', ')} of ${org.url}: not found, or you lack the permission.` };
    if (!devops.world.findPool(name)) devops.addPool(name);
    for (const p of projects) devops.addQueue(p, name);
    return undefined;
  };
  const az = new FakeAz({ cloud: arm.cloud(opts.cloud), nextSecret: CLIENT_SECRET, ...opts.az });
  // The fixture module does both: its resource groups as files in armDir (FIXTURE_ARM_DIR), its
  // Managed DevOps Pool as an ARM PUT/DELETE to this fake ARM (FIXTURE_ARM_URL).
  const env = baseEnv(w.home, { ...az.env(), ...terraformShimEnv(w.root), NODE_EXTRA_CA_CERTS: testCert().certFile, FIXTURE_ARM_DIR: armDir, FIXTURE_ARM_URL: arm.url, AZURE_DEVOPS_EXT_PAT: PAT, AZURE_MLOPS_PRICES_URL: prices.url, ...opts.env });
  env.PATH = `${TF_SHIM_BIN}:${env.PATH}`;
  const flags = { prefix: PREFIX, location: 'westeurope', org: devops.orgUrl, project: 'mlops', terraformDir: FIXTURE_MODULE };
  const args = ['--prefix', PREFIX, '--location', 'westeurope', '--org', devops.orgUrl, '--project', 'mlops', '--terraform-dir', FIXTURE_MODULE];
  return {
    ...w,
    stateDir: join(w.cwd, '.azure-mlops'),
    az,
    arm,
    devops,
    prices,
    env,
    args,
    flags,
    stop: async () => {
      await Promise.all([arm.close(), devops.stop(), prices.stop()]);
    },
  };
}

