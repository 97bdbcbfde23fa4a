// Lake paths of activation's own state (beside the datasets it publishes in gold/customer360/).
export const ACTIVATION_ROOT = 'activation';

/** The published profile state: a copy of the Gold profile the latest committed change batch was computed against. */
export const PROFILE_STATE_DIR = `${ACTIVATION_ROOT}/state/customer_profile`;

/**
 * The row hashes of the published state: one (k = hash(CUSTOMER360_ID), h = hash(compared columns)) pair per profile,
 * written with the state, so the next diff reads hashes instead of re-hashing every column of the previous snapshot.
 */
export const PROFILE_HASH_DIR = `${ACTIVATION_ROOT}/state/profile_row_hashes`;

export function batchFileName(batch: number): string {
  return `batch-${String(batch).padStart(8, '0')}.parquet`;
}

export function parseBatch(fileName: string): number | undefined {
  const m = /^batch-(\d+)\.parquet$/.exec(fileName);
  return m ? Number(m[1]) : undefined;
}

export function profileStatePath(batch: number): string {
  return `${PROFILE_STATE_DIR}/${batchFileName(batch)}`;
}

export function profileHashesPath(batch: number): string {
  return `${PROFILE_HASH_DIR}/${batchFileName(batch)}`;
}

/** How far the feed has published identity_changes: the highest SEQ the batch included (JSON beside the state). */
export const IDENTITY_SEQ_DIR = `${ACTIVATION_ROOT}/state/identity_seq`;

export function identitySeqPath(batch: number): string {
  return `${IDENTITY_SEQ_DIR}/batch-${String(batch).padStart(8, '0')}.json`;
}
