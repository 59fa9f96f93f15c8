import type { Step } from '../engine/types.js';
import { toolsStep } from './tools.js';
import { sshKeyStep } from './ssh-key.js';
import { azureLoginStep } from './azure-login.js';
import { servicePrincipalStep } from './service-principal.js';
import { devopsProjectStep } from './devops-project.js';
import { agentPoolStep } from './agent-pool.js';
import { extensionStep } from './extension.js';
import { terraformBackendStep } from './terraform-backend.js';
import { terraformStep } from './terraform.js';
import { agentsStep } from './agents.js';
import { serviceConnectionStep } from './service-connection.js';
import { variableGroupStep } from './variable-group.js';
import { createRepositoryStep } from './repository.js';
import { pipelineStep } from './pipeline.js';
import { createAzurePreflightStep } from './azure-preflight.js';

export interface StepOptions {
  /** --push-to: push the pipeline and ML code to this new branch of a repository that has commits. */
  pushTo?: string | undefined;
  /** --purge-deleted: purge a soft-deleted key vault that holds kv-{prefix}. */
  purgeDeleted?: boolean | undefined;
}

/**
 * The README's steps, in order (DESIGN.md section 1). Each step lists the steps it needs;
 * independent steps run concurrently: the Azure DevOps project, pool, extension and repository are
 * done while terraform applies.
 */
export function buildSteps(opts: StepOptions = {}): Step[] {
  return [
    toolsStep,
    sshKeyStep,
    azureLoginStep,
    servicePrincipalStep,
    createAzurePreflightStep({ purgeDeleted: Boolean(opts.purgeDeleted) }),
    devopsProjectStep,
    agentPoolStep,
    extensionStep,
    terraformBackendStep,
    terraformStep,
    agentsStep,
    serviceConnectionStep,
    variableGroupStep,
    createRepositoryStep(opts.pushTo ? { pushTo: opts.pushTo } : {}),
    pipelineStep,
  ];
}

export const steps: readonly Step[] = buildSteps();
