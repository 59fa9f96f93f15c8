import { z } from 'zod';
import { ExternalError } from '../engine/errors.js';
import { formatCommand, runAttached, type ProcessRunner, type RunOptions } from './process.js';

/**
 * The Azure CLI, run as few times as possible: every call is `-o json --only-show-errors`, parsed
 * through a zod schema, and read-only results are cached for the run. The adapter knows the
 * output differences between az versions (object id is `id` from az 2.37, `objectId` before).
 */

export class AzError extends ExternalError {
  constructor(
    message: string,
    readonly kind: 'not-logged-in' | 'not-found' | 'forbidden' | 'failed',
    details: ConstructorParameters<typeof ExternalError>[1],
  ) {
    super(message, details);
    this.name = 'AzError';
  }
}

export const accountSchema = z.object({
  id: z.string(),
  name: z.string(),
  tenantId: z.string(),
  state: z.string().optional(),
  isDefault: z.boolean().optional(),
  user: z.object({ name: z.string(), type: z.string() }).partial().optional(),
});
export type AzAccount = z.infer<typeof accountSchema>;

const versionSchema = z.object({ 'azure-cli': z.string() }).passthrough();

/** First `ERROR:` line of az's stderr, without the prefix. */
export function azErrorMessage(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const err = lines.find((l) => l.startsWith('ERROR:'));
  return (err ? err.slice('ERROR:'.length).trim() : lines.at(-1)) ?? 'az failed without a message';
}

export function classifyAzError(stderr: string): AzError['kind'] {
  if (/az login|AADSTS(50173|700082|70043|50078|50076)|refresh token has expired|not logged in/i.test(stderr)) return 'not-logged-in';
  if (/ResourceNotFound|does not exist|not found|NotFound|Request_ResourceNotFound/i.test(stderr)) return 'not-found';
  if (/AuthorizationFailed|Authorization_RequestDenied|Insufficient privileges|Forbidden/i.test(stderr)) return 'forbidden';
  return 'failed';
}

/** Directory roles that may register applications (role template ids). */
const APP_ROLES = new Set([
  '62e90394-69f5-4237-9190-012177145e10', // Global Administrator
  '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3', // Application Administrator
  '158c047a-c907-4556-b7ef-446551a6b5f7', // Cloud Application Administrator
  'cf1c38e5-3621-4004-a7cb-879624dced7c', // Application Developer
]);

export class AzAdapter {
  private cache = new Map<string, Promise<unknown>>();

  constructor(
    private readonly proc: ProcessRunner,
    readonly file = 'az',
    /** Longest an az command may take (AZURE_MLOPS_AZ_TIMEOUT_MS; default 5 minutes). */
    private readonly timeoutMs = 300_000,
  ) {}

  /** Environment that keeps az non-interactive and quiet. */
  private static readonly ENV = {
    // never prompt to install an extension (that would hang in CI)
    AZURE_EXTENSION_USE_DYNAMIC_INSTALL: 'no',
    AZURE_CORE_NO_COLOR: 'true',
    AZURE_CORE_COLLECT_TELEMETRY: 'false',
    AZURE_CORE_SURVEY_MESSAGE: 'false',
  };

  /** Runs `az <args> -o json --only-show-errors` and parses stdout with `schema`. */
  async json<T>(args: readonly string[], schema: z.ZodType<T>, opts: RunOptions = {}): Promise<T> {
    const full = [...args, '-o', 'json', '--only-show-errors'];
    const r = await this.proc.run(this.file, full, { timeoutMs: this.timeoutMs, ...opts, env: { ...AzAdapter.ENV, ...opts.env } });
    if (r.timedOut) throw new AzError(`az ${args.slice(0, 3).join(' ')} did not finish within ${Math.round(this.timeoutMs / 1000)} s`, 'failed', { command: r.command });
    if (r.exitCode !== 0) {
      const message = azErrorMessage(r.stderr);
      throw new AzError(`az ${args.slice(0, 3).join(' ')} failed: ${message}`, classifyAzError(r.stderr), {
        command: r.command,
        exitCode: r.exitCode,
        stderr: r.stderr,
      });
    }
    const text = r.stdout.trim();
    let parsed: unknown;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      throw new AzError(`az ${args.slice(0, 3).join(' ')} printed something that is not JSON`, 'failed', { command: r.command });
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new AzError(
        `az ${args.slice(0, 3).join(' ')} returned an unexpected shape (${issue?.path.join('.') || 'root'}: ${issue?.message})`,
        'failed',
        { command: r.command },
      );
    }
    return result.data;
  }

  /**
   * Same as json() but cached for the lifetime of this adapter (read-only commands only). An answer
   * `keep` refuses is not kept (the next call asks again), nor is a failure.
   */
  cached<T>(args: readonly string[], schema: z.ZodType<T>, keep: (value: T) => boolean = () => true): Promise<T> {
    const key = args.join('\u0000');
    let p = this.cache.get(key) as Promise<T> | undefined;
    if (!p) {
      const made = this.json(args, schema);
      p = made;
      this.cache.set(key, made);
      made.then(
        (v) => {
          if (!keep(v) && this.cache.get(key) === made) this.cache.delete(key);
        },
        () => {
          if (this.cache.get(key) === made) this.cache.delete(key);
        },
      );
    }
    return p;
  }

  /** Forget cached reads (after a mutating command). */
  invalidate(): void {
    this.cache.clear();
  }

  async version(): Promise<string> {
    const v = await this.cached(['version'], versionSchema);
    return v['azure-cli'];
  }

  /** az >= 2.37 talks to Microsoft Graph and returns `id`; older returns `objectId`. */
  async usesGraphIds(): Promise<boolean> {
    return compareVersions(await this.version(), '2.37.0') >= 0;
  }

  account(): Promise<AzAccount> {
    return this.cached(['account', 'show'], accountSchema);
  }

  accounts(): Promise<AzAccount[]> {
    return this.cached(['account', 'list'], z.array(accountSchema));
  }

  /**
   * An Entra access token for `resource` from the existing az login. Its stdout is a secret: it is
   * never logged; the caller registers the token with the redactor.
   */
  async accessToken(resource: string): Promise<{ token: string; expiresOnTimestamp: number }> {
    const t = await this.json(
      ['account', 'get-access-token', '--resource', resource],
      z.object({ accessToken: z.string().min(1), expiresOn: z.string().optional(), expires_on: z.union([z.number(), z.string()]).optional() }).passthrough(),
      { secretStdout: true },
    );
    // az >= 2.54 gives `expires_on` (epoch seconds); older az only `expiresOn` in local time.
    const epoch = t.expires_on !== undefined ? Number(t.expires_on) * 1000 : t.expiresOn ? Date.parse(t.expiresOn) : Number.NaN;
    return { token: t.accessToken, expiresOnTimestamp: Number.isFinite(epoch) ? epoch : Date.now() + 50 * 60_000 };
  }

  /**
   * Whether the signed-in user may register applications: the directory lets every user do it
   * (authorizationPolicy), or the user holds an admin/developer role that allows it.
   */
  async canRegisterApps(): Promise<{ allowed: boolean; why: string }> {
    const policy = await this.json(['rest', '--method', 'GET', '--url', 'https://graph.microsoft.com/v1.0/policies/authorizationPolicy'], z.object({ defaultUserRolePermissions: z.object({ allowedToCreateApps: z.boolean() }).passthrough() }).passthrough());
    if (policy.defaultUserRolePermissions.allowedToCreateApps) return { allowed: true, why: 'users may register applications in this directory' };
    const roles = await this.json(['rest', '--method', 'GET', '--url', 'https://graph.microsoft.com/v1.0/me/memberOf?$select=roleTemplateId,displayName'], z.object({ value: z.array(z.object({ roleTemplateId: z.string().nullish(), displayName: z.string().nullish() }).passthrough()) }).passthrough());
    const allowing = roles.value.find((r) => r.roleTemplateId && APP_ROLES.has(r.roleTemplateId.toLowerCase()));
    return allowing ? { allowed: true, why: `you hold ${allowing.displayName ?? 'an admin role'}` } : { allowed: false, why: 'the directory restricts app registration and you hold no role that allows it' };
  }

  /** `az login` attached to the terminal (browser or device code). Interactive runs only. */
  async login(): Promise<void> {
    const code = await runAttached(this.proc, this.file, ['login', '--only-show-errors', '-o', 'none']);
    this.invalidate();
    if (code !== 0) throw new AzError(`az login exited with ${code}`, 'not-logged-in', { exitCode: code });
  }

  async setAccount(subscriptionId: string): Promise<void> {
    await this.json(['account', 'set', '--subscription', subscriptionId], z.unknown());
    this.invalidate();
  }

  // ---- deletes (azure-mlops destroy) -----------------------------------------------------------
  // Idempotent: "does not exist" / not found means already gone. Each returns false in that case,
  // true when it deleted something.

  private async remove(args: string[]): Promise<boolean> {
    try {
      await this.json(args, z.unknown());
      return true;
    } catch (e) {
      if (e instanceof AzError && e.kind === 'not-found') return false;
      throw e;
    } finally {
      this.invalidate();
    }
  }

  /**
   * App registrations named exactly `displayName` (appId and object id; az < 2.37 says objectId).
   * az's `--display-name` is a prefix filter (see exactDisplayName): the answer is narrowed here.
   */
  async appsByName(displayName: string): Promise<Array<{ appId: string; objectId: string }>> {
    const apps = await this.json(['ad', 'app', 'list', '--display-name', displayName], z.array(z.object({ appId: z.string(), displayName: z.string().nullish(), id: z.string().optional(), objectId: z.string().optional() }).passthrough()));
    return exactDisplayName(apps, displayName).map((a) => ({ appId: a.appId, objectId: a.id ?? a.objectId ?? '' }));
  }

  /**
   * The service principal of an app in this tenant, if any: Microsoft Graph's service principals
   * filtered by `appId` (az passes --filter on as is: azure-cli role/custom.py `list_sps`), so a
   * missing one is an empty list, not an error. Works for Microsoft's own applications too. The
   * `appId eq` filter is exact; checked again anyway (an entry without that appId is not it). `keepFound`: one found is kept for the
   * lifetime of this adapter (a run), a miss is asked again.
   */
  async servicePrincipalOf(appId: string, opts: { keepFound?: boolean } = {}): Promise<{ objectId: string; displayName?: string } | undefined> {
    const schema = z.array(z.object({ appId: z.string().optional(), id: z.string().optional(), objectId: z.string().optional(), displayName: z.string().optional() }).passthrough());
    const args = AzAdapter.servicePrincipalQuery(appId);
    const mine = (sps: z.output<typeof schema>) => sps.filter((s) => s.appId === appId);
    const sps = await (opts.keepFound ? this.cached(args, schema, (v) => mine(v).length > 0) : this.json(args, schema));
    const sp = mine(sps)[0];
    return sp ? { objectId: sp.id ?? sp.objectId ?? '', ...(sp.displayName ? { displayName: sp.displayName } : {}) } : undefined;
  }

  /** The arguments of servicePrincipalOf (plans show the same command). */
  static servicePrincipalQuery(appId: string): string[] {
    return ['ad', 'sp', 'list', '--filter', `appId eq '${appId}'`];
  }

  /** The command line json() runs for `args`, for plans and messages. */
  commandLine(args: readonly string[]): string {
    return formatCommand(this.file, [...args, '-o', 'json', '--only-show-errors']);
  }

  /** Deletes an app registration; Microsoft Entra deletes its service principal with it. */
  deleteApp(appId: string): Promise<boolean> {
    return this.remove(['ad', 'app', 'delete', '--id', appId]);
  }

  /** Deletes a service principal only (the app registration stays). */
  deleteServicePrincipal(id: string): Promise<boolean> {
    return this.remove(['ad', 'sp', 'delete', '--id', id]);
  }

  /** Removes one federated credential (by id or name) from an app; the app's other credentials stay. */
  deleteFederatedCredential(appId: string, credential: string): Promise<boolean> {
    return this.remove(['ad', 'app', 'federated-credential', 'delete', '--id', appId, '--federated-credential-id', credential]);
  }

  /** Deletes a resource group and everything in it (waits until Azure is done). */
  deleteGroup(name: string, subscription?: string): Promise<boolean> {
    return this.remove(['group', 'delete', '--name', name, '--yes', ...(subscription ? ['--subscription', subscription] : [])]);
  }

  deleteStorageAccount(name: string, resourceGroup: string, subscription?: string): Promise<boolean> {
    return this.remove(['storage', 'account', 'delete', '--name', name, '--resource-group', resourceGroup, '--yes', ...(subscription ? ['--subscription', subscription] : [])]);
  }
}

/**
 * The objects of an `az ad app list` / `az ad sp list --display-name X` answer that are named
 * exactly X. az's `--display-name` is a PREFIX match: azure-cli
 * `src/azure-cli/azure/cli/command_modules/role/custom.py` (`list_applications`,
 * `list_service_principals`) sends the Microsoft Graph filter `startswith(displayName,'X')`, which
 * also ignores case. So `--display-name azure-mlops-p01-pipeline` lists `azure-mlops-p01-pipeline-legacy`
 * too. Exact means case-sensitive equality, as az's own `create_application` compares
 * (`x['displayName'] == display_name`): Entra display names are not unique and keep their case.
 */
export function exactDisplayName<T extends { displayName?: string | null }>(list: readonly T[], name: string): T[] {
  return list.filter((x) => x.displayName === name);
}

/** Compares dotted versions numerically: -1, 0, 1. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.+-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}
