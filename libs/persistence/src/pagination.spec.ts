import { DomainError, ErrorCode } from '@snapdeck/domain';
import { decodeCursor, encodeCursor, pageShape } from './pagination.js';

const ID = '0190f2a4-6c1e-7cc0-8a11-0d6f3b1a9e21';

function refusal(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe(ErrorCode.BAD_USER_INPUT);
    return error as DomainError;
  }
  throw new Error('expected BAD_USER_INPUT');
}

describe('cursors', () => {
  it('are opaque, and give back the id in the list that made them', () => {
    const cursor = encodeCursor('volumesList1', ID);
    expect(cursor).not.toContain(ID);
    expect(decodeCursor(cursor, 'volumesList1')).toBe(ID);
  });

  it("refuse another list's cursor, naming the argument", () => {
    const error = refusal(() => decodeCursor(encodeCursor('snapshotList', ID), 'volumesList1', 'before'));
    expect(error.message).toBe('before is a cursor of another list');
  });

  it.each([
    ['not base64 of anything', 'not-a-cursor'],
    ['a bare id (the old format)', Buffer.from(ID).toString('base64url')],
    ['no uuid', Buffer.from('c1:volumesList1:123').toString('base64url')],
    ['an unknown version', Buffer.from(`c0:volumesList1:${ID}`).toString('base64url')],
    ['extra parts', Buffer.from(`c1:volumesList1:${ID}:x`).toString('base64url')],
  ])('refuse %s as not a valid cursor', (_what, cursor) => {
    expect(refusal(() => decodeCursor(cursor, 'volumesList1')).message).toBe('after is not a valid cursor');
  });
});

describe('page shape', () => {
  it('reads forwards 20 by default, first or last up to 100', () => {
    expect(pageShape({})).toEqual({ size: 20, backwards: false });
    expect(pageShape({ first: 100 })).toEqual({ size: 100, backwards: false });
    expect(pageShape({ last: 7 })).toEqual({ size: 7, backwards: true });
    expect(pageShape({ last: 0 })).toEqual({ size: 0, backwards: true });
  });

  it.each([{ first: 101 }, { first: -1 }, { first: 1.5 }, { last: 101 }, { last: -1 }, { first: 1, last: 1 }])(
    'refuses %j',
    (request) => {
      refusal(() => pageShape(request));
    },
  );
});
