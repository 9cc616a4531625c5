import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { AgentDrivers } from '../drivers/agent-drivers.js';
import type { JobHandler } from './job-handler.js';
import { driverFailure } from './outcomes.js';

type Name = JobName.START_INSTANCE;

/** Starts an instance on its disks; one running already (a repeated delivery) is success. */
export class StartInstanceHandler implements JobHandler<Name> {
  readonly jobName = JobName.START_INSTANCE;

  constructor(private readonly drivers: AgentDrivers) {}

  async handle(payload: JobPayloads[Name]): Promise<JobOutcome<Name>> {
    try {
      const { alreadyRunning } = await this.drivers.instanceDriver().startInstance(payload);
      return {
        ok: true,
        data: { instanceId: payload.instanceId, alreadyRunning },
        message: alreadyRunning ? 'The instance was already running' : 'Instance started',
      };
    } catch (error) {
      return driverFailure<Name>(error);
    }
  }
}
