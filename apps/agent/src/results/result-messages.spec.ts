import { JobName, ResultKind } from '@snapdeck/contracts';
import { finishedMessage, RESULT_JOB_OPTIONS, startedMessage } from './result-messages.js';

describe('result messages', () => {
  const at = new Date('2026-11-22T09:30:00.000Z');
  const address = { jobId: 'job-1', attempt: 2, name: JobName.CREATE_SNAPSHOT } as const;

  it('builds a STARTED message for one delivery', () => {
    expect(startedMessage(address, 'kvm-7', at)).toEqual({
      kind: ResultKind.STARTED,
      jobId: 'job-1',
      attempt: 2,
      hostName: 'kvm-7',
      at: '2026-11-22T09:30:00.000Z',
    });
  });

  it('builds a FINISHED message carrying the outcome unchanged', () => {
    const outcome = { ok: true as const, data: { snapshotId: 's-1', alreadyExisted: true, sizeBytes: null } };
    expect(finishedMessage(address, 'kvm-7', outcome, at)).toEqual({
      kind: ResultKind.FINISHED,
      jobId: 'job-1',
      attempt: 2,
      hostName: 'kvm-7',
      name: JobName.CREATE_SNAPSHOT,
      outcome,
      at: '2026-11-22T09:30:00.000Z',
    });
  });

  it('builds a FINISHED message for a failure', () => {
    const message = finishedMessage(address, 'kvm-7', { ok: false, message: 'disk full', retryable: false }, at);
    expect(message.outcome).toEqual({ ok: false, message: 'disk full', retryable: false });
  });

  it('is a plain JSON value, since it crosses the queue', () => {
    const message = finishedMessage(address, 'kvm-7', { ok: false, message: 'x' }, at);
    expect(JSON.parse(JSON.stringify(message))).toEqual(message);
  });

  it('asks the queue to drop a result once the api has applied it', () => {
    expect(RESULT_JOB_OPTIONS.removeOnComplete).toBe(true);
  });
});
