import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { checkedId } from '../drivers/driver-input.js';
import { AgentDrivers } from '../drivers/agent-drivers.js';
import type { JobHandler } from './job-handler.js';
import { driverFailure, failed } from './outcomes.js';

type Name = JobName.DESTROY_VOLUMES;

/**
 * Removes volume files, and with them the snapshots inside. Every id is checked before any file is removed,
 * so a malformed payload destroys nothing; a volume already gone counts as destroyed. When the job names the
 * destroyed instance, the instance port forgets it first (libvirt undefines its domain; refused while it runs); a
 * node without one (qemu-img) keeps nothing about instances, so there is nothing to forget.
 */
export class DestroyVolumesHandler implements JobHandler<Name> {
  readonly jobName = JobName.DESTROY_VOLUMES;

  constructor(private readonly drivers: AgentDrivers) {}

  async handle(payload: JobPayloads[Name]): Promise<JobOutcome<Name>> {
    const volumeIds: unknown = payload.volumeIds;
    if (!Array.isArray(volumeIds) || volumeIds.length === 0) {
      return failed('Invalid payload: volumeIds must be a non-empty list');
    }
    const destroyed: string[] = [];
    let gone = 0;
    try {
      for (const id of volumeIds) checkedId(id, 'volume');
      // The instance's hypervisor state goes first: a domain left defined would point at files no longer there.
      if (payload.instanceId !== undefined) {
        const instanceId = checkedId(payload.instanceId, 'instance');
        await this.drivers.instances?.forgetInstance(instanceId);
      }
      for (const id of payload.volumeIds) {
        const { alreadyGone } = await this.drivers.volumes.destroyVolume(id);
        if (alreadyGone) gone++;
        destroyed.push(id);
      }
    } catch (error) {
      const outcome = driverFailure<Name>(error);
      if (outcome.ok || destroyed.length === 0) return outcome;
      return {
        ...outcome,
        message: `${outcome.message} (${destroyed.length} of ${volumeIds.length} destroyed before)`,
      };
    }
    const message =
      gone === 0
        ? `Destroyed ${destroyed.length} volume(s)`
        : `Destroyed ${destroyed.length - gone} volume(s); ${gone} already gone`;
    return { ok: true, data: { destroyed }, message };
  }
}
