import type { AnswerSet } from './resolve.js';

/**
 * The compute the deployment creates, in one table, for the vCPU quota check (azure-preflight)
 * and the cost estimate (config/cost.ts): one source for the VM sizes and counts.
 *
 * KEEP IN SYNC with the terraform module's variable defaults (terraform/variables.tf:
 * aks_node_count, aks_node_vm_size, agent_vm_size, managed_pool_vm_size, training_vm_size,
 * training_max_nodes, training_low_priority; test/cost/model.test.ts compares them). The preflight only knows what this table says; if terraform's defaults
 * change and this table does not, the quota check asks for the wrong numbers.
 */
export const SIZING_DEFAULTS = {
  /** terraform: aks_node_count */
  aksNodeCount: 3,
  /** terraform: aks_node_vm_size (3 x 4 vCPUs = the 12 vCPUs the seed sized for Azure ML) */
  aksNodeVmSize: 'Standard_D4s_v5',
  /** terraform: agent_vm_size (the --agent-vm-size answer; its default lives in config/fields.ts) */
  agentVmSize: 'Standard_D2s_v5',
  /**
   * terraform: managed_pool_vm_size (--agents-host managed-pool: the size of each machine the
   * Managed DevOps Pool starts for a job; the service's default size, whose family has quota by default)
   */
  managedPoolVmSize: 'Standard_D2ads_v5',
  /** terraform: training_vm_size */
  trainingVmSize: 'Standard_DS3_v2',
  /** terraform: training_max_nodes (the cluster scales down to 0 when idle) */
  trainingMaxNodes: 4,
  /** terraform: training_low_priority */
  trainingLowPriority: true,
  /** terraform/ml_workspace.tf: scale_settings.min_node_count (not a variable) */
  trainingMinNodes: 0,
} as const;

export type VmPriority = 'dedicated' | 'lowPriority';

/**
 * Which quota a VM draws from. VMs and scale sets (AKS nodes, the agent VM) use the Compute
 * provider's regional quota (per VM family + total regional vCPUs). Azure ML compute clusters
 * have their own quota, separate from it (Microsoft.MachineLearningServices usages), and so do a
 * Managed DevOps Pool's machines (Microsoft.DevOpsInfrastructure usages, vCPUs per VM family:
 * "Prerequisites for Managed DevOps Pools", Review Managed DevOps Pools quotas).
 */
export type QuotaPool = 'compute' | 'azureml' | 'managed-devops-pools';

export interface PlannedCompute {
  role: 'aks-nodes' | 'agent-vm' | 'managed-pool' | 'training-cluster';
  /** For messages: "AKS nodes", "agent VM"… */
  what: string;
  vmSize: string;
  /** Nodes / VMs at most (the training cluster's maximum, the managed pool's maximum concurrency). */
  count: number;
  /** Nodes / VMs running when nothing happens (the training cluster's minimum): what a month bills. */
  atRest: number;
  priority: VmPriority;
  pool: QuotaPool;
  /** The terraform variables that set size and count (for fix hints). */
  tfVariables: readonly string[];
}

/**
 * What the deployment will create. vCPUs per size and quota families are resolved later from the
 * region's resource SKUs (ArmAdapter.vmSkus), not hard-coded here. The agents' host decides the
 * second item: one agent VM running all month, or a Managed DevOps Pool of up to --agents machines,
 * none of them running between jobs (no standby agents: the module omits resourcePredictionsProfile).
 */
export function plannedCompute(answers: Pick<AnswerSet, 'maybe'>): PlannedCompute[] {
  const d = SIZING_DEFAULTS;
  const agents: PlannedCompute =
    answers.maybe('agentsHost') === 'managed-pool'
      ? {
          role: 'managed-pool',
          what: 'Managed DevOps Pool agents (maximum concurrency)',
          vmSize: d.managedPoolVmSize,
          count: answers.maybe('agents') ?? 4,
          atRest: 0,
          priority: 'dedicated',
          pool: 'managed-devops-pools',
          tfVariables: ['managed_pool_vm_size', 'num_agents'],
        }
      : {
          role: 'agent-vm',
          what: 'agent VM',
          vmSize: answers.maybe('agentVmSize') ?? d.agentVmSize,
          count: 1,
          atRest: 1,
          priority: 'dedicated',
          pool: 'compute',
          tfVariables: ['agent_vm_size'],
        };
  return [
    {
      role: 'aks-nodes',
      what: 'AKS nodes',
      vmSize: d.aksNodeVmSize,
      count: d.aksNodeCount,
      atRest: d.aksNodeCount,
      priority: 'dedicated',
      pool: 'compute',
      tfVariables: ['aks_node_vm_size', 'aks_node_count'],
    },
    agents,
    {
      role: 'training-cluster',
      what: 'Azure ML training cluster (max nodes)',
      vmSize: d.trainingVmSize,
      count: d.trainingMaxNodes,
      atRest: d.trainingMinNodes,
      priority: d.trainingLowPriority ? 'lowPriority' : 'dedicated',
      pool: 'azureml',
      tfVariables: ['training_vm_size', 'training_max_nodes', 'training_low_priority'],
    },
  ];
}
