import { describe, expect, it } from 'vitest';
import { baseEnv, runCli, tempWorld } from '../helpers/cli.js';

// --help and mistyped commands, from the built CLI.
const w = tempWorld();
const cli = (...args: string[]) => runCli(args, { env: baseEnv(w.home), cwd: w.cwd });

describe('help', () => {
  it.each(['init', 'plan', 'doctor', 'destroy'])('%s --help shows its options, the global options and examples', async (name) => {
    const r = await cli(name, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: azure-mlops ${name} \\[options\\]`));
    const global = r.stdout.split('\nGlobal Options:\n')[1]?.split('\n\n')[0] ?? '';
    for (const flag of ['--yes', '--non-interactive', '--json', '--config <file>', '--state-dir <dir>', '--pat-stdin', '--verbose', '--no-color']) expect(global).toContain(flag);
    expect(r.stdout).toMatch(new RegExp(`\\nExamples:\\n  # .+\\n  \\$ (.+ )?azure-mlops ${name}`));
  });

  it('destroy --help lists only the answers destroy reads', async () => {
    const r = await cli('destroy', '--help');
    const own = r.stdout.split('\nOptions:\n')[1]!.split('\nGlobal Options:\n')[0]!;
    const flags = [...own.matchAll(/^ {2}(-\w, )?(--[\w-]+)/gm)].map((m) => m[2]);
    expect(flags).toEqual(['--dry-run', '--delete-repo', '--delete-project', '--delete-state-backend', '--prefix', '--devops-auth', '--help']);
    // init still takes every answer
    expect((await cli('init', '--help')).stdout).toContain('--agent-vm-size <size>');
  });
});

describe('a mistyped command', () => {
  it.each([
    ['deploy', 'init'],
    ['docter', 'doctor'],
    ['destory', 'destroy'],
    ['status', 'doctor'],
  ])('%s: unknown command, did you mean %s (exit 2)', async (typed, meant) => {
    const r = await cli(typed);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: unknown command '${typed}'\n(Did you mean ${meant}?)`);
    expect(r.stderr).not.toContain('too many arguments');
  });

  it('no close command: no suggestion; init with an operand: too many arguments', async () => {
    const r = await cli('frobnicate', '--yes');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: unknown command 'frobnicate'\n(run azure-mlops --help for usage)");
    const extra = await cli('init', 'now');
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain("error: too many arguments for 'init'. Expected 0 arguments but got 1: now.");
  });
});
