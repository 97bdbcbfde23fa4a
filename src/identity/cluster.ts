// Clustering: greedy union-find over links in descending probability, with merge protection. A merge is refused
// when the two clusters' birth dates are incompatible (no date on one side equals or is a plausible typo of a date on
// the other), when the joined cluster would hold more distinct birth dates or email keys than allowed, or when it
// would contain a never-match override pair. Always-match pairs go first and are never refused. A link the model would
// make whatever the birth dates say (edges.dobTolerant) is not refused for a birth-date conflict, only for the date limit.

export type Decision = 'LINKED' | 'SAME_CLUSTER' | 'REFUSED:NEVER_MATCH' | 'REFUSED:DOB_CONFLICT' | 'REFUSED:TOO_MANY_EMAILS' | 'REFUSED:HOUSEHOLD' | 'REFUSED:NAME_ONLY';

export interface ClusterInput {
  n: number;
  /** Days since epoch per record, or null. */
  dob: readonly (number | null)[];
  /** Email key code per record (any integer id), or null. */
  email: readonly (number | null)[];
  /** Links, best first: record indexes and whether the link is an always-match override (never refused). */
  edges: {
    l: Int32Array;
    r: Int32Array;
    always?: Uint8Array;
    probability?: Float64Array;
    /**
     * The two records' first names are both present and unrelated (no nickname, spelling or phonetic agreement):
     * a household member sharing address, phone or surname, never the same person. Such a link is refused.
     */
    nameConflict?: Uint8Array;
    /**
     * Nothing but names agrees (every other field disagrees or is missing on one side). Names are shared by
     * strangers far more often than an independence model allows for, so such a link is refused.
     */
    nameOnly?: Uint8Array;
    /**
     * The link would stay at or above the threshold under the model even if its birth dates disagreed (its weight
     * with the birth-date comparison at its disagreement level). A birth-date conflict between the two clusters then
     * does not refuse it: the model has already weighed a disagreement and found the rest of the evidence enough.
     */
    dobTolerant?: Uint8Array;
  };
  never?: readonly (readonly [number, number])[];
}

export interface ClusterOptions {
  /** Most distinct email keys a cluster may hold (default 4). */
  maxEmails?: number;
  /**
   * A link at or above this probability overrides an incompatible birth date when each side holds a single birth
   * date (one mistyped date must not veto otherwise overwhelming evidence); a third date never joins. Default 0.999.
   */
  strongLink?: number;
  /** Most distinct birth dates a cluster may hold (default 4). */
  maxDobs?: number;
  /** Birth dates closer than this many days never conflict (default 31). */
  dobToleranceDays?: number;
  /** Birth dates whose YYYYMMDD strings are within this edit distance never conflict (default 2). */
  dobMaxEdits?: number;
}

export interface ClusterResult {
  /** Cluster id per record: the smallest record index in its cluster. */
  cluster: Int32Array;
  decisions: Decision[];
  refused: number;
}

const DAY = 86_400_000;

export function dobString(days: number): string {
  return new Date(days * DAY).toISOString().slice(0, 10).replaceAll('-', '');
}

/** Optimal-string-alignment distance (Damerau-Levenshtein as DuckDB computes it) for short strings. */
export function damerau(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

export function dobConflict(a: number, b: number, options: ClusterOptions = {}): boolean {
  if (a === b) return false;
  if (Math.abs(a - b) <= (options.dobToleranceDays ?? 31)) return false;
  return damerau(dobString(a), dobString(b)) > (options.dobMaxEdits ?? 2);
}

export function cluster(input: ClusterInput, options: ClusterOptions = {}): ClusterResult {
  const { n } = input;
  const maxEmails = options.maxEmails ?? 4;
  const maxDobs = options.maxDobs ?? 4;
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  // Per-root state, allocated lazily: members, distinct birth dates, distinct email codes.
  const members = new Map<number, number[]>();
  const dobs = new Map<number, number[]>();
  const emails = new Map<number, number[]>();
  const membersOf = (r: number) => members.get(r) ?? [r];
  const dobsOf = (r: number) => dobs.get(r) ?? (input.dob[r] == null ? [] : [input.dob[r]!]);
  const emailsOf = (r: number) => emails.get(r) ?? (input.email[r] == null ? [] : [input.email[r]!]);
  const never = new Map<number, number[]>();
  for (const [a, b] of input.never ?? []) {
    never.set(a, [...(never.get(a) ?? []), b]);
    never.set(b, [...(never.get(b) ?? []), a]);
  }

  const strong = options.strongLink ?? 0.999;
  const check = (ra: number, rb: number, p: number, dobTolerant: boolean): Decision | undefined => {
    if (never.size) {
      const [small, other] = membersOf(ra).length <= membersOf(rb).length ? [ra, rb] : [rb, ra];
      for (const x of membersOf(small)) for (const y of never.get(x) ?? []) if (find(y) === other) return 'REFUSED:NEVER_MATCH';
    }
    const da = dobsOf(ra);
    const db = dobsOf(rb);
    if (da.length && db.length) {
      // Conflict: no birth date on one side is the same or a plausible typo of one on the other side.
      // One date against one other: a single mistyped date may be outweighed by overwhelming evidence.
      const oneEach = da.length === 1 && db.length === 1;
      if (!dobTolerant && !(oneEach && p >= strong) && !da.some((a) => db.some((b) => !dobConflict(a, b, options)))) return 'REFUSED:DOB_CONFLICT';
      if (da.length + db.length > maxDobs && new Set([...da, ...db]).size > maxDobs) return 'REFUSED:DOB_CONFLICT';
    }
    const ea = emailsOf(ra);
    const eb = emailsOf(rb);
    if (ea.length + eb.length > maxEmails && new Set([...ea, ...eb]).size > maxEmails) return 'REFUSED:TOO_MANY_EMAILS';
    return undefined;
  };

  const union = (ra: number, rb: number) => {
    const [big, small] = membersOf(ra).length >= membersOf(rb).length ? [ra, rb] : [rb, ra];
    parent[small] = big;
    const bm = members.get(big) ?? [big];
    for (const x of membersOf(small)) bm.push(x);
    members.set(big, bm);
    members.delete(small);
    dobs.set(big, [...new Set([...dobsOf(big), ...dobsOf(small)])]);
    dobs.delete(small);
    emails.set(big, [...new Set([...emailsOf(big), ...emailsOf(small)])]);
    emails.delete(small);
  };

  const m = input.edges.l.length;
  const decisions: Decision[] = new Array(m);
  let refused = 0;
  // Always-match overrides first, unconditionally; then the ranked links.
  const order: number[] = [];
  for (let i = 0; i < m; i++) if (input.edges.always?.[i]) order.push(i);
  for (let i = 0; i < m; i++) if (!input.edges.always?.[i]) order.push(i);
  for (const i of order) {
    const ra = find(input.edges.l[i]!);
    const rb = find(input.edges.r[i]!);
    if (ra === rb) {
      decisions[i] = 'SAME_CLUSTER';
      continue;
    }
    const refusal = input.edges.always?.[i]
      ? undefined
      : input.edges.nameConflict?.[i]
        ? 'REFUSED:HOUSEHOLD'
        : input.edges.nameOnly?.[i]
          ? 'REFUSED:NAME_ONLY'
          : check(ra, rb, input.edges.probability?.[i] ?? 0, input.edges.dobTolerant?.[i] === 1);
    if (refusal) {
      decisions[i] = refusal;
      refused++;
      continue;
    }
    union(ra, rb);
    decisions[i] = 'LINKED';
  }
  const minOf = new Map<number, number>();
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = find(i);
    if (!minOf.has(r)) minOf.set(r, i); // i ascends, so the first seen is the smallest
    out[i] = minOf.get(r)!;
  }
  return { cluster: out, decisions, refused };
}
