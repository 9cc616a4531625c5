import { JobName, type JobEnvelope } from '@snapdeck/contracts';
import { JobStatus } from '@snapdeck/domain';
import type { Database, JobEntity, Repositories } from '@snapdeck/persistence';
import type { ApiConfig } from '../config.js';
import type { JobDispatcher } from './job-dispatcher.js';
import { JobLauncher } from './job-launcher.service.js';

/** commitThenLaunch with an in-memory transaction: what is sent, and when. */
function setUp(failures: { send?: Error; claim?: Error; reread?: Error } = {}) {
  const events: string[] = [];
  const sent: JobEnvelope[] = [];
  const job = {
    id: 'job-1',
    type: JobName.DELETE_TEMPLATE,
    payload: { templateId: 'tpl-1' },
    attempt: 0,
    status: JobStatus.PENDING,
    resourceType: 'Template',
    resourceId: 'tpl-1',
  } as JobEntity;
  const repos = {
    jobs: {
      beginDelivery: () => (failures.claim ? Promise.reject(failures.claim) : Promise.resolve(1)),
      markSent: () => Promise.resolve(true),
      findForOrchestration: () =>
        failures.reread ? Promise.reject(failures.reread) : Promise.resolve({ ...job, attempt: 1 }),
    },
  } as unknown as Repositories;
  const db = {
    repos,
    async transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T> {
      events.push('begin');
      try {
        const result = await work(repos);
        events.push('commit');
        return result;
      } catch (error) {
        events.push('rollback');
        throw error;
      }
    },
  } as unknown as Database;
  const dispatcher = {
    fence: () => Promise.resolve(),
    send: (hostName: string, envelope: JobEnvelope) => {
      events.push(`send to ${hostName}`);
      if (failures.send) return Promise.reject(failures.send);
      sent.push(envelope);
      return Promise.resolve();
    },
  } as unknown as JobDispatcher;
  const launcher = new JobLauncher(db, dispatcher, { JOB_LEASE_SECONDS: 60, JOB_SEND_CLAIM_SECONDS: 10 } as ApiConfig);
  return { launcher, job, events, sent };
}

describe('JobLauncher.commitThenLaunch', () => {
  it('sends the job only after the transaction committed, and answers with the job as dispatched', async () => {
    const { launcher, job, events, sent } = setUp();
    const answer = await launcher.commitThenLaunch(() => {
      events.push('work');
      return Promise.resolve({ operation: { templateName: 'golden', job }, hostName: 'kvm-1' });
    });
    expect(events).toEqual(['begin', 'work', 'commit', 'send to kvm-1']);
    expect(sent).toEqual([
      { jobId: 'job-1', attempt: 1, name: JobName.DELETE_TEMPLATE, payload: { templateId: 'tpl-1' } },
    ]);
    expect(answer).toEqual({ templateName: 'golden', job: { ...job, attempt: 1 } });
  });

  it('sends nothing when the transaction rolls back, and passes the error on unchanged', async () => {
    const { launcher, events, sent } = setUp();
    const refusal = new Error('Template golden is CREATING');
    await expect(launcher.commitThenLaunch(() => Promise.reject(refusal))).rejects.toBe(refusal);
    expect(events).toEqual(['begin', 'rollback']);
    expect(sent).toEqual([]);
  });

  describe('after the commit, a failure is no error for the client: the operation happened', () => {
    const operation = (job: JobEntity) => () =>
      Promise.resolve({ operation: { templateName: 'golden', job }, hostName: 'kvm-1' });

    it('answers the job as dispatched when the send fails (its lease makes the reconciler send it again)', async () => {
      const { launcher, job, events, sent } = setUp({ send: new Error('Redis is unreachable') });
      const answer = await launcher.commitThenLaunch(operation(job));
      expect(events).toEqual(['begin', 'commit', 'send to kvm-1']);
      expect(sent).toEqual([]);
      expect(answer).toEqual({ templateName: 'golden', job: { ...job, attempt: 1 } });
    });

    it('answers the job as committed when the database drops the claim', async () => {
      const { launcher, job, events, sent } = setUp({ claim: new Error('Connection terminated unexpectedly') });
      const answer = await launcher.commitThenLaunch(operation(job));
      expect(events).toEqual(['begin', 'commit']);
      expect(sent).toEqual([]);
      expect(answer).toEqual({ templateName: 'golden', job });
    });

    it('answers the job as committed when re-reading it fails after the send', async () => {
      const { launcher, job, events, sent } = setUp({ reread: new Error('Connection terminated unexpectedly') });
      const answer = await launcher.commitThenLaunch(operation(job));
      expect(events).toEqual(['begin', 'commit', 'send to kvm-1']);
      expect(sent).toHaveLength(1);
      expect(answer).toEqual({ templateName: 'golden', job });
    });
  });
});
