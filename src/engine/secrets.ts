import { PAT_ENV } from '../config/fields.js';
import { UsageError } from './errors.js';
import type { Redactor } from '../ui/redact.js';
import type { Ui } from '../ui/prompts.js';

/**
 * Secrets live here, in memory only, and are registered with the redactor the moment they are
 * known. The PAT comes from AZURE_DEVOPS_EXT_PAT, from stdin (--pat-stdin) or from a masked
 * prompt — never from a flag value or a file. A client secret (auth mode `secret`) is created by the
 * service-principal step and handed to the later steps through here; it is never persisted.
 */
export class Secrets {
  private patValue: string | undefined;
  private patPromise: Promise<string> | undefined;
  private clientSecretValue: string | undefined;

  constructor(
    private readonly redactor: Redactor,
    private readonly opts: {
      env: NodeJS.ProcessEnv;
      /** --pat-stdin: read the PAT from stdin (first line). */
      patStdin: boolean;
      stdin: NodeJS.ReadableStream;
      ui: Ui;
    },
  ) {
    const fromEnv = opts.env[PAT_ENV]?.trim();
    if (fromEnv) this.setPat(fromEnv);
  }

  private setPat(value: string): void {
    this.patValue = value;
    this.redactor.add(value);
  }

  /** Whether a PAT is available without asking (env or already read). */
  get hasPat(): boolean {
    return this.patValue !== undefined || this.opts.patStdin;
  }

  /** Where the PAT would come from, for plans and doctor ("AZURE_DEVOPS_EXT_PAT", ...). */
  get patSource(): string | undefined {
    if (this.opts.env[PAT_ENV]?.trim()) return PAT_ENV;
    if (this.opts.patStdin) return '--pat-stdin';
    return this.patValue ? 'prompt' : undefined;
  }

  /** The PAT; reads stdin or prompts once if needed; otherwise a UsageError (exit 2). */
  pat(why = 'Azure DevOps'): Promise<string> {
    if (this.patValue) return Promise.resolve(this.patValue);
    this.patPromise ??= this.obtainPat(why);
    return this.patPromise;
  }

  private async obtainPat(why: string): Promise<string> {
    if (this.opts.patStdin) {
      const text = await readAll(this.opts.stdin);
      const value = text.split(/\r?\n/)[0]?.trim();
      if (!value) throw new UsageError('--pat-stdin was given but stdin was empty.', `Pipe the PAT in, e.g. \`printenv MY_PAT | azure-mlops init --pat-stdin\`, or set ${PAT_ENV}.`);
      this.setPat(value);
      return value;
    }
    if (this.opts.ui.interactive) {
      const value = (await this.opts.ui.password(`Azure DevOps PAT for ${why} (input hidden):`)).trim();
      if (!value) throw new UsageError('No personal access token entered.', `Set ${PAT_ENV} or use --pat-stdin.`);
      this.setPat(value);
      return value;
    }
    throw missingPat(why);
  }

  setClientSecret(value: string): void {
    this.clientSecretValue = value;
    this.redactor.add(value);
  }

  get clientSecret(): string | undefined {
    return this.clientSecretValue;
  }
}

export function missingPat(why: string): UsageError {
  return new UsageError(
    `An Azure DevOps personal access token is needed (${why}) and none was given.`,
    `Set ${PAT_ENV} (the variable az devops uses) or pipe it to --pat-stdin; it is never accepted as a flag value.`,
  );
}

function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.setEncoding?.('utf8');
    stream.on('data', (d) => (text += d));
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
    stream.resume?.();
  });
}
