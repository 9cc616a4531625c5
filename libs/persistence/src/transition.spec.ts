import { InstanceState, SnapshotState, TemplateState, VolumeState } from '@snapdeck/domain';
import type { EntityManager } from 'typeorm';
import { InstanceSnapshotRepository } from './repositories/instance-snapshot.repository.js';
import { InstanceRepository } from './repositories/instance.repository.js';
import { SnapshotRepository } from './repositories/snapshot.repository.js';
import { TemplateRepository } from './repositories/template.repository.js';
import { VolumeRepository } from './repositories/volume.repository.js';

/**
 * The repositories' transitions read the tables of libs/domain/src/machines.ts: a move the table forbids is
 * refused before any SQL. The manager here throws if touched, so a refusal provably never reaches the database;
 * the same refusals on PostgreSQL are in job-and-transition.int-spec.ts.
 */
const untouchable = new Proxy({} as EntityManager, {
  get(_target, property) {
    throw new Error(`the database was reached (${String(property)})`);
  },
});

const refusal = (resource: string, move: string) =>
  `${resource} transition refused by its state machine: ${move} is not in the table`;

describe('repository transitions obey the state machines', () => {
  it('refuses a volume snapshot or an instance snapshot moving back to IN_PROGRESS, or a DESTROYING one to DESTROYING', async () => {
    const snapshots = new SnapshotRepository(untouchable);
    const instanceSnapshots = new InstanceSnapshotRepository(untouchable);
    await expect(snapshots.transition('s', [SnapshotState.COMPLETED], SnapshotState.IN_PROGRESS)).rejects.toThrow(
      refusal('Snapshot', 'COMPLETED → IN_PROGRESS'),
    );
    await expect(
      snapshots.transitionMany(['s'], [SnapshotState.COMPLETED, SnapshotState.DESTROYING], SnapshotState.DESTROYING),
    ).rejects.toThrow(refusal('Snapshot', 'DESTROYING → DESTROYING'));
    await expect(instanceSnapshots.transition('p', [SnapshotState.ERROR], SnapshotState.COMPLETED)).rejects.toThrow(
      refusal('Snapshot', 'ERROR → COMPLETED'),
    );
    await expect(
      instanceSnapshots.transitionMany(['p'], [SnapshotState.IN_PROGRESS], SnapshotState.DESTROYING),
    ).rejects.toThrow(refusal('Snapshot', 'IN_PROGRESS → DESTROYING'));
  });

  it('refuses an instance moving to the state it is in (the revert applier once moved RUNNING→RUNNING)', async () => {
    const instances = new InstanceRepository(untouchable);
    await expect(
      instances.transition('i', [InstanceState.RUNNING, InstanceState.STOPPED], InstanceState.RUNNING),
    ).rejects.toThrow(refusal('Instance', 'RUNNING → RUNNING'));
    await expect(instances.transition('i', [InstanceState.CREATING], InstanceState.RUNNING)).rejects.toThrow(
      refusal('Instance', 'CREATING → RUNNING'),
    );
  });

  it('refuses a volume or template move the table does not list, naming every forbidden source', async () => {
    const volumes = new VolumeRepository(untouchable);
    const templates = new TemplateRepository(untouchable);
    await expect(
      volumes.transitionMany(['v'], [VolumeState.SNAPSHOTTING, VolumeState.REVERTING], VolumeState.DESTROYING),
    ).rejects.toThrow(refusal('Volume', 'SNAPSHOTTING, REVERTING → DESTROYING'));
    await expect(volumes.transition('v', [VolumeState.DESTROYING], VolumeState.READY)).rejects.toThrow(
      refusal('Volume', 'DESTROYING → READY'),
    );
    await expect(templates.transition('t', [TemplateState.ERROR], TemplateState.READY)).rejects.toThrow(
      refusal('Template', 'ERROR → READY'),
    );
  });

  it('lets an allowed move through to the database (here: the manager that refuses to be touched)', async () => {
    const volumes = new VolumeRepository(untouchable);
    await expect(volumes.transition('v', [VolumeState.READY], VolumeState.SNAPSHOTTING)).rejects.toThrow(
      'the database was reached (createQueryBuilder)',
    );
    // No rows or no sources: nothing to do, no SQL.
    await expect(volumes.transitionMany([], [VolumeState.READY], VolumeState.SNAPSHOTTING)).resolves.toBe(0);
  });
});
