// The columns an audience filter and its exported attributes may use: the Gold profile (golden record, metrics, RFM,
// consent) plus the model scores and the behavioural segment, all taken from their catalogue declarations.
import type { Dataset, DatasetType } from '../catalogue/dataset.ts';
import { customerProfile } from '../gold/customer-profile.ts';
import { customerSegments, riskScores } from '../intelligence/datasets.ts';
import type { ValueKind } from './filter.ts';

/** Datasets joined to the profile by CUSTOMER360_ID, and the columns taken from each. */
export const AUDIENCE_SOURCES: readonly { dataset: Dataset; columns: readonly string[] }[] = [
  { dataset: customerProfile, columns: customerProfile.columns.map((c) => c.name) },
  { dataset: riskScores, columns: ['CHURN_RISK', 'PREDICTED_PURCHASES', 'PREDICTED_CLV', 'P_ALIVE'] },
  { dataset: customerSegments, columns: ['SEGMENT_ID', 'SEGMENT_LABEL'] },
];

function kindOf(t: DatasetType): ValueKind {
  switch (t.kind) {
    case 'varchar': return 'text';
    case 'boolean': return 'boolean';
    case 'date': case 'timestamp': return 'date';
    case 'list': return 'text';
    default: return 'number';
  }
}

export const AUDIENCE_COLUMNS: ReadonlyMap<string, ValueKind> = new Map(
  AUDIENCE_SOURCES.flatMap((s) => s.columns.map((name): [string, ValueKind] => {
    const col = s.dataset.columns.find((c) => c.name === name);
    if (!col) throw new Error(`audience column ${name} is not declared by dataset ${s.dataset.name}`);
    return [name, kindOf(col.type)];
  })),
);

/** Which source dataset provides a column. */
export function sourceOf(column: string): Dataset {
  const s = AUDIENCE_SOURCES.find((x) => x.columns.includes(column));
  if (!s) throw new Error(`unknown audience column ${column}`);
  return s.dataset;
}

/** PII class of a column (exports say which attributes are personal data). */
export function piiOf(column: string): string | undefined {
  return sourceOf(column).columns.find((c) => c.name === column)?.pii;
}
