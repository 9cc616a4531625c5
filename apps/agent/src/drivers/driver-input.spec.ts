import { randomUUID } from 'node:crypto';
import { checkedId, checkedRelativePath, checkedSource, checkFitsSize, describeSource, GIB } from './driver-input.js';
import { DriverError } from './volume-driver.js';

describe('checkedRelativePath', () => {
  it.each(['templates/a.qcow2', 'uploads/2026/img-1.qcow2', 'x', 'a..b/c', '..hidden/x', 'dir/.x'])(
    'accepts %j',
    (path) => {
      expect(checkedRelativePath(path, 'path')).toBe(path);
    },
  );

  it.each([
    ['an absolute path', '/etc/passwd', 'an absolute path'],
    ['a ".." segment', '../x', '".." segment'],
    ['a ".." segment in the middle', 'templates/../../x', '".." segment'],
    ['a trailing ".."', 'templates/..', '".." segment'],
    ['a "." segment', './x', 'empty or "." segment'],
    ['a double slash', 'a//b', 'empty or "." segment'],
    ['a trailing slash', 'templates/', 'empty or "." segment'],
    ['a backslash', '..\\x', 'backslash'],
    ['a NUL', 'a\u0000b', 'control characters'],
    ['a newline', 'a\nb', 'control characters'],
    ['the empty string', '', 'not a non-empty string'],
  ])('refuses %s', (_, path, why) => {
    expect(() => checkedRelativePath(path, 'template path')).toThrow(DriverError);
    expect(() => checkedRelativePath(path, 'template path')).toThrow(why);
  });

  it('refuses what is not a string, and a path too long, quoting at most 200 characters', () => {
    expect(() => checkedRelativePath(42, 'path')).toThrow('Invalid path 42: not a non-empty string');
    expect(() => checkedRelativePath(undefined, 'path')).toThrow('Invalid path undefined');
    const long = 'a/'.repeat(600) + 'b';
    let message = '';
    try {
      checkedRelativePath(long, 'path');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('longer than 1024 characters');
    expect(message.length).toBeLessThan(400);
  });
});

describe('checkedSource', () => {
  const volumeId = randomUUID();
  const snapshotId = randomUUID();

  it('reads an absent source as blank, and keeps each valid kind', () => {
    expect(checkedSource(undefined)).toEqual({ kind: 'blank' });
    expect(checkedSource(null)).toEqual({ kind: 'blank' });
    expect(checkedSource({ kind: 'blank' })).toEqual({ kind: 'blank' });
    expect(checkedSource({ kind: 'secondary', path: 'templates/t.qcow2' })).toEqual({
      kind: 'secondary',
      path: 'templates/t.qcow2',
    });
    expect(checkedSource({ kind: 'secondary', path: 'transfers/t.qcow2', removeAfter: true })).toEqual({
      kind: 'secondary',
      path: 'transfers/t.qcow2',
      removeAfter: true,
    });
    expect(checkedSource({ kind: 'snapshot', volumeId: volumeId.toUpperCase(), snapshotId })).toEqual({
      kind: 'snapshot',
      volumeId,
      snapshotId,
    });
  });

  it('refuses unknown kinds, bad paths and ids, and removeAfter outside transfers/', () => {
    expect(() => checkedSource('blank')).toThrow('Invalid volume source: not an object');
    expect(() => checkedSource({ kind: 'url', url: 'http://x' })).toThrow('Invalid volume source kind "url"');
    expect(() => checkedSource({ kind: 'secondary', path: '../x' })).toThrow('Invalid source path "../x"');
    expect(() => checkedSource({ kind: 'secondary', path: 'transfers/x', removeAfter: 'yes' })).toThrow(
      'removeAfter must be a boolean',
    );
    expect(() => checkedSource({ kind: 'secondary', path: 'templates/t.qcow2', removeAfter: true })).toThrow(
      'removeAfter is allowed only for files under transfers/, not "templates/t.qcow2"',
    );
    expect(() => checkedSource({ kind: 'snapshot', volumeId: '../v', snapshotId })).toThrow('Invalid volume id');
    expect(() => checkedSource({ kind: 'snapshot', volumeId, snapshotId: 7 })).toThrow('Invalid snapshot id 7');
  });

  it('describes a source without any host path', () => {
    expect(describeSource({ kind: 'secondary', path: 'templates/t.qcow2' })).toBe(
      'templates/t.qcow2 in secondary storage',
    );
    expect(describeSource({ kind: 'snapshot', volumeId, snapshotId })).toBe(
      `snapshot ${snapshotId} of volume ${volumeId}`,
    );
  });
});

describe('checkFitsSize and checkedId', () => {
  it('lets a source up to the requested size through and refuses a larger one with the size to ask for', () => {
    expect(() => checkFitsSize('x', 2 * GIB, 2)).not.toThrow();
    expect(() => checkFitsSize('x', GIB + 1, 1)).toThrow(
      "x: the requested size of 1 GiB is smaller than the source's 1 GiB; ask for at least 2 GiB",
    );
  });

  it('names a template id in its message', () => {
    expect(() => checkedId('nope', 'template')).toThrow('Invalid template id "nope": expected a UUID');
  });
});
