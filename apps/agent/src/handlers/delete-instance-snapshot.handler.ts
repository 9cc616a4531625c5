import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { AgentDrivers } from '../drivers/agent-drivers.js';
import { SnapshotSlots } from '../jobs/snapshot-slots.js';
import type { JobHandler } from './job-handler.js';
import { driverFailure } from './outcomes.js';

type Name = JobName.DELETE_INSTANCE_SNAPSHOT;

/** Deletes an instance snapshot from every disk; "already gone" (a repeated delivery) counts. Waits for a snapshot slot. */
export class DeleteInstanceSnapshotHandler implements JobHandler<Name> {
  readonly jobName = JobName.DELETE_INSTANCE_SNAPSHOT;

  constructor(
    private readonly drivers: AgentDrivers,
    private readonly slots: SnapshotSlots,
  ) {}

  async handle(payload: JobPayloads[Name]): Promise<JobOutcome<Name>> {
    try {
      const { instanceSnapshotId } = payload;
      const { alreadyGone } = await this.slots.run(() =>
        this.drivers.instanceDriver().deleteInstanceSnapshot(payload, instanceSnapshotId),
      );
      return {
        ok: true,
        data: { instanceSnapshotId, alreadyGone },
        message: alreadyGone
          ? 'Recovery point was already missing from disk; nothing to delete'
          : 'Recovery point deleted from disk',
      };
    } catch (error) {
      return driverFailure<Name>(error);
    }
  }
}
