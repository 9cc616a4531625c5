import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { AgentDrivers } from '../drivers/agent-drivers.js';
import { DriverError } from '../drivers/volume-driver.js';
import type { JobHandler } from './job-handler.js';
import { driverFailure } from './outcomes.js';

type Name = JobName.STOP_INSTANCE;

/** One day: a guest that needs longer to shut down is powered off anyway. */
const MAX_TIMEOUT_SECONDS = 86_400;

/**
 * Asks the guest to power off, and powers it off by force after `timeoutSeconds`; an instance stopped already
 * (a repeated delivery) is success.
 */
export class StopInstanceHandler implements JobHandler<Name> {
  readonly jobName = JobName.STOP_INSTANCE;

  constructor(private readonly drivers: AgentDrivers) {}

  async handle(payload: JobPayloads[Name]): Promise<JobOutcome<Name>> {
    try {
      const { timeoutSeconds } = payload;
      if (typeof timeoutSeconds !== 'number' || !Number.isFinite(timeoutSeconds) || timeoutSeconds < 0) {
        throw new DriverError(`Invalid payload: timeoutSeconds must be a number of seconds from 0`);
      }
      const timeout = Math.min(timeoutSeconds, MAX_TIMEOUT_SECONDS);
      const { alreadyStopped, forced } = await this.drivers.instanceDriver().stopInstance(payload, timeout);
      return {
        ok: true,
        data: { instanceId: payload.instanceId, alreadyStopped, forced },
        message: alreadyStopped
          ? 'The instance was already stopped'
          : forced
            ? `The guest did not power off within ${timeout} s and was powered off by force`
            : 'Instance stopped',
      };
    } catch (error) {
      return driverFailure<Name>(error);
    }
  }
}
