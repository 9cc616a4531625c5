import { buildSchema, parse, specifiedRules, validate } from 'graphql';
import { badStringReason, findBadString, inputStringsRule, maxRootFieldsRule } from './operation-limits.js';

const schema = buildSchema('type Query { a(s: String): Int b: Int }');
const errorsOf = (query: string, rules = [maxRootFieldsRule(2), inputStringsRule]) =>
  validate(schema, parse(query), [...specifiedRules, ...rules]).map((e) => e.message);

describe('strings a request may carry', () => {
  it.each([
    ['plain', 'web-1', null],
    ['an astral character (a surrogate pair)', 'env-\u{1F600}', null],
    ['a NUL', 'a\u0000b', 'contains a NUL character (U+0000)'],
    ['a lone high surrogate', 'a\ud800b', 'contains a lone UTF-16 surrogate (not a Unicode character)'],
    ['a lone low surrogate', '\udc00', 'contains a lone UTF-16 surrogate (not a Unicode character)'],
    ['a reversed pair', '\udc00\ud800', 'contains a lone UTF-16 surrogate (not a Unicode character)'],
  ])('%s', (_what, value, reason) => {
    expect(badStringReason(value)).toBe(reason);
  });

  it('finds the first bad string anywhere in the variables, keys included', () => {
    expect(findBadString({ input: { name: 'ok', tags: ['x', 'y\u0000'] } }, 'variables')).toEqual({
      path: 'variables.input.tags[1]',
      reason: 'contains a NUL character (U+0000)',
    });
    expect(findBadString({ ['k\ud800']: 1 }, 'variables')?.path).toBe('variables (a key)');
    expect(findBadString({ n: 1, b: true, z: null, s: 'fine' }, 'variables')).toBeNull();
  });

  it('refuses a bad string literal in the document', () => {
    expect(errorsOf('{ a(s: "x\\u0000") }')).toEqual(['A string argument contains a NUL character (U+0000)']);
    expect(errorsOf('{ a(s: "x\\u00e9") }')).toEqual([]);
  });
});

describe('root fields per operation', () => {
  it('counts fields, aliases, fragments and inline fragments at the root', () => {
    expect(errorsOf('{ a b }')).toEqual([]);
    expect(errorsOf('{ a b x: b }')).toEqual(['Too many root fields: 3, the limit is 2 per operation']);
    expect(errorsOf('{ ...F ...F } fragment F on Query { a b }')).toEqual([
      'Too many root fields: 4, the limit is 2 per operation',
    ]);
    expect(errorsOf('{ a ... on Query { b x: a } }')).toEqual([
      'Too many root fields: 3, the limit is 2 per operation',
    ]);
  });

  it('stays finite on a fragment cycle (graphql reports the cycle itself)', () => {
    const messages = errorsOf('{ ...F } fragment F on Query { a ...G } fragment G on Query { b ...F }');
    expect(messages.some((m) => /Cannot spread fragment/.test(m))).toBe(true);
  });
});
