/**
 * Writes docs/openapi.json from the running app's own OpenAPI document (`npm run gen:openapi`).
 * The document is built by @fastify/swagger from the route schemas, so the checked-in file is
 * regenerated, never edited; test/api/openapi.test.ts fails when it drifts from the routes.
 */
import { writeFileSync } from 'node:fs';
import { startHerald } from '../src/server.js';

export const OPENAPI_FILE = new URL('../docs/openapi.json', import.meta.url);

/** The document of a node started the way `herald serve` starts one (defaults, loopback, generated secrets). */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const h = await startHerald({ HOST: '127.0.0.1', PORT: 0, GRPC_PORT: 'off', LOG_LEVEL: 'silent' }, { logger: false });
  try {
    // A JSON round trip: the file holds exactly what GET /docs/openapi.json serves.
    return JSON.parse(JSON.stringify(h.app.swagger()));
  } finally {
    await h.close();
  }
}

/** The file's text: two-space JSON and a final newline, stable across runs. */
export function openApiText(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

if (process.argv[1]?.endsWith('gen-openapi.ts')) {
  const doc = await openApiDocument();
  writeFileSync(OPENAPI_FILE, openApiText(doc));
  const ops = Object.values((doc.paths ?? {}) as Record<string, object>).reduce((n, p) => n + Object.keys(p).length, 0);
  process.stdout.write(`docs/openapi.json: ${ops} operations\n`);
}
