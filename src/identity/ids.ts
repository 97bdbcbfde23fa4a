// Stable CUSTOMER360_IDs. The registry remembers the id each source record had; a new clustering inherits ids
// from it: each previous id goes to the cluster holding most of its records (so on a split the larger part keeps
// it), each cluster keeps the previous id with most of its records (so on a merge one id survives and the others
// are retired with a pointer to the survivor). Clusters without any previous id get a new id derived from their
// smallest record key, so a rebuild from nothing on the same data mints the same ids.
import { createHash } from 'node:crypto';

export interface RegistryRow {
  TENANT_ID: string;
  SOURCE_SYSTEM: string;
  CUSTOMER_ID: string;
  CUSTOMER360_ID: string;
}

export interface RetiredRow {
  TENANT_ID: string;
  RETIRED_ID: string;
  SURVIVOR_ID: string;
  RUN_ID: string;
  REASON: string;
}

export interface RecordKey {
  tenant: string;
  source: string;
  customerId: string;
}

export interface IdChurn {
  clusters: number;
  /** Clusters whose records had no id before. */
  newIds: number;
  /** Clusters split off from an existing id (their records had ids, all kept by larger parts). */
  splitIds: number;
  /** Ids retired because their cluster merged into another. */
  retiredIds: number;
  /** Records present before whose id changed. */
  recordsChanged: number;
  /** Records seen for the first time. */
  recordsNew: number;
}

export interface IdAssignment {
  ids: string[];
  registry: RegistryRow[];
  retired: RetiredRow[];
  churn: IdChurn;
}

const SEP = '\u0001';
export const keyOf = (k: RecordKey) => `${k.tenant}${SEP}${k.source}${SEP}${k.customerId}`;

export function mintId(tenant: string, smallestKey: string): string {
  return `C360-${createHash('sha256').update(`${tenant}${SEP}${smallestKey}`).digest('hex').slice(0, 16).toUpperCase()}`;
}

/** Follows retirement pointers to the id that holds a retired id's records now. */
export function survivorOf(id: string, retired: ReadonlyMap<string, string>): string {
  const seen = new Set<string>();
  let cur = id;
  while (retired.has(cur) && !seen.has(cur)) {
    seen.add(cur);
    cur = retired.get(cur)!;
  }
  return cur;
}

export function assignIds(
  records: readonly RecordKey[],
  clusterOf: ArrayLike<number>,
  prior: readonly RegistryRow[],
  priorRetired: readonly RetiredRow[],
  runId: string,
): IdAssignment {
  const retiredMap = new Map(priorRetired.map((r) => [r.RETIRED_ID, r.SURVIVOR_ID]));
  const priorByKey = new Map(prior.map((r) => [keyOf({ tenant: r.TENANT_ID, source: r.SOURCE_SYSTEM, customerId: r.CUSTOMER_ID }), r.CUSTOMER360_ID]));
  const keys = records.map(keyOf);
  const clusters = new Map<number, number[]>();
  for (let i = 0; i < records.length; i++) {
    const c = clusterOf[i]!;
    const list = clusters.get(c);
    if (list) list.push(i);
    else clusters.set(c, [i]);
  }
  // Candidate (cluster, previous id, records) triples, strongest first.
  const cands: { c: number; id: string; count: number; size: number }[] = [];
  const prevCount = new Map<string, Map<number, number>>();
  for (const [c, members] of clusters) {
    const counts = new Map<string, number>();
    for (const i of members) {
      const prev = priorByKey.get(keys[i]!);
      if (prev) {
        const id = survivorOf(prev, retiredMap);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
    }
    for (const [id, count] of counts) {
      cands.push({ c, id, count, size: members.length });
      if (!prevCount.has(id)) prevCount.set(id, new Map());
      prevCount.get(id)!.set(c, count);
    }
  }
  cands.sort((a, b) => b.count - a.count || b.size - a.size || (a.id < b.id ? -1 : a.id > b.id ? 1 : a.c - b.c));
  const idOfCluster = new Map<number, string>();
  const clusterOfId = new Map<string, number>();
  for (const k of cands) {
    if (idOfCluster.has(k.c) || clusterOfId.has(k.id)) continue;
    idOfCluster.set(k.c, k.id);
    clusterOfId.set(k.id, k.c);
  }
  const used = new Set<string>([...prior.map((r) => r.CUSTOMER360_ID), ...priorRetired.flatMap((r) => [r.RETIRED_ID, r.SURVIVOR_ID])]);
  let newIds = 0;
  let splitIds = 0;
  for (const [c, members] of clusters) {
    if (idOfCluster.has(c)) continue;
    const smallest = members.map((i) => keys[i]!).sort()[0]!;
    const base = mintId(records[members[0]!]!.tenant, smallest);
    let id = base;
    for (let s = 2; used.has(id) || clusterOfId.has(id); s++) id = `${base}-${s}`;
    idOfCluster.set(c, id);
    clusterOfId.set(id, c);
    if (members.some((i) => priorByKey.has(keys[i]!))) splitIds++;
    else newIds++;
  }
  const retired: RetiredRow[] = [];
  for (const [id, byCluster] of prevCount) {
    if (clusterOfId.has(id)) continue;
    // Merged away: point at the cluster that took most of its records.
    const [bestCluster] = [...byCluster].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]!;
    const tenant = records[clusters.get(bestCluster)![0]!]!.tenant;
    retired.push({ TENANT_ID: tenant, RETIRED_ID: id, SURVIVOR_ID: idOfCluster.get(bestCluster)!, RUN_ID: runId, REASON: 'MERGED' });
  }
  const ids = records.map((_, i) => idOfCluster.get(clusterOf[i]!)!);
  let recordsChanged = 0;
  let recordsNew = 0;
  const seen = new Set<string>();
  const registry: RegistryRow[] = [];
  records.forEach((r, i) => {
    const prev = priorByKey.get(keys[i]!);
    if (prev === undefined) recordsNew++;
    else if (survivorOf(prev, retiredMap) !== ids[i]) recordsChanged++;
    if (seen.has(keys[i]!)) return;
    seen.add(keys[i]!);
    registry.push({ TENANT_ID: r.tenant, SOURCE_SYSTEM: r.source, CUSTOMER_ID: r.customerId, CUSTOMER360_ID: ids[i]! });
  });
  // Records absent from this run keep their registry entry, so they get their id back when they return.
  for (const row of prior) {
    const k = keyOf({ tenant: row.TENANT_ID, source: row.SOURCE_SYSTEM, customerId: row.CUSTOMER_ID });
    if (!seen.has(k)) registry.push(row);
  }
  return {
    ids,
    registry,
    retired: [...priorRetired, ...retired],
    churn: { clusters: clusters.size, newIds, splitIds, retiredIds: retired.length, recordsChanged, recordsNew },
  };
}
