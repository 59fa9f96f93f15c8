import type { Command } from 'commander';

/** The commander program as built by src/cli.ts, without parsing argv. */
export async function buildProgramForDocs(): Promise<Command> {
  process.env.AZURE_MLOPS_NO_MAIN = '1';
  const mod = await import('../../src/cli.js');
  return mod.buildProgram();
}
