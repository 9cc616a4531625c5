import { describeError } from './error-message.js';

describe('describeError', () => {
  it('gives the message of an Error without its stack', () => {
    const error = new Error('disk on fire');
    expect(describeError(error)).toBe('disk on fire');
    expect(describeError(error)).not.toContain('at ');
  });

  it('names errors of other classes', () => {
    expect(describeError(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(
      "TypeError: Cannot read properties of undefined (reading 'x')",
    );
  });

  it('keeps one line and a bounded length', () => {
    expect(describeError(new Error('line one\n  line two'))).toBe('line one line two');
    expect(describeError('x'.repeat(5000))).toHaveLength(1000);
  });

  it('describes thrown values that are not errors', () => {
    expect(describeError('plain')).toBe('plain');
    expect(describeError({ code: 42 })).toBe('{"code":42}');
    expect(describeError(undefined)).toBe('undefined');
    expect(describeError(new Error(''))).toBe('Error');
  });
});

describe('describeError with errors of another realm', () => {
  it('reads the message of an error-like object that fails instanceof Error', () => {
    const foreign = { name: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:1', errno: -111 };
    expect(describeError(foreign)).toBe('connect ECONNREFUSED 127.0.0.1:1');
  });
});
