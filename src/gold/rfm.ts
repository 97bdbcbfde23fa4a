// RFM scoring: 1..5 per dimension from the customer's percent rank among purchasers (ties share a score), and named
// segments from the three scores. Customers without a completed purchase get no scores and the 'No Purchases' segment.

/** Score 1..5 from a percent rank in [0, 1]: 1 + floor(5 * rank), capped at 5. */
export function scoreSql(percentRank: string): string {
  return `CAST(LEAST(5, 1 + FLOOR(5 * ${percentRank})) AS INTEGER)`;
}

/** The named segment for scores r, f, m (first matching rule wins). */
export const RFM_SEGMENT_RULES: ReadonlyArray<{ segment: string; when: string }> = [
  { segment: 'Champions', when: 'r >= 4 AND f >= 4 AND m >= 4' },
  { segment: 'Loyal Customers', when: 'r >= 3 AND f >= 4' },
  { segment: 'New Customers', when: 'r >= 4 AND f = 1' },
  { segment: 'Potential Loyalists', when: 'r >= 4 AND f BETWEEN 2 AND 3' },
  { segment: 'At Risk', when: 'r <= 2 AND f >= 3' },
  { segment: 'Hibernating', when: 'r <= 2 AND f <= 2' },
  { segment: 'Need Attention', when: 'true' },
];

export function rfmSegmentSql(r: string, f: string, m: string): string {
  const sub = (s: string) => s.replaceAll(/\br\b/g, r).replaceAll(/\bf\b/g, f).replaceAll(/\bm\b/g, m);
  return `CASE WHEN ${r} IS NULL THEN 'No Purchases' ${RFM_SEGMENT_RULES.map((x) => `WHEN ${sub(x.when)} THEN '${x.segment}'`).join(' ')} END`;
}

/** JS mirror of the segment rules, for tests and docs. */
export function rfmSegment(r: number | null, f: number | null, m: number | null): string {
  if (r === null || f === null || m === null) return 'No Purchases';
  if (r >= 4 && f >= 4 && m >= 4) return 'Champions';
  if (r >= 3 && f >= 4) return 'Loyal Customers';
  if (r >= 4 && f === 1) return 'New Customers';
  if (r >= 4 && f >= 2 && f <= 3) return 'Potential Loyalists';
  if (r <= 2 && f >= 3) return 'At Risk';
  if (r <= 2 && f <= 2) return 'Hibernating';
  return 'Need Attention';
}
