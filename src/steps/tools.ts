import { toolSpecs, type ToolFinding } from '../adapters/tools.js';
import { StepError } from '../engine/errors.js';
import { defineStep, type CheckResult, type Context } from '../engine/types.js';

/** README: "Install the Azure CLI", Terraform. Finds az, terraform (>= 1.5), git, ssh-keygen. */
export function describeTools(found: ToolFinding[]): CheckResult {
  const missing = found.filter((f) => (!f.found || (f.tooOld && !f.spec.minIsWarning)) && !f.spec.optional);
  const warnings = found.filter((f) => !missing.includes(f) && (!f.found || f.tooOld));
  const summary = found
    .map((f) => (f.found ? `${f.spec.name} ${f.version ?? ''}`.trim() + (f.tooOld ? ` (< ${f.spec.min})` : '') : `${f.spec.name} missing`))
    .join(', ');
  const problems = [...missing, ...warnings].map((f) =>
    f.found ? `${f.spec.name} ${f.version} is older than ${f.spec.min}: ${f.spec.install}` : `${f.spec.name} (${f.spec.why}): ${f.spec.install}`,
  );
  if (missing.length) return { status: 'missing', summary, fix: problems.join('\n'), details: problems };
  if (warnings.length) return { status: 'warning', summary, fix: problems.join('\n'), details: problems };
  return { status: 'ok', summary };
}

type Ctx = Pick<Context, 'tools'>;

export const toolsStep = defineStep({
  id: 'tools',
  title: 'Local tools',
  dependsOn: [],
  async check({ tools }: Ctx) {
    return describeTools(await Promise.all(toolSpecs.map((s) => tools.find(s))));
  },
  async plan(_ctx, found) {
    // Nothing here can be installed for the user without surprising them: say exactly what to do.
    throw new StepError(`Required tools are missing or too old: ${found.summary}`, found.fix, 'tools');
  },
  async apply() {
    // plan() always stops the run before apply; kept for the Step contract.
  },
});
