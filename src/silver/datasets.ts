// The Silver and identity datasets in the catalogue. Their columns derive from the source contracts (schemas/) and
// the standardisation and identity code, so nothing here repeats a contract's column list.
import type { ColumnDef, TableContract } from '../../schemas/contract.ts';
import { ALL_CONTRACTS } from '../../schemas/index.ts';
import { columns, type ColumnSpec, type Dataset, type DatasetType } from '../catalogue/dataset.ts';
import { COMPARISONS } from '../identity/model.ts';
import { T } from '../warehouse/types.ts';
import { IDENTITY_ROOT, STAGING_ROOT, SILVER_ROOT } from './paths.ts';
import { CHECKS } from './checks.ts';
import { hasCustomerId } from './publish.ts';
import { LOAD_PARTITION_PREFIX, NO_DATE, partitionSql } from '../catalogue/partitioned.ts';
import { lit } from '../engine/duckdb.ts';

/**
 * The event-time column whose date partitions a table's staged and published Silver (`event_date=YYYY-MM-DD/`);
 * undefined for tables kept as one file: customers (no event time), campaigns (planned ahead, few) and the collected
 * identity tables (identity reads them whole).
 */
export function partitionColumn(c: TableContract): string | undefined {
  return ['MARKETING_CAMPAIGNS', 'IDENTITY_LINKS', 'ACCOUNT_MEMBERSHIP'].includes(c.name) ? undefined : c.eventTime;
}

/**
 * Tables without an event time whose staged and published Silver is partitioned by the Bronze load of each row's
 * winning version (partition `load-<id>`, folder `load=<id>/`): line items, which grow with history. A daily run's
 * new items land in a partition of their own, so staging and publishing rewrite only that and the partitions of
 * corrected items, not every item; a winning version's load is the same merged day by day or rebuilt, so the layout
 * is too.
 */
export const byLoad = (c: TableContract): boolean => c.name === 'CUSTOMER_TRANSACTION_ITEMS';

/** Whether a table's staged and published Silver is partitioned (by event date or by load), not one file. */
export const isPartitioned = (c: TableContract): boolean => partitionColumn(c) !== undefined || byLoad(c);

/** The partition SQL of a staged or published row of `c` (partitionSql of its event time, or its load). */
export function rowPartitionSql(c: TableContract): string {
  if (!byLoad(c)) return partitionSql(partitionColumn(c));
  return `coalesce(${lit(LOAD_PARTITION_PREFIX)} || nullif(regexp_replace(_bronze_load_id, '[^A-Za-z0-9_-]', '_', 'g'), ''), ${lit(NO_DATE)})`;
}

/** The catalogue name of a source table's Silver dataset: the contract name in lower case. */
export const silverName = (c: TableContract) => c.name.toLowerCase();
export const stagedName = (c: TableContract) => `staged_${silverName(c)}`;

export const IDENTITY_DATASETS = {
  crosswalk: 'identity_crosswalk',
  ledger: 'identity_match_ledger',
  clusters: 'identity_clusters',
  registry: 'identity_id_registry',
  retired: 'identity_retired_ids',
  changes: 'identity_changes',
  redirects: 'customer_id_redirects',
} as const;

function typeOf(c: ColumnDef): DatasetType {
  switch (c.type.kind) {
    case 'varchar':
    case 'text': return T.varchar;
    case 'integer': return T.integer;
    case 'decimal': return { kind: 'decimal', precision: c.type.precision, scale: c.type.scale };
    case 'date': return T.date;
    case 'timestamp': return T.timestamp;
    case 'boolean': return T.boolean;
  }
}

const contractColumns = (c: TableContract): ColumnSpec[] => c.columns.map((col) => [col.name, typeOf(col), col.description, col.pii]);

const LINEAGE: ColumnSpec[] = [
  ['_source_system', T.varchar, 'Source system of the record (Bronze _source_system)'],
  ['_bronze_load_id', T.varchar, 'Load id of the Bronze row the record came from'],
  ['_ingested_at', T.timestamp, 'When the Bronze row was ingested (the latest ingest of a key wins)'],
  ['_bronze_record_hash', T.varchar, 'Record hash of the Bronze row (breaks ties between versions of a key ingested at once)'],
  ['_load_id', T.varchar, 'Load id of the Silver run that wrote the record'],
];

/** The match-key columns standardisation adds to CUSTOMERS for identity resolution (CUSTOMER_EXTRA_COLUMNS). */
const CUSTOMER_EXTRAS: ColumnSpec[] = [
  ['SOURCE_SYSTEM', T.varchar, 'Source system (as in the crosswalk)'],
  ['EMAIL_NORMALIZED', T.varchar, 'E-mail, trimmed and lower-cased; null when not an e-mail', 'email'],
  ['EMAIL_MATCH_KEY', T.varchar, 'E-mail match key (provider rules: dots and +tags dropped where they do not matter)', 'email'],
  ['EMAIL_IS_PLACEHOLDER', T.boolean, 'The e-mail is a placeholder (test@, noreply@, ...)'],
  ['PHONE_E164', T.varchar, 'Phone in E.164', 'phone'],
  ['PHONE_IS_PLACEHOLDER', T.boolean, 'The phone is a placeholder (all one digit, 555-0100, ...)'],
  ['FIRST_NAME_KEY', T.varchar, 'First name match key', 'name'],
  ['FIRST_NAME_CANONICAL', T.varchar, 'First name with nicknames resolved', 'name'],
  ['LAST_NAME_KEY', T.varchar, 'Last name match key', 'name'],
  ['ADDRESS_STD', T.varchar, 'Street address, standardised abbreviations', 'address'],
  ['ADDRESS_UNIT', T.varchar, 'Unit or apartment split off the street address', 'address'],
  ['ZIP_STD', T.varchar, 'Postal code, standardised for the country', 'address'],
  ['DATE_OF_BIRTH_VALID', T.boolean, 'Birth date plausible (or absent)'],
];

const FLAGS: ColumnSpec = ['_dq_flags', { kind: 'list', of: T.varchar }, 'Data-quality flags COLUMN:CODE (contract rules, cross-table checks)'];

function staged(c: TableContract): Dataset {
  return {
    name: stagedName(c),
    layer: 'silver',
    path: `${STAGING_ROOT}/${c.bronzeDir}`,
    description: `${c.name} standardised: deduplicated by key (latest ingest wins), cleansed by contract, flagged; before identity stamping`,
    grain: `one row per ${[c.name === 'CUSTOMERS' ? '_source_system' : '', ...c.primaryKey].filter(Boolean).join(', ')}`,
    columns: columns([
      ...contractColumns(c),
      ...LINEAGE,
      ...(c.name === 'CUSTOMERS' ? CUSTOMER_EXTRAS : []),
      FLAGS,
      ['_completeness', T.double, 'Share of contract columns with a value'],
    ]),
    primaryKey: c.name === 'CUSTOMERS' ? ['_source_system', ...c.primaryKey] : [...c.primaryKey],
    inputs: [],
    maintenance: partitionColumn(c) ? 'incremental-by-time' : 'merge-by-key',
    job: 'silver-standardise',
  };
}

/** Cross-table checks read other tables' staged rows (CHECKS in checks.ts); publishing reads them and the crosswalk. */
function published(c: TableContract, checkInputs: readonly string[]): Dataset {
  const identity: ColumnSpec[] = c.name === 'CUSTOMERS'
    ? [['CUSTOMER360_ID', T.varchar, 'Person id from identity resolution'], ['_near_duplicate', T.boolean, 'Another record of the same source resolves to the same person']]
    : hasCustomerId(c) ? [['CUSTOMER360_ID', T.varchar, c.columns.some((x) => x.name === 'ANONYMOUS_ID') ? 'Person id: of CUSTOMER_ID within the source, else of CUSTOMER_ID when it names one person, else of ANONYMOUS_ID within the source' : 'Person id of CUSTOMER_ID when it names one person unambiguously']] : [];
  return {
    name: silverName(c),
    layer: 'silver',
    path: `${SILVER_ROOT}/${c.bronzeDir}`,
    description: `${c.name} in Silver: standardised, stamped with CUSTOMER360_ID, checked across tables and scored`,
    grain: staged(c).grain,
    columns: columns([
      ...contractColumns(c),
      ...LINEAGE,
      ...(c.name === 'CUSTOMERS' ? CUSTOMER_EXTRAS : []),
      ...identity,
      ['_quality_score', T.double, 'Record quality 0..1: 30% completeness, 70% validity (each flag costs a quarter)'],
      FLAGS,
    ]),
    primaryKey: staged(c).primaryKey,
    inputs: [stagedName(c), ...checkInputs, ...(hasCustomerId(c) ? [IDENTITY_DATASETS.crosswalk] : [])],
    maintenance: partitionColumn(c) ? 'incremental-by-time' : 'merge-by-key',
    job: 'silver-publish',
  };
}

const ID_COLS: ColumnSpec[] = [
  ['TENANT_ID', T.varchar, 'Tenant of the records'],
  ['SOURCE_SYSTEM', T.varchar, 'Source system of the customer record'],
  ['CUSTOMER_ID', T.varchar, 'Customer id in the source system'],
  ['CUSTOMER360_ID', T.varchar, 'Person id'],
];

function identity(name: string, folder: string, description: string, grain: string, primaryKey: string[], cols: ColumnSpec[], maintenance: Dataset['maintenance'] = 'full', o: Partial<Dataset> = {}): Dataset {
  return {
    name, layer: 'silver', path: `${IDENTITY_ROOT}/${folder}`, description, grain, columns: columns(cols), primaryKey, ...o,
    // Collected identity links are always-match edges and bring anonymous ids into the crosswalk (identity/collected.ts).
    inputs: ['staged_customers', 'staged_identity_links'], maintenance, job: 'silver-identity',
  };
}

const ledgerColumns = (): ColumnSpec[] => [
  ['TENANT_ID', T.varchar, 'Tenant of the records'],
  ['SOURCE_SYSTEM_L', T.varchar, 'Source system of the left record'], ['CUSTOMER_ID_L', T.varchar, 'Customer id of the left record'],
  ['SOURCE_SYSTEM_R', T.varchar, 'Source system of the right record'], ['CUSTOMER_ID_R', T.varchar, 'Customer id of the right record'],
  ['MATCH_RULE', T.varchar, 'fellegi_sunter, deterministic:<rule> or override:always_match'],
  ['BLOCKING_RULE', T.varchar, 'Blocking rule that made the pair a candidate'],
  ...COMPARISONS.map((c): ColumnSpec => [`LEVEL_${c.name.toUpperCase()}`, T.varchar, `Comparison level of ${c.name}`]),
  ...COMPARISONS.map((c): ColumnSpec => [`WEIGHT_${c.name.toUpperCase()}`, T.double, `Match weight (log2 Bayes factor) of ${c.name}`]),
  ['MATCH_WEIGHT', T.double, 'Total match weight'], ['MATCH_PROBABILITY', T.double, 'Match probability'],
  ['DECISION', T.varchar, 'LINKED, REFUSED, ...'], ['CUSTOMER360_ID', T.varchar, 'Person the left record resolved to'],
  ['RUN_ID', T.varchar, 'Run that decided'],
];

export const IDENTITY_DATASET_DECLS: readonly Dataset[] = [
  identity(IDENTITY_DATASETS.crosswalk, 'crosswalk', 'Every source customer record with the person (CUSTOMER360_ID) it resolved to, then every collected id that is no record (anonymousIds) with the person its identity links lead to',
    'one row per (TENANT_ID, SOURCE_SYSTEM, CUSTOMER_ID)', ['TENANT_ID', 'SOURCE_SYSTEM', 'CUSTOMER_ID'], ID_COLS),
  identity(IDENTITY_DATASETS.ledger, 'match_ledger', 'Every link decision with the evidence behind it', 'one row per decided pair of records',
    ['TENANT_ID', 'SOURCE_SYSTEM_L', 'CUSTOMER_ID_L', 'SOURCE_SYSTEM_R', 'CUSTOMER_ID_R'], ledgerColumns()),
  identity(IDENTITY_DATASETS.clusters, 'clusters', 'Per person: records, source systems, distinct e-mails and birth dates, link probabilities',
    'one row per CUSTOMER360_ID', ['CUSTOMER360_ID'], [
      ['CUSTOMER360_ID', T.varchar, 'Person id'], ['TENANT_ID', T.varchar, 'Tenant'], ['RECORD_COUNT', T.integer, 'Source records of the person'],
      ['SOURCE_SYSTEMS', { kind: 'list', of: T.varchar }, 'Source systems of the records'], ['DISTINCT_EMAILS', T.integer, 'Distinct e-mail match keys'],
      ['DISTINCT_BIRTH_DATES', T.integer, 'Distinct birth dates'], ['MIN_LINK_PROBABILITY', T.double, 'Weakest link in the cluster'],
      ['AVG_LINK_PROBABILITY', T.double, 'Average link probability'],
    ]),
  identity(IDENTITY_DATASETS.registry, 'id_registry', 'Stable-id registry: the CUSTOMER360_ID each record was given, carried from run to run',
    'one row per (TENANT_ID, SOURCE_SYSTEM, CUSTOMER_ID)', ['TENANT_ID', 'SOURCE_SYSTEM', 'CUSTOMER_ID'], ID_COLS, 'merge-by-key'),
  identity(IDENTITY_DATASETS.retired, 'retired_ids', 'CUSTOMER360_IDs retired by merges, each pointing at its survivor',
    'one row per retired id', ['TENANT_ID', 'RETIRED_ID'], [
      ['TENANT_ID', T.varchar, 'Tenant'], ['RETIRED_ID', T.varchar, 'Retired person id'], ['SURVIVOR_ID', T.varchar, 'Person id it now points at'],
      ['RUN_ID', T.varchar, 'Run that retired it'], ['REASON', T.varchar, 'Why (merged, ...)'],
    ], 'append'),
  identity(IDENTITY_DATASETS.changes, 'changes', 'What identity resolution changed, one event per change: a record linked to a person (new or existing), people merged, a person split, records unlinked; the ids before and after, the records involved and the ledger rows that explain it (the events the graph keeps, src/identity/changes.ts)',
    'one row per change event', ['EVENT_ID'], [
      ['SEQ', T.bigint, 'Order of the event in the identity graph (increasing across runs)'],
      ['EVENT_ID', T.varchar, 'Event id (a hash of the run and the change: a replayed batch gives the same id)'],
      ['CHANGE_TYPE', T.varchar, 'linked, merged, split or unlinked'],
      ['TENANT_ID', T.varchar, 'Tenant'], ['RUN_ID', T.varchar, 'Run that made the change'], ['EVENT_AT', T.timestamp, 'When the change was committed'],
      ['IDS_BEFORE', { kind: 'list', of: T.varchar }, 'Person ids before (merged: every previous id, the survivor first; linked to a new person: empty)'],
      ['IDS_AFTER', { kind: 'list', of: T.varchar }, 'Person ids after (split: the id kept by the larger part first)'],
      ['RECORDS', { kind: 'list', of: T.varchar }, 'Source records involved, as SOURCE_SYSTEM:CUSTOMER_ID'],
      ['REASON', T.varchar, 'The strongest ledger row behind the change in one line (rule, decision, records, probability), else what moved'],
      ['LEDGER', T.varchar, 'The ledger rows among the records involved (JSON, best first, at most 50)'],
    ], 'append'),
  // The redirects are served (the API answers 308 for a retired id) and loaded into the warehouse, so they live
  // beside the Gold datasets (the warehouse stage reads Gold's folder), as one current version merged by key.
  identity(IDENTITY_DATASETS.redirects, '', 'Every retired CUSTOMER360_ID with the person that holds its records now (merge pointers followed to the last survivor)',
    'one row per retired id', ['RETIRED_ID'], [
      ['RETIRED_ID', T.varchar, 'Retired person id'], ['CUSTOMER360_ID', T.varchar, 'Person id to use instead (the current survivor)'],
      ['RETIRED_AT', T.timestamp, 'When the id was retired'], ['REASON', T.varchar, 'Why it was retired (MERGED)'],
    ], 'merge-by-key', {
      layer: 'gold', path: 'gold/customer360/customer_id_redirects',
      warehouse: { schema: 'CUSTOMER_360', table: 'CUSTOMER_ID_REDIRECTS', strategy: 'snapshot', clusterBy: ['RETIRED_ID'],
        comment: 'Retired person ids and the person to use instead (the serving API answers 308 for them)' },
    }),
];

const checkInputs = (c: TableContract) => (CHECKS[c.name]?.needs ?? []).map((n) => stagedName(ALL_CONTRACTS.find((x) => x.name === n)!));

/** The 12 source tables and the two the collector adds (identity links, account membership). */
export const SILVER_DATASETS: readonly Dataset[] = [
  ...ALL_CONTRACTS.map(staged),
  ...IDENTITY_DATASET_DECLS,
  ...ALL_CONTRACTS.map((c) => published(c, checkInputs(c))),
];
