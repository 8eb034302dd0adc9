import { isUtf8 } from 'node:buffer';
import type { FastifyBodyParser, FastifyInstance } from 'fastify';
import { invalid } from '../core/errors.js';

/**
 * `application/json` bodies must be UTF-8 (RFC 8259 §8.1), and a publish must be well-formed
 * Unicode (PROTOCOL.md "Publisher API"). Fastify's own parser decodes bytes that are not UTF-8 into
 * U+FFFD, so a broken title would be stored and delivered as if the publisher had meant it. This
 * parser checks the raw bytes first — a 400 naming `body`, since no field can be named in bytes
 * that do not decode — then hands them to Fastify's own JSON parser, so everything else stays as
 * it was: its errors (empty, malformed), its prototype-poisoning checks, and the body limit (413),
 * which Fastify applies while reading, before any parser runs.
 */
export function registerJsonParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error') as unknown as FastifyBodyParser<Buffer>;
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body: Buffer, done) => {
    if (!isUtf8(body)) {
      done(invalid('body', 'must be UTF-8 (it holds bytes that are not)'), undefined);
      return;
    }
    parseJson(req, body, done);
  });
}
