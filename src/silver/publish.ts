// Publishing a Silver table: staged rows + CUSTOMER360_ID from the crosswalk + cross-table checks + quality score.
import type { TableContract } from '../../schemas/contract.ts';
import { ident, lit } from '../engine/duckdb.ts';
import { CHECKS, type Check } from './checks.ts';
import { qualityScoreSql } from './standardise-table.ts';

export const hasCustomerId = (c: TableContract) => c.columns.some((col) => col.name === 'CUSTOMER_ID');

/** Tables that `c360 collect` writes: their rows name the source of their ids (and may carry an anonymousId). */
const isCollected = (c: TableContract) => c.columns.some((col) => col.name === 'ANONYMOUS_ID') || c.name === 'IDENTITY_LINKS';

/**
 * The published rows of `contract`, from view `stg_self` (its staged rows), `cw` (the crosswalk) and the staged
 * views its checks need. `available` lists the tables whose staged views exist; checks needing others are skipped.
 */
export function publishSql(contract: TableContract, available: ReadonlySet<string>, tenant: string): { sql: string; checks: Check[]; skipped: Check[] } {
  const set = CHECKS[contract.name];
  const usable = set && set.needs.every((n) => available.has(n));
  const checks: Check[] = [...(usable ? set.checks : [])];
  const skipped: Check[] = set && !usable ? [...set.checks] : [];
  const joins: string[] = usable ? [...set.joins] : [];
  const cols: string[] = ['t.* EXCLUDE (_dq_flags, _completeness)'];
  if (contract.name === 'CUSTOMERS') {
    joins.push(`LEFT JOIN cw ON cw.TENANT_ID = ${lit(tenant)} AND cw.SOURCE_SYSTEM = t._source_system AND cw.CUSTOMER_ID = t.CUSTOMER_ID`);
    cols.push('cw.CUSTOMER360_ID AS CUSTOMER360_ID');
    cols.push('count(*) OVER (PARTITION BY cw.CUSTOMER360_ID) > 1 AND cw.CUSTOMER360_ID IS NOT NULL AS _near_duplicate');
    checks.push({ code: 'CUSTOMER_ID:NOT_RESOLVED', cond: 't.CUSTOMER_ID IS NOT NULL AND cw.CUSTOMER360_ID IS NULL' });
  } else if (hasCustomerId(contract)) {
    // Facts carry a CUSTOMER_ID without its source system: take the id when it names one person unambiguously.
    joins.push(`LEFT JOIN (SELECT CUSTOMER_ID, CASE WHEN count(DISTINCT CUSTOMER360_ID) = 1 THEN min(CUSTOMER360_ID) END AS CUSTOMER360_ID,
      count(DISTINCT CUSTOMER360_ID) AS n FROM cw WHERE TENANT_ID = ${lit(tenant)} GROUP BY CUSTOMER_ID) cwk ON cwk.CUSTOMER_ID = t.CUSTOMER_ID`);
    if (isCollected(contract)) {
      // Collected rows name their source: the userId within it first, then the anonymousId (whose crosswalk row
      // comes from an identity link), then the source-less match.
      const bySource = (alias: string, col: string) =>
        `LEFT JOIN (SELECT SOURCE_SYSTEM, CUSTOMER_ID, min(CUSTOMER360_ID) AS CUSTOMER360_ID FROM cw WHERE TENANT_ID = ${lit(tenant)} GROUP BY ALL) ${alias}
      ON ${alias}.SOURCE_SYSTEM = t._source_system AND ${alias}.CUSTOMER_ID = t.${col}`;
      joins.push(bySource('cws', 'CUSTOMER_ID'));
      const anonymous = contract.columns.some((c) => c.name === 'ANONYMOUS_ID');
      if (anonymous) joins.push(bySource('cwa', 'ANONYMOUS_ID'));
      cols.push(`coalesce(cws.CUSTOMER360_ID, cwk.CUSTOMER360_ID${anonymous ? ', cwa.CUSTOMER360_ID' : ''}) AS CUSTOMER360_ID`);
      checks.push({ code: 'CUSTOMER_ID:UNKNOWN_CUSTOMER', cond: 't.CUSTOMER_ID IS NOT NULL AND cwk.CUSTOMER_ID IS NULL' });
      checks.push({ code: 'CUSTOMER_ID:AMBIGUOUS', cond: 'cwk.n > 1 AND cws.CUSTOMER360_ID IS NULL' });
    } else {
      cols.push('cwk.CUSTOMER360_ID AS CUSTOMER360_ID');
      checks.push({ code: 'CUSTOMER_ID:UNKNOWN_CUSTOMER', cond: 't.CUSTOMER_ID IS NOT NULL AND cwk.CUSTOMER_ID IS NULL' });
      checks.push({ code: 'CUSTOMER_ID:AMBIGUOUS', cond: 'cwk.n > 1' });
    }
  }
  const flagList = checks.length
    ? `list_concat(t._dq_flags, list_filter([${checks.map((c) => `CASE WHEN ${c.cond} THEN ${lit(c.code)} END`).join(',\n      ')}]::VARCHAR[], x -> x IS NOT NULL))`
    : 't._dq_flags';
  const sql = `WITH f AS (
  SELECT ${cols.join(',\n    ')},
    ${flagList} AS _dq_flags,
    t._completeness
  FROM stg_self t
  ${joins.join('\n  ')}
)
SELECT f.* EXCLUDE (_completeness, _dq_flags), ${qualityScoreSql('f._completeness', 'f._dq_flags')} AS _quality_score, f._dq_flags
FROM f ORDER BY ${contract.primaryKey.map((k) => `f.${ident(k)}`).join(', ')}${contract.name === 'CUSTOMERS' ? ', f._source_system' : ''}`;
  return { sql, checks, skipped };
}

/** Row count, flagged rows and the score distribution of a published table. */
export function qualityMetricsSql(relation: string): string {
  return `SELECT count(*) AS rows, count(*) FILTER (WHERE len(_dq_flags) > 0) AS flagged_rows, avg(_quality_score) AS avg_quality_score,
  min(_quality_score) AS min_quality_score
FROM ${relation}`;
}

/** Rows per flag code. */
export function flagCountsSql(relation: string): string {
  return `SELECT code, count(*) AS n FROM (SELECT unnest(_dq_flags) AS code FROM ${relation}) GROUP BY code ORDER BY code`;
}
