// The ML project's Python: every file compiles, and its pytest suite passes (training under the
// mse bound, evaluation picking the better model, scoring one prediction per row, the smoke check).
// Interpreter: AZURE_MLOPS_PYTHON, default Debian's /usr/bin/python3 with python3-sklearn,
// python3-pytest, python3-numpy, python3-joblib. Without them the tests are skipped with the
// reason, or fail when AZURE_MLOPS_REQUIRE_ALL_TESTS is set. Nothing is written into templates/:
// no bytecode (PYTHONDONTWRITEBYTECODE, compile() in memory), no pytest cache (-p no:cacheprovider).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import { listFiles, requireOrSkip, TEMPLATES_DIR } from './helpers.js';

const PYTHON = process.env.AZURE_MLOPS_PYTHON ?? '/usr/bin/python3';
const REQUIRED_MODULES = ['sklearn', 'numpy', 'joblib', 'pytest'];

function python(args: string[], timeout = 120_000) {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONHASHSEED: '0' };
  delete env.MLFLOW_TRACKING_URI; // never log to a tracking server from the tests
  delete env.PYTHONPATH;
  return spawnSync(PYTHON, args, { cwd: TEMPLATES_DIR, env, encoding: 'utf8', timeout });
}

const probes = new Map<string, string | undefined>();
/** Why PYTHON can't import the modules (none: can it run at all), or undefined when it can. */
function pythonProblem(modules: string[]): string | undefined {
  const key = modules.join(',');
  if (!probes.has(key)) {
    const probe = python(['-c', modules.length ? `import ${modules.join(', ')}` : 'pass'], 60_000);
    probes.set(key, probe.error
      ? `${PYTHON} cannot be run (${probe.error.message}); set AZURE_MLOPS_PYTHON`
      : probe.status !== 0
        ? `${PYTHON} lacks ${modules.join('/')} (${probe.stderr.trim().split('\n').pop()}); ` +
          'install python3-sklearn python3-pytest python3-numpy python3-joblib or set AZURE_MLOPS_PYTHON'
        : undefined);
  }
  return probes.get(key);
}

const pythonFiles = () => listFiles(TEMPLATES_DIR).filter((path) => path.endsWith('.py'));
const strayCaches = () => listFiles(TEMPLATES_DIR).filter((path) => /(^|\/)(__pycache__|\.pytest_cache)\/|\.pyc$/.test(path));

function requirePython(ctx: TestContext, modules: string[]) {
  requireOrSkip(ctx, pythonProblem(modules));
}

describe('the ML project (templates/)', () => {
  it('has the training, evaluation, registration, scoring and pipeline-helper code with tests', () => {
    expect(pythonFiles().sort()).toEqual([
      'scripts/model_versions.py', 'scripts/smoke_check.py',
      'src/evaluate.py', 'src/register.py', 'src/score.py', 'src/train.py',
      'tests/conftest.py', 'tests/test_evaluate.py', 'tests/test_model_versions.py',
      'tests/test_score.py', 'tests/test_smoke_check.py', 'tests/test_train.py',
    ]);
  });

  it('every Python file compiles', (ctx) => {
    requirePython(ctx, []);
    // compile() in memory: py_compile would write .pyc files next to the sources.
    const result = python(['-c', [
      'import sys',
      'for path in sys.argv[1:]:',
      '    with open(path, encoding="utf-8") as source:',
      '        compile(source.read(), path, "exec")',
      'print(len(sys.argv) - 1)',
    ].join('\n'), ...pythonFiles()]);
    expect(result.status, result.stderr).toBe(0);
    expect(Number(result.stdout.trim())).toBe(pythonFiles().length);
  });

  it('pytest passes: mse bound, better-model decision, one prediction per row, smoke check', (ctx) => {
    requirePython(ctx, REQUIRED_MODULES);
    const result = python(['-m', 'pytest', '-p', 'no:cacheprovider', '-q', '-rA'], 300_000);
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.status, output).toBe(0);
    for (const test of [
      'test_train.py::test_trained_model_is_under_the_mse_bound',
      'test_evaluate.py::test_picks_the_better_of_two_models[mse]',
      'test_evaluate.py::test_first_model_always_registers',
      'test_evaluate.py::test_does_not_register_when_not_better',
      'test_score.py::test_one_prediction_per_row_of_the_sample_request',
      'test_smoke_check.py::test_smoke_check_passes_against_a_working_endpoint',
    ]) {
      expect(output, test).toContain(`PASSED tests/${test}`);
    }
    const summary = output.trim().split('\n').pop()!; // e.g. "43 passed in 1.61s"
    expect(summary).toMatch(/\b\d+ passed\b/);
    expect(summary).not.toMatch(/\d+ (failed|errors?|skipped|xfailed|xpassed)/);
    expect(strayCaches()).toEqual([]);
  }, 320_000);

  it('leaves no bytecode or pytest cache in templates/ (nothing of it must be pushed)', () => {
    expect(strayCaches()).toEqual([]);
    expect(listFiles(join(TEMPLATES_DIR)).filter((path) => /(^|\/)(mlruns|\.venv)\//.test(path))).toEqual([]);
  });
});
