import { Field, ObjectType } from '@nestjs/graphql';
import { SnapshotModel } from '../../snapshots/models/snapshot.model.js';
import { VolumeModel } from '../../volumes/models/volume.model.js';
import { reviveSnapshot, reviveVolume, type SnapshotMessage } from '../change-messages.js';

/** One change of a snapshot in an environment, as `snapshotUpdated` delivers it. */
@ObjectType('SnapshotUpdate', { description: 'One change of a snapshot, as snapshotUpdated sends it.' })
export class SnapshotUpdate {
  @Field(() => SnapshotModel, {
    description:
      'The snapshot as it is after the change; once removed, as it was last (DESTROYING). Nested objects are ' +
      'read when the event is delivered.',
  })
  snapshot!: SnapshotModel;

  @Field({
    description:
      'True when the disk confirmed the delete and the snapshot left every listing: the last event of this ' +
      'snapshot. SnapshotState has no "deleted" value, hence this flag.',
  })
  removed!: boolean;

  static from(message: SnapshotMessage): SnapshotUpdate {
    const snapshot = SnapshotModel.from(reviveSnapshot(message.snapshot));
    if (message.volume) snapshot.lastKnownVolume = VolumeModel.from(reviveVolume(message.volume));
    return Object.assign(new SnapshotUpdate(), {
      snapshot,
      removed: message.removed,
    });
  }
}
