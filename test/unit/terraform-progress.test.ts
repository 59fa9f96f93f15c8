import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { TfEvent } from '../../src/adapters/terraform.js';
import type { Context } from '../../src/engine/types.js';
import { progressTitle, renderSummary, streamWithProgress, type PlanSummary } from '../../src/steps/terraform.js';
import { Logger } from '../../src/ui/logger.js';
import { Redactor } from '../../src/ui/redact.js';

/** A real Logger writing both streams into one text. */
function logger(): { log: Logger; text: () => string } {
  const s = new PassThrough();
  let text = '';
  s.on('data', (d) => (text += d));
  return { log: new Logger({ out: s, err: s, color: false, verbose: false, json: false, redactor: new Redactor() }), text: () => text };
}

const SUMMARY: PlanSummary = { add: [], change: [], replace: [], destroy: ['terraform_data.aks', 'terraform_data.workspace'] };

describe('renderSummary: the words fit whether anything will happen or be asked', () => {
  it('destroy --dry-run: "would be destroyed", and nothing to confirm', () => {
    const { log, text } = logger();
    renderSummary({ log }, SUMMARY, { when: 'dry-run', asks: false });
    expect(text()).toContain('- terraform_data.aks (would be destroyed)');
    expect(text()).toContain('This plan would destroy or replace 2 resource(s).');
    expect(text()).not.toMatch(/\(destroyed\)|confirm/);
  });

  it('a plan about to be applied, with a question: "will be destroyed", read before you confirm', () => {
    const { log, text } = logger();
    renderSummary({ log }, SUMMARY, { when: 'now', asks: true });
    expect(text()).toContain('- terraform_data.workspace (will be destroyed)');
    expect(text()).toContain('This plan destroys or replaces 2 resource(s). Read the list above before you confirm.');
  });

  it('--yes: no question, so no "before you confirm"', () => {
    const { log, text } = logger();
    renderSummary({ log }, SUMMARY, { when: 'now', asks: false });
    expect(text()).toContain('This plan destroys or replaces 2 resource(s).');
    expect(text()).not.toContain('confirm');
  });
});

describe('the apply spinner has one timer', () => {
  const TIMER = /\(\d+(m\d\d)?s\)|\d+s\b/;

  it('progressTitle names what terraform is doing, without a time (Ui.task appends the one timer)', () => {
    const active = new Map([
      ['terraform_data.aks', { action: 'create' }],
      ['terraform_data.vm', { action: 'create' }],
    ]);
    expect(progressTitle('terraform apply', 3, active)).toBe('terraform apply: 3 done, creating terraform_data.aks +1 more');
    expect(progressTitle('terraform destroy', 0, new Map([['x.y', { action: 'delete' }]]))).toBe('terraform destroy: 0 done, destroying x.y');
  });

  it('streamWithProgress gives the task only such titles while resources are created', async () => {
    const titles: string[] = [];
    const { log } = logger();
    const ev = (type: string, addr: string, extra: Record<string, unknown> = {}) => ({ type, hook: { resource: { addr }, action: 'create', ...extra } }) as unknown as TfEvent;
    const ctx = {
      log,
      signal: new AbortController().signal,
      ui: { task: async (title: string, fn: (u: (t: string) => void) => Promise<unknown>) => fn((t) => titles.push(t)) },
      terraform: {
        stream: async (_args: string[], o: { onEvent: (e: TfEvent) => void }) => {
          o.onEvent(ev('apply_start', 'terraform_data.aks'));
          o.onEvent(ev('apply_start', 'terraform_data.vm'));
          o.onEvent(ev('apply_progress', 'terraform_data.aks', { elapsed_seconds: 42 }));
          o.onEvent(ev('apply_complete', 'terraform_data.vm', { elapsed_seconds: 50 }));
          return { exitCode: 0, events: [], stderr: '', interrupted: false };
        },
      },
    } as unknown as Parameters<typeof streamWithProgress>[0] & Pick<Context, 'log'>;
    await streamWithProgress(ctx, '/tmp', ['apply'], {}, 'terraform apply');
    expect(titles.length).toBeGreaterThan(0);
    for (const t of titles) expect(t).not.toMatch(TIMER);
    expect(titles.at(-1)).toBe('terraform apply: 1 done, creating terraform_data.aks');
  });
});
