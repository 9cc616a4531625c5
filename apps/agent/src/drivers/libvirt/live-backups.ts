import { performance } from 'node:perf_hooks';
import type { CreateBackupResult } from '@snapdeck/contracts';
import type { PreparedBackup } from '../qemu-img/qemu-img-backups.js';
import type { QemuImgDriver } from '../qemu-img/qemu-img.driver.js';
import { DriverError } from '../volume-driver.js';
import type { BackupJournal, BackupJournalEntry } from './backup-journal.js';
import { domainName } from './domain-xml.js';
import type { LibvirtHypervisor } from './libvirt-hypervisor.js';
import { elapsed, thaw } from './quiesce.js';

/** The temporary instance snapshot a SNAPSHOT-mode backup reads: never a snapshot id (those are bare UUIDs). */
export function backupPointTag(backupId: string): string {
  return `backup-${backupId}`;
}

type Written = Pick<CreateBackupResult, 'manifest' | 'sizeBytes'>;

/**
 * Backups of a running (or paused) domain, in the payload's mode, leaving the domain in the state it had whatever
 * fails (CloudStack #12821 left guests paused for hours after a failed backup):
 * - SUSPEND: `virsh suspend` (QEMU drains and flushes every disk), `qemu-img convert -U` of each active layer,
 *   `virsh resume` in a finally;
 * - STOP: graceful shutdown (forced after the stop timeout), a plain copy, started again in a finally;
 * - SNAPSHOT: one internal snapshot on every disk at one instant (the recovery points' QMP transaction, frozen
 *   when quiesce is asked), read with `convert -U -l snapshot.name=…` (consistent: see LibvirtDriver), removed
 *   in a finally;
 * - a paused domain is copied as it is (its disks are still), in any mode, and stays paused.
 * Before the guest is touched, a journal entry says what to undo; an agent killed meanwhile undoes it at its next
 * start (`recover`). The storage was probed before (QemuImgBackups.prepare): a dead mount never pauses a guest.
 */
export class LiveBackups {
  constructor(
    private readonly hypervisor: LibvirtHypervisor,
    private readonly files: QemuImgDriver,
    readonly journal: BackupJournal,
    private readonly stopTimeoutMs: number,
  ) {}

  async backUp(prepared: PreparedBackup, state: 'RUNNING' | 'PAUSED'): Promise<CreateBackupResult> {
    const { payload, action } = prepared;
    const volumeIds = payload.volumes.map((v) => v.volumeId);
    try {
      await this.checkDisks(payload.instanceId, volumeIds, action);
    } catch (error) {
      await this.files.discardBackup(prepared);
      throw error;
    }
    const entry: BackupJournalEntry = {
      backupId: payload.backupId,
      instanceId: payload.instanceId,
      volumeIds,
      step: 'suspended',
      at: new Date().toISOString(),
    };
    if (state === 'PAUSED') {
      const written = await this.copy(prepared, { shared: true, quiesced: false });
      return this.result(prepared, written, 0);
    }
    switch (payload.mode) {
      case 'SUSPEND':
        return this.whileHeld(prepared, entry);
      case 'STOP':
        return this.whileHeld(prepared, { ...entry, step: 'stopped' });
      case 'SNAPSHOT':
        return this.fromSnapshot(prepared, { ...entry, step: 'snapshot', tag: backupPointTag(payload.backupId) });
    }
  }

  /**
   * Finishes what the journal says a backup left (resume, start, remove the temporary snapshot, thaw), each entry
   * on its own: one that fails stays journaled for the next start. Messages for the log.
   */
  async recover(): Promise<string[]> {
    const messages: string[] = [];
    for (const entry of await this.journal.list()) messages.push(await this.finish(entry));
    return messages;
  }

  /** Finishes this backup's journal entry, if a crash (or a failed restart) left one. */
  async finishJournaled(backupId: string): Promise<void> {
    const entry = await this.journal.get(backupId);
    if (entry) await this.finish(entry);
  }

  /**
   * A domain found shut off that was running when the backup was asked for: journaled as a STOP-mode backup that
   * has stopped it, copied plainly (or its finished copy answered), then started again whatever the copy did.
   */
  async backUpStopped(prepared: PreparedBackup): Promise<CreateBackupResult> {
    const { payload } = prepared;
    const entry: BackupJournalEntry = {
      backupId: payload.backupId,
      instanceId: payload.instanceId,
      volumeIds: payload.volumes.map((v) => v.volumeId),
      step: 'stopped',
      at: new Date().toISOString(),
    };
    await this.journal.write(entry);
    if (prepared.existing) {
      await this.undo(entry);
      const state = await this.hypervisor.domains.instanceState(payload.instanceId);
      return this.files.existingBackup(prepared, state === 'RUNNING' || state === 'PAUSED');
    }
    return this.around(prepared, entry, performance.now(), () =>
      this.copy(prepared, { shared: false, quiesced: false }),
    );
  }

  /**
   * SUSPEND (`virsh suspend`; the active layers read with -U) or STOP (graceful shutdown, forced after the stop
   * timeout; read plainly): journaled first, undone after the copy whatever it did.
   */
  private async whileHeld(prepared: PreparedBackup, entry: BackupJournalEntry): Promise<CreateBackupResult> {
    const suspend = entry.step === 'suspended';
    const start = performance.now();
    try {
      await this.journal.write(entry);
      if (suspend) await this.hypervisor.virsh.run(['suspend', domainName(entry.instanceId)]);
      else {
        const asked = prepared.payload.stopTimeoutSeconds;
        await this.hypervisor.domains.stop(entry.instanceId, {
          timeoutMs: asked !== undefined ? asked * 1000 : this.stopTimeoutMs,
        });
      }
    } catch (error) {
      await this.undo(entry).catch(() => undefined);
      await this.files.discardBackup(prepared);
      throw error;
    }
    return this.around(prepared, entry, start, () => this.copy(prepared, { shared: suspend, quiesced: false }));
  }

  private async fromSnapshot(prepared: PreparedBackup, entry: BackupJournalEntry): Promise<CreateBackupResult> {
    const tag = entry.tag as string;
    const quiesce = prepared.payload.quiesce;
    let point: { quiesced: boolean; guestPauseMs: number };
    try {
      await this.journal.write({ ...entry, ...(quiesce ? { quiesce } : {}) });
      // A point left by an earlier delivery that failed is not this instant: it goes first.
      await this.hypervisor.instanceSnapshots.delete(entry.instanceId, tag);
      point = await this.hypervisor.instanceSnapshots.create(entry.instanceId, tag, { withMemory: false, quiesce });
    } catch (error) {
      await this.undo(entry).catch(() => undefined);
      await this.files.discardBackup(prepared);
      throw error;
    }
    let written: Written | undefined;
    let copyError: unknown;
    try {
      written = await this.copy(prepared, { shared: true, quiesced: point.quiesced, tag });
    } catch (error) {
      copyError = error;
    }
    const undone = await this.undo(entry).then(
      () => undefined,
      (error: unknown) => error,
    );
    if (copyError !== undefined) throw withNote(copyError, undone, 'its temporary snapshot could not be removed');
    // A temporary snapshot that could not be removed stays journaled: a repeated delivery, or the next start,
    // removes it; the backup itself is complete.
    return this.result(prepared, written as Written, point.guestPauseMs);
  }

  /** Copies, then brings the domain back (resume or start) whatever the copy did; the pause is measured to the end. */
  private async around(
    prepared: PreparedBackup,
    entry: BackupJournalEntry,
    start: number,
    copy: () => Promise<Written>,
  ): Promise<CreateBackupResult> {
    let written: Written | undefined;
    let copyError: unknown;
    try {
      written = await copy();
    } catch (error) {
      copyError = error;
    }
    const undone = await this.undo(entry).then(
      () => undefined,
      (error: unknown) => error,
    );
    const pausedMs = elapsed(start);
    const what = entry.step === 'stopped' ? 'started again' : 'resumed';
    if (copyError !== undefined) throw withNote(copyError, undone, `the instance could not be ${what}`);
    // The backup is complete; a guest that could not be brought back is reported (instanceRunning), never hidden,
    // and its journal entry stays for the next start to try again.
    return this.result(prepared, written as Written, pausedMs);
  }

  private copy(prepared: PreparedBackup, how: { shared: boolean; quiesced: boolean; tag?: string }): Promise<Written> {
    const sources = prepared.payload.volumes.map(({ volumeId }) => ({
      volumeId,
      file: this.files.volumePath(volumeId),
      shared: how.shared,
      ...(how.tag ? { snapshotTag: how.tag } : {}),
    }));
    return this.files.writeBackup(prepared, sources, { instanceWasRunning: true, quiesced: how.quiesced });
  }

  /** Undoes the entry's step now, and forgets the entry once done. */
  private async undo(entry: BackupJournalEntry): Promise<void> {
    const domain = domainName(entry.instanceId);
    const state = await this.hypervisor.domains.instanceState(entry.instanceId);
    switch (entry.step) {
      case 'suspended':
        if (state === 'PAUSED') await this.resume(domain);
        break;
      case 'stopped':
        if (state === 'STOPPED') {
          const paths = entry.volumeIds.map((id) => this.files.volumePath(id));
          await this.hypervisor.domains.start(entry.instanceId, paths);
        }
        break;
      case 'snapshot':
        if (entry.quiesce && state !== 'STOPPED' && state !== 'MISSING') {
          await thaw(this.hypervisor.virsh, domain).catch(() => undefined);
        }
        if (state !== 'MISSING' && entry.tag)
          await this.hypervisor.instanceSnapshots.delete(entry.instanceId, entry.tag);
        break;
    }
    await this.journal.clear(entry.backupId);
  }

  private async finish(entry: BackupJournalEntry): Promise<string> {
    const what = `Backup ${entry.backupId} of instance ${entry.instanceId} (interrupted while ${entry.step})`;
    try {
      await this.undo(entry);
      return `${what}: the instance is back as it was`;
    } catch (error) {
      return `${what}: could not be finished (${error instanceof Error ? error.message : String(error)}); it stays journaled`;
    }
  }

  /** Three tries: a guest left paused is the failure this module exists to prevent. */
  private async resume(domain: string): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.hypervisor.virsh.run(['resume', domain]);
        return;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  /** The domain's disks must be the backup's volumes, in order: a backup never misses a disk or reads another. */
  private async checkDisks(instanceId: string, volumeIds: readonly string[], action: string): Promise<void> {
    const paths = (await this.hypervisor.disks.fileDisks(domainName(instanceId))).map((d) => d.path);
    const expected = volumeIds.map((id) => this.files.volumePath(id));
    if (paths.length !== expected.length || paths.some((path, i) => path !== expected[i])) {
      throw new DriverError(
        `${action}: the instance runs with ${paths.length} disk(s) that are not the ${expected.length} volume(s) the backup lists`,
      );
    }
  }

  private async result(prepared: PreparedBackup, written: Written, pausedMs: number): Promise<CreateBackupResult> {
    const state = await this.hypervisor.domains.instanceState(prepared.payload.instanceId);
    return {
      backupId: prepared.payload.backupId,
      alreadyExisted: false,
      ...written,
      guestPausedMs: pausedMs,
      instanceRunning: state === 'RUNNING' || state === 'PAUSED',
    };
  }
}

/** The first failure, with what could not be undone after it said too. */
function withNote(error: unknown, undoError: unknown, what: string): unknown {
  if (undoError === undefined || !(error instanceof Error)) return error;
  const reason = undoError instanceof Error ? undoError.message : JSON.stringify(undoError);
  error.message = `${error.message}; and ${what} (${reason}): the agent tries again at its next start`;
  return error;
}
