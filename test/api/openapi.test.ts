import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENAPI_FILE, openApiDocument, openApiText } from '../../scripts/gen-openapi.js';
import { type OpenApiDocument, renderDocs } from '../../src/api/docs.js';
import type { Herald } from '../../src/server.js';
import { startTestHerald } from '../support/herald.js';

/** The checked-in OpenAPI document, the routes it is generated from, and the `/docs` page. */

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

function operations(doc: OpenApiDocument): { method: string; path: string; op: any }[] {
  return Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    METHODS.filter((m) => (item as any)[m]).map((method) => ({ method, path, op: (item as any)[method] })),
  );
}

describe('docs/openapi.json', () => {
  let generated: Record<string, unknown>;
  beforeAll(async () => {
    generated = await openApiDocument();
  });

  it('is what the routes generate (run `npm run gen:openapi` after changing a route or its schema)', () => {
    const checkedIn = readFileSync(OPENAPI_FILE, 'utf8');
    expect(JSON.parse(checkedIn), 'docs/openapi.json drifted from the routes: run npm run gen:openapi').toEqual(generated);
    expect(checkedIn).toBe(openApiText(generated));
  });

  it('documents every publisher route of the wire contract', () => {
    const contract = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
    const section = contract.slice(contract.indexOf('## Publisher API'), contract.indexOf('## Webhooks'));
    const routes = [...section.matchAll(/^\| `(GET|POST|DELETE|PUT|PATCH) (\/api\/v1\/[^`]*)`/gm)].map(([, m, p]) => [
      m.toLowerCase(),
      p.replace(/<([^>]+)>/g, '{$1}'),
    ]);
    expect(routes.length).toBeGreaterThanOrEqual(7);
    const documented = new Set(operations(generated as OpenApiDocument).map((o) => `${o.method} ${o.path}`));
    for (const [method, path] of routes) expect(documented, `${method.toUpperCase()} ${path}`).toContain(`${method} ${path}`);
  });

  it('gives every API operation a summary, a tag and the API-key security', () => {
    const ops = operations(generated as OpenApiDocument).filter((o) => o.path.startsWith('/api/'));
    expect(ops.length).toBeGreaterThanOrEqual(10);
    for (const { method, path, op } of ops) {
      const name = `${method.toUpperCase()} ${path}`;
      expect(op.summary, name).toBeTruthy();
      expect(op.tags?.length, name).toBeGreaterThan(0);
      expect(op.security, name).toEqual([{ apiKey: [] }]);
    }
    expect((generated.components as any).securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
  });
});

describe('GET /docs', () => {
  let h: Herald;
  beforeAll(async () => {
    h = await startTestHerald();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('serves the same document at /docs/openapi.json', async () => {
    const res = await fetch(`${h.url}/docs/openapi.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')));
  });

  it('renders every operation with its parameters and schemas, readable without script', async () => {
    const res = await fetch(`${h.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).not.toContain('<script');
    const doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDocument;
    for (const { method, path, op } of operations(doc)) {
      expect(html, `${method} ${path}`).toContain(`<span class="m m-${method}">${method.toUpperCase()}</span> <code>${path.replaceAll("'", '&#39;')}</code>`);
      if (op.summary) expect(html).toContain(op.summary.replaceAll("'", '&#39;'));
    }
    // Parameters, request body fields with their constraints, responses.
    expect(html).toContain('<code>client</code> <span class="req">required</span>');
    expect(html).toMatch(/<code>title<\/code> <span class="req">required<\/span> <span class="t">string<\/span> <span class="c">\(maxLength 1024\)<\/span>/);
    expect(html).toContain('<dt class="s2">202</dt>');
    expect(html).toContain('<code>delivered</code>');
    const css = await fetch(`${h.url}/docs/docs.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toContain('text/css');
    await css.text();
    expect((await fetch(`${h.url}/docs/`)).status).toBe(200);
  });

  it('escapes what it renders', () => {
    const html = renderDocs({
      info: { title: '<b>x</b>', version: '1', description: 'a "quote" & <script>alert(1)</script>' },
      paths: {
        '/x/{id}': {
          get: {
            summary: '<img src=x onerror=alert(1)>',
            tags: ['t<'],
            parameters: [{ name: 'id"', in: 'path', required: true, schema: { type: 'string', pattern: '^<a>$' } }],
            responses: {
              200: {
                description: 'ok',
                content: { 'application/json': { schema: { type: 'object', properties: { '<p>': { type: 'string', description: '`</code>`' } } } } },
              },
            },
          },
        },
      },
    });
    for (const raw of ['<script', '<img', '<b>x</b>', '<code><p>', '^<a>$', 'id"</code>']) expect(html).not.toContain(raw);
    expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;');
  });
});
