import type pg from 'pg';
import type { Logger } from '../../core/logger.js';
import { MIGRATIONS, type Migration } from './migrations.js';

/** A schema name Herald accepts: lower-case letters, digits and `_`, not starting with a digit, ≤ 48 characters. */
export const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,47}$/;

/** Throws unless `schema` is a plain identifier (it is spliced into SQL, quoted). */
export function checkSchemaName(schema: string): string {
  if (!SCHEMA_RE.test(schema)) {
    throw new Error(`DATABASE_SCHEMA must be 1-48 characters of a-z 0-9 _, not starting with a digit (got ${JSON.stringify(schema)})`);
  }
  return schema;
}

/** The migration's SQL for one schema. */
export function renderSql(sql: string, schema: string): string {
  return sql.replaceAll('{{s}}', `"${checkSchemaName(schema)}"`).replaceAll('{{channel}}', schema);
}

export interface MigrateResult {
  /** Versions this call applied (empty: the schema was current). */
  applied: number[];
  /** The schema's version afterwards. */
  version: number;
}

/** A constant first key of the two-key advisory lock, so Herald's locks never meet an application's one-key locks. */
const LOCK_CLASS = 0x48_52_4c_44; // 'HRLD'

/**
 * Creates the schema if needed and applies the migrations it has not seen, each in its own
 * transaction recorded in `<schema>.schema_migrations`. Runs under a session advisory lock keyed by
 * the schema: nodes starting together wait for one another, the first migrates, the others find
 * the schema current. Safe to call on every start (`herald migrate` calls it alone).
 */
export async function migrate(client: pg.ClientBase, schema: string, log?: Logger, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrateResult> {
  checkSchemaName(schema);
  const q = `"${schema}"`;
  await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_CLASS, schema]);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${q}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${q}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${q}.schema_migrations`);
    const done = new Set(rows.map((r) => r.version));
    const known = new Set(migrations.map((m) => m.version));
    const unknown = [...done].filter((v) => !known.has(v));
    if (unknown.length > 0) {
      // A newer Herald migrated this schema; this one runs on what it knows (migrations only add).
      log?.warn({ schema, unknown }, 'the database schema is newer than this Herald');
    }
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(renderSql(m.sql, schema));
        await client.query(`INSERT INTO ${q}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw new Error(`migration ${m.version} (${m.name}) of schema ${schema} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(m.version);
      log?.info({ schema, version: m.version, name: m.name }, 'database migration applied');
    }
    const version = Math.max(0, ...done, ...applied);
    return { applied, version };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_CLASS, schema]).catch(() => {});
  }
}
