import { DevOpsError } from '../adapters/devops.js';
import { defineStep, type Context } from '../engine/types.js';

/**
 * README: "Install the Azure DevOps Machine Learning extension into your Azure DevOps organization".
 * Today that is the Azure ML v2 extension `ms-air-aiagility.azureml-v2` (the v1 one is not
 * installed). The pipeline itself only uses built-in tasks (AzureCLI@2 + az ml), so the extension
 * is helpful, not required: when the PAT may not install extensions, this step says how to do it by
 * hand and does not stop the run.
 */
export const EXTENSION = { publisher: 'ms-air-aiagility', name: 'azureml-v2' } as const;
export const EXTENSION_URL = `https://marketplace.visualstudio.com/items?itemName=${EXTENSION.publisher}.${EXTENSION.name}`;

type Ctx = Pick<Context, 'devops' | 'state' | 'log'>;

export const extensionStep = defineStep({
  id: 'extension',
  title: 'Azure ML extension for Azure DevOps',
  dependsOn: ['devops-project'],
  async check(ctx: Ctx) {
    const ext = await ctx.devops.installedExtension(EXTENSION.publisher, EXTENSION.name);
    if (ext) return { status: 'ok', summary: `${EXTENSION.publisher}.${EXTENSION.name} ${ext.version ?? ''}`.trim() };
    if (ctx.state.stepData<{ declined: boolean }>('extension').declined) {
      return { status: 'warning', summary: 'not installed (the PAT may not install extensions)', fix: `Install it from ${EXTENSION_URL} (optional: the pipeline uses only built-in tasks).` };
    }
    return { status: 'missing', summary: `${EXTENSION.publisher}.${EXTENSION.name} is not installed` };
  },
  async plan() {
    return [{ action: 'install', what: `${EXTENSION.publisher}.${EXTENSION.name} (${EXTENSION_URL})` }];
  },
  async apply(ctx) {
    try {
      await ctx.devops.installExtension(EXTENSION.publisher, EXTENSION.name);
      await ctx.state.recordResource({ kind: 'devops-extension', name: `${EXTENSION.publisher}.${EXTENSION.name}`, id: `${EXTENSION.publisher}.${EXTENSION.name}`, createdByUs: true, step: 'extension' });
    } catch (e) {
      if (e instanceof DevOpsError && (e.statusCode === 401 || e.statusCode === 403)) {
        ctx.log.warn(`Could not install the Azure ML extension (${e.message}). Install it by hand: ${EXTENSION_URL} (an organization admin can; it is optional).`);
        await ctx.state.setStepData('extension', { declined: true });
        return;
      }
      throw e;
    }
  },
  teardown: {
    owns: { 'devops-extension': 'Azure DevOps extension' },
    async plan(kit) {
      const { state } = kit.ctx;
      const id = `${EXTENSION.publisher}.${EXTENSION.name}`;
      const installedOrFound = state.data.steps.extension?.status === 'done' && !state.stepData<{ declined: boolean }>('extension').declined;
      const recs = kit.recordsOrFound('devops-extension', { step: 'extension', name: installedOrFound ? id : undefined, id });
      // Never deleted: installed organization-wide, other projects may use it.
      for (const r of recs) kit.keep(r, 'organization-wide: other projects may use it; uninstall it in Organization settings > Extensions if nothing does');
    },
  },
});
