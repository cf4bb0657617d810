import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProblemError } from './problem.ts';
import { jsonDepth, parseJson } from './request-body.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

/** The nesting of a parsed JSON value, the way `jsonDepth` counts it on the text. */
function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (value !== null && typeof value === 'object')
    return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

describe('jsonDepth', () => {
  it('counts nesting of arrays and objects, not brackets inside strings', () => {
    expect(jsonDepth(bytes('1'))).toBe(0);
    expect(jsonDepth(bytes('[]'))).toBe(1);
    expect(jsonDepth(bytes('[{"a":[1]}]'))).toBe(3);
    expect(jsonDepth(bytes('{"a":"[[[[{{{{"}'))).toBe(1);
    expect(jsonDepth(bytes('["\\"[[[", [2]]'))).toBe(2);
    expect(jsonDepth(bytes('{"k\\\\":[[]]}'))).toBe(3);
  });

  it('agrees with the parsed value for any JSON (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), (value) => {
        const text = JSON.stringify(value);
        expect(jsonDepth(bytes(text))).toBe(depthOf(value));
      }),
      { numRuns: 500 },
    );
  });

  it('stops once the limit is passed, whatever follows', () => {
    const deep = bytes(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`);
    expect(jsonDepth(deep, 32)).toBe(33);
  });
});

describe('parseJson', () => {
  it('refuses nesting past the limit with a 422 before parsing, and parses what is within it', () => {
    const deep = `${'['.repeat(40)}${']'.repeat(40)}`;
    let problem: unknown;
    try {
      parseJson(bytes(deep), 32);
    } catch (error) {
      problem = error;
    }
    expect(problem).toBeInstanceOf(ProblemError);
    expect((problem as ProblemError).code).toBe('nesting-too-deep');
    expect(parseJson(bytes(deep), 40)).toHaveLength(1);
  });

  it('answers 400 for text that is not JSON, naming the part', () => {
    expect(() => parseJson(bytes('{"a":'), 32, { name: 'line 3' })).toThrow(/line 3 is not valid JSON/);
  });

  it('parses a slice of the bytes', () => {
    const text = bytes('xx{"a":1}yy');
    expect(parseJson(text, 32, { start: 2, end: 9 })).toEqual({ a: 1 });
  });
});
