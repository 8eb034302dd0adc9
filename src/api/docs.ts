import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { HeraldError } from '../core/errors.js';
import { packageRoot } from './package-root.js';

export interface DocsRoutesOptions {
  /** The package root: the stylesheet is `<root>/public/docs/docs.css`. @default found upward from this file */
  root?: string;
}

/** The subset of OpenAPI 3 the renderer reads. */
export interface OpenApiDocument {
  openapi?: string;
  info?: { title?: string; version?: string; description?: string };
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema>; securitySchemes?: Record<string, { type?: string; scheme?: string; description?: string }> };
}

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: Schema }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: Schema }> }>;
}

type Schema = {
  type?: string | string[];
  $ref?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  description?: string;
  [k: string]: unknown;
};

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/** Constraints worth a word next to a type. */
const CONSTRAINTS = ['pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems', 'format', 'default'];
const CSP = "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * `GET /docs`: the API reference rendered on the server from the app's own OpenAPI document
 * (`app.swagger()`, the same one `GET /docs/openapi.json` returns and `docs/openapi.json` checks
 * in). Plain HTML and one stylesheet: no script, no Swagger UI bundle to keep up to date.
 */
export function registerDocsRoutes(app: FastifyInstance, opts: DocsRoutesOptions = {}): void {
  const css = join(opts.root ?? packageRoot(), 'public', 'docs', 'docs.css');
  let html: string | null = null;
  const page = async (_req: unknown, reply: import('fastify').FastifyReply) => {
    html ??= renderDocs(app.swagger() as OpenApiDocument);
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .send(html);
  };
  app.get('/docs', { schema: { hide: true } }, page);
  app.get('/docs/', { schema: { hide: true } }, page);
  app.get('/docs/docs.css', { schema: { hide: true } }, async (_req, reply) => {
    const body = await readFile(css).catch((err: unknown) => {
      throw new HeraldError('HERALD_ERR_NOT_FOUND', 'docs.css not found', { cause: err });
    });
    return reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'no-cache').send(body);
  });
}

/** Renders an OpenAPI 3 document as one readable HTML page, grouped by tag. */
export function renderDocs(doc: OpenApiDocument): string {
  const ops: { method: string; path: string; op: Operation; id: string }[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (op) ops.push({ method, path, op, id: `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-').replace(/-$/, '') });
    }
  }
  const groups = new Map<string, typeof ops>();
  for (const o of ops) {
    const tag = o.op.tags?.[0] ?? 'other';
    groups.set(tag, [...(groups.get(tag) ?? []), o]);
  }
  const title = doc.info?.title ?? 'API';
  const schemes = doc.components?.securitySchemes ?? {};
  const toc = [...groups]
    .map(
      ([tag, list]) =>
        `<li><a href="#tag-${esc(tag)}">${esc(tag)}</a><ul>${list
          .map((o) => `<li><a href="#${o.id}"><span class="m m-${o.method}">${o.method.toUpperCase()}</span> <code>${esc(o.path)}</code></a></li>`)
          .join('')}</ul></li>`,
    )
    .join('');
  const sections = [...groups]
    .map(([tag, list]) => `<section id="tag-${esc(tag)}"><h2>${esc(tag)}</h2>${list.map((o) => operationHtml(o, doc)).join('')}</section>`)
    .join('');
  const auth = Object.entries(schemes)
    .map(
      ([name, s]) =>
        `<li><b>${esc(name)}</b>: ${esc(s.type ?? '')}${s.scheme ? ` <code>${esc(s.scheme)}</code>` : ''} ${esc(s.description ?? '')} — <code>Authorization: Bearer &lt;key&gt;</code></li>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} — reference</title><link rel="stylesheet" href="/docs/docs.css"></head>
<body><header><h1>${esc(title)} <small>v${esc(doc.info?.version ?? '')}</small></h1>
<p>${esc(doc.info?.description ?? '')}</p>
<p class="links"><a href="/docs/openapi.json">OpenAPI document (JSON)</a> · <a href="/dashboard/">Dashboard</a></p>
${auth ? `<h3>Authentication</h3><ul>${auth}</ul>` : ''}</header>
<nav><h3>Operations</h3><ul>${toc}</ul></nav>
<main>${sections}</main></body></html>
`;
}

function operationHtml(o: { method: string; path: string; op: Operation; id: string }, doc: OpenApiDocument): string {
  const { op } = o;
  const secured = (op.security ?? []).flatMap((s) => Object.keys(s));
  const params = op.parameters ?? [];
  const body = op.requestBody?.content ? Object.entries(op.requestBody.content) : [];
  const responses = Object.entries(op.responses ?? {});
  return `<article class="op" id="${o.id}">
<h3><span class="m m-${o.method}">${o.method.toUpperCase()}</span> <code>${esc(o.path)}</code></h3>
${op.summary ? `<p class="summary">${esc(op.summary)}</p>` : ''}${op.description ? `<p>${inlineCode(op.description)}</p>` : ''}
<p class="auth">${secured.length ? `Needs: ${secured.map((s) => `<b>${esc(s)}</b>`).join(', ')}` : 'No authentication'}</p>
${
  params.length
    ? `<h4>Parameters</h4><table><thead><tr><th>name</th><th>in</th><th>type</th><th>description</th></tr></thead><tbody>${params
        .map(
          (p) =>
            `<tr><td><code>${esc(p.name)}</code>${p.required ? ' <span class="req">required</span>' : ''}</td><td>${esc(p.in)}</td><td>${typeHtml(p.schema ?? {}, doc)}</td><td>${esc(p.description ?? String(p.schema?.description ?? ''))}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : ''
}
${body.map(([type, c]) => `<h4>Request body <small>${esc(type)}${op.requestBody?.required ? ', required' : ''}</small></h4>${schemaHtml(c.schema ?? {}, doc)}`).join('')}
${
  responses.length
    ? `<h4>Responses</h4><dl class="responses">${responses
        .map(
          ([code, r]) =>
            `<dt class="s${esc(code[0])}">${esc(code)}</dt><dd>${inlineCode(describeStatus(code, r.description))}${Object.entries(r.content ?? {})
              .map(([type, c]) => `<div class="ct">${esc(type)}</div>${schemaHtml(c.schema ?? {}, doc)}`)
              .join('')}</dd>`,
        )
        .join('')}</dl>`
    : ''
}
</article>`;
}

/** A schema as a nested list of fields: name, type, constraints, description. */
function schemaHtml(schema: Schema, doc: OpenApiDocument, depth = 0): string {
  const s = deref(schema, doc);
  if (depth > 6) return '<span class="t">…</span>';
  if (s.properties) {
    const required = new Set(s.required ?? []);
    const rows = Object.entries(s.properties).map(([name, raw]) => {
      const p = deref(raw, doc);
      const nested = p.properties || (p.items && deref(p.items, doc).properties) ? schemaHtml(p.properties ? p : (p.items as Schema), doc, depth + 1) : '';
      return `<li><code>${esc(name)}</code>${required.has(name) ? ' <span class="req">required</span>' : ''} ${typeHtml(p, doc)}${
        p.description ? ` — ${inlineCode(p.description)}` : ''
      }${nested}</li>`;
    });
    return `<ul class="schema">${rows.join('')}</ul>`;
  }
  if (s.items) return `<div class="schema">array of ${typeHtml(deref(s.items, doc), doc)}${schemaHtml(s.items, doc, depth + 1)}</div>`;
  return `<div class="schema">${typeHtml(s, doc)}${s.description ? ` — ${inlineCode(s.description)}` : ''}</div>`;
}

function typeHtml(raw: Schema, doc: OpenApiDocument): string {
  const s = deref(raw, doc);
  let type = Array.isArray(s.type) ? s.type.join(' | ') : (s.type ?? (Object.keys(s).length ? 'object' : 'any JSON'));
  if (s.type === 'array' && s.items) type = `array of ${deref(s.items, doc).type ?? 'object'}`;
  if (s.nullable === true) type += ' | null';
  const bits: string[] = [];
  if (s.enum) bits.push(`one of ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`);
  for (const k of CONSTRAINTS) if (s[k] !== undefined) bits.push(`${k} ${typeof s[k] === 'string' ? s[k] : JSON.stringify(s[k])}`);
  return `<span class="t">${esc(type)}</span>${bits.length ? ` <span class="c">(${esc(bits.join('; '))})</span>` : ''}`;
}

/** Status texts for responses documented without one (Fastify says "Default Response"). */
const STATUS: Record<string, string> = {
  200: 'OK',
  202: 'Accepted',
  204: 'No content',
  400: 'Invalid input: `field` names what is wrong',
  401: 'Missing or wrong credentials',
  403: 'Forbidden',
  404: 'Not found',
  413: 'Body over the configured limit',
  429: 'Limit reached',
  503: 'Draining, full, or the store is unavailable',
};

function describeStatus(code: string, description: string | undefined): string {
  if (description && description !== 'Default Response') return description;
  return STATUS[code] ?? description ?? '';
}

function deref(s: Schema, doc: OpenApiDocument): Schema {
  if (!s.$ref) return s;
  const name = s.$ref.replace(/^#\/components\/schemas\//, '');
  return doc.components?.schemas?.[name] ?? s;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Escapes, then shows `backticked` words as code. */
function inlineCode(s: string): string {
  return esc(s).replace(/`([^`]+)`/g, '<code>$1</code>');
}
