import { DomainError, ErrorCode } from './errors.js';
import { assertId, isUuid } from './ids.js';

const LOWER = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const UPPER = '3F2504E0-4F89-41D3-9A0C-0305E82C3301';

describe('isUuid', () => {
  it.each([
    ['lower case', LOWER],
    ['upper case', UPPER],
    ['mixed case', '3f2504E0-4f89-41D3-9a0c-0305e82C3301'],
    ['the nil UUID', '00000000-0000-0000-0000-000000000000'],
    ['a version 7 UUID', '01936a3e-8f2c-7b4d-9e1f-0123456789ab'],
  ])('accepts %s', (_label, value) => {
    expect(isUuid(value)).toBe(true);
  });

  it.each([
    ['the empty string', ''],
    ['no hyphens', '3f2504e04f8941d39a0c0305e82c3301'],
    ['a missing digit', '3f2504e0-4f89-41d3-9a0c-0305e82c330'],
    ['an extra digit', '3f2504e0-4f89-41d3-9a0c-0305e82c33011'],
    ['a non-hex letter', '3f2504e0-4f89-41d3-9a0c-0305e82c330g'],
    ['braces', `{${LOWER}}`],
    ['a urn prefix', `urn:uuid:${LOWER}`],
    ['a leading space', ` ${LOWER}`],
    ['a trailing newline', `${LOWER}\n`],
    ['hyphens in the wrong place', '3f2504e04-f89-41d3-9a0c-0305e82c3301'],
    ['an integer id', '42'],
    ['SQL', "' OR 1=1 --"],
  ])('refuses %s', (_label, value) => {
    expect(isUuid(value)).toBe(false);
  });
});

describe('assertId', () => {
  it('returns the id in lower case, so one id has one spelling', () => {
    expect(assertId(LOWER)).toBe(LOWER);
    expect(assertId(UPPER)).toBe(LOWER);
  });

  it('refuses a malformed id with BAD_USER_INPUT naming the field', () => {
    let thrown: unknown;
    try {
      assertId('not-an-id', 'snapshotId');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DomainError);
    expect((thrown as DomainError).code).toBe(ErrorCode.BAD_USER_INPUT);
    expect((thrown as DomainError).message).toBe('snapshotId is not a valid id');
    expect((thrown as DomainError).details).toEqual({ field: 'snapshotId' });
  });

  it('calls the field `id` by default', () => {
    let thrown: unknown;
    try {
      assertId('');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DomainError);
    expect(thrown).toMatchObject({
      code: ErrorCode.BAD_USER_INPUT,
      message: 'id is not a valid id',
      details: { field: 'id' },
    });
  });
});
