// The fields of a served profile, derived from the warehouse model (src/warehouse/model.ts): every DIM_CUSTOMER
// column, the risk scores and the behavioural segment of the same as-of date, under their warehouse column names,
// plus four lists (identifiers, recommendations, the models behind the scores, the match links). Nothing here lists
// a warehouse column by hand except the few that are renamed or left out.
import type { PiiClass } from '../../schemas/contract.ts';
import { getTable } from '../warehouse/model.ts';
import type { LogicalType, WarehouseColumn } from '../warehouse/types.ts';

export const DIM_CUSTOMER = getTable('CUSTOMER_360', 'DIM_CUSTOMER');
export const IDENTITY_MAP = getTable('CUSTOMER_360', 'CUSTOMER_IDENTITY_MAP');
export const RISK_SCORES = getTable('CUSTOMER_360', 'CUSTOMER_RISK_SCORES');
export const SEGMENTS = getTable('CUSTOMER_360', 'CUSTOMER_SEGMENTS');
export const RECOMMENDATIONS = getTable('RECOMMENDATIONS', 'PRODUCT_RECOMMENDATIONS');
export const PRODUCTS = getTable('CUSTOMER_360', 'DIM_PRODUCT');
export const MODEL_REGISTRY = getTable('CUSTOMER_360', 'MODEL_REGISTRY');

/** Retired ids and their survivors (owned by identity resolution; an absent table is read as empty). */
export const REDIRECTS_TABLE = { schema: 'CUSTOMER_360', name: 'CUSTOMER_ID_REDIRECTS', dataset: 'customer_id_redirects' } as const;

export interface ScalarField {
  name: string;
  type: LogicalType;
  comment: string;
  pii?: PiiClass;
  /** Table and column it is read from. */
  table: string;
  column: string;
}

const KEYS = new Set(['CUSTOMER360_ID', 'AS_OF_DATE']);
const from = (table: { schema: string; name: string }, c: WarehouseColumn, name = c.name): ScalarField => ({
  name, type: c.type, comment: c.comment, ...(c.pii ? { pii: c.pii } : {}), table: `${table.schema}.${table.name}`, column: c.name,
});

/** Scalar fields in response order: the profile, then scores, then the segment (its model version renamed). */
export const SCALAR_FIELDS: readonly ScalarField[] = [
  ...DIM_CUSTOMER.columns.filter((c) => c.name !== 'IDENTIFIERS').map((c) => from(DIM_CUSTOMER, c)),
  ...RISK_SCORES.columns.filter((c) => !KEYS.has(c.name)).map((c) => from(RISK_SCORES, c)),
  // RFM_CODE and RFM_SEGMENT repeat DIM_CUSTOMER's RFM_SCORE and RFM_SEGMENT.
  ...SEGMENTS.columns
    .filter((c) => !KEYS.has(c.name) && !c.name.startsWith('RFM_'))
    .map((c) => from(SEGMENTS, c, c.name === 'MODEL_VERSION' ? 'SEGMENT_MODEL_VERSION' : c.name)),
];

/** List fields: name -> what it holds. LINKS only with include=links. */
export const LIST_FIELDS = {
  IDENTIFIERS: 'Every source identifier of the person: SOURCE_SYSTEM and CUSTOMER_ID (CUSTOMER_IDENTITY_MAP)',
  RECOMMENDATIONS: 'Top product recommendations of the as-of date with the reason for each (PRODUCT_RECOMMENDATIONS, DIM_PRODUCT)',
  MODELS: 'The model versions behind CHURN_RISK, PREDICTED_CLV, the segment and the recommendations, with their metrics (MODEL_REGISTRY)',
  LINKS: 'With include=links: the identity match decisions between the person\'s records, with their evidence (the match ledger)',
} as const;

export type ListField = keyof typeof LIST_FIELDS;

export const FIELD_NAMES: ReadonlySet<string> = new Set([...SCALAR_FIELDS.map((f) => f.name), ...Object.keys(LIST_FIELDS)]);

export const PII_OF: ReadonlyMap<string, PiiClass> = new Map(SCALAR_FIELDS.filter((f) => f.pii).map((f) => [f.name, f.pii!]));

/** Fields a /customers page shows per person. */
export const LIST_ITEM_FIELDS = [
  'CUSTOMER360_ID', 'FIRST_NAME', 'LAST_NAME', 'EMAIL_ADDRESS', 'CUSTOMER_STATUS', 'RFM_SEGMENT', 'SEGMENT_LABEL',
  'TOTAL_ORDERS', 'TOTAL_REVENUE', 'CHURN_RISK', 'P_ALIVE', 'PREDICTED_CLV',
] as const;
for (const f of LIST_ITEM_FIELDS) if (!FIELD_NAMES.has(f)) throw new Error(`LIST_ITEM_FIELDS: ${f} is no profile field`);
