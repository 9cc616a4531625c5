import { JobName, type JobOutcome, type JobPayloads, type OrphanTag, type RepairReport } from '@snapdeck/contracts';
import { DriverError, VolumeDriver } from '../drivers/volume-driver.js';
import { SnapshotSlots } from '../jobs/snapshot-slots.js';
import type { JobHandler } from './job-handler.js';
import { failed } from './outcomes.js';

type Name = JobName.REPAIR_STORAGE;

/** One removal: the report's name for it and the driver operation a delete of that kind uses. */
interface Removal {
  target: string;
  remove: () => Promise<unknown>;
}

/**
 * Removes what the storage audit found orphaned, each with the same idempotent driver operation as the delete
 * of its kind (so a tag goes live from a running disk, and "already gone" counts as removed). One failure does
 * not stop the others: the report lists what was removed and what failed, and the job succeeds with it.
 */
export class RepairStorageHandler implements JobHandler<Name> {
  readonly jobName = JobName.REPAIR_STORAGE;

  constructor(
    private readonly driver: VolumeDriver,
    private readonly slots: SnapshotSlots,
  ) {}

  async handle(payload: JobPayloads[Name]): Promise<JobOutcome<Name>> {
    const removals = this.removals(payload);
    if (typeof removals === 'string') return failed(`Invalid payload: ${removals}`);
    const report: RepairReport = { removed: [], failed: [] };
    for (const { target, remove } of removals) {
      try {
        await remove();
        report.removed.push(target);
      } catch (error) {
        // A bug is not a failed removal: it is rethrown, and the runner reports it with its stack.
        if (!(error instanceof DriverError)) throw error;
        report.failed.push({ target, message: error.message });
      }
    }
    const failures = report.failed.length > 0 ? `; ${report.failed.length} failed` : '';
    return { ok: true, data: report, message: `Removed ${report.removed.length} of ${removals.length}${failures}` };
  }

  /** The removals in the payload's order (tags first), or what is wrong with it. */
  private removals(payload: JobPayloads[Name]): Removal[] | string {
    const { tags, volumeIds, templateIds, transferPaths } = payload as Partial<JobPayloads[Name]>;
    const lists = { tags, volumeIds, templateIds, transferPaths };
    for (const [name, list] of Object.entries(lists)) {
      if (list !== undefined && !Array.isArray(list)) return `${name} must be a list`;
    }
    return [
      ...(tags ?? []).map((entry) => {
        // Checked by the driver (ids must be UUIDs); a null entry must fail as a bad id, not as a TypeError.
        const t: Partial<OrphanTag> = entry ?? {};
        const context = t.instanceId === undefined ? {} : { instanceId: t.instanceId };
        return {
          target: `tag:${String(t.volumeId)}/${String(t.tag)}`,
          remove: () =>
            this.slots.run(() => this.driver.deleteSnapshot(t.volumeId as string, t.tag as string, context)),
        };
      }),
      ...(volumeIds ?? []).map((id) => ({
        target: `volume:${String(id)}`,
        remove: () => this.driver.destroyVolume(id),
      })),
      ...(templateIds ?? []).map((id) => ({
        target: `template:${String(id)}`,
        remove: () => this.driver.deleteTemplate(id),
      })),
      ...(transferPaths ?? []).map((path) => ({
        target: `transfer:${String(path)}`,
        remove: () => this.driver.removeTransfer(path),
      })),
    ];
  }
}
