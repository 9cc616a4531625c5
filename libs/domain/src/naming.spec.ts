import { DomainError, ErrorCode } from './errors.js';
import {
  assertDescription,
  assertInstanceName,
  assertResourceName,
  assertAbsoluteStoragePath,
  autoBackupName,
  autoInstanceSnapshotName,
  autoSnapshotName,
  DETACHED,
  isBlankName,
  MAX_DESCRIPTION_LENGTH,
  uniqueName,
  utcStamp,
} from './naming.js';

function caught(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected a DomainError, nothing was thrown');
}

/**
 * The stamp must not depend on the machine's time zone. Jest runs a spec in a sandbox whose `process.env.TZ`
 * does not reach the real process, and CI machines are often on UTC, where local and UTC getters agree. So the
 * local getters are made to answer as in UTC+14 (Kiritimati, no daylight saving) while these tests run: code
 * that read local fields instead of UTC ones would then produce a different stamp on every date below.
 */
const LOCAL_GETTERS = ['getFullYear', 'getMonth', 'getDate', 'getHours', 'getMinutes', 'getSeconds', 'getDay'];
const LOCAL_OFFSET_MS = 14 * 60 * 60 * 1000;
const dateMethods = Date.prototype as unknown as Record<string, (this: Date) => number>;
const originalGetters = new Map<string, (this: Date) => number>();
beforeAll(() => {
  for (const name of LOCAL_GETTERS) {
    originalGetters.set(name, dateMethods[name]);
    const utcGetter = dateMethods[name.replace(/^get/, 'getUTC')];
    dateMethods[name] = function (this: Date): number {
      return utcGetter.call(new Date(this.getTime() + LOCAL_OFFSET_MS));
    };
  }
});
afterAll(() => {
  for (const [name, getter] of originalGetters) dateMethods[name] = getter;
});

describe('auto-naming', () => {
  it('runs in a time zone where local and UTC fields differ (guards the tests below)', () => {
    const at = new Date('2026-11-22T09:30:00Z');
    expect(at.getHours()).not.toBe(at.getUTCHours());
  });

  it('matches the contract example: <instance>_<volume>_<yyyyMMddHHmmss> in UTC', () => {
    expect(autoSnapshotName('web-1', 'ROOT', new Date('2026-11-22T09:30:00Z'))).toBe('web-1_ROOT_20261122093000');
  });

  it('converts a date given with another offset to UTC', () => {
    // 09:30 in India (UTC+05:30) is 04:00 UTC.
    expect(autoSnapshotName('web-1', 'DATA-1', new Date('2026-11-22T09:30:00+05:30'))).toBe(
      'web-1_DATA-1_20261122040000',
    );
    // 20:15 in New York (UTC-05:00) is 01:15 UTC the next day.
    expect(utcStamp(new Date('2026-03-01T20:15:07-05:00'))).toBe('20260302011507');
  });

  it('pads month, day, hours, minutes and seconds to two digits', () => {
    expect(utcStamp(new Date('2026-01-02T03:04:05Z'))).toBe('20260102030405');
    expect(utcStamp(new Date('2026-09-09T00:00:00Z'))).toBe('20260909000000');
  });

  it('uses two-digit months and days at the top of their range', () => {
    expect(utcStamp(new Date('2026-12-31T23:59:59Z'))).toBe('20261231235959');
    expect(utcStamp(new Date('2026-10-10T10:10:10Z'))).toBe('20261010101010');
  });

  it('drops milliseconds instead of rounding up', () => {
    expect(utcStamp(new Date('2026-12-31T23:59:59.999Z'))).toBe('20261231235959');
  });

  it('takes the UTC year across a year boundary', () => {
    // New Year in Paris (UTC+01:00) is still the old year in UTC.
    expect(utcStamp(new Date('2027-01-01T00:30:00+01:00'))).toBe('20261231233000');
    // New Year's Eve evening in Los Angeles (UTC-08:00) is already the new year in UTC.
    expect(utcStamp(new Date('2026-12-31T20:00:00-08:00'))).toBe('20270101040000');
    expect(utcStamp(new Date('2027-01-01T00:00:00Z'))).toBe('20270101000000');
  });

  it('handles 29 February', () => {
    expect(utcStamp(new Date('2028-02-29T12:00:00Z'))).toBe('20280229120000');
  });

  it('writes `detached` for a volume without an instance', () => {
    expect(DETACHED).toBe('detached');
    expect(autoSnapshotName(null, 'DATA-2', new Date('2026-11-22T09:30:00Z'))).toBe('detached_DATA-2_20261122093000');
  });

  it('names instance snapshots <instance>_VS_<yyyyMMddHHmmss>', () => {
    expect(autoInstanceSnapshotName('web-1', new Date('2026-11-22T09:30:00+05:30'))).toBe('web-1_VS_20261122040000');
  });

  it('produces a valid resource name for ordinary instance and volume names', () => {
    const at = new Date('2026-11-22T09:30:00Z');
    expect(assertResourceName(autoSnapshotName('web-1', 'ROOT', at))).toBe('web-1_ROOT_20261122093000');
    expect(assertResourceName(autoSnapshotName(null, 'DATA-1', at))).toBe('detached_DATA-1_20261122093000');
  });
});

describe('uniqueName', () => {
  const base = 'web-1_ROOT_20261122093000';

  it('keeps the base name when it is free', () => {
    expect(uniqueName(base, new Set())).toBe(base);
    expect(uniqueName(base, new Set(['other', `${base}-2`]))).toBe(base);
  });

  it('adds -2 when the base name is taken', () => {
    expect(uniqueName(base, new Set([base]))).toBe(`${base}-2`);
  });

  it('counts up past every taken suffix', () => {
    expect(uniqueName(base, new Set([base, `${base}-2`, `${base}-3`]))).toBe(`${base}-4`);
  });

  it('takes the first free suffix when there is a gap', () => {
    expect(uniqueName(base, new Set([base, `${base}-3`]))).toBe(`${base}-2`);
  });

  it('compares names exactly (case matters)', () => {
    expect(uniqueName(base, new Set([base.toLowerCase()]))).toBe(base);
  });
});

describe('isBlankName', () => {
  it.each([
    ['absent', undefined],
    ['null', null],
    ['empty', ''],
    ['spaces', '   '],
    ['tabs and newlines', '\t\n \r\n'],
  ])('is blank when %s', (_label, value) => {
    expect(isBlankName(value)).toBe(true);
  });

  it.each([['a'], [' a '], ['0'], ['-'], ['_']])('is not blank for %j', (value) => {
    expect(isBlankName(value)).toBe(false);
  });
});

describe('assertResourceName', () => {
  it('accepts 1 and 63 characters', () => {
    expect(assertResourceName('a')).toBe('a');
    const longest = 'a'.repeat(63);
    expect(assertResourceName(longest)).toBe(longest);
  });

  it('refuses 64 characters and the empty name', () => {
    expect(caught(() => assertResourceName('a'.repeat(64))).code).toBe(ErrorCode.BAD_USER_INPUT);
    expect(caught(() => assertResourceName('')).code).toBe(ErrorCode.BAD_USER_INPUT);
  });

  it.each(['web-1', 'web_1', 'web.1', 'A.b_C-9', '-lead', 'trail-', '.hidden', '_', '123', 'DATA-1'])(
    'accepts letters, digits, "-", "_" and "." anywhere: %j',
    (name) => {
      expect(assertResourceName(name)).toBe(name);
    },
  );

  it.each([
    ['a space', 'my snap'],
    ['a leading space', ' snap'],
    ['a trailing space', 'snap '],
    ['a trailing newline', 'snap\n'],
    ['a tab', 'a\tb'],
    ['a slash', 'a/b'],
    ['a colon', 'a:b'],
    ['an accented letter', 'café'],
    ['a non-Latin letter', 'снимок'],
    ['an emoji', 'snap😀'],
    ['an at sign', 'a@b'],
    ['a plus', 'a+b'],
  ])('refuses %s', (_label, name) => {
    expect(caught(() => assertResourceName(name)).code).toBe(ErrorCode.BAD_USER_INPUT);
  });

  it('names the field in the error', () => {
    const error = caught(() => assertResourceName('bad name', 'templateName'));
    expect(error.details).toEqual({ field: 'templateName' });
    expect(error.message).toMatch(/^templateName must be 1-63 characters/);
    expect(caught(() => assertResourceName('bad name')).details).toEqual({ field: 'name' });
  });
});

describe('assertInstanceName (hostname label)', () => {
  it('accepts 1 and 63 characters', () => {
    expect(assertInstanceName('a')).toBe('a');
    expect(assertInstanceName('1')).toBe('1');
    const longest = `a${'-'.repeat(61)}z`;
    expect(assertInstanceName(longest)).toBe(longest);
  });

  it('refuses 64 characters and the empty name', () => {
    expect(caught(() => assertInstanceName('a'.repeat(64))).code).toBe(ErrorCode.BAD_USER_INPUT);
    expect(caught(() => assertInstanceName('')).code).toBe(ErrorCode.BAD_USER_INPUT);
  });

  it.each(['web-1', 'WEB-1', 'db01', 'a-b-c', '9lives', 'a--b'])('accepts %j', (name) => {
    expect(assertInstanceName(name)).toBe(name);
  });

  it.each([
    ['a leading hyphen', '-web'],
    ['a trailing hyphen', 'web-'],
    ['a lone hyphen', '-'],
    ['an underscore', 'web_1'],
    ['a dot', 'web.1'],
    ['a space', 'web 1'],
    ['a trailing newline', 'web\n'],
    ['an accented letter', 'wéb'],
    ['an emoji', 'web😀'],
  ])('refuses %s', (_label, name) => {
    expect(caught(() => assertInstanceName(name)).code).toBe(ErrorCode.BAD_USER_INPUT);
  });

  it('names the field in the error', () => {
    const error = caught(() => assertInstanceName('-bad', 'instanceName'));
    expect(error.details).toEqual({ field: 'instanceName' });
    expect(error.message).toMatch(/^instanceName must be a hostname label/);
  });
});

describe('assertDescription', () => {
  it('is 1024 characters at most', () => {
    expect(MAX_DESCRIPTION_LENGTH).toBe(1024);
  });

  it('turns an absent or null description into null', () => {
    expect(assertDescription(undefined)).toBeNull();
    expect(assertDescription(null)).toBeNull();
  });

  it('accepts 0 and 1024 characters, spaces, punctuation and unicode', () => {
    expect(assertDescription('')).toBe('');
    const longest = 'x'.repeat(1024);
    expect(assertDescription(longest)).toBe(longest);
    const free = 'Before the upgrade: état "propre", 100% — ok?\nSecond line.';
    expect(assertDescription(free)).toBe(free);
    const accented = 'é'.repeat(1024);
    expect(assertDescription(accented)).toBe(accented);
  });

  it('refuses 1025 characters with BAD_USER_INPUT naming the field', () => {
    const error = caught(() => assertDescription('x'.repeat(1025)));
    expect(error.code).toBe(ErrorCode.BAD_USER_INPUT);
    expect(error.details).toEqual({ field: 'description' });
    expect(error.message).toBe('description must be at most 1024 characters');
    expect(caught(() => assertDescription('é'.repeat(1025), 'note')).details).toEqual({ field: 'note' });
  });
});

describe('backup names and storage paths', () => {
  it('names a backup <instance>_BK_<UTC stamp>', () => {
    expect(autoBackupName('web-1', new Date('2026-11-22T09:30:00+05:30'))).toBe('web-1_BK_20261122040000');
  });

  it('takes a normalized absolute path', () => {
    expect(assertAbsoluteStoragePath('/mnt/backups')).toBe('/mnt/backups');
    expect(assertAbsoluteStoragePath('/srv/nfs-1/snapdeck_backups')).toBe('/srv/nfs-1/snapdeck_backups');
  });

  it.each(['backups', '/', '/mnt//b', '/mnt/b/', '/mnt/./b', '/mnt/../etc', '/mnt/b c', ''])(
    'refuses %j with BAD_USER_INPUT',
    (path) => {
      expect(() => assertAbsoluteStoragePath(path)).toThrow(
        expect.objectContaining({ code: 'BAD_USER_INPUT', details: { field: 'path' } }) as Error,
      );
    },
  );
});
