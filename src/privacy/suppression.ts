// The suppression list: hashed identifiers of erased people (written by `c360 forget`, _privacy/suppression/). A later
// batch drop or stream event carrying one of them is quarantined with reason <COLUMN>:SUPPRESSED, and with its
// received fields blanked: the quarantine row says which file and position held a suppressed record, not who it was.
import type { Engine } from '../engine/duckdb.ts';
import { ident, lit } from '../engine/duckdb.ts';
import type { Binding } from '../contracts/validation-sql.ts';
import { STAGE } from '../contracts/validation-sql.ts';
import type { Lake } from '../lake/lake.ts';

/** Lake folder of the list: one Parquet file (HASH, KIND, REQUEST_ID, ADDED_AT) per erasure request. */
export const SUPPRESSION_DIR = '_privacy/suppression';

/** Contract columns checked against the list, and the identifier kind each carries. */
export const SUPPRESSED_COLUMNS: Record<string, string> = {
  CUSTOMER_ID: 'customer',
  TRANSACTION_ID: 'transaction',
  SESSION_ID: 'session',
  TICKET_ID: 'ticket',
  EMAIL_ADDRESS: 'email',
  PHONE_NUMBER: 'phone',
  ANONYMOUS_ID: 'anonymous',
};

/** SQL of the hash a value gets on the list (same as hashIdentifier: sha256('<kind>:' || lower(value))). */
const hashSql = (kind: string, expr: string) => `sha256(${lit(`${kind}:`)} || lower(trim(${expr})))`;

/**
 * Marks the staged records carrying a suppressed identifier: reasons set to <COLUMN>:SUPPRESSED, received fields
 * dropped. Returns how many. Cheap when there is no list (one listing of an empty folder).
 */
export async function applySuppression(engine: Engine, lake: Lake, stage: string, binding: Binding, received: readonly string[]): Promise<number> {
  const files = (await lake.list(SUPPRESSION_DIR)).map((f) => f.path).filter((p) => p.endsWith('.parquet'));
  if (!files.length) return 0;
  const checks: string[] = [];
  binding.bound.forEach((b, i) => {
    const kind = SUPPRESSED_COLUMNS[b.column.name];
    if (!kind || b.received === undefined) return;
    const k = received.indexOf(b.received) + 1;
    const value = `COALESCE(CAST(${STAGE.bronze(i)} AS VARCHAR), ${STAGE.raw}[${k}])`;
    const hashes = [hashSql(kind, value)];
    // Phones are listed as written and as digits.
    if (kind === 'phone') hashes.push(hashSql(kind, `regexp_replace(${value}, '[^0-9]', '', 'g')`));
    checks.push(`CASE WHEN ${hashes.map((h) => `${h} IN (SELECT HASH FROM __c360_suppressed)`).join(' OR ')} THEN ${lit(`${b.column.name}:SUPPRESSED`)} END`);
  });
  if (!checks.length) return 0;
  const local = await Promise.all(files.map((f) => lake.localPath(f)));
  await engine.run(`CREATE OR REPLACE TEMP TABLE __c360_suppressed AS SELECT DISTINCT HASH FROM read_parquet([${local.map(lit).join(', ')}])`);
  try {
    const reason = `COALESCE(${checks.join(', ')})`;
    const n = Number(await engine.scalar(`SELECT count(*) FROM ${stage} WHERE ${reason} IS NOT NULL`));
    if (n > 0) await engine.run(`UPDATE ${stage} SET ${ident(STAGE.reasons)} = ${reason}, ${ident(STAGE.raw)} = NULL WHERE ${reason} IS NOT NULL`);
    return n;
  } finally {
    await engine.run('DROP TABLE IF EXISTS __c360_suppressed');
  }
}
