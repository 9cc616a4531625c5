import { JobName } from '@snapdeck/contracts';
import { parseDelivery } from './job-envelope.js';

const good = { jobId: 'j-1', attempt: 1, name: JobName.CREATE_SNAPSHOT, payload: { volumeId: 'v', snapshotId: 's' } };

describe('parseDelivery', () => {
  it('accepts a well-formed envelope whose name matches the queue job name', () => {
    expect(parseDelivery(JobName.CREATE_SNAPSHOT, good)).toEqual({ ok: true, envelope: good });
  });

  it('refuses data it cannot even answer (no jobId), without a reply address', () => {
    expect(parseDelivery(JobName.CREATE_SNAPSHOT, 'x')).toEqual({ ok: false, reason: 'the job data is not an object' });
    expect(parseDelivery(JobName.CREATE_SNAPSHOT, { ...good, jobId: '' })).toEqual({
      ok: false,
      reason: 'the job has no jobId',
    });
    expect(parseDelivery(JobName.CREATE_SNAPSHOT, { ...good, attempt: 0 })).toEqual({
      ok: false,
      reason: 'job j-1 has no valid attempt number',
    });
    expect(parseDelivery('resize', { ...good, name: 'resize' })).toMatchObject({
      ok: false,
      reason: 'job j-1 names an unknown operation "resize"',
    });
  });

  it('refuses a mismatched name or a missing payload with an address to report the failure to', () => {
    const address = { jobId: 'j-1', attempt: 1, name: JobName.CREATE_SNAPSHOT };
    expect(parseDelivery(JobName.DELETE_SNAPSHOT, good)).toEqual({
      ok: false,
      reason: 'the queue job is named "delete-snapshot" but its envelope says "create-snapshot"',
      replyTo: address,
    });
    expect(parseDelivery(JobName.CREATE_SNAPSHOT, { ...good, payload: null })).toEqual({
      ok: false,
      reason: 'the job has no payload object',
      replyTo: address,
    });
  });
});
