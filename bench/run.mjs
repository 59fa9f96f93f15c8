// `npm run bench`: every speed/size target of the project, measured and printed (never asserted
// in tests: timings belong here). Each benchmark prints one line with its target.
import { benchStartup } from './startup.mjs';

const r = benchStartup();
console.log(`startup: node -e 0 ${r.nodeMs.toFixed(1)} ms, azure-mlops --help ${r.helpMs.toFixed(1)} ms, ratio ${r.ratio.toFixed(2)} (target <= 1.5)${r.ratio <= 1.5 ? '' : '  ** over target **'}`);
