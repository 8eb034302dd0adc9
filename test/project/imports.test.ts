import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The import structure of src/ (ARCHITECTURE.md "Dependencies point inward", STYLE.md "Layers,
 * one import direction"): no import cycle anywhere, `src/core/` imports nothing outside itself,
 * `src/protocol/` imports nothing at all but its own files. Read with a small regex over the
 * import and export statements (type-only ones included: a layer that needs another's types
 * depends on it), not with a bundler, so the test stays fast and has no dependency of its own.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');

/** `import … from '…'`, `import type …`, `export … from '…'`, `export * from '…'`, at the start of a line. */
const FROM_RE = /^\s*(?:import|export)\s+(?:type\s+)?(?:[\w$]+\s*,?\s*)?(?:\{[^}]*\}|\*(?:\s+as\s+[\w$]+)?)?\s*from\s*['"]([^'"]+)['"]/gm;
/** `import '…'` for its side effects. */
const BARE_RE = /^\s*import\s*['"]([^'"]+)['"]/gm;
/** `import('…')`, as an expression or in a type. */
const DYNAMIC_RE = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every module specifier a file imports or re-exports, in order of appearance per form. */
function importSpecifiers(text: string): string[] {
  const out: string[] = [];
  for (const re of [FROM_RE, BARE_RE, DYNAMIC_RE]) for (const m of text.matchAll(re)) out.push(m[1]);
  return out;
}

interface Edge {
  /** Repository-relative, with forward slashes: `src/core/hub.ts`. */
  to: string;
  spec: string;
}

const rel = (abs: string) => relative(ROOT, abs).split(sep).join('/');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}

/** A relative specifier as NodeNext resolves it to a source file: `./x.js` is `./x.ts`. */
function resolveRelative(from: string, spec: string): string | null {
  const base = resolve(dirname(from), spec);
  const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile()) ?? null;
}

interface ImportGraph {
  /** file → what it imports inside the repository (packages and built-ins left out). */
  edges: Map<string, Edge[]>;
  /** file → the packages and built-ins it imports. */
  external: Map<string, string[]>;
  unresolved: string[];
}

function importGraph(): ImportGraph {
  const edges = new Map<string, Edge[]>();
  const external = new Map<string, string[]>();
  const unresolved: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const own: Edge[] = [];
    const packages: string[] = [];
    for (const spec of importSpecifiers(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) {
        packages.push(spec);
        continue;
      }
      const target = resolveRelative(file, spec);
      if (target) own.push({ to: rel(target), spec });
      else unresolved.push(`${rel(file)} imports ${spec}`);
    }
    edges.set(rel(file), own);
    external.set(rel(file), packages);
  }
  return { edges, external, unresolved };
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cyclicGroups(edges: ReadonlyMap<string, readonly { to: string }[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const { to: w } of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1 || (edges.get(v) ?? []).some((e) => e.to === v)) groups.push(group.sort());
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return groups;
}

/** One concrete cycle through `start` inside its group (shortest, by breadth-first search): a → b → a. */
function cycleThrough(start: string, group: readonly string[], edges: ReadonlyMap<string, readonly { to: string }[]>): string[] {
  const inGroup = new Set(group);
  const parent = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i];
    for (const { to } of edges.get(v) ?? []) {
      if (!inGroup.has(to)) continue;
      if (to === start) {
        const path = [v];
        for (let p = v; p !== start; p = parent.get(p) as string) path.push(parent.get(p) as string);
        return [...path.reverse(), start];
      }
      if (!parent.has(to)) {
        parent.set(to, v);
        queue.push(to);
      }
    }
  }
  return [start];
}

const graph = importGraph();

function describeCycles(groups: string[][]): string {
  return groups.map((g) => `${g.join(', ')}\n  e.g. ${cycleThrough(g[0], g, graph.edges).join(' → ')}`).join('\n');
}

describe('the reader', () => {
  it('finds every form of import and re-export, across lines, and nothing in comments or calls', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "import Fastify, { type C } from 'fastify';",
      "import * as grpc from '@grpc/grpc-js';",
      "import def from './def.js';",
      'import {',
      '  x,',
      '  y,',
      "} from './multi.js';",
      "export { z } from './z.js';",
      "export * from './star.js';",
      "export type { T } from './t.js';",
      "import './side-effect.js';",
      "type R = import('./typed.js').R;",
      " * import { notThis } from './comment.js';",
      "const b = Buffer.from('abc');",
      "export const from = 'x';",
    ].join('\n');
    expect(importSpecifiers(text)).toEqual([
      './a.js',
      '../b.js',
      'fastify',
      '@grpc/grpc-js',
      './def.js',
      './multi.js',
      './z.js',
      './star.js',
      './t.js',
      './side-effect.js',
      './typed.js',
    ]);
  });

  it('sees the real tree: every relative import resolves, and known edges are there', () => {
    expect(graph.unresolved).toEqual([]);
    expect(graph.edges.size).toBeGreaterThan(50);
    expect(graph.edges.get('src/core/hub.ts')?.map((e) => e.to)).toContain('src/core/session.ts');
    expect(graph.edges.get('src/server.ts')?.map((e) => e.to)).toContain('src/transports/index.ts');
  });

  it('finds cycles and names their files', () => {
    const edges = new Map([
      ['a', [{ to: 'b' }]],
      ['b', [{ to: 'c' }]],
      ['c', [{ to: 'a' }, { to: 'd' }]],
      ['d', []],
      ['e', [{ to: 'e' }]],
    ]);
    const groups = cyclicGroups(edges);
    expect(groups).toEqual([['a', 'b', 'c'], ['e']]);
    expect(cycleThrough('b', groups[0], edges)).toEqual(['b', 'c', 'a', 'b']);
    expect(cycleThrough('e', groups[1], edges)).toEqual(['e', 'e']);
  });
});

describe('import structure of src/', () => {
  it('src/core/ imports nothing outside src/core/ but the wire types of src/protocol/ (packages and built-ins aside)', () => {
    const outward: string[] = [];
    const inner = (to: string) => to.startsWith('src/core/') || to.startsWith('src/protocol/');
    for (const [file, edges] of graph.edges) {
      if (!file.startsWith('src/core/')) continue;
      for (const e of edges) if (!inner(e.to)) outward.push(`${file} imports ${e.to} ('${e.spec}')`);
    }
    expect(outward).toEqual([]);
  });

  it('src/protocol/ imports nothing but its own files: no other layer, no package, no built-in', () => {
    const found: string[] = [];
    for (const [file, edges] of graph.edges) {
      if (!file.startsWith('src/protocol/')) continue;
      for (const e of edges) if (!e.to.startsWith('src/protocol/')) found.push(`${file} imports ${e.to}`);
      for (const p of graph.external.get(file) ?? []) found.push(`${file} imports ${p}`);
    }
    expect(found).toEqual([]);
  });

  it('has no import cycle', () => {
    const groups = cyclicGroups(graph.edges);
    expect(groups, `import cycles:\n${describeCycles(groups)}`).toEqual([]);
  });
});
