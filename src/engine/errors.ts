/**
 * Typed errors. Anything may throw them; only src/cli.ts turns them into a process exit code.
 *
 * Exit codes: 0 ok, 1 a step failed (or another run holds the state dir's lock), 2 bad usage or
 * input, 3 doctor found problems, 130 cancelled.
 */
export const ExitCode = {
  ok: 0,
  stepFailed: 1,
  usage: 2,
  problems: 3,
  cancelled: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class CliError extends Error {
  readonly exitCode: ExitCodeValue;
  /** One line telling the user what to do about it. */
  readonly fix: string | undefined;
  constructor(message: string, exitCode: ExitCodeValue, fix?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.fix = fix;
  }
}

/** Bad flag, bad answer, missing answer in non-interactive mode. Exit 2, before anything is created. */
export class UsageError extends CliError {
  constructor(message: string, fix?: string) {
    super(message, ExitCode.usage, fix);
  }
}

/** A step could not do its work. Exit 1. */
export class StepError extends CliError {
  readonly stepId: string | undefined;
  constructor(message: string, fix?: string, stepId?: string, options?: { cause?: unknown }) {
    super(message, ExitCode.stepFailed, fix, options);
    this.stepId = stepId;
  }
}

/** The user pressed Ctrl-C or declined. Exit 130. */
export class CancelledError extends CliError {
  constructor(message = 'Cancelled.', fix?: string) {
    super(message, ExitCode.cancelled, fix);
  }
}


/** An outside call (az, terraform, HTTP) failed. Steps usually wrap it in a StepError. */
export class ExternalError extends Error {
  constructor(
    message: string,
    readonly details: { command?: string; exitCode?: number; stderr?: string; statusCode?: number } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ExternalError';
  }
}

export function isCliError(e: unknown): e is CliError {
  return e instanceof CliError;
}
