import { createHmac } from 'node:crypto';
import { newSigningSecret, signatureHeader, verifySignature } from './webhook-signature.js';

describe('webhook signatures', () => {
  const secret = 'whsec_test';
  const body = '{"id":"e1","type":"snapshot.completed"}';

  it('is t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">', () => {
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(signatureHeader(secret, body, 1700000000)).toBe(`t=1700000000,v1=${expected}`);
  });

  it('verifies with the secret, and fails for another secret, another body or an old time', () => {
    const header = signatureHeader(secret, body, 1700000000);
    expect(verifySignature(secret, body, header, 1700000100)).toBe(true);
    expect(verifySignature('whsec_other', body, header, 1700000100)).toBe(false);
    expect(verifySignature(secret, body.replace('e1', 'e2'), header, 1700000100)).toBe(false);
    expect(verifySignature(secret, body, header, 1700000000 + 301)).toBe(false);
    expect(verifySignature(secret, body, 't=abc,v1=00', 1700000000)).toBe(false);
    expect(verifySignature(secret, body, 'v1=00', 1700000000)).toBe(false);
  });

  it('makes a new random secret each time', () => {
    const a = newSigningSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(newSigningSecret()).not.toBe(a);
  });
});
