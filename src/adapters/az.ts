import { z } from 'zod';
import { ExternalError } from '../engine/errors.js';
import { runAttached, type ProcessRunner, type RunOptions } from './process.js';

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

export class AzAdapter {
  private cache = new Map<string, Promise<unknown>>();

  constructor(
    private readonly proc: ProcessRunner,
    readonly file = 'az',
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
    const r = await this.proc.run(this.file, full, { ...opts, env: { ...AzAdapter.ENV, ...opts.env } });
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

  /** Same as json() but cached for the lifetime of this adapter (read-only commands only). */
  cached<T>(args: readonly string[], schema: z.ZodType<T>): Promise<T> {
    const key = args.join('\u0000');
    let p = this.cache.get(key) as Promise<T> | undefined;
    if (!p) {
      p = this.json(args, schema);
      this.cache.set(key, p);
      p.catch(() => this.cache.delete(key));
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
  async accessToken(resource: string): Promise<{ token: string; expiresOn?: string }> {
    const t = await this.json(['account', 'get-access-token', '--resource', resource], z.object({ accessToken: z.string().min(1), expiresOn: z.string().optional() }).passthrough(), { secretStdout: true });
    return { token: t.accessToken, ...(t.expiresOn ? { expiresOn: t.expiresOn } : {}) };
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
