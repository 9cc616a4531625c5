import { classifyCheck, onlyRecountableErrors, type CheckRun } from './qemu-img-check.js';

/** `qemu-img check --output=json` as qemu-utils 7.2 prints it, with the counts a case needs. */
function report(counts: Record<string, number> = {}): string {
  return JSON.stringify({
    'image-end-offset': 4653056,
    'total-clusters': 16384,
    'check-errors': 0,
    'allocated-clusters': 64,
    filename: 'v.qcow2',
    format: 'qcow2',
    ...counts,
  });
}

const run = (overrides: Partial<CheckRun>): CheckRun => ({
  exitCode: 0,
  stdout: report(),
  stderr: '',
  timedOut: false,
  timeoutSeconds: 30,
  ...overrides,
});

describe('classifyCheck (qemu-img check exit status 0 clean, 1 not completed, 2 corrupted, 3 leaks)', () => {
  it('exit 0 with no counts is clean', () => {
    expect(classifyCheck(run({}))).toEqual({ status: 'clean' });
  });

  it('exit 3 with leaks is leaks, with the count', () => {
    expect(classifyCheck(run({ exitCode: 3, stdout: report({ leaks: 1026 }) }))).toEqual({
      status: 'leaks',
      leakedClusters: 1026,
      message: '1026 leaked cluster(s): harmless, repairable with qemu-img check -r leaks',
    });
  });

  it('exit 3 without a readable report is still leaks', () => {
    expect(classifyCheck(run({ exitCode: 3, stdout: '' }))).toMatchObject({ status: 'leaks' });
  });

  it('exit 2 with corruptions is corrupt, and keeps the leaks found beside them', () => {
    expect(classifyCheck(run({ exitCode: 2, stdout: report({ corruptions: 2, leaks: 5 }) }))).toEqual({
      status: 'corrupt',
      corruptions: 2,
      leakedClusters: 5,
      message: '2 corruption(s) found by qemu-img check',
    });
  });

  it('names the first error qemu-img printed, so the kind of damage shows', () => {
    const stderr =
      'Leaked cluster 9 refcount=1 reference=0\nERROR cluster 4 refcount=1 reference=2\nERROR cluster 5 refcount=1 reference=2\n';
    expect(classifyCheck(run({ exitCode: 2, stdout: report({ corruptions: 2, leaks: 1 }), stderr })).message).toBe(
      '2 corruption(s) found by qemu-img check (first: ERROR cluster 4 refcount=1 reference=2)',
    );
  });

  it('corruptions in the report win over any exit status', () => {
    expect(classifyCheck(run({ exitCode: 3, stdout: report({ corruptions: 1, leaks: 3 }) }))).toMatchObject({
      status: 'corrupt',
      corruptions: 1,
    });
  });

  it('exit 2 without a report is corrupt', () => {
    expect(classifyCheck(run({ exitCode: 2, stdout: 'not json' }))).toMatchObject({ status: 'corrupt' });
  });

  it('exit 1 (the check could not be completed) is unreadable, with qemu-img words', () => {
    expect(
      classifyCheck(run({ exitCode: 1, stdout: '', stderr: 'Could not open v.qcow2: Image is not in qcow2 format' })),
    ).toEqual({ status: 'unreadable', message: 'Could not open v.qcow2: Image is not in qcow2 format' });
  });

  it('check errors in the report are unreadable even when the exit status says leaks', () => {
    expect(classifyCheck(run({ exitCode: 3, stdout: report({ 'check-errors': 1, leaks: 2 }) }))).toMatchObject({
      status: 'unreadable',
    });
  });

  it('a killed check is timeout, whatever it printed', () => {
    expect(classifyCheck(run({ exitCode: null, stdout: '', timedOut: true, timeoutSeconds: 0.25 }))).toEqual({
      status: 'timeout',
      message: 'qemu-img check did not finish within 250 ms',
    });
    expect(classifyCheck(run({ exitCode: null, timedOut: true, timeoutSeconds: 60 })).message).toBe(
      'qemu-img check did not finish within 60 s',
    );
  });

  it('an unknown exit status without a report is unreadable', () => {
    expect(classifyCheck(run({ exitCode: 63, stdout: '' }))).toEqual({
      status: 'unreadable',
      message: 'qemu-img check exited with status 63',
    });
  });
});

describe('onlyRecountableErrors', () => {
  it('is true when every error is a count below its references or a COPIED flag off its count', () => {
    const stderr = [
      'ERROR cluster 5 refcount=1 reference=2',
      'ERROR cluster 6 refcount=0 reference=1',
      'ERROR OFLAG_COPIED data cluster: l2_entry=8000000000050000 refcount=1',
      'ERROR OFLAG_COPIED L2 cluster: l1_index=0 l1_entry=80000000000c0000 refcount=2',
      'Leaked cluster 9 refcount=1 reference=0',
    ].join('\n');
    expect(onlyRecountableErrors(stderr)).toBe(true);
  });

  it('is true for what a snapshot create cut short after its refcounts leaves: COPIED flags and leaks', () => {
    const stderr = [
      'Leaked cluster 5 refcount=2 reference=1',
      'ERROR OFLAG_COPIED data cluster: l2_entry=8000000000050000 refcount=2',
    ].join('\n');
    expect(onlyRecountableErrors(stderr)).toBe(true);
  });

  it('is false for a count above its references, a misplaced table, leaks alone or no error at all', () => {
    expect(onlyRecountableErrors('ERROR cluster 5 refcount=3 reference=2')).toBe(false);
    expect(
      onlyRecountableErrors(
        'ERROR l2_offset=10200: Table is not cluster aligned; L1 entry corrupted\nERROR cluster 1 refcount=1 reference=2',
      ),
    ).toBe(false);
    expect(onlyRecountableErrors('Leaked cluster 9 refcount=1 reference=0')).toBe(false);
    expect(onlyRecountableErrors('')).toBe(false);
  });
});
