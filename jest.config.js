/**
 * One jest run covers the three tiers: unit specs beside the code (`*.spec.ts`), integration specs on a
 * real PostgreSQL / qemu-img (`*.int-spec.ts`), and end-to-end specs in test/ (`*.e2e-spec.ts`).
 * `TEST_TIER=unit|int|e2e` narrows a run to one tier. The fault campaigns (`test/faults/*.fault-spec.ts`: kill -9,
 * SIGSTOP, database and queue restarts on private servers) run only with `TEST_TIER=faults` (`npm run
 * test:faults`, one file at a time), never in a plain run: they take minutes and kill what they start. Global setup (libs/testing) picks the PostgreSQL server
 * (DATABASE_URL, else the local one, else an embedded one) and probes Redis, qemu-img and libvirt; a suite that
 * needs one of those declares it with `describeWith` and is skipped, with the reason printed at the end, when it
 * is missing. Under CI=true a missing capability fails the run instead.
 *
 * Test files run in parallel workers: each has its own database (cloned from the template), Redis prefix,
 * storage folders and ports, so none waits for another. Four workers on two cores, because most of a suite's
 * time is spent waiting on PostgreSQL, Redis, qemu-img and libvirt rather than on the CPU; the sequencer starts
 * the slowest suites first. `--maxWorkers=1` (or `--runInBand`) on the command line runs them one by one.
 * @type {import('jest').Config}
 */
const tiers = {
  unit: ['<rootDir>/{apps,libs,test}/**/*.spec.ts'],
  int: ['<rootDir>/{apps,libs,migrations}/**/*.int-spec.ts'],
  e2e: ['<rootDir>/test/**/*.e2e-spec.ts'],
};
const faults = ['<rootDir>/test/faults/*.fault-spec.ts'];
const tier = process.env.TEST_TIER;

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  testMatch: tier === 'faults' ? faults : tier ? tiers[tier] : Object.values(tiers).flat(),
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  moduleNameMapper: {
    '^@snapdeck/migrations$': '<rootDir>/migrations/index.ts',
    '^@snapdeck/(api|agent)$': '<rootDir>/apps/$1/src/bootstrap.ts',
    '^@snapdeck/(.*)$': '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.test.json' }],
  },
  testSequencer: '<rootDir>/libs/testing/sequencer.mjs',
  globalSetup: '<rootDir>/libs/testing/global-setup.mjs',
  globalTeardown: '<rootDir>/libs/testing/global-teardown.mjs',
  reporters: ['default', '<rootDir>/libs/testing/summary-reporter.mjs'],
  testTimeout: 60000,
  maxWorkers: 4,
};
