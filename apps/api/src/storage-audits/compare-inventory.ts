import type { InventoryImage, RepairTargets, StorageInventory } from '@snapdeck/contracts';
import { isUuid, SnapshotState, VolumeState } from '@snapdeck/domain';
import type { AuditRecords, StorageAuditCounts } from '@snapdeck/persistence';

export type FindingKind =
  | 'orphan_tag'
  | 'orphan_file'
  | 'missing_snapshot'
  | 'missing_recovery_point'
  | 'missing_volume'
  | 'damaged_image'
  | 'image_leaks'
  | 'check_timeout';

/**
 * One thing the disk and the database disagree on, as the audit's `findings` list and its events show it:
 * ids and a reason, never a host path. `repairable`: a repair may act on it (remove an orphan no row owns, or
 * mark a missing resource ERROR); everything a row owns, or that is not certain, is reported only.
 */
export interface Finding {
  kind: FindingKind;
  severity: 'error' | 'warning' | 'info';
  reason: string;
  repairable: boolean;
  imageKind?: InventoryImage['kind'];
  volumeId?: string;
  instanceId?: string;
  snapshotId?: string;
  instanceSnapshotId?: string;
  templateId?: string;
  transferId?: string;
  tag?: string;
  check?: InventoryImage['check'];
}

export interface Comparison {
  counts: StorageAuditCounts;
  findings: Finding[];
  /** What a repair removes: repairable orphans only (no row owns them, older than the grace period). */
  targets: RepairTargets;
}

export interface CompareOptions {
  hostId: string;
  now: Date;
  orphanGraceMinutes: number;
}

const TRANSITIONAL_VOLUME: readonly VolumeState[] = [
  VolumeState.CREATING,
  VolumeState.SNAPSHOTTING,
  VolumeState.REVERTING,
];
/** A volume whose file and tags the audit judges: it exists on disk as far as its row knows. */
const SETTLED_VOLUME: readonly VolumeState[] = [VolumeState.READY, VolumeState.ERROR];
/** Rows whose tag on disk is an orphan all the same: being deleted with no job, or failed. */
const UNOWNED_TAG_STATES: readonly SnapshotState[] = [SnapshotState.DESTROYING, SnapshotState.ERROR];
const TRANSFER_PATH = /^transfers\/[A-Za-z0-9._-]+$/;

/**
 * Compares what a host's disks hold (the agent's inventory) with the rows of the database, without side
 * effects: the INVENTORY applier records the result and acts on it. Never a finding: anything a job open now
 * (or closed since `takenAt`) works on, a volume mid-operation, a row created after `takenAt`, and an orphan
 * younger than the grace period (its tag's createdAt or its file's modifiedAt).
 */
export function compareInventory(
  inventory: StorageInventory,
  records: AuditRecords,
  options: CompareOptions,
): Comparison {
  const takenAt = new Date(inventory.takenAt);
  const graceCutoff = options.now.getTime() - options.orphanGraceMinutes * 60_000;
  const young = (at: string) => !(new Date(at).getTime() < graceCutoff);
  const busy = (...ids: Array<string | null | undefined>) => ids.some((id) => id != null && records.busy.has(id));
  const judgedRow = (row: { createdAt: Date; completedAt?: Date | null }) =>
    row.createdAt <= takenAt && (row.completedAt == null || row.completedAt <= takenAt);

  const volumes = new Map(records.volumes.map((v) => [v.id, v]));
  const snapshots = new Map(records.snapshots.map((s) => [s.id, s]));
  const recoveryPoints = new Map(records.instanceSnapshots.map((p) => [p.id, p]));
  const templates = new Map(records.templates.map((t) => [t.id, t]));
  const volumeImages = new Map(inventory.images.filter((i) => i.kind === 'volume').map((i) => [i.id, i]));

  const findings: Finding[] = [];
  const targets: RepairTargets = { tags: [], volumeIds: [], templateIds: [], transferPaths: [] };
  const orphanFile = (image: InventoryImage, reason: string, repairable: boolean, ids: Partial<Finding>) => {
    findings.push({
      kind: 'orphan_file',
      severity: 'warning',
      reason,
      repairable,
      imageKind: image.kind,
      ...ids,
      check: image.check,
    });
  };

  for (const image of inventory.images) {
    if (busy(image.id, image.path)) continue;
    if (image.kind === 'volume') {
      const row = volumes.get(image.id);
      if (!row || row.hostId !== options.hostId || row.state === VolumeState.DESTROYING) {
        if (young(image.modifiedAt)) continue;
        if (!row) {
          const named = isUuid(image.id);
          orphanFile(image, named ? 'no volume row' : 'not named by a volume id: remove it by hand', named, {
            volumeId: image.id,
          });
          if (named) targets.volumeIds.push(image.id);
        } else if (row.hostId !== options.hostId) {
          orphanFile(image, 'its volume row is on another host', false, { volumeId: image.id });
        } else {
          orphanFile(image, 'its volume row is DESTROYING with no open job', false, { volumeId: image.id });
        }
        continue;
      }
      if (TRANSITIONAL_VOLUME.includes(row.state)) continue;
      checkImage(image, { volumeId: row.id }, findings);
      for (const tag of image.tags) {
        if (busy(tag.tag)) continue;
        const owner = snapshots.get(tag.tag) ?? recoveryPoints.get(tag.tag);
        if (owner && !UNOWNED_TAG_STATES.includes(owner.state)) continue;
        if (young(tag.createdAt)) continue;
        // The agent removes a tag as deleteSnapshot does, which takes only ids: any other name is an operator's.
        // An ERROR row never owns its tag (ERROR means "not on disk"; it can only be deleted): a create that
        // finished after its job was failed wrote it. On a volume that is itself ERROR, the image is left alone.
        const failedOwner = owner?.state === SnapshotState.ERROR;
        const repairable =
          isUuid(tag.tag) && (!owner || (failedOwner && row.state === VolumeState.READY && !damaged(image)));
        findings.push({
          kind: 'orphan_tag',
          severity: 'warning',
          reason: failedOwner
            ? 'its snapshot is ERROR: written by a create that finished after it was failed'
            : owner
              ? 'its row is DESTROYING with no open delete job'
              : repairable
                ? 'no snapshot or recovery point row'
                : 'not named by a snapshot id: remove it by hand',
          repairable,
          volumeId: row.id,
          tag: tag.tag,
        });
        if (repairable)
          targets.tags.push({
            volumeId: row.id,
            tag: tag.tag,
            ...(row.instanceId ? { instanceId: row.instanceId } : {}),
          });
      }
    } else if (image.kind === 'template') {
      const row = templates.get(image.id);
      if (row && row.state !== 'DESTROYING') {
        checkImage(image, { templateId: row.id }, findings);
        continue;
      }
      if (young(image.modifiedAt)) continue;
      const named = isUuid(image.id);
      const repairable = !row && named;
      orphanFile(
        image,
        row
          ? 'its template row is DESTROYING with no open job'
          : named
            ? 'no template row'
            : 'not named by a template id',
        repairable,
        { templateId: image.id },
      );
      if (repairable) targets.templateIds.push(image.id);
    } else if (image.kind === 'transfer') {
      if (young(image.modifiedAt)) continue;
      const repairable = TRANSFER_PATH.test(image.path);
      orphanFile(image, 'no open job carries this transfer', repairable, { transferId: image.id });
      if (repairable) targets.transferPaths.push(image.path);
    }
    // 'backup': no backup rows exist yet, so there is nothing to compare them with.
  }

  const onHost = (volumeId: string) => {
    const volume = volumes.get(volumeId);
    return volume && volume.hostId === options.hostId && SETTLED_VOLUME.includes(volume.state) ? volume : null;
  };
  const hasTag = (volumeId: string, tag: string) =>
    volumeImages.get(volumeId)?.tags.some((t) => t.tag === tag) ?? false;

  for (const snapshot of records.snapshots) {
    const volume = onHost(snapshot.volumeId);
    if (snapshot.state !== SnapshotState.COMPLETED || !volume || !judgedRow(snapshot)) continue;
    if (busy(snapshot.id, volume.id) || hasTag(volume.id, snapshot.id)) continue;
    findings.push({
      kind: 'missing_snapshot',
      severity: 'error',
      reason: volumeImages.has(volume.id) ? 'its tag is absent from the volume' : 'its volume file is absent',
      repairable: true,
      snapshotId: snapshot.id,
      volumeId: volume.id,
    });
  }

  for (const point of records.instanceSnapshots) {
    if (point.state !== SnapshotState.COMPLETED || !judgedRow(point) || busy(point.id, point.instanceId)) continue;
    const lacking = point.volumeIds.filter((id) => onHost(id) && !busy(id) && !hasTag(id, point.id));
    if (lacking.length === 0) continue;
    findings.push({
      kind: 'missing_recovery_point',
      severity: 'error',
      reason: `its tag is absent from ${lacking.length} of its volume(s)`,
      repairable: true,
      instanceSnapshotId: point.id,
      instanceId: point.instanceId,
      volumeId: lacking[0],
    });
  }

  for (const volume of records.volumes) {
    if (volume.hostId !== options.hostId || volume.state !== VolumeState.READY || !judgedRow(volume)) continue;
    if (busy(volume.id) || volumeImages.has(volume.id)) continue;
    findings.push({
      kind: 'missing_volume',
      severity: 'error',
      reason: 'the volume file is absent',
      repairable: true,
      volumeId: volume.id,
      ...(volume.instanceId ? { instanceId: volume.instanceId } : {}),
    });
  }

  const count = (...kinds: FindingKind[]) => findings.filter((f) => kinds.includes(f.kind)).length;
  return {
    counts: {
      orphanTags: count('orphan_tag'),
      orphanFiles: count('orphan_file'),
      missingSnapshots: count('missing_snapshot', 'missing_recovery_point'),
      missingVolumes: count('missing_volume'),
      damagedImages: count('damaged_image'),
    },
    findings,
    targets,
  };
}

function damaged(image: InventoryImage): boolean {
  return image.check.status === 'corrupt' || image.check.status === 'unreadable';
}

/**
 * `qemu-img check` of an image a row owns. Corrupt or unreadable: damaged (counted). Leaked clusters are
 * harmless and `qemu-img check -r leaks` repairs them, so they are a warning, not counted as damaged; a
 * check that ran out of time proves nothing either way (info). An orphan's check rides on its orphan finding.
 * Leaks read from an image in use (with -U) are not reported: they are the running QEMU's unflushed refcounts.
 */
function checkImage(image: InventoryImage, ids: Partial<Finding>, findings: Finding[]): void {
  const { status } = image.check;
  if (damaged(image)) {
    findings.push({
      kind: 'damaged_image',
      severity: 'error',
      reason: `qemu-img check: ${status}${image.check.message ? ` (${image.check.message})` : ''}`,
      repairable: false,
      imageKind: image.kind,
      ...ids,
      check: image.check,
    });
  } else if (status === 'leaks' && !image.inUse) {
    // A running QEMU keeps refcount updates in memory: `check -U` of its disk shows leaks that are not there.
    findings.push({
      kind: 'image_leaks',
      severity: 'warning',
      reason: `${image.check.leakedClusters ?? 'some'} leaked cluster(s): harmless, repairable with qemu-img check -r leaks`,
      repairable: false,
      imageKind: image.kind,
      ...ids,
      check: image.check,
    });
  } else if (status === 'timeout') {
    findings.push({
      kind: 'check_timeout',
      severity: 'info',
      reason: 'qemu-img check ran out of STORAGE_AUDIT_CHECK_TIMEOUT_SECONDS',
      repairable: false,
      imageKind: image.kind,
      ...ids,
      check: image.check,
    });
  }
}
