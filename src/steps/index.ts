import type { Step } from '../engine/types.js';
import { toolsStep } from './tools.js';
import { sshKeyStep } from './ssh-key.js';
import { azureLoginStep } from './azure-login.js';
import { servicePrincipalStep } from './service-principal.js';
import { terraformBackendStep } from './terraform-backend.js';
import { terraformStep } from './terraform.js';

/**
 * The README's steps, in order (DESIGN.md section 1). Each step lists the steps it needs;
 * independent steps run concurrently.
 */
export const steps: readonly Step[] = [toolsStep, sshKeyStep, azureLoginStep, servicePrincipalStep, terraformBackendStep, terraformStep];
