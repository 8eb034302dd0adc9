import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import { httpError } from '../../src/api/http.js';
import { HeraldError } from '../../src/core/errors.js';

function recordingLog() {
  const errors: unknown[] = [];
  return { errors, log: { error: (obj: { err: unknown }) => errors.push(obj.err) } as unknown as FastifyBaseLogger };
}

/** A Fastify error as the framework raises it: a code, a status and a message. */
const framework = (code: string, statusCode: number, message: string, extra: object = {}) => Object.assign(new Error(message), { code, statusCode, ...extra });

describe('httpError: the one HTTP mapping', () => {
  it('passes HeraldErrors through untouched and logs nothing', () => {
    const { errors, log } = recordingLog();
    const e = new HeraldError('HERALD_ERR_STORE_UNAVAILABLE', 'down');
    expect(httpError(e, log)).toBe(e);
    expect(errors).toEqual([]);
  });

  it.each([
    [
      'a schema failure, naming the missing field',
      framework('FST_ERR_VALIDATION', 400, 'x', {
        validation: [{ instancePath: '', params: { missingProperty: 'title' }, message: "must have required property 'title'" }],
        validationContext: 'body',
      }),
      { code: 'HERALD_ERR_INVALID', statusCode: 400, field: 'title' },
    ],
    [
      'a schema failure in a nested path',
      framework('FST_ERR_VALIDATION', 400, 'x', {
        validation: [{ instancePath: '/items/3', params: {}, message: 'must be object' }],
        validationContext: 'body',
      }),
      { code: 'HERALD_ERR_INVALID', statusCode: 400, field: 'items.3' },
    ],
    ['a body over the limit', framework('FST_ERR_CTP_BODY_TOO_LARGE', 413, 'too large'), { code: 'HERALD_ERR_TOO_LARGE', statusCode: 413 }],
    [
      'an unsupported content type (400, as before)',
      framework('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'nope'),
      { code: 'HERALD_ERR_INVALID', statusCode: 400, field: 'body' },
    ],
    ['malformed JSON', framework('FST_ERR_CTP_INVALID_JSON_BODY', 400, 'bad json'), { code: 'HERALD_ERR_INVALID', statusCode: 400, field: 'body' }],
    ['an over-long path parameter (keeps 414)', framework('FST_ERR_MAX_PARAM_LENGTH', 414, 'too long'), { code: 'HERALD_ERR_INVALID', statusCode: 414 }],
  ])("maps Fastify's own client errors: %s", (_what, err, want) => {
    const { errors, log } = recordingLog();
    expect(httpError(err, log)).toMatchObject(want);
    expect(errors).toEqual([]);
  });

  it.each([
    ['an Error', new TypeError('bug')],
    ['a framework fault (5xx)', framework('FST_ERR_ASYNC_CONSTRAINT', 500, 'constraint')],
    ['a string', 'thrown text'],
    ['undefined', undefined],
    ['null', null],
  ])('answers anything else HERALD_ERR_INTERNAL and logs it once: %s', (_what, err) => {
    const { errors, log } = recordingLog();
    const e = httpError(err, log);
    expect(e).toMatchObject({ code: 'HERALD_ERR_INTERNAL', statusCode: 500, message: 'internal error' });
    expect(e.cause).toBe(err);
    expect(errors).toEqual([err]);
  });
});
