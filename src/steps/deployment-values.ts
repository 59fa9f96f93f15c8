import { namesFor } from '../config/naming.js';
import type { AgentsHost } from '../config/schema.js';
import { sharedDeploymentId } from '../engine/deployment.js';
import type { Context } from '../engine/types.js';
import { loginOf } from './azure-login.js';
import { backendSettings } from './terraform-backend.js';

/**
 * This deployment's id (src/engine/deployment.ts): the one terraform tags the resource groups with
 * and the Azure DevOps objects' descriptions name. With --state-backend azurerm it follows from the
 * backend (every state dir sharing that terraform state is this deployment); with the local
 * backend it is this state dir's own (state.json `deploymentId`).
 */
export function deploymentId(ctx: Pick<Context, 'state' | 'answers'>): string {
  return ctx.answers.maybe('stateBackend') === 'azurerm' ? sharedDeploymentId(backendSettings(ctx)) : ctx.state.deploymentId;
}

/**
 * What the DevOps side needs from the Azure side: terraform's outputs once it has applied, else
 * the names the module derives from the prefix (plans and dry runs show the same values).
 */
export interface DeploymentValues {
  subscriptionId: string;
  subscriptionName: string;
  tenantId: string;
  resourceGroup: string;
  workspace: string;
  location: string;
  aksCompute: string;
  trainingCompute: string;
  /** true when the values come from terraform outputs (not derived). */
  applied: boolean;
}

export function deploymentValues(ctx: Pick<Context, 'state' | 'answers'>): DeploymentValues {
  const o = ctx.state.data.outputs as Record<string, unknown>;
  const login = loginOf(ctx);
  const n = namesFor(ctx.answers.get('prefix'));
  const str = (k: string, fallback: string) => (typeof o[k] === 'string' && o[k] ? (o[k] as string) : fallback);
  return {
    subscriptionId: str('subscription_id', login.subscriptionId ?? '<subscription>'),
    subscriptionName: login.subscriptionName ?? str('subscription_id', '<subscription>'),
    tenantId: login.tenantId ?? str('tenant_id', '<tenant>'),
    resourceGroup: str('ml_resource_group_name', n.mlResourceGroup),
    workspace: str('workspace_name', n.workspace),
    location: str('workspace_location', ctx.answers.get('location')),
    aksCompute: str('aks_compute_name', 'aks-compute'),
    trainingCompute: str('training_compute_name', 'cpu-cluster'),
    applied: typeof o.workspace_name === 'string',
  };
}

/** Where the pipeline's agents run (--agents-host; deployments from before the option: the VM). */
export function agentsHost(ctx: Pick<Context, 'answers'>): AgentsHost {
  return ctx.answers.maybe('agentsHost') ?? 'vm';
}

/**
 * The Azure DevOps agent pool the pipeline runs on (its queue, the variable group's POOL_NAME, the
 * pushed azdo-variables.yml). The agent VM's: the --pool answer, which the agent-pool step creates.
 * A Managed DevOps Pool's: the pool the service creates, named like the pool resource: terraform's
 * `devops_pool` output once a managed pool is applied, before that the name the module gives it
 * (namesFor().managedPool, which a test keeps equal to terraform/locals.tf), so the repository can be
 * pushed while terraform applies.
 */
export function pipelinePool(ctx: Pick<Context, 'state' | 'answers'>): string {
  if (agentsHost(ctx) !== 'managed-pool') return ctx.answers.get('pool');
  const o = ctx.state.data.outputs as Record<string, unknown>;
  // Outputs of an agent-VM apply (before a switch of host is applied) name the VM's pool.
  if (o.agents_host === 'managed-pool' && typeof o.devops_pool === 'string' && o.devops_pool) return o.devops_pool;
  return namesFor(ctx.answers.get('prefix')).managedPool;
}
