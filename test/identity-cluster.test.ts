// Clustering with merge protection, and stable ids across runs.
import { describe, expect, it } from 'vitest';
import { cluster, dobConflict } from '../src/identity/cluster.ts';
import { assignIds, type RecordKey } from '../src/identity/ids.ts';

const day = (iso: string) => Math.round(Date.parse(iso) / 86_400_000);
const edges = (pairs: [number, number][], opts: { always?: number[]; p?: number[] } = {}) => ({
  l: Int32Array.from(pairs.map((p) => p[0])),
  r: Int32Array.from(pairs.map((p) => p[1])),
  always: Uint8Array.from(pairs.map((_, i) => (opts.always?.includes(i) ? 1 : 0))),
  probability: Float64Array.from(pairs.map((_, i) => opts.p?.[i] ?? 0.9)),
});

describe('clustering', () => {
  it('joins connected records and names each cluster by its smallest record', () => {
    const r = cluster({ n: 5, dob: [null, null, null, null, null], email: [null, null, null, null, null], edges: edges([[0, 1], [1, 2], [3, 4]]) });
    expect([...r.cluster]).toEqual([0, 0, 0, 3, 3]);
    expect(r.decisions).toEqual(['LINKED', 'LINKED', 'LINKED']);
  });
  it('birth dates: a typo is compatible, a different date is a conflict', () => {
    expect(dobConflict(day('1971-06-24'), day('1971-06-25'))).toBe(false);
    expect(dobConflict(day('1971-06-24'), day('1917-06-24'))).toBe(false); // two characters swapped
    expect(dobConflict(day('1971-06-24'), day('1985-02-11'))).toBe(true);
  });
  it('never chains two people with conflicting birth dates through a third record', () => {
    const dob = [day('1971-06-24'), null, day('1985-02-11')];
    const r = cluster({ n: 3, dob, email: [null, null, null], edges: edges([[0, 1], [1, 2]]) });
    expect(r.decisions).toEqual(['LINKED', 'REFUSED:DOB_CONFLICT']);
    expect(r.cluster[0]).not.toBe(r.cluster[2]);
  });
  it('a link the model would make whatever the birth dates say is not refused for a conflict, but the date limit holds', () => {
    const dob = [day('1971-06-24'), null, day('1985-02-11')];
    const e = edges([[0, 1], [1, 2]]);
    const r = cluster({ n: 3, dob, email: [null, null, null], edges: { ...e, dobTolerant: Uint8Array.from([0, 1]) } });
    expect(r.decisions).toEqual(['LINKED', 'LINKED']);
    // Five distinct dates: the fifth never joins, tolerant or not.
    const five = ['1950-01-01', '1960-02-02', '1970-03-03', '1980-04-04', '1990-05-05'].map(day);
    const chain = edges([[0, 1], [1, 2], [2, 3], [3, 4]]);
    const c = cluster({ n: 5, dob: five, email: [null, null, null, null, null], edges: { ...chain, dobTolerant: Uint8Array.from([1, 1, 1, 1]) } });
    expect(c.decisions).toEqual(['LINKED', 'LINKED', 'LINKED', 'REFUSED:DOB_CONFLICT']);
  });
  it('refuses a merge that would gather more distinct emails than allowed', () => {
    const r = cluster(
      { n: 4, dob: [null, null, null, null], email: [1, 2, 3, null], edges: edges([[0, 1], [1, 2], [2, 3]]) },
      { maxEmails: 2 },
    );
    expect(r.decisions).toEqual(['LINKED', 'REFUSED:TOO_MANY_EMAILS', 'LINKED']);
  });
  it('refuses a link that nothing but the names supports', () => {
    const e = edges([[0, 1], [1, 2]]);
    const r = cluster({ n: 3, dob: [null, null, null], email: [null, null, null], edges: { ...e, nameOnly: Uint8Array.from([0, 1]) } });
    expect(r.decisions).toEqual(['LINKED', 'REFUSED:NAME_ONLY']);
    expect(r.cluster[2]).toBe(2);
  });
  it('never-match overrides split, always-match overrides join even across a conflict', () => {
    const dob = [day('1971-06-24'), day('1990-01-01'), null];
    const r = cluster({ n: 3, dob, email: [null, null, null], edges: edges([[0, 1], [1, 2], [0, 2]], { always: [0] }), never: [[0, 2]] });
    expect(r.decisions[0]).toBe('LINKED'); // override beats the birth-date conflict
    expect(r.decisions[1]).toBe('REFUSED:NEVER_MATCH');
    expect(r.decisions[2]).toBe('REFUSED:NEVER_MATCH');
    expect(r.cluster[2]).toBe(2);
  });
});

describe('stable ids', () => {
  const keys = (ids: string[]): RecordKey[] => ids.map((customerId) => ({ tenant: 'default', source: 'CRM', customerId }));

  it('a re-run on the same data changes no id, and a rebuild without state mints the same ids', () => {
    const recs = keys(['a', 'b', 'c', 'd']);
    const first = assignIds(recs, [0, 0, 2, 3], [], [], 'run1');
    const again = assignIds(recs, [0, 0, 2, 3], first.registry, first.retired, 'run2');
    expect(again.ids).toEqual(first.ids);
    expect(again.churn).toMatchObject({ newIds: 0, retiredIds: 0, splitIds: 0, recordsChanged: 0, recordsNew: 0 });
    expect(assignIds(recs, [0, 0, 2, 3], [], [], 'rebuild').ids).toEqual(first.ids);
    expect(new Set(first.ids).size).toBe(3);
  });
  it('a new duplicate joins the existing id', () => {
    const first = assignIds(keys(['a', 'b']), [0, 1], [], [], 'run1');
    const next = assignIds(keys(['a', 'b', 'a2']), [0, 1, 0], first.registry, first.retired, 'run2');
    expect(next.ids[2]).toBe(first.ids[0]);
    expect(next.ids.slice(0, 2)).toEqual(first.ids);
    expect(next.churn).toMatchObject({ newIds: 0, recordsNew: 1, recordsChanged: 0 });
  });
  it('a merge keeps the larger id and retires the other with a pointer', () => {
    const first = assignIds(keys(['a', 'b', 'c']), [0, 0, 2], [], [], 'run1');
    const merged = assignIds(keys(['a', 'b', 'c']), [0, 0, 0], first.registry, first.retired, 'run2');
    expect(new Set(merged.ids)).toEqual(new Set([first.ids[0]]));
    expect(merged.retired).toEqual([{ TENANT_ID: 'default', RETIRED_ID: first.ids[2], SURVIVOR_ID: first.ids[0], RUN_ID: 'run2', REASON: 'MERGED' }]);
    expect(merged.churn.retiredIds).toBe(1);
  });
  it('a split keeps the id on the larger part and gives the smaller part a new one', () => {
    const first = assignIds(keys(['a', 'b', 'c']), [0, 0, 0], [], [], 'run1');
    const split = assignIds(keys(['a', 'b', 'c']), [0, 0, 2], first.registry, first.retired, 'run2');
    expect(split.ids[0]).toBe(first.ids[0]);
    expect(split.ids[1]).toBe(first.ids[0]);
    expect(split.ids[2]).not.toBe(first.ids[0]);
    expect(split.churn).toMatchObject({ splitIds: 1, recordsChanged: 1 });
  });
  it('records absent from a run keep their registry entry', () => {
    const first = assignIds(keys(['a', 'b']), [0, 1], [], [], 'run1');
    const partial = assignIds(keys(['a']), [0], first.registry, first.retired, 'run2');
    expect(partial.registry.map((r) => r.CUSTOMER_ID).sort()).toEqual(['a', 'b']);
  });
});
