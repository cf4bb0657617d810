import { describe, expect, it } from 'vitest';
import { toProblem } from '../http/problem.ts';
import {
  ConflictError,
  type DomainError,
  databaseRefusedText,
  deserializeDomainError,
  InvalidInputError,
  NotFoundError,
  OverloadedError,
  serializeDomainError,
} from './errors.ts';

const ERRORS: DomainError[] = [
  new NotFoundError('no privacy request has this id'),
  new ConflictError('coupon code X belongs to another affiliate', [
    { path: '/0/couponCodes', message: 'taken' },
  ]),
  new InvalidInputError('unknown purpose(s): ads', [
    { path: '/decisions/ads', message: 'expected one of …' },
  ]),
  new OverloadedError('the ingestion queue is full; retry later', 3),
];

describe('domain errors', () => {
  it('cross a worker boundary as plain data and come back as the same error', () => {
    for (const error of ERRORS) {
      const data = structuredClone(serializeDomainError(error));
      const back = deserializeDomainError(data);
      expect(back).toBeInstanceOf(error.constructor);
      expect(back).toEqual(error);
      expect(back.message).toBe(error.message);
    }
  });

  it('are answered by the HTTP layer with their problem: 404, 409, 422 with paths, 503 with Retry-After', () => {
    const [notFound, conflict, invalid, overloaded] = ERRORS.map(toProblem);
    expect(notFound).toMatchObject({
      code: 'not-found',
      status: 404,
      detail: 'no privacy request has this id',
    });
    expect(conflict).toMatchObject({ code: 'conflict', status: 409 });
    expect(conflict?.options.errors).toEqual([{ path: '/0/couponCodes', message: 'taken' }]);
    expect(invalid).toMatchObject({ code: 'validation-failed', status: 422 });
    expect(invalid?.options.errors?.[0]?.path).toBe('/decisions/ads');
    expect(overloaded).toMatchObject({ code: 'unavailable', status: 503 });
    expect(overloaded?.options.headers).toEqual({ 'retry-after': '3' });
  });

  it('answers text PostgreSQL cannot store (NUL, bad encoding) as a 422, not a 500', () => {
    for (const code of ['22021', '22P05']) {
      const error = Object.assign(new Error('unsupported Unicode escape sequence'), { code });
      expect(databaseRefusedText(error)).toBe(true);
      expect(toProblem(error)).toMatchObject({ code: 'validation-failed', status: 422 });
    }
    const other = Object.assign(new Error('duplicate key'), { code: '23505' });
    expect(databaseRefusedText(other)).toBe(false);
    expect(toProblem(other)).toMatchObject({ status: 500 });
  });
});
