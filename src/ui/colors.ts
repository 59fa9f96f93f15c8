import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

/** Colour only on a TTY, never with NO_COLOR / --no-color; FORCE_COLOR wins for tests and CI logs. */
export function colorEnabled(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv, noColorFlag: boolean): boolean {
  if (noColorFlag || ('NO_COLOR' in env && env.NO_COLOR !== '')) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  if (env.FORCE_COLOR === '0') return false;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

export function makeColors(enabled: boolean): Colors {
  return pc.createColors(enabled);
}

export const symbols = {
  ok: '✔',
  missing: '✖',
  warning: '⚠',
  skipped: '○',
  arrow: '→',
  bullet: '•',
} as const;
