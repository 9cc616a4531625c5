// Jest's default order, and a note of this run's test files for global setup (which jest does not tell): under
// CI, global setup fails the run at once when a file needs a capability the machine lacks.
import Sequencer from '@jest/test-sequencer';

export const TEST_PATHS = Symbol.for('snapdeck.testPaths');

export default class SnapdeckSequencer extends Sequencer {
  sort(tests) {
    globalThis[TEST_PATHS] = tests.map((test) => test.path);
    return super.sort(tests);
  }
}
