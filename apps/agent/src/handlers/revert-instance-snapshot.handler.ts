import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { AgentDrivers } from '../drivers/agent-drivers.js';
import { SnapshotSlots } from '../jobs/snapshot-slots.js';
import type { JobHandler } from './job-handler.js';
import { driverFailure } from './outcomes.js';

type Name = JobName.REVERT_INSTANCE_SNAPSHOT;

/**
 * Brings an instance back to an instance snapshot, running afterwards only if asked. Idempotent by nature: a
 * second revert to the same point leaves the same disks. A missing point fails. Waits for a snapshot slot.
 */
export class RevertInstanceSnapshotHandler implements JobHandler<Name> {
  readonly jobName = JobName.REVERT_INSTANCE_SNAPSHOT;

  constructor(
    private readonly drivers: AgentDrivers,
    private readonly slots: SnapshotSlots,
  ) {}

  async handle(payload: JobPayloads[Name]): Promise<JobOutcome<Name>> {
    try {
      const { instanceSnapshotId, startAfter } = payload;
      const { running } = await this.slots.run(() =>
        this.drivers.instanceDriver().revertInstanceSnapshot(payload, instanceSnapshotId, startAfter === true),
      );
      return {
        ok: true,
        data: { instanceSnapshotId, running },
        message: `Instance reverted to the recovery point; it is ${running ? 'running' : 'stopped'}`,
      };
    } catch (error) {
      return driverFailure<Name>(error);
    }
  }
}
