import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { AgentDrivers } from '../drivers/agent-drivers.js';
import { SnapshotSlots } from '../jobs/snapshot-slots.js';
import type { JobHandler } from './job-handler.js';
import { driverFailure } from './outcomes.js';

type Name = JobName.CREATE_INSTANCE_SNAPSHOT;

/**
 * Takes an instance snapshot: every disk of the instance at one instant, with its memory when asked. One that
 * exists already (a repeated delivery) is success. Waits for a snapshot slot.
 */
export class CreateInstanceSnapshotHandler implements JobHandler<Name> {
  readonly jobName = JobName.CREATE_INSTANCE_SNAPSHOT;

  constructor(
    private readonly drivers: AgentDrivers,
    private readonly slots: SnapshotSlots,
  ) {}

  async handle(payload: JobPayloads[Name]): Promise<JobOutcome<Name>> {
    try {
      const { instanceSnapshotId, withMemory, quiesce } = payload;
      const { alreadyExisted, quiesced, snapshotXml } = await this.slots.run(() =>
        this.drivers.instanceDriver().createInstanceSnapshot(payload, instanceSnapshotId, {
          withMemory: withMemory === true,
          quiesce: quiesce === true,
        }),
      );
      return {
        ok: true,
        data: { instanceSnapshotId, alreadyExisted, quiesced, ...(snapshotXml ? { snapshotXml } : {}) },
        message: alreadyExisted
          ? 'The recovery point was already there'
          : `Recovery point taken${withMemory ? ' with memory' : ''}${quiesced ? ', guest file systems frozen' : ''}`,
      };
    } catch (error) {
      return driverFailure<Name>(error);
    }
  }
}
