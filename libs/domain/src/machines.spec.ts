import {
  BackupState,
  HostState,
  InstanceState,
  JobStatus,
  SnapshotState,
  TemplateState,
  VolumeState,
} from './enums.js';
import { DomainError, ErrorCode } from './errors.js';
import {
  backupMachine,
  backupStateAfterRefusedDelete,
  hostMachine,
  instanceMachine,
  jobMachine,
  snapshotMachine,
  stateAfterRefusedDelete,
  templateMachine,
  volumeMachine,
} from './machines.js';
import type { StateMachine } from './state-machine.js';

/**
 * Every machine is checked cell by cell: the full from x to matrix comes from `machine.states()` and each cell is
 * compared with the table written out below by hand. The expected tables are deliberately a second copy of the
 * rules (as "FROM -> TO" strings), so a change to machines.ts has to be made here too, on purpose.
 */
interface Case<S extends string> {
  machine: StateMachine<S>;
  resource: string;
  /** Every state of the enum: `states()` must cover all of them, or some state would have no row. */
  enumValues: S[];
  /** Every allowed move; any pair not listed here must be refused. */
  allowed: string[];
}

function machineCase<S extends string>(c: Case<S>): Case<string> {
  return c;
}

const CASES: Case<string>[] = [
  machineCase({
    machine: snapshotMachine,
    resource: 'Snapshot',
    enumValues: Object.values(SnapshotState),
    allowed: [
      'IN_PROGRESS -> COMPLETED',
      'IN_PROGRESS -> ERROR',
      'COMPLETED -> DESTROYING',
      // The disk lacks the tag (storage audit, or the agent's SNAPSHOT_MISSING): COMPLETED means "on disk".
      'COMPLETED -> ERROR',
      'ERROR -> DESTROYING',
      // The disk refused the delete: the snapshot is back (CloudStack: Destroying-Failed -> BackedUp).
      'DESTROYING -> COMPLETED',
      // …or back to ERROR when it never reached the disk.
      'DESTROYING -> ERROR',
    ],
  }),
  machineCase({
    machine: volumeMachine,
    resource: 'Volume',
    enumValues: Object.values(VolumeState),
    allowed: [
      'CREATING -> READY',
      'CREATING -> ERROR',
      'READY -> SNAPSHOTTING',
      'READY -> REVERTING',
      'READY -> DESTROYING',
      // The audit found the file missing, or the agent found the image damaged.
      'READY -> ERROR',
      'SNAPSHOTTING -> READY',
      'REVERTING -> READY',
      'DESTROYING -> ERROR',
      'ERROR -> DESTROYING',
    ],
  }),
  machineCase({
    machine: instanceMachine,
    resource: 'Instance',
    enumValues: Object.values(InstanceState),
    allowed: [
      'CREATING -> STOPPED',
      'CREATING -> ERROR',
      'STOPPED -> STARTING',
      'STOPPED -> DESTROYING',
      // An instance snapshot's revert leaves the instance running or stopped, whichever it was asked for.
      'STOPPED -> RUNNING',
      // The audit found one of its volume files missing.
      'STOPPED -> ERROR',
      'STARTING -> RUNNING',
      'STARTING -> STOPPED',
      'STARTING -> ERROR',
      'RUNNING -> STOPPING',
      'RUNNING -> STOPPED',
      'RUNNING -> ERROR',
      'STOPPING -> STOPPED',
      'STOPPING -> RUNNING',
      'STOPPING -> ERROR',
      'DESTROYING -> ERROR',
      'ERROR -> DESTROYING',
    ],
  }),
  machineCase({
    machine: templateMachine,
    resource: 'Template',
    enumValues: Object.values(TemplateState),
    allowed: [
      'CREATING -> READY',
      'CREATING -> ERROR',
      'READY -> DESTROYING',
      'DESTROYING -> READY',
      'DESTROYING -> ERROR',
      'ERROR -> DESTROYING',
    ],
  }),
  machineCase({
    machine: jobMachine,
    resource: 'Job',
    enumValues: Object.values(JobStatus),
    allowed: [
      'PENDING -> RUNNING',
      'PENDING -> SUCCEEDED',
      'PENDING -> FAILED',
      // A lapsed lease re-dispatches a running job.
      'RUNNING -> PENDING',
      'RUNNING -> SUCCEEDED',
      'RUNNING -> FAILED',
      // SUCCEEDED and FAILED are final: no row.
    ],
  }),
  machineCase({
    machine: backupMachine,
    resource: 'Backup',
    enumValues: Object.values(BackupState),
    allowed: [
      'CREATING -> READY',
      'CREATING -> ERROR',
      'READY -> DESTROYING',
      // ERROR can only be deleted: a failed backup is never made READY again.
      'ERROR -> DESTROYING',
      // A refused delete: back to READY if it completed once, else ERROR.
      'DESTROYING -> READY',
      'DESTROYING -> ERROR',
    ],
  }),
  machineCase({
    machine: hostMachine,
    resource: 'Host',
    enumValues: Object.values(HostState),
    allowed: ['UP -> DOWN', 'DOWN -> UP'],
  }),
];

/** The DomainError `fn` throws; fails the test when it throws nothing or something else. */
function caught(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected a DomainError, nothing was thrown');
}

const move = (from: string, to: string): string => `${from} -> ${to}`;

function matrix(machine: StateMachine<string>): { from: string; to: string }[] {
  return machine.states().flatMap((from) => machine.states().map((to) => ({ from, to })));
}

describe.each(CASES)('$resource machine', ({ machine, resource, enumValues, allowed }) => {
  const expectedAllowed = new Set(allowed);
  const cells = matrix(machine).map(({ from, to }) => ({ from, to, ok: expectedAllowed.has(move(from, to)) }));
  const allowedCells = cells.filter((c) => c.ok);
  const forbiddenCells = cells.filter((c) => !c.ok);

  it('has a row for every state of its enum, and no other', () => {
    expect([...machine.states()].sort()).toEqual([...enumValues].sort());
  });

  it('names the resource in its errors', () => {
    expect(machine.resource).toBe(resource);
  });

  it('the expected table only names real states, and the matrix reaches every expected move', () => {
    for (const entry of allowed) {
      const [from, to] = entry.split(' -> ');
      expect(enumValues).toContain(from);
      expect(enumValues).toContain(to);
    }
    expect(allowedCells.map((c) => move(c.from, c.to)).sort()).toEqual([...allowed].sort());
  });

  it('allows exactly the moves of the expected table (whole matrix)', () => {
    const actual = cells.filter((c) => machine.canTransition(c.from, c.to)).map((c) => move(c.from, c.to));
    expect(actual.sort()).toEqual([...allowed].sort());
  });

  it('never allows staying in the same state', () => {
    for (const state of machine.states()) expect(machine.canTransition(state, state)).toBe(false);
  });

  describe('allowed moves', () => {
    it.each(allowedCells)('$from -> $to is allowed', ({ from, to }) => {
      expect(machine.canTransition(from, to)).toBe(true);
      expect(() => machine.assertTransition(from, to)).not.toThrow();
    });
  });

  describe('forbidden moves', () => {
    it.each(forbiddenCells)('$from -> $to is refused with CONFLICT', ({ from, to }) => {
      expect(machine.canTransition(from, to)).toBe(false);
      const error = caught(() => machine.assertTransition(from, to));
      expect(error.code).toBe(ErrorCode.CONFLICT);
      expect(error.message).toBe(`${resource} cannot move from ${from} to ${to}`);
    });
  });

  describe('sourcesOf', () => {
    it.each(enumValues)('lists the states that may move to %s', (to) => {
      const expected = allowed
        .map((entry) => entry.split(' -> '))
        .filter(([, target]) => target === to)
        .map(([from]) => from);
      expect([...machine.sourcesOf(to)].sort()).toEqual(expected.sort());
    });
  });
});

describe('sourcesOf, spelled out for the conditional updates that use it', () => {
  it('a snapshot completes from IN_PROGRESS or after a refused delete', () => {
    expect(snapshotMachine.sourcesOf(SnapshotState.COMPLETED).sort()).toEqual(
      [SnapshotState.DESTROYING, SnapshotState.IN_PROGRESS].sort(),
    );
  });

  it('nothing moves a snapshot back to IN_PROGRESS', () => {
    expect(snapshotMachine.sourcesOf(SnapshotState.IN_PROGRESS)).toEqual([]);
  });

  it('only a READY volume starts a snapshot or a revert (one operation per volume)', () => {
    expect(volumeMachine.sourcesOf(VolumeState.SNAPSHOTTING)).toEqual([VolumeState.READY]);
    expect(volumeMachine.sourcesOf(VolumeState.REVERTING)).toEqual([VolumeState.READY]);
  });

  it('a volume goes back to READY when it is created, snapshotted or reverted', () => {
    expect(volumeMachine.sourcesOf(VolumeState.READY).sort()).toEqual(
      [VolumeState.CREATING, VolumeState.REVERTING, VolumeState.SNAPSHOTTING].sort(),
    );
  });

  it('a job finishes from PENDING or RUNNING, never twice', () => {
    expect(jobMachine.sourcesOf(JobStatus.SUCCEEDED).sort()).toEqual([JobStatus.PENDING, JobStatus.RUNNING].sort());
    expect(jobMachine.sourcesOf(JobStatus.FAILED).sort()).toEqual([JobStatus.PENDING, JobStatus.RUNNING].sort());
  });

  it('an instance is destroyed only when STOPPED or in ERROR', () => {
    expect(instanceMachine.sourcesOf(InstanceState.DESTROYING).sort()).toEqual(
      [InstanceState.ERROR, InstanceState.STOPPED].sort(),
    );
  });
});

describe('contract rules seen through the machines', () => {
  it('a snapshot IN_PROGRESS cannot be deleted', () => {
    expect(
      caught(() => snapshotMachine.assertTransition(SnapshotState.IN_PROGRESS, SnapshotState.DESTROYING)).code,
    ).toBe(ErrorCode.CONFLICT);
  });

  it('a volume SNAPSHOTTING or REVERTING cannot start another snapshot or revert', () => {
    for (const busy of [VolumeState.SNAPSHOTTING, VolumeState.REVERTING]) {
      for (const next of [VolumeState.SNAPSHOTTING, VolumeState.REVERTING]) {
        expect(caught(() => volumeMachine.assertTransition(busy, next)).code).toBe(ErrorCode.CONFLICT);
      }
    }
  });
});

describe('stateAfterRefusedDelete', () => {
  it('returns COMPLETED only for what once reached the disk', () => {
    expect(stateAfterRefusedDelete({ completedAt: new Date() })).toBe(SnapshotState.COMPLETED);
    expect(stateAfterRefusedDelete({ completedAt: null })).toBe(SnapshotState.ERROR);
  });
});

describe('backups through their machine', () => {
  it('a refused delete returns a completed backup to READY, a failed one to ERROR', () => {
    expect(backupStateAfterRefusedDelete({ completedAt: new Date() })).toBe(BackupState.READY);
    expect(backupStateAfterRefusedDelete({ completedAt: null })).toBe(BackupState.ERROR);
  });

  it('a backup being created cannot be deleted, and an ERROR one never becomes READY', () => {
    expect(caught(() => backupMachine.assertTransition(BackupState.CREATING, BackupState.DESTROYING)).code).toBe(
      ErrorCode.CONFLICT,
    );
    expect(backupMachine.canTransition(BackupState.ERROR, BackupState.READY)).toBe(false);
    expect(backupMachine.sourcesOf(BackupState.DESTROYING).sort()).toEqual([BackupState.ERROR, BackupState.READY]);
  });
});
