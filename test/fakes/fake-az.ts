import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FAKE_BIN = fileURLToPath(new URL('./bin', import.meta.url));

export interface AzCall {
  n: number;
  cmd: string;
  argv: string[];
  mutating: boolean;
  stdin: string;
}

/** A fake az world in a temp dir: env vars to put it first on PATH, its calls and its state. */
export class FakeAz {
  readonly dir: string;
  readonly stateFile: string;
  readonly logFile: string;

  constructor(world: Record<string, unknown> = {}, dir?: string) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), 'fake-az-'));
    this.stateFile = join(this.dir, 'az-state.json');
    this.logFile = join(this.dir, 'az-calls.jsonl');
    const scenario = join(this.dir, 'az-scenario.json');
    writeFileSync(scenario, JSON.stringify(world));
    this.scenarioFile = scenario;
  }
  private scenarioFile: string;

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: `${FAKE_BIN}${delimiter}${process.env.PATH ?? ''}`,
      FAKE_AZ_STATE: this.stateFile,
      FAKE_AZ_SCENARIO: this.scenarioFile,
      FAKE_AZ_LOG: this.logFile,
      ...extra,
    };
  }

  calls(): AzCall[] {
    if (!existsSync(this.logFile)) return [];
    return readFileSync(this.logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AzCall);
  }

  mutatingCalls(): AzCall[] {
    return this.calls().filter((c) => c.mutating);
  }

  world(): Record<string, any> {
    return existsSync(this.stateFile) ? JSON.parse(readFileSync(this.stateFile, 'utf8')) : {};
  }
}
