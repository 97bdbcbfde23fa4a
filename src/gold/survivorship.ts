// Survivorship: how the golden record picks each attribute's value from the source records of one person.
// Three rules, each a lexicographic order over the candidate records that hold a valid value:
//   trust    most trusted source, then most recent record, then most complete record
//   recent   most recent record, then most trusted source, then most complete
//   complete most complete record (for blocks such as the address), then most trusted, then most recent
// Ties end on CUSTOMER_ID so the result never depends on file order. The source of each surviving value is kept.
import { FORMAT_PATTERNS } from '../../schemas/contract.ts';

/** Source systems by trust, most trusted first; anything else ranks after them. */
export const SOURCE_TRUST: readonly string[] = ['CRM', 'ECOMMERCE', 'POS', 'SUPPORT', 'MARKETING'];

export type SurvivorshipRule = 'trust' | 'recent' | 'complete';

export interface SurvivingAttribute {
  /** Output column (and *_SOURCE column for its source system). */
  name: string;
  /** Expression over a Silver customer record. */
  expr: string;
  rule: SurvivorshipRule;
  /** SQL condition: the record's value is valid (non-null is always required). */
  valid?: string;
  /** Attributes sharing a block survive together from one record (e.g. an address). */
  block?: string;
  type: string;
}

const nonEmpty = (c: string) => `NULLIF(TRIM(${c}), '') IS NOT NULL`;

export const ADDRESS_COLUMNS = ['ADDRESS_LINE_1', 'CITY', 'STATE_CODE', 'ZIP_CODE', 'COUNTRY_CODE'] as const;

export const SURVIVING_ATTRIBUTES: readonly SurvivingAttribute[] = [
  { name: 'FIRST_NAME', expr: 'FIRST_NAME', rule: 'trust', valid: nonEmpty('FIRST_NAME'), type: 'VARCHAR' },
  { name: 'LAST_NAME', expr: 'LAST_NAME', rule: 'trust', valid: nonEmpty('LAST_NAME'), type: 'VARCHAR' },
  {
    name: 'EMAIL_ADDRESS',
    expr: 'COALESCE(EMAIL_NORMALIZED, lower(trim(EMAIL_ADDRESS)))',
    rule: 'recent',
    valid: `regexp_full_match(COALESCE(EMAIL_NORMALIZED, trim(EMAIL_ADDRESS)), '${FORMAT_PATTERNS.email.replaceAll("'", "''")}')`,
    type: 'VARCHAR',
  },
  {
    name: 'PHONE_NUMBER',
    expr: 'COALESCE(PHONE_E164, trim(PHONE_NUMBER))',
    rule: 'recent',
    valid: `regexp_full_match(COALESCE(PHONE_E164, trim(PHONE_NUMBER)), '${FORMAT_PATTERNS.phone.replaceAll("'", "''")}')`,
    type: 'VARCHAR',
  },
  { name: 'DATE_OF_BIRTH', expr: 'DATE_OF_BIRTH', rule: 'trust', type: 'DATE' },
  { name: 'GENDER', expr: 'GENDER', rule: 'trust', valid: nonEmpty('GENDER'), type: 'VARCHAR' },
  ...ADDRESS_COLUMNS.map((c): SurvivingAttribute => ({ name: c, expr: c, rule: 'complete', block: 'ADDRESS', type: 'VARCHAR' })),
  { name: 'CUSTOMER_SEGMENT', expr: 'CUSTOMER_SEGMENT', rule: 'recent', type: 'VARCHAR' },
  { name: 'LOYALTY_TIER', expr: 'LOYALTY_TIER', rule: 'recent', type: 'VARCHAR' },
  { name: 'LOYALTY_POINTS', expr: 'LOYALTY_POINTS', rule: 'recent', valid: 'LOYALTY_POINTS >= 0', type: 'INTEGER' },
  { name: 'CUSTOMER_STATUS', expr: 'CUSTOMER_STATUS', rule: 'recent', type: 'VARCHAR' },
  { name: 'PREFERRED_CHANNEL', expr: 'PREFERRED_CHANNEL', rule: 'recent', valid: nonEmpty('PREFERRED_CHANNEL'), type: 'VARCHAR' },
  { name: 'PREFERRED_STORE', expr: 'PREFERRED_STORE', rule: 'recent', valid: nonEmpty('PREFERRED_STORE'), type: 'VARCHAR' },
];

/** SQL rank of a source system by SOURCE_TRUST (1 = most trusted). */
export function trustRankSql(column = '_source_system'): string {
  const whens = SOURCE_TRUST.map((s, i) => `WHEN '${s}' THEN ${i + 1}`).join(' ');
  return `CASE upper(${column}) ${whens} ELSE ${SOURCE_TRUST.length + 1} END`;
}

const RULE_ORDER: Record<SurvivorshipRule, string> = {
  trust: '_trust ASC, _recency DESC NULLS LAST, _completeness DESC',
  recent: '_recency DESC NULLS LAST, _trust ASC, _completeness DESC',
  complete: '_block_completeness DESC, _trust ASC, _recency DESC NULLS LAST',
};

function orderBy(rule: SurvivorshipRule): string {
  return `${RULE_ORDER[rule]}, _quality_score DESC NULLS LAST, CUSTOMER_ID ASC, _source_system ASC`;
}

/**
 * Each rule is a total order over all candidate records, so it is computed once as a global rank per rule
 * (_rank_<rule>); picking a person's best record is then arg_min over that rank, a cheap hash aggregate.
 */
const rankColumn = (rule: SurvivorshipRule) => `_rank_${rule}`;

/**
 * Candidate records with their ranking keys (_trust, _recency, _completeness, _block_completeness).
 * _recency is the record's latest activity we know of: last login, else registration.
 */
export function survivorshipCandidatesSql(source = 's_customers'): string {
  const completeness = SURVIVING_ATTRIBUTES.map((a) => `(CASE WHEN (${a.expr}) IS NOT NULL THEN 1 ELSE 0 END)`).join(' + ');
  const addr = ADDRESS_COLUMNS.map((c) => `(CASE WHEN ${nonEmpty(c)} THEN 1 ELSE 0 END)`).join(' + ');
  const ranks = (Object.keys(RULE_ORDER) as SurvivorshipRule[]).map((r) => `row_number() OVER (ORDER BY ${orderBy(r)}) AS ${rankColumn(r)}`);
  return `SELECT *, ${ranks.join(',\n  ')}
FROM (
  SELECT *,
    ${trustRankSql()} AS _trust,
    COALESCE(LAST_LOGIN_DATE, REGISTRATION_DATE) AS _recency,
    ${completeness} AS _completeness,
    ${addr} AS _block_completeness
  FROM ${source}
  WHERE CUSTOMER360_ID IS NOT NULL
)`;
}

/** Aggregate expressions (for GROUP BY CUSTOMER360_ID) giving each surviving value and its source system. */
export function survivingColumnsSql(): string[] {
  const out: string[] = [];
  for (const a of SURVIVING_ATTRIBUTES) {
    // A block survives from one record: the best record with any value in the block, not per column.
    const valid = a.block ? '_block_completeness > 0' : `(${a.expr}) IS NOT NULL${a.valid ? ` AND (${a.valid})` : ''}`;
    const rank = rankColumn(a.rule);
    // arg_min skips null values, which would patch a block from other records; arg_min_null keeps the record's null.
    const pick = a.block ? 'arg_min_null' : 'arg_min';
    out.push(`${pick}(CAST(${a.expr} AS ${a.type}), ${rank}) FILTER (WHERE ${valid}) AS ${a.name}`);
    if (!a.block || a.name === ADDRESS_COLUMNS[0]) {
      const srcName = a.block ? `${a.block}_SOURCE` : `${a.name}_SOURCE`;
      out.push(`arg_min(_source_system, ${rank}) FILTER (WHERE ${valid}) AS ${srcName}`);
    }
  }
  return out;
}

/** Output columns of the golden record, in order (values and their *_SOURCE columns). */
export function survivingColumnNames(): string[] {
  const names: string[] = [];
  for (const a of SURVIVING_ATTRIBUTES) {
    names.push(a.name);
    if (!a.block) names.push(`${a.name}_SOURCE`);
    else if (a.name === ADDRESS_COLUMNS[0]) names.push(`${a.block}_SOURCE`);
  }
  return names;
}
