import { Injectable } from '@nestjs/common';
import { conflict, SnapshotState } from '@snapdeck/domain';
import {
  ALL_ORGANIZATIONS,
  Database,
  type Page,
  type PageRequest,
  type SnapshotEntity,
  type SnapshotFilter,
} from '@snapdeck/persistence';
import { readScope, type Principal } from '../auth/principal.js';
import { findWritable } from '../common/access.js';
import { JobLauncher } from '../orchestration/job-launcher.service.js';
import { beginSnapshot } from './begin-snapshot.js';
import { beginSnapshotDelete } from './begin-snapshot-delete.js';
import type { CreateSnapshotInput } from './dto/create-snapshot.input.js';
import type { SnapshotOperation } from './snapshot-operation.js';

export type { SnapshotOperation } from './snapshot-operation.js';

@Injectable()
export class SnapshotsService {
  constructor(
    private readonly db: Database,
    private readonly launcher: JobLauncher,
  ) {}

  /** One transaction (beginSnapshot); dispatch follows the commit. */
  async create(principal: Principal, input: CreateSnapshotInput): Promise<SnapshotOperation> {
    return this.launcher.commitThenLaunch(async (tx) => {
      const volume = await findWritable(principal, 'Volume', input.volumeId, (scope) =>
        tx.volumes.findById(scope, input.volumeId),
      );
      const { hostName, ...operation } = await beginSnapshot(tx, principal, volume, input);
      return { operation, hostName };
    });
  }

  /** Answers at once with the snapshot DESTROYING; the row goes when the agent confirms the disk let go. */
  async delete(principal: Principal, snapshotId: string): Promise<SnapshotOperation> {
    return this.launcher.commitThenLaunch(async (tx) => {
      const found = await findWritable(principal, 'Snapshot', snapshotId, (scope) =>
        tx.snapshots.findById(scope, snapshotId),
      );
      const { hostName, ...operation } = await beginSnapshotDelete(tx, principal, found);
      return { operation, hostName };
    });
  }

  /**
   * A protected snapshot is never pruned by its policy, does not count toward its keep, and cannot be deleted
   * (PRECONDITION_FAILED) until unprotected. Refused (CONFLICT) while its delete runs.
   */
  async setProtection(principal: Principal, snapshotId: string, value: boolean): Promise<SnapshotEntity> {
    return this.db.transaction(async (tx) => {
      const found = await findWritable(principal, 'Snapshot', snapshotId, (scope) =>
        tx.snapshots.findById(scope, snapshotId),
      );
      const snapshot = (await tx.snapshots.lock(found.id, 'update'))!;
      if (snapshot.state === SnapshotState.DESTROYING) throw conflict('The snapshot is being deleted');
      await tx.snapshots.setProtected(snapshot.id, value);
      return (await tx.snapshots.findById(ALL_ORGANIZATIONS, snapshot.id))!;
    });
  }

  list(principal: Principal, filter: SnapshotFilter, page: PageRequest): Promise<Page<SnapshotEntity>> {
    return this.db.repos.snapshots.list(readScope(principal), filter, page);
  }

  findById(principal: Principal, id: string): Promise<SnapshotEntity | null> {
    return this.db.repos.snapshots.findById(readScope(principal), id);
  }
}
