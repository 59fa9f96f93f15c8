import { z } from 'zod';
import { ArmError, parse, type ArmClient } from './client.js';

/** Resource providers of a subscription: their registration state, registering one and waiting for it. */

export type RegistrationState = 'Registered' | 'Registering' | 'NotRegistered' | 'Unregistering' | 'Unregistered' | 'Unknown' | (string & {});

const providerSchema = z.object({ namespace: z.string().optional(), registrationState: z.string().optional() }).passthrough();

/** What each call needs in Azure RBAC, named in 403 messages. */
const ACTION = {
  providerRead: 'Microsoft.Resources/subscriptions/providers/read',
  providerRegister: (ns: string) => `${ns}/register/action`,
} as const;

export class ArmProviders {
  constructor(private readonly arm: ArmClient) {}

  /** registrationState of each namespace (`NotFound` when the subscription does not know it). */
  async providerStates(subscriptionId: string, namespaces: readonly string[]): Promise<Record<string, RegistrationState>> {
    const client = await this.arm.sdk('resources', subscriptionId);
    const entries = await Promise.all(
      namespaces.map(async (ns) => {
        const p = await this.arm.call(`reading resource provider ${ns}`, ACTION.providerRead, `/subscriptions/${subscriptionId}`, () => client.providers.get(ns), 'null');
        if (p === null) return [ns, 'NotFound'] as const;
        return [ns, parse(providerSchema, p, `resource provider ${ns}`).registrationState ?? 'Unknown'] as const;
      }),
    );
    return Object.fromEntries(entries);
  }

  /**
   * Registers a provider and waits until it is `Registered`, bounded by registerTimeoutMs. Returns
   * the last state seen.
   */
  async registerProvider(subscriptionId: string, namespace: string): Promise<RegistrationState> {
    const client = await this.arm.sdk('resources', subscriptionId);
    const scope = `/subscriptions/${subscriptionId}`;
    const first = await this.arm.call(`registering resource provider ${namespace}`, ACTION.providerRegister(namespace), scope, () => client.providers.register(namespace));
    const state: RegistrationState = parse(providerSchema, first, `resource provider ${namespace}`).registrationState ?? 'Unknown';
    if (state === 'Registered') return state;
    return this.waitForProvider(subscriptionId, namespace);
  }

  /** Polls until the provider is `Registered` (bounded by registerTimeoutMs); returns the state. */
  async waitForProvider(subscriptionId: string, namespace: string): Promise<RegistrationState> {
    const { registerTimeoutMs, pollIntervalMs } = this.arm.settings;
    const until = Date.now() + registerTimeoutMs;
    let state: RegistrationState = (await this.providerStates(subscriptionId, [namespace]))[namespace] ?? 'Unknown';
    while (state !== 'Registered') {
      if (Date.now() >= until) {
        throw new ArmError(`resource provider ${namespace} is still ${state} after ${Math.round(registerTimeoutMs / 1000)} s`, 'RegistrationTimeout', {});
      }
      await new Promise((r) => setTimeout(r, pollIntervalMs));
      state = (await this.providerStates(subscriptionId, [namespace]))[namespace] ?? 'Unknown';
    }
    return state;
  }
}
