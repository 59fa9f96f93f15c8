import { ExternalError } from '../engine/errors.js';
import { compareVersions } from './az.js';
import type { ProcessRunner } from './process.js';

/** The command-line tools the CLI relies on, how to read their version, and how to install them. */
export interface ToolSpec {
  name: 'az' | 'terraform' | 'git' | 'ssh-keygen';
  args: string[];
  parse: (stdout: string, stderr: string) => string | undefined;
  min?: string;
  /** An older version only earns a warning (default: it counts as missing). */
  minIsWarning?: boolean;
  /** Missing is only a warning (the CLI works without it). */
  optional?: boolean;
  why: string;
  install: string;
}

export const toolSpecs: readonly ToolSpec[] = [
  {
    name: 'az',
    args: ['version', '-o', 'json'],
    parse: (out) => {
      try {
        return (JSON.parse(out) as Record<string, string>)['azure-cli'];
      } catch {
        return undefined;
      }
    },
    // az < 2.37 still runs but its `az ad` commands use the retired Azure AD Graph.
    min: '2.37.0',
    minIsWarning: true,
    why: 'signs in to Azure and creates the pipeline identity',
    install: 'Install the Azure CLI: https://learn.microsoft.com/cli/azure/install-azure-cli (Debian/Ubuntu: curl -sL https://aka.ms/InstallAzureCLIDeb | sudo bash)',
  },
  {
    name: 'terraform',
    args: ['version', '-json'],
    parse: (out) => {
      try {
        return (JSON.parse(out) as { terraform_version?: string }).terraform_version;
      } catch {
        return out.match(/Terraform v(\d+\.\d+\.\d+)/)?.[1];
      }
    },
    min: '1.5.0',
    why: 'deploys the Azure infrastructure',
    install: 'Install Terraform >= 1.5: https://developer.hashicorp.com/terraform/install',
  },
  {
    name: 'git',
    args: ['--version'],
    parse: (out) => out.match(/(\d+\.\d+(\.\d+)?)/)?.[1],
    optional: true,
    why: 'to clone the pipeline repository afterwards (the CLI pushes through the REST API without it)',
    install: 'Install git: https://git-scm.com/downloads',
  },
  {
    name: 'ssh-keygen',
    args: ['-V'],
    // ssh-keygen has no version flag; `-V` fails with usage on stderr, which proves it runs.
    parse: (out, err) => (out + err).match(/OpenSSH[_ ]([\w.]+)/)?.[1] ?? 'present',
    optional: true,
    why: 'only needed to create an SSH key when you have none',
    install: 'Install OpenSSH client (Debian/Ubuntu: sudo apt-get install openssh-client)',
  },
];

export interface ToolFinding {
  spec: ToolSpec;
  found: boolean;
  version?: string;
  tooOld?: boolean;
}

export class ToolsAdapter {
  private cache = new Map<string, Promise<ToolFinding>>();
  constructor(private readonly proc: ProcessRunner) {}

  find(spec: ToolSpec): Promise<ToolFinding> {
    let p = this.cache.get(spec.name);
    if (!p) {
      p = this.probe(spec);
      this.cache.set(spec.name, p);
    }
    return p;
  }

  private async probe(spec: ToolSpec): Promise<ToolFinding> {
    try {
      const r = await this.proc.run(spec.name, spec.args, { timeoutMs: 30_000 });
      const version = spec.parse(r.stdout, r.stderr);
      if (r.exitCode !== 0 && spec.name !== 'ssh-keygen' && !version) return { spec, found: true };
      const tooOld = Boolean(version && spec.min && /^\d/.test(version) && compareVersions(version, spec.min) < 0);
      return { spec, found: true, ...(version ? { version } : {}), tooOld };
    } catch (e) {
      if (e instanceof ExternalError) return { spec, found: false };
      throw e;
    }
  }
}
