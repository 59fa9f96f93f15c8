import type { AzAdapter } from './az.js';

/**
 * Azure Resource Manager through the Azure SDKs, with one token from the existing az login.
 * (Filled in by the preflight work; see issue 4.)
 */
export class ArmAdapter {
  constructor(readonly az: AzAdapter) {}
}
