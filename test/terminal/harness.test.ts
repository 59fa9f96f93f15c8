import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseEnv, tempWorld } from '../helpers/cli.js';
import { COLS, ROWS, openTerminal, terminalsPerTest } from '../helpers/terminal.js';

const term = terminalsPerTest();

describe('the pty harness (real pseudo-terminal + xterm)', () => {
  it('renders `azure-mlops --help` as a person sees it', async () => {
    const w = tempWorld();
    const t = term(['--help'], { env: baseEnv(w.home), cwd: w.cwd });
    const { code } = await t.exit;
    expect(code).toBe(0);
    const all = t.transcript();
    expect(all).toMatch(/^Usage: azure-mlops \[options\] \[command\]/);
    expect(all).toContain('Commands:');
    expect(t.screen().split('\n').length).toBeLessThanOrEqual(ROWS);
    // commander wraps to the terminal's width: nothing runs past the right edge
    for (const line of all.split('\n')) expect(line.length).toBeLessThanOrEqual(COLS);
    expect(t.lastLine().trim()).not.toBe('');
  });

  it('types, presses keys and reports the exit code; the program sees a TTY without CI', async () => {
    const w = tempWorld();
    const script = join(w.root, 'keys.mjs');
    writeFileSync(
      script,
      [
        "process.stdout.write(`tty=${process.stdin.isTTY && process.stdout.isTTY} ci=${process.env.CI ?? '-'} color=${process.env.NO_COLOR ?? '-'} cols=${process.stdout.columns}\\nready> `);",
        'process.stdin.setRawMode(true);',
        "process.stdin.on('data', (d) => {",
        "  const s = d.toString('latin1');",
        "  if (s === '\\x03') { process.stdout.write('\\nbye\\n'); process.exit(130); }",
        "  process.stdout.write(JSON.stringify(s) + ' ');",
        '});',
      ].join('\n'),
    );
    const t = term([], { env: baseEnv(w.home), cwd: w.cwd, bin: script });
    await t.waitFor('ready>');
    expect(t.screen()).toContain(`tty=true ci=- color=- cols=${COLS}`);
    await t.type('ab');
    await t.waitFor(/"ab"|"a" "b"/);
    await t.press('down');
    await t.waitFor('"\\u001b[B"');
    await t.press('enter');
    await t.waitFor('"\\r"');
    await t.press('ctrl-c');
    await t.waitFor('bye');
    expect((await t.exit).code).toBe(130);
    expect(t.lastLine()).toBe('bye');
  });

  it('waitFor fails with the screen dumped, and when the process ends without the text', async () => {
    const w = tempWorld();
    const t = openTerminal(['--version'], { env: baseEnv(w.home), cwd: w.cwd });
    try {
      await expect(t.waitFor('never shown', 5000)).rejects.toThrow(/exited \(code 0\) without showing "never shown"\. Screen:\n {2}\| \d+\.\d+\.\d+/);
    } finally {
      t.dispose();
      t.dispose();
    }
  });
});
