// `npm run bench`: every speed/size target of the project, measured and printed (never asserted
// in tests: timings belong here). Each benchmark prints one line with its target.
import { benchStartup } from './startup.mjs';
import { benchDoctor } from './doctor.mjs';
import { benchDevOpsSteps, benchInitOverlap } from './init.mjs';
import { benchPack } from './pack.mjs';

const mark = (ok) => (ok ? '' : '  ** over target **');

const s = benchStartup();
console.log(`startup: node -e 0 ${s.nodeMs.toFixed(1)} ms, azure-mlops --help ${s.helpMs.toFixed(1)} ms, ratio ${s.ratio.toFixed(2)} (target <= 1.5)${mark(s.ratio <= 1.5)}`);

const d = await benchDoctor();
console.log(`doctor (every outside call 200 ms): ${d.wallMs} ms wall vs slowest check chain ${d.slowestChainMs} ms, ratio ${d.ratio.toFixed(2)} (target <= 1.5)${mark(d.ratio <= 1.5)}`);
console.log(`doctor az processes: ${d.azProcesses} (target <= 3)${mark(d.azProcesses <= 3)}: ${d.azCalls.join(', ')}`);

const o = await benchInitOverlap();
console.log(`init with a 10 s terraform apply: ${o.totalMs} ms total, terraform step ${o.terraformMs} ms, the rest ${o.otherMs} ms = ${(o.share * 100).toFixed(1)}% of the total (target <= 10%)${mark(o.share <= 0.1)}`);

const dv = await benchDevOpsSteps();
console.log(`Azure DevOps steps alone (project, pool, extension, service connection, variable group, repository push, pipeline + permissions): ${dv.ms} ms, ${dv.requests} requests (target < 1300 ms)${mark(dv.ms < 1300)}`);

const p = benchPack();
console.log(`package: tarball ${(p.size / 1024).toFixed(0)} KiB (target <= 2048 KiB)${mark(p.size <= 2 * 1024 * 1024)}; npx <tarball> --help: ${p.coldMs} ms cold, ${p.warmMs} ms cached`);
