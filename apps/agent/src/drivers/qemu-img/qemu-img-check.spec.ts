import { classifyCheck, type CheckRun } from './qemu-img-check.js';

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
