import { snapshotMachine } from './machines.js';
import { SnapshotState } from './enums.js';

describe('snapshotMachine (smoke)', () => {
  it('allows IN_PROGRESS -> COMPLETED and refuses COMPLETED -> IN_PROGRESS', () => {
    expect(snapshotMachine.canTransition(SnapshotState.IN_PROGRESS, SnapshotState.COMPLETED)).toBe(true);
    expect(snapshotMachine.canTransition(SnapshotState.COMPLETED, SnapshotState.IN_PROGRESS)).toBe(false);
  });
});
