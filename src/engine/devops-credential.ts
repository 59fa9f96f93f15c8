import type { AnswerSet } from '../config/resolve.js';
import type { AzAdapter } from '../adapters/az.js';
import { DEVOPS_RESOURCE, type DevOpsAuth } from '../adapters/devops.js';
import type { Redactor } from '../ui/redact.js';
import type { Secrets } from './secrets.js';

/**
 * Which credential Azure DevOps gets, and when (README "Azure DevOps credentials").
 *
 * Microsoft's guidance is to prefer Microsoft Entra tokens over personal access tokens, and new
 * Entra-backed organizations restrict PAT creation by default. So, unless `--devops-auth` forces one:
 * a PAT when one is given (AZURE_DEVOPS_EXT_PAT or --pat-stdin), otherwise a Microsoft Entra access
 * token from the az login for Azure DevOps' resource id (`az account get-access-token --resource
 * 499b84ac-1321-427f-aa17-267ca6975798`, one az process), taken again before it expires during a
 * long run. When the organization refuses the Entra token (not connected to the tenant, or the user
 * is not a member), the devops-project step explains it and, in a terminal only, asks for a PAT:
 * `usePat()` switches to it for the rest of the run.
 */
export type DevOpsCredentialKind = 'pat' | 'entra';

/** Minimum life left on an Entra token handed out (a request, or the agents' registration). */
const MIN_LIFETIME_MS = 10 * 60_000;

export class DevOpsCredential {
  private switched = false;
  private token: { value: string; expiresOnTimestamp: number } | undefined;

  constructor(
    private readonly o: { answers: AnswerSet; secrets: Secrets; az: AzAdapter; redactor: Redactor },
  ) {}

  /** --devops-auth was not given: the credential is chosen as the file comment says. */
  get automatic(): boolean {
    return this.o.answers.maybe('devopsAuth') === undefined;
  }

  get kind(): DevOpsCredentialKind {
    const forced = this.o.answers.maybe('devopsAuth');
    if (forced) return forced;
    return this.switched || this.o.secrets.hasPat ? 'pat' : 'entra';
  }

  /** Whether a credential is there without asking anyone (doctor never asks). */
  get availableWithoutPrompt(): boolean {
    return this.kind === 'entra' || this.o.secrets.hasPat;
  }

  /** The organization refused the Entra token and a PAT will be used from now on. */
  usePat(): void {
    this.switched = true;
  }

  /** For the Azure DevOps client: a PAT (Basic) or the Entra token (Bearer) with its expiry. */
  async auth(why: string): Promise<DevOpsAuth> {
    if (this.kind === 'pat') return { kind: 'pat', pat: await this.o.secrets.pat(why) };
    const t = await this.entraToken();
    return { kind: 'bearer', token: t.value, expiresOnTimestamp: t.expiresOnTimestamp };
  }

  /**
   * The token the agent VM's register script gets (run command protected parameter AZP_TOKEN):
   * the PAT, or an Entra access token with at least 10 minutes left. The script passes either to
   * `config.sh --auth pat` (see terraform/modules/agent-bootstrap); the agents keep their own
   * credentials afterwards, so the token is needed only while they register.
   */
  async registrationToken(why: string): Promise<string> {
    if (this.kind === 'pat') return this.o.secrets.pat(why);
    return (await this.entraToken()).value;
  }

  private async entraToken(): Promise<{ value: string; expiresOnTimestamp: number }> {
    if (this.token && this.token.expiresOnTimestamp - Date.now() > MIN_LIFETIME_MS) return this.token;
    const t = await this.o.az.accessToken(DEVOPS_RESOURCE);
    this.o.redactor.add(t.token);
    this.token = { value: t.token, expiresOnTimestamp: t.expiresOnTimestamp };
    return this.token;
  }
}
