import { JobFailureReason, JobName, type JobOutcome } from '@snapdeck/contracts';
import type { JobOf, Repositories } from '@snapdeck/persistence';
import { snapshotMissingOnDisk } from '../../storage-audits/missing-on-disk.js';
import type { JobOutcomeApplier } from './job-outcome-applier.js';
import { finishProvisioning } from './provisioning.js';

/**
 * Provisioning an instance or a volume: its volumes become READY (the instance STOPPED), or ERROR. A source
 * snapshot the agent found missing on disk (SNAPSHOT_MISSING) becomes ERROR: the one source, or, with several,
 * those the agent's message names.
 */
export class CreateVolumesApplier implements JobOutcomeApplier<JobName.CREATE_VOLUMES> {
  readonly jobName = JobName.CREATE_VOLUMES;

  async apply(
    tx: Repositories,
    job: JobOf<JobName.CREATE_VOLUMES>,
    outcome: JobOutcome<JobName.CREATE_VOLUMES>,
  ): Promise<void> {
    const { volumes } = job.payload;
    await finishProvisioning(
      tx,
      job,
      volumes.map((v) => v.volumeId),
      outcome,
    );
    if (outcome.ok || outcome.reason !== JobFailureReason.SNAPSHOT_MISSING) return;
    const sources = [...new Set(volumes.flatMap((v) => (v.source?.kind === 'snapshot' ? [v.source.snapshotId] : [])))];
    const missing = sources.length === 1 ? sources : sources.filter((id) => outcome.message.includes(id));
    for (const snapshotId of missing) await snapshotMissingOnDisk(tx, job, snapshotId, new Date());
  }
}
