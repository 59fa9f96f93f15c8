import { Command, CommanderError, Option } from 'commander';
import { answerFields, answerKeys, type AnswerKey } from './config/fields.js';
import type { GlobalOptions } from './engine/context.js';

/**
 * Commander wiring only. Commands are imported lazily so `--help` loads nothing else; every error
 * becomes an exit code here, the only place that ends the process.
 *   0 ok · 1 a step failed (or the state dir is locked by another run) · 2 bad usage or input ·
 *   3 doctor found problems · 130 cancelled
 */

declare const __PACKAGE_VERSION__: string | undefined;
const VERSION = typeof __PACKAGE_VERSION__ === 'string' ? __PACKAGE_VERSION__ : 'dev';

/** The answers `destroy` takes: which deployment (another prefix is refused) and how to call Azure DevOps; everything else comes from its state dir. */
export const DESTROY_ANSWERS: readonly AnswerKey[] = ['prefix', 'devopsAuth'];

/**
 * What `--help` shows under "Examples:" for each command, as [what it does, command line]. The
 * README shows the same command lines (test/unit/readme.test.ts checks it).
 */
export const EXAMPLES: Record<'azure-mlops' | 'init' | 'plan' | 'doctor' | 'destroy', ReadonlyArray<readonly [string, string]>> = {
  'azure-mlops': [
    ['set everything up, asking for what is missing', 'azure-mlops init'],
    ['what init would do, with the exact commands; changes nothing', 'azure-mlops plan'],
    ['what is set up, what is missing, and how to fix it', 'azure-mlops doctor'],
    ['help for one command, with its examples', 'azure-mlops init --help'],
  ],
  init: [
    ['interactive: asks for every answer that is missing', 'azure-mlops init'],
    ['answers as flags (or env, --config, the state dir)', 'azure-mlops init --prefix mlops01 --location westeurope --project mlops'],
    ['unattended (CI): no prompt; Azure DevOps with your az login (or AZURE_DEVOPS_EXT_PAT)', 'azure-mlops init --yes --prefix ... --org ...'],
    ['the agents on a Managed DevOps Pool instead of an agent VM', 'azure-mlops init --agents-host managed-pool'],
    ['then train the first model: queue a run and follow it', 'azure-mlops init --run'],
  ],
  plan: [
    ['every step\'s plan with its exact az / terraform commands', 'azure-mlops plan --prefix mlops01 --location westeurope --project mlops'],
    ['the same, as JSON', 'azure-mlops plan --json'],
  ],
  doctor: [
    ['every check, grouped, with the fix for each gap', 'azure-mlops doctor'],
    ['only the Azure DevOps checks', 'azure-mlops doctor --only devops'],
    ['machine-readable (schema in the README)', 'azure-mlops doctor --json'],
    ['the PAT from a secret store, on stdin', 'printenv MY_PAT | azure-mlops doctor --pat-stdin'],
  ],
  destroy: [
    ['the list, with terraform\'s plan -destroy; changes nothing', 'azure-mlops destroy --dry-run'],
    ['the list, then type the prefix to go on', 'azure-mlops destroy'],
    ['CI: everything, the repository and project too', 'azure-mlops destroy --yes --delete-repo --delete-project --delete-state-backend'],
  ],
};

function withExamples(cmd: Command, name: keyof typeof EXAMPLES): Command {
  return cmd.addHelpText('after', `\nExamples:\n${EXAMPLES[name].map(([what, line]) => `  # ${what}\n  $ ${line}`).join('\n')}`);
}

/** Commands a person may reach for under another name (`azure-mlops deploy` is init). */
const SYNONYMS: Record<string, string> = {
  deploy: 'init', up: 'init', apply: 'init', create: 'init', install: 'init', setup: 'init', bootstrap: 'init', run: 'init', start: 'init',
  preview: 'plan', diff: 'plan', 'dry-run': 'plan',
  check: 'doctor', status: 'doctor', verify: 'doctor', validate: 'doctor',
  down: 'destroy', delete: 'destroy', remove: 'destroy', teardown: 'destroy', uninstall: 'destroy', clean: 'destroy',
};

/** Edit distance (insert, delete, substitute, swap two neighbours). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The command a mistyped or differently named one probably meant, as commander words it ("\n(Did you mean init?)"). */
export function suggestCommand(word: string, commands: readonly string[]): string {
  const w = word.toLowerCase();
  const synonym = SYNONYMS[w];
  if (synonym && commands.includes(synonym)) return `\n(Did you mean ${synonym}?)`;
  const close = commands.map((c) => ({ c, d: distance(w, c) })).filter((x) => x.d <= Math.max(1, Math.floor(x.c.length / 3))).sort((x, y) => x.d - y.d);
  return close.length ? `\n(Did you mean ${close[0]!.c}?)` : '';
}

/**
 * init is the default command, so `azure-mlops deploy` reaches it with an operand: say what
 * commander would have said without a default command ("unknown command"), with a suggestion.
 */
function rejectOperands(program: Command, init: Command): void {
  const [first = ''] = init.args;
  const names = program.commands.map((c) => c.name());
  if (program.args[0] === 'init') {
    init.error(`error: too many arguments for 'init'. Expected 0 arguments but got ${init.args.length}: ${init.args.join(' ')}.`, { code: 'commander.excessArguments', exitCode: 2 });
  }
  if (names.includes(first)) {
    program.error(`error: '${first}' must come before the options: azure-mlops ${first} [options]`, { code: 'commander.unknownCommand', exitCode: 2 });
  }
  program.error(`error: unknown command '${first}'${suggestCommand(first, names)}`, { code: 'commander.unknownCommand', exitCode: 2 });
}

function addAnswerOptions(cmd: Command, keys: readonly AnswerKey[] = answerKeys): Command {
  for (const key of keys) {
    const f = answerFields[key];
    const def = 'defaultValue' in f ? ` (default: ${f.defaultValue})` : 'defaultNote' in f ? ` (default: ${f.defaultNote})` : '';
    cmd.addOption(new Option(f.flag, `${f.description}${def} [env: ${f.env.join(', ')}]`));
  }
  return cmd;
}

function answersFrom(opts: Record<string, unknown>): Partial<Record<AnswerKey, string | undefined>> {
  const out: Partial<Record<AnswerKey, string | undefined>> = {};
  for (const key of answerKeys) {
    const v = opts[key];
    if (typeof v === 'string') out[key] = v;
  }
  return out;
}

type Outcome = { result: unknown; exitCode: number };

async function execute(opts: GlobalOptions, fn: (base: import('./engine/context.js').Base, signal: AbortSignal) => Promise<Outcome>): Promise<never> {
  const { createBase } = await import('./engine/context.js');
  const { isCliError, ExitCode } = await import('./engine/errors.js');
  const base = createBase(opts);
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      if (!base.terraform.active) base.log.warn('Interrupted: finishing what is running, then stopping (Ctrl-C again to quit at once).');
      controller.abort();
    } else if (base.terraform.active && interrupts === 2) {
      base.log.warn('terraform is still stopping gracefully. Killing it now can corrupt its state; press Ctrl-C once more only if you accept that.');
    } else {
      base.terraform.active?.kill();
      base.log.warn('Quitting now. Anything a child process was doing may be incomplete; re-run `azure-mlops init` to resume.');
      exit(ExitCode.cancelled);
    }
  };
  process.on('SIGINT', onSigint);
  let code: number;
  try {
    const { result, exitCode } = await fn(base, controller.signal);
    if (opts.json) base.io.stdout.write(`${base.redactor.redact(JSON.stringify(result, null, 2))}\n`);
    code = exitCode;
  } catch (e) {
    code = isCliError(e) ? e.exitCode : ExitCode.stepFailed;
    const message = e instanceof Error ? e.message : String(e);
    const fix = isCliError(e) ? e.fix : undefined;
    base.log.error(message);
    if (fix) base.log.hint(`  ${base.log.c.bold('fix:')} ${fix}`);
    if (!isCliError(e) && opts.verbose && e instanceof Error && e.stack) base.log.debug(e.stack);
    if (opts.json) {
      base.io.stdout.write(`${base.redactor.redact(JSON.stringify({ ok: false, exitCode: code, error: { message, ...(fix ? { fix } : {}) } }, null, 2))}\n`);
    }
  }
  return exit(code);
}

function exit(code: number): never {
  // Let stdout drain (pipes are asynchronous) before ending the process.
  process.stdout.write('', () => process.exit(code));
  return undefined as never;
}

export function buildProgram(): Command {
  const program = new Command('azure-mlops')
    .description(
      'Bootstrap an MLOps system on Azure: ML workspace, AKS behind an internal load balancer, self-hosted\n' +
        'agents and a multi-stage Azure Pipeline that trains, registers, deploys and smoke-tests a model.',
    )
    .version(VERSION, '-V, --version')
    .option('-y, --yes', 'answer yes to every confirmation (implies --non-interactive)')
    .option('--non-interactive', 'never prompt: a missing answer is an error (also when CI is set or stdin is not a TTY)')
    .option('--json', 'print one machine-readable JSON result on stdout; human text goes to stderr')
    .option('--config <file>', 'JSON file of answers, e.g. {"prefix":"mlops01"} [env: AZURE_MLOPS_CONFIG]')
    .option('--state-dir <dir>', 'state, logs and terraform working dir, yours alone (0700) and locked while init or destroy runs (default: .azure-mlops) [env: AZURE_MLOPS_STATE_DIR]')
    .option('--pat-stdin', 'read an Azure DevOps PAT from stdin (else AZURE_DEVOPS_EXT_PAT; without a PAT, your az login\'s Microsoft Entra token)')
    .option('--verbose', 'show every command run (secrets shown as ***)')
    .option('--no-color', 'plain output (also when NO_COLOR is set)')
    .showHelpAfterError('(run azure-mlops --help for usage)')
    // Subcommands list these too, under "Global Options:" (gh's "inherited flags").
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();
  withExamples(program, 'azure-mlops');

  const initCmd = addAnswerOptions(
    program
      .command('init', { isDefault: true })
      .description('set everything up, step by step (the default command); re-run to resume or check')
      .option('--dry-run', 'print the plan (with exact az/terraform command lines) and change nothing')
      .option('--push-to <branch>', 'the repository already has commits: push the pipeline and ML code to this new branch instead')
      .option('--purge-deleted', 'purge a soft-deleted key vault that holds the kv-{prefix} name (its secrets are lost for good)')
      .option('--run', 'queue a pipeline run at the end and follow it stage by stage')
      .option('--no-wait', 'with --run: return as soon as the run is queued')
      // Operands are not init's: they are a mistyped command (see rejectOperands).
      .allowExcessArguments(),
  ).action(async (_o, cmd: Command) => {
    if (cmd.args.length > 0) rejectOperands(program, cmd);
    const opts = cmd.optsWithGlobals();
    await execute(opts, async (base, signal) => {
      const { runInit } = await import('./commands/init.js');
      const report = await runInit({ ...opts, answers: answersFrom(opts) }, base, signal);
      return { result: { command: opts.dryRun ? 'plan' : 'init', ...report }, exitCode: 0 };
    });
  });

  withExamples(initCmd, 'init');

  const planCmd = addAnswerOptions(
    program.command('plan').description('show what init would do, changing nothing (= init --dry-run)').option('--push-to <branch>', 'as for init').option('--purge-deleted', 'as for init'),
  );
  withExamples(planCmd, 'plan').action(async (_o, cmd: Command) => {
    const opts = { ...cmd.optsWithGlobals(), dryRun: true };
    await execute(opts, async (base, signal) => {
      const { runInit } = await import('./commands/init.js');
      const report = await runInit({ ...opts, answers: answersFrom(opts) }, base, signal);
      return { result: { command: 'plan', ...report }, exitCode: 0 };
    });
  });

  const doctorCmd = addAnswerOptions(
    program
      .command('doctor')
      .description('check the environment and what was deployed; print how to fix each gap; never prompts (exit 3 when something is missing or Azure DevOps could not be checked)')
      .option('--only <group>', 'only the checks of one group: local, azure, devops or deployment'),
  );
  withExamples(doctorCmd, 'doctor').action(
    async (_o, cmd: Command) => {
      // Doctor never prompts, in a terminal too: a missing answer or credential skips its checks.
      const opts = { ...cmd.optsWithGlobals(), nonInteractive: true };
      await execute(opts, async (base, signal) => {
        const { runDoctor } = await import('./commands/doctor.js');
        const report = await runDoctor({ ...opts, answers: answersFrom(opts) }, base, signal);
        return { result: { command: 'doctor', ...report }, exitCode: report.ok ? 0 : 3 };
      });
    },
  );

  const destroyCmd = addAnswerOptions(
    program
      .command('destroy')
      .description('delete what init created, in reverse order, and nothing else; shows the list and asks first (--yes in CI)')
      .option('--dry-run', 'print what would be deleted and kept (with the terraform destroy plan) and change nothing')
      .option('--delete-repo', 'also delete the repository, when init created it')
      .option('--delete-project', 'also delete the Azure DevOps project with everything in it, when init created it')
      .option('--delete-state-backend', 'also delete the terraform state storage (--state-backend azurerm), when init created it'),
    DESTROY_ANSWERS,
  );
  withExamples(destroyCmd, 'destroy').action(async (_o, cmd: Command) => {
    const opts = cmd.optsWithGlobals();
    await execute(opts, async (base, signal) => {
      const { runDestroy } = await import('./commands/destroy.js');
      const report = await runDestroy({ ...opts, answers: answersFrom(opts) }, base, signal);
      return { result: { command: 'destroy', ...report }, exitCode: report.ok ? 0 : 1 };
    });
  });
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // Everything this process and its children create is private to the user: the state dir holds
  // terraform's state (the cluster's credentials) and plan, which terraform writes itself (0644 under
  // the usual 022 umask). A umask cannot be set per child (execa/spawn have no such option), and
  // chmod after the fact leaves a window and misses files we do not know of (terraform.tfstate.backup,
  // errored.tfstate, .terraform/): one umask for the whole run, inherited by every child, does not.
  // Outside the state dir this only affects what children create (az's ~/.azure files, an ssh-keygen
  // key pair), which becomes owner-only too.
  process.umask(0o077);
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      const ok = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' || e.exitCode === 0;
      exit(ok ? 0 : 2);
      return;
    }
    throw e;
  }
}

// Tests import buildProgram() to compare --help with the README; they set AZURE_MLOPS_NO_MAIN.
if (!process.env.AZURE_MLOPS_NO_MAIN) await main(process.argv);
