// Slowest suites first, so that no worker is left with a long suite when the others are done, and a note of this
// run's test files for global setup (which jest does not tell): under CI, global setup fails the run at once when
// a file needs a capability the machine lacks.
//
// How long a suite takes: what jest's cache measured on this machine's last run, else what suite-durations.json
// says (measured here, for a fresh machine such as CI's, which has no cache), else a guess by tier. Jest's own
// order then applies: the suites that failed last time first, then the longest.
import Sequencer from '@jest/test-sequencer';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

export const TEST_PATHS = Symbol.for('snapdeck.testPaths');

/** Milliseconds per suite, by path from the repository root. */
const MEASURED = JSON.parse(readFileSync(new URL('./suite-durations.json', import.meta.url), 'utf8'));

/** A suite that is in neither: end-to-end suites start a stack, integration suites a database. */
function guess(path) {
  if (path.endsWith('.e2e-spec.ts')) return 10_000;
  if (path.endsWith('.int-spec.ts')) return 4_000;
  return 1_000;
}

export default class SnapdeckSequencer extends Sequencer {
  sort(tests) {
    globalThis[TEST_PATHS] = tests.map((test) => test.path);
    return super.sort(tests);
  }

  time(test) {
    return super.time(test) ?? MEASURED[relative(test.context.config.rootDir, test.path)] ?? guess(test.path);
  }
}
