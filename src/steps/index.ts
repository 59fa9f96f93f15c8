import type { Step } from '../engine/types.js';
import { toolsStep } from './tools.js';
import { sshKeyStep } from './ssh-key.js';
import { azureLoginStep } from './azure-login.js';
import { servicePrincipalStep } from './service-principal.js';
import { devopsProjectStep } from './devops-project.js';
import { createAgentPoolStep } from './agent-pool.js';
import { extensionStep } from './extension.js';
import { terraformBackendStep } from './terraform-backend.js';
import { terraformStep } from './terraform.js';
import { agentsStep } from './agents.js';
import { serviceConnectionStep } from './service-connection.js';
import { variableGroupStep } from './variable-group.js';
import { createRepositoryStep } from './repository.js';
import { pipelineStep } from './pipeline.js';
import { createAzurePreflightStep } from './azure-preflight.js';
import type { AgentsHost } from '../config/schema.js';

export interface StepOptions {
  /** --push-to: push the pipeline and ML code to this new branch of a repository that has commits. */
  pushTo?: string | undefined;
  /** --purge-deleted: purge a soft-deleted key vault that holds kv-{prefix}. */
  purgeDeleted?: boolean | undefined;
  /** --agents-host, from the resolved answers (default: the agent VM). */
  agentsHost?: AgentsHost | undefined;
}

/**
 * The README's steps, in order (DESIGN.md section 1). Each step lists the steps it needs;
 * independent steps run concurrently: the Azure DevOps project, pool, extension and repository are
 * done while terraform applies.
 *
 * With a Managed DevOps Pool (--agents-host managed-pool) the service creates the Azure DevOps pool
 * when terraform creates the pool resource, for the project of its organization profile: terraform
 * then waits for the project, the agent-pool step comes after terraform and only finds the pool, and
 * no agents step runs at all (the service registers its agents itself). `destroy` always plans with
 * the agent-VM list (every step, in the same order whatever --agents-host says now): each teardown
 * works from its own records, so agents an earlier agent-VM run registered are still deleted by id
 * after a switch, and the order never depends on the environment.
 */
export function buildSteps(opts: StepOptions = {}): Step[] {
  const managed = opts.agentsHost === 'managed-pool';
  const agentPool = createAgentPoolStep(managed ? 'managed-pool' : 'vm');
  const terraform = managed ? { ...terraformStep, dependsOn: [...terraformStep.dependsOn, 'devops-project' as const] } : terraformStep;
  return [
    toolsStep,
    sshKeyStep,
    azureLoginStep,
    servicePrincipalStep,
    createAzurePreflightStep({ purgeDeleted: Boolean(opts.purgeDeleted) }),
    devopsProjectStep,
    ...(managed ? [] : [agentPool]),
    extensionStep,
    terraformBackendStep,
    terraform,
    ...(managed ? [agentPool] : []),
    ...(managed ? [] : [agentsStep]),
    serviceConnectionStep,
    variableGroupStep,
    createRepositoryStep(opts.pushTo ? { pushTo: opts.pushTo } : {}),
    pipelineStep,
  ];
}

export const steps: readonly Step[] = buildSteps();
