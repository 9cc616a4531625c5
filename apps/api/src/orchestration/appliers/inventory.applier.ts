import { JobName, type JobOutcome, type RepairTargets, type StorageInventory } from '@snapdeck/contracts';
import { EventType } from '@snapdeck/domain';
import type { JobOf, Repositories, StorageAuditCounts, StorageAuditEntity } from '@snapdeck/persistence';
import { compareInventory, type Finding } from '../../storage-audits/compare-inventory.js';
import { markMissing } from '../../storage-audits/missing-on-disk.js';
import { openFollowUp } from '../open-job.js';
import type { FollowUpJob, JobOutcomeApplier } from './job-outcome-applier.js';

/** Findings kept on the audit row and recorded one event each: a flood of orphans is summed up, not listed. */
const MAX_LISTED_FINDINGS = 1000;
const MAX_FINDING_EVENTS = 100;

/**
 * Compares a host's inventory with the database in the transaction that closes the INVENTORY job, records the
 * findings on the audit (and as events), and, when the audit repairs: marks what is missing ERROR and sends
 * REPAIR_STORAGE for the orphans no row owns. The audit closes here unless a repair job follows.
 */
export class InventoryApplier implements JobOutcomeApplier<JobName.INVENTORY> {
  readonly jobName = JobName.INVENTORY;

  async apply(
    tx: Repositories,
    job: JobOf<JobName.INVENTORY>,
    outcome: JobOutcome<JobName.INVENTORY>,
  ): Promise<FollowUpJob[]> {
    const audit = await tx.storageAudits.findById(job.resourceId);
    if (!audit || audit.finishedAt) return [];
    if (!outcome.ok) {
      await tx.storageAudits.finish(audit.id);
      await tx.events.record({
        ...platformEvent(job, audit),
        type: EventType.STORAGE_AUDIT_FAILED,
        message: `Storage audit failed: ${outcome.message}`,
        details: { hostId: audit.hostId, jobId: job.id },
      });
      return [];
    }
    return this.compare(tx, job, audit, outcome.data);
  }

  private async compare(
    tx: Repositories,
    job: JobOf<JobName.INVENTORY>,
    audit: StorageAuditEntity,
    inventory: StorageInventory,
  ): Promise<FollowUpJob[]> {
    const takenAt = new Date(inventory.takenAt);
    const records = await tx.storageAudits.recordsFor(
      audit.hostId,
      {
        volumeIds: inventory.images.filter((i) => i.kind === 'volume').map((i) => i.id),
        templateIds: inventory.images.filter((i) => i.kind === 'template').map((i) => i.id),
      },
      takenAt,
    );
    const { counts, findings, targets } = compareInventory(inventory, records, {
      hostId: audit.hostId,
      now: new Date(),
      orphanGraceMinutes: audit.orphanGraceMinutes,
    });
    const host = (await tx.hosts.findById(audit.hostId))!;
    const removing = audit.repaired && hasTargets(targets);
    const next = removing ? await openFollowUp(tx, job, host, JobName.REPAIR_STORAGE, targets) : null;
    if (next) await tx.storageAudits.setJob(audit.id, 'repairJobId', next.id);
    const listed = findings.slice(0, MAX_LISTED_FINDINGS).map((f) => ({
      ...f,
      repair: !audit.repaired || !f.repairable ? 'none' : f.kind.startsWith('missing') ? 'marked_error' : 'removing',
    }));
    await tx.storageAudits.recordFindings(audit.id, {
      ...counts,
      findings: listed,
      startedAt: takenAt,
      finished: next === null,
    });
    if (audit.repaired) await markMissing(tx, job, findings, takenAt);
    await this.recordEvents(tx, job, audit, findings);
    await tx.events.record({
      ...platformEvent(job, audit),
      type: EventType.STORAGE_AUDIT_COMPLETED,
      message: `Storage audit of host ${host.name}: ${summary(counts)}`,
      details: {
        hostId: audit.hostId,
        jobId: job.id,
        ...counts,
        repair: audit.repaired,
        repairJobId: next?.id ?? null,
      },
    });
    return next ? [{ job: next, hostName: host.name }] : [];
  }

  /** One event for all orphans of the audit; one per missing or damaged resource, on that resource. */
  private async recordEvents(
    tx: Repositories,
    job: JobOf<JobName.INVENTORY>,
    audit: StorageAuditEntity,
    findings: Finding[],
  ): Promise<void> {
    const orphans = findings.filter((f) => f.kind === 'orphan_tag' || f.kind === 'orphan_file');
    if (orphans.length > 0) {
      await tx.events.record({
        ...platformEvent(job, audit),
        type: EventType.STORAGE_ORPHAN_FOUND,
        message: `${orphans.length} orphan(s) on disk that no row owns`,
        details: { hostId: audit.hostId, orphans: orphans.slice(0, MAX_LISTED_FINDINGS) },
      });
    }
    const serious = findings.filter((f) => f.kind.startsWith('missing') || f.kind === 'damaged_image');
    for (const finding of serious.slice(0, MAX_FINDING_EVENTS)) {
      const [resourceType, resourceId] = resourceOf(finding);
      await tx.events.record({
        organizationId: null,
        actorUserId: job.createdByUserId,
        type: finding.kind === 'damaged_image' ? EventType.STORAGE_DAMAGED_FOUND : EventType.STORAGE_MISSING_FOUND,
        resourceType,
        resourceId,
        message: `${resourceType} ${resourceId}: ${finding.reason}`,
        details: { hostId: audit.hostId, auditId: audit.id, ...finding },
      });
    }
  }
}

function platformEvent(job: JobOf<JobName.INVENTORY>, audit: StorageAuditEntity) {
  return {
    organizationId: null,
    actorUserId: job.createdByUserId,
    resourceType: 'StorageAudit',
    resourceId: audit.id,
  };
}

function resourceOf(finding: Finding): [string, string] {
  if (finding.snapshotId) return ['Snapshot', finding.snapshotId];
  if (finding.instanceSnapshotId) return ['InstanceSnapshot', finding.instanceSnapshotId];
  if (finding.templateId) return ['Template', finding.templateId];
  return ['Volume', finding.volumeId!];
}

function hasTargets(targets: RepairTargets): boolean {
  return targets.tags.length + targets.volumeIds.length + targets.templateIds.length + targets.transferPaths.length > 0;
}

function summary(counts: StorageAuditCounts): string {
  const found = Object.entries(counts).filter(([, n]) => n > 0);
  return found.length === 0 ? 'no findings' : found.map(([kind, n]) => `${kind} ${n}`).join(', ');
}
