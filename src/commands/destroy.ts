import { mkdirInside } from '../adapters/safe-fs.js';
import { join } from 'node:path';
import type { AnswerKey } from '../config/fields.js';
import { createContext, type Base, type GlobalOptions } from '../engine/context.js';
import { openStateDir, type StateLock } from '../engine/state-dir.js';
import { teardown, type TeardownReport } from '../engine/teardown.js';
import { buildSteps } from '../steps/index.js';

export interface DestroyOptions extends GlobalOptions {
  answers: Partial<Record<AnswerKey, string | undefined>>;
  /** --delete-repo: also the repository, when init created it. */
  deleteRepo?: boolean;
  /** --delete-project: also the Azure DevOps project, when init created it. */
  deleteProject?: boolean;
  /** --delete-state-backend: also the terraform state storage (--state-backend azurerm), when init created it. */
  deleteStateBackend?: boolean;
}

/**
 * `azure-mlops destroy`: deletes what `init` created, in reverse order, and nothing else (see
 * src/engine/teardown.ts for the runner, each step's `teardown` for its objects). The answers come from the state dir; flags such as --prefix only
 * confirm which deployment it is. `--dry-run` shows the plan and changes nothing.
 */
export async function runDestroy(opts: DestroyOptions, base: Base, signal: AbortSignal): Promise<TeardownReport> {
  const ctx = await createContext(base, opts, { flags: opts.answers, required: [], signal });
  let lock: StateLock | undefined;
  try {
    if (!opts.dryRun && ctx.state.persisted) {
      // As init: the state dir is ours alone, and the lock comes before any outside call.
      lock = await openStateDir(ctx.run.stateDir, 'destroy', ctx.log);
      const logs = join(ctx.run.stateDir, 'logs');
      await mkdirInside(ctx.run.stateDir, logs);
      ctx.log.teeTo(join(logs, `destroy-${new Date().toISOString().replace(/[:.]/g, '-')}.log`));
    }
    // The agents host of the deployment (saved answers); the agents step's teardown stays reachable either way.
    return await teardown(ctx, buildSteps(), {
      dryRun: Boolean(opts.dryRun),
      deleteRepo: Boolean(opts.deleteRepo),
      deleteProject: Boolean(opts.deleteProject),
      deleteStateBackend: Boolean(opts.deleteStateBackend),
    });
  } finally {
    ctx.ui.dispose();
    await lock?.release();
  }
}
