// Segments: RFM codes (quintile scores, named RFM segments) plus k-means on standardised behaviour. Cluster ids are
// ordered by a value metric (mean revenue per customer, highest = 1) and named from the cluster's profile, so the
// same data gives the same ids and labels on every run, whatever order k-means found the clusters in.
import type { FeatureRow } from './features.ts';
import { kMeans } from './kmeans.ts';
import { fitStandardizer, standardize } from './logistic.ts';

export const SEGMENT_FEATURES = ['log_days_since_last_purchase', 'log_frequency', 'log_avg_order_value', 'log_tenure_days', 'log_events_90d'] as const;

export interface SegmentAssignment {
  CUSTOMER360_ID: string;
  SEGMENT_ID: number;
  SEGMENT_LABEL: string;
  RFM_CODE: string;
  RFM_SEGMENT: string;
}

export interface SegmentProfile {
  SEGMENT_ID: number;
  SEGMENT_LABEL: string;
  CUSTOMERS: number;
  SHARE: number;
  AVG_REVENUE: number;
  AVG_ORDERS: number;
  AVG_ORDER_VALUE: number;
  AVG_DAYS_SINCE_LAST_PURCHASE: number | null;
  AVG_TENURE_DAYS: number;
  AVG_EVENTS_90D: number;
}

export interface SegmentModel {
  k: number;
  seed: number;
  inertia: number;
  features: readonly string[];
  centroids: number[][];
  assignments: SegmentAssignment[];
  profiles: SegmentProfile[];
}

function vector(r: FeatureRow): number[] {
  const l = Math.log1p;
  return [l(r.DAYS_SINCE_LAST_PURCHASE ?? 0), l(r.FREQUENCY), l(r.AVG_ORDER_VALUE), l(r.TENURE_DAYS), l(r.EVENTS_90D)];
}

/** Quintile score 1..5 of each value among `values` (5 = highest); ties share the lower score. */
function quintiles(values: readonly number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  return values.map((v) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return Math.min(5, Math.floor((lo / sorted.length) * 5) + 1);
  });
}

/** Named RFM segment from recency and frequency scores (the usual RFM grid). */
export function rfmSegmentName(r: number, f: number): string {
  if (r >= 4 && f >= 4) return 'Champions';
  if (r >= 3 && f >= 3) return 'Loyal';
  if (r >= 4 && f <= 2) return 'New or promising';
  if (r === 3 && f <= 2) return 'Needs attention';
  if (r <= 2 && f >= 4) return "Can't lose them";
  if (r <= 2 && f === 3) return 'At risk';
  return 'Hibernating';
}

function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((s, v) => s + v, 0) / xs.length : 0;
}

/** Names a cluster from how its centroid (in standard units) differs from the average purchaser. */
function nameCluster(c: readonly number[]): string {
  const [recency, frequency, aov, tenure, events] = c as [number, number, number, number, number];
  if (recency > 0.5) {
    if (frequency > 0.3) return 'Lapsing regulars';
    if (aov > 0.3) return 'Lapsed big spenders';
    return 'Lapsed occasional buyers';
  }
  if (frequency > 0.5) return aov > 0 ? 'High-value loyal' : 'Frequent buyers';
  if (tenure < -0.5) return 'New customers';
  if (aov > 0.5) return 'Big-ticket occasional';
  if (events > 0.5) return 'Engaged browsers';
  return 'Occasional buyers';
}

export function buildSegments(rows: readonly FeatureRow[], k = 5, seed = 42): SegmentModel {
  const buyers = rows.filter((r) => r.HAS_PURCHASED);
  const X = buyers.map(vector);
  const std = fitStandardizer(X);
  const Z = X.map((x) => standardize(std, x));
  const km = kMeans(Z, k, seed);
  // Order clusters by mean revenue (ties: size, then centroid) so ids do not depend on k-means' internal order.
  const members = km.centroids.map((_, c) => buyers.filter((_, i) => km.assignment[i] === c));
  const order = km.centroids
    .map((centroid, c) => ({ c, centroid, value: mean(members[c]!.map((r) => r.REVENUE)), size: members[c]!.length }))
    .sort((a, b) => b.value - a.value || b.size - a.size || a.centroid.join().localeCompare(b.centroid.join()));
  const idOf = new Map<number, number>();
  const labels: string[] = [];
  const used = new Map<string, number>();
  order.forEach((o, i) => {
    idOf.set(o.c, i + 1);
    let label = nameCluster(o.centroid);
    const n = (used.get(label) ?? 0) + 1;
    used.set(label, n);
    if (n > 1) label = `${label} (tier ${n})`;
    labels[i + 1] = label;
  });
  labels[0] = 'Prospects (no purchase yet)';

  const rQ = quintiles(buyers.map((r) => -(r.DAYS_SINCE_LAST_PURCHASE ?? 0)));
  const fQ = quintiles(buyers.map((r) => r.PURCHASE_DAYS));
  const mQ = quintiles(buyers.map((r) => r.REVENUE));
  const byId = new Map<string, SegmentAssignment>();
  buyers.forEach((r, i) => {
    const id = idOf.get(km.assignment[i]!)!;
    byId.set(r.CUSTOMER360_ID, {
      CUSTOMER360_ID: r.CUSTOMER360_ID,
      SEGMENT_ID: id,
      SEGMENT_LABEL: labels[id]!,
      RFM_CODE: `R${rQ[i]}F${fQ[i]}M${mQ[i]}`,
      RFM_SEGMENT: rfmSegmentName(rQ[i]!, fQ[i]!),
    });
  });
  const assignments = rows.map(
    (r) => byId.get(r.CUSTOMER360_ID) ?? { CUSTOMER360_ID: r.CUSTOMER360_ID, SEGMENT_ID: 0, SEGMENT_LABEL: labels[0]!, RFM_CODE: 'R0F0M0', RFM_SEGMENT: 'Prospect' },
  );
  const rowById = new Map(rows.map((r) => [r.CUSTOMER360_ID, r]));
  const profiles: SegmentProfile[] = [];
  for (let id = 0; id <= order.length; id++) {
    const m = assignments.filter((a) => a.SEGMENT_ID === id).map((a) => rowById.get(a.CUSTOMER360_ID)!);
    if (m.length === 0) continue;
    const days = m.filter((r) => r.DAYS_SINCE_LAST_PURCHASE !== null).map((r) => r.DAYS_SINCE_LAST_PURCHASE!);
    profiles.push({
      SEGMENT_ID: id,
      SEGMENT_LABEL: labels[id]!,
      CUSTOMERS: m.length,
      SHARE: m.length / rows.length,
      AVG_REVENUE: mean(m.map((r) => r.REVENUE)),
      AVG_ORDERS: mean(m.map((r) => r.ORDERS)),
      AVG_ORDER_VALUE: mean(m.map((r) => r.AVG_ORDER_VALUE)),
      AVG_DAYS_SINCE_LAST_PURCHASE: days.length ? mean(days) : null,
      AVG_TENURE_DAYS: mean(m.map((r) => r.TENURE_DAYS)),
      AVG_EVENTS_90D: mean(m.map((r) => r.EVENTS_90D)),
    });
  }
  return { k: order.length, seed, inertia: km.inertia, features: SEGMENT_FEATURES, centroids: order.map((o) => o.centroid), assignments, profiles };
}
