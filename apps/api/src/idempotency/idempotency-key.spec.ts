import { DomainError } from '@snapdeck/domain';
import { fingerprintOf, idempotencyKeyOf } from './idempotency-key.js';

describe('idempotencyKeyOf', () => {
  it('takes a UUID or any printable token, trimmed; absent is no key', () => {
    expect(idempotencyKeyOf('6f1c2f4e-5b1a-4f0e-9a57-1d2b3c4d5e6f')).toBe('6f1c2f4e-5b1a-4f0e-9a57-1d2b3c4d5e6f');
    expect(idempotencyKeyOf(' retry:42 ')).toBe('retry:42');
    expect(idempotencyKeyOf(undefined)).toBeUndefined();
  });

  it.each([[''], ['   '], ['x'.repeat(256)], ['with space'], ['ünïcode'], [['a', 'b']]])(
    'refuses %j with BAD_USER_INPUT',
    (header) => {
      expect(() => idempotencyKeyOf(header)).toThrow(DomainError);
      expect(() => idempotencyKeyOf(header)).toThrow(/Idempotency-Key/);
    },
  );
});

describe('fingerprintOf', () => {
  it('is the same for the same field and arguments in any key order', () => {
    const a = fingerprintOf('createSnapshot', { input: { volumeId: 'v', name: 'n' } });
    const b = fingerprintOf('createSnapshot', { input: { name: 'n', volumeId: 'v', description: undefined } });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs for another field or other arguments', () => {
    const a = fingerprintOf('createSnapshot', { input: { volumeId: 'v' } });
    expect(fingerprintOf('deleteSnapshot', { input: { volumeId: 'v' } })).not.toBe(a);
    expect(fingerprintOf('createSnapshot', { input: { volumeId: 'w' } })).not.toBe(a);
    expect(fingerprintOf('createSnapshot', { input: { volumeId: 'v', name: null } })).not.toBe(a);
  });
});
