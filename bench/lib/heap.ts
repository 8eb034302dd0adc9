import { readFileSync } from 'node:fs';

/** The parts of a V8 .heapsnapshot this summary reads. */
interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size by `type:name` (constructor name for objects, `(closure) name` for functions, …). */
export function heapBySelfSize(file: string): Map<string, { size: number; count: number }> {
  const h = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshot;
  const f = h.snapshot.meta.node_fields;
  const width = f.length;
  const typeAt = f.indexOf('type');
  const nameAt = f.indexOf('name');
  const sizeAt = f.indexOf('self_size');
  const types = h.snapshot.meta.node_types[0];
  const out = new Map<string, { size: number; count: number }>();
  for (let i = 0; i < h.nodes.length; i += width) {
    const type = types[h.nodes[i + typeAt]];
    // Strings are grouped by kind, not by content (a token or URL per connection is what matters).
    const name = type === 'object' || type === 'closure' || type === 'native' ? h.strings[h.nodes[i + nameAt]] : '';
    const key = `${type}${name ? `: ${name}` : ''}`;
    const e = out.get(key) ?? { size: 0, count: 0 };
    e.size += h.nodes[i + sizeAt];
    e.count++;
    out.set(key, e);
  }
  return out;
}

/**
 * What `connections` more connections added to the heap, by kind, biggest first: the difference
 * between two snapshots, per connection.
 */
export function heapDeltaPerConnection(before: string, after: string, connections: number, top = 12): { what: string; bytes: number; count: number }[] {
  const a = heapBySelfSize(before);
  const b = heapBySelfSize(after);
  const rows: { what: string; bytes: number; count: number }[] = [];
  for (const [k, v] of b) {
    const o = a.get(k) ?? { size: 0, count: 0 };
    rows.push({ what: k, bytes: (v.size - o.size) / connections, count: (v.count - o.count) / connections });
  }
  return rows.sort((x, y) => y.bytes - x.bytes).slice(0, top);
}
