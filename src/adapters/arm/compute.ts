import { z } from 'zod';
import { ArmError, parse, type ArmClient } from './client.js';

/** Virtual machines: managed Run Commands (how the agents step runs its bootstrap script on the agent VM). */

interface RunCommandsOps {
  createOrUpdate(rg: string, vm: string, name: string, body: Record<string, unknown>): PromiseLike<unknown>;
  getByVirtualMachine(rg: string, vm: string, name: string, opts: { expand: string }): Promise<unknown>;
  delete(rg: string, vm: string, name: string): PromiseLike<unknown>;
}

const instanceViewSchema = z
  .object({ executionState: z.string().nullish(), exitCode: z.number().nullish(), output: z.string().nullish(), error: z.string().nullish() })
  .passthrough();
/** The SDK returns the model flattened (`instanceView` at the top); raw ARM nests it in `properties`. */
const runCommandViewSchema = z
  .object({ instanceView: instanceViewSchema.nullish(), properties: z.object({ instanceView: instanceViewSchema.nullish() }).passthrough().nullish() })
  .passthrough()
  .transform((r) => {
    const v = r.instanceView ?? r.properties?.instanceView;
    return v ? { executionState: v.executionState ?? undefined, exitCode: v.exitCode ?? undefined, output: v.output ?? undefined, error: v.error ?? undefined } : {};
  });

/** What each call needs in Azure RBAC, named in 403 messages. */
const ACTION = {
  runCommandWrite: 'Microsoft.Compute/virtualMachines/runCommands/write',
  runCommandRead: 'Microsoft.Compute/virtualMachines/runCommands/read',
  runCommandDelete: 'Microsoft.Compute/virtualMachines/runCommands/delete',
} as const;

export class ArmCompute {
  constructor(private readonly arm: ArmClient) {}

  /**
   * Runs a script on a VM through a managed Run Command and waits for it. `protectedParameters`
   * travel to Azure over HTTPS only, are never returned by GETs, and reach the script as
   * environment variables on Linux. The caller deletes the run command afterwards.
   */
  async runCommand(
    vmId: string,
    name: string,
    opts: { location: string; script: string; parameters?: Array<{ name: string; value: string }>; protectedParameters?: Array<{ name: string; value: string }>; timeoutInSeconds?: number },
  ): Promise<{ state: string; exitCode?: number; output?: string; error?: string }> {
    const { vm, runCommands, rg } = await this.runCommandsOf(vmId);
    await this.arm.call(`running '${name}' on ${vm}`, ACTION.runCommandWrite, vmId, async () =>
      // The SDK model is flat; it serialises these into the resource's `properties`.
      runCommands.createOrUpdate(rg, vm, name, {
        location: opts.location,
        source: { script: opts.script },
        parameters: opts.parameters ?? [],
        protectedParameters: opts.protectedParameters ?? [],
        asyncExecution: false,
        timeoutInSeconds: opts.timeoutInSeconds ?? 900,
        treatFailureAsDeploymentFailure: false,
      }),
    );
    const got = await this.arm.call(`reading the result of '${name}' on ${vm}`, ACTION.runCommandRead, vmId, () => runCommands.getByVirtualMachine(rg, vm, name, { expand: 'instanceView' }));
    const view: { executionState?: string | undefined; exitCode?: number | undefined; output?: string | undefined; error?: string | undefined } = parse(runCommandViewSchema, got, 'run command');
    return {
      state: view.executionState ?? 'Unknown',
      ...(typeof view.exitCode === 'number' ? { exitCode: view.exitCode } : {}),
      ...(view.output ? { output: view.output } : {}),
      ...(view.error ? { error: view.error } : {}),
    };
  }

  async deleteRunCommand(vmId: string, name: string): Promise<void> {
    const { vm, runCommands, rg } = await this.runCommandsOf(vmId);
    await this.arm.call(`deleting run command '${name}' on ${vm}`, ACTION.runCommandDelete, vmId, async () => runCommands.delete(rg, vm, name), 'null');
  }

  /** The VM's resource group and name, and the SDK's run-command operations in its subscription. */
  private async runCommandsOf(vmId: string): Promise<{ rg: string; vm: string; runCommands: RunCommandsOps }> {
    const { sub, rg, vm } = splitVmId(vmId);
    const client = await this.arm.sdk('compute', sub);
    return { rg, vm, runCommands: (client as unknown as { virtualMachineRunCommands: RunCommandsOps }).virtualMachineRunCommands };
  }
}

function splitVmId(id: string): { sub: string; rg: string; vm: string } {
  const m = /^\/?subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)$/i.exec(id);
  if (!m) throw new ArmError(`'${id}' is not a virtual machine id`, 'InvalidResourceId', {});
  return { sub: m[1]!, rg: m[2]!, vm: m[3]! };
}
