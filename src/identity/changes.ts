// Change events of an identity update: what happened to people, derived from each touched record's id before and
// after. One JSON per change (the shape agreed in COORDINATION.md, dataset identity_changes, topic
// c360-identity-changes):
//   linked    new or changed records joined a person (before: [] for a new person, else the person's id)
//   merged    two or more people became one (before: every previous id, survivor first; after: the survivor)
//   split     one person's records now form several people (the larger part keeps the id: it is first in after)
//   unlinked  changed records left a person that goes on without them (before: [the person], after: [it, theirs])
// Event ids are a hash of the run and the change, so a batch replayed after a crash (before its commit) produces the
// same ids and a consumer can drop a repeat.
import { createHash } from 'node:crypto';

export type ChangeType = 'linked' | 'merged' | 'split' | 'unlinked';

export interface ChangeRecord {
  sourceSystem: string;
  customerId: string;
}

export interface ChangeEvent {
  eventId: string;
  type: ChangeType;
  tenantId: string;
  runId: string;
  at: string;
  before: string[];
  after: string[];
  records: ChangeRecord[];
  /** Ledger rows (the link decisions among the records involved) that explain the change. */
  ledger: Record<string, unknown>[];
}

export interface TouchedRecord {
  tenant: string;
  source: string;
  customerId: string;
  /** Id before the update (undefined: the record is new). */
  before?: string;
  after: string;
  /** The record's own values changed in this update (or it is new). */
  changed: boolean;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function eventId(runId: string, type: string, tenant: string, before: readonly string[], after: readonly string[], records: readonly ChangeRecord[]): string {
  const key = JSON.stringify([runId, type, tenant, before, after, records.map((r) => [r.sourceSystem, r.customerId])]);
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}

/** The events explaining how the touched records' ids moved. `ledgerOf` returns the ledger rows among some records. */
export function deriveChanges(
  touched: readonly TouchedRecord[],
  runId: string,
  at: string,
  ledgerOf: (records: readonly TouchedRecord[]) => Record<string, unknown>[] = () => [],
): ChangeEvent[] {
  const events: ChangeEvent[] = [];
  const rec = (t: TouchedRecord): ChangeRecord => ({ sourceSystem: t.source, customerId: t.customerId });
  const sortRecs = (list: TouchedRecord[]) => [...list].sort((a, b) => cmp(a.source, b.source) || cmp(a.customerId, b.customerId));
  const push = (type: ChangeType, tenant: string, before: string[], after: string[], records: TouchedRecord[]) => {
    const sorted = sortRecs(records);
    const recs = sorted.map(rec);
    events.push({ eventId: eventId(runId, type, tenant, before, after, recs), type, tenantId: tenant, runId, at, before, after, records: recs, ledger: ledgerOf(sorted) });
  };
  const byAfter = new Map<string, TouchedRecord[]>();
  const byBefore = new Map<string, TouchedRecord[]>();
  for (const t of touched) {
    byAfter.set(t.after, [...(byAfter.get(t.after) ?? []), t]);
    if (t.before !== undefined) byBefore.set(t.before, [...(byBefore.get(t.before) ?? []), t]);
  }
  const afterIds = [...byAfter.keys()].sort(cmp);
  const beforeIds = [...byBefore.keys()].sort(cmp);
  // Merges: a person now holding records of several previous people (unchanged records only: a changed record
  // moving over is a link, not a merge of people).
  for (const id of afterIds) {
    const members = byAfter.get(id)!;
    const prev = [...new Set(members.filter((m) => !m.changed && m.before !== undefined).map((m) => m.before!))];
    if (prev.length < 2) continue;
    prev.sort((a, b) => (a === id ? -1 : b === id ? 1 : cmp(a, b)));
    push('merged', members[0]!.tenant, prev, [id], members.filter((m) => m.before !== id && !m.changed));
  }
  // Splits and unlinks: a previous person whose records now sit in several people.
  for (const id of beforeIds) {
    const members = byBefore.get(id)!;
    const parts = new Map<string, TouchedRecord[]>();
    for (const m of members) parts.set(m.after, [...(parts.get(m.after) ?? []), m]);
    if (parts.size < 2) continue;
    const keeper = parts.has(id) ? id : [...parts.entries()].sort((a, b) => b[1].length - a[1].length || cmp(a[0], b[0]))[0]![0];
    const others = [...parts.keys()].filter((p) => p !== keeper).sort(cmp);
    const leaving = others.flatMap((p) => parts.get(p)!);
    const type: ChangeType = leaving.every((m) => m.changed) ? 'unlinked' : 'split';
    push(type, members[0]!.tenant, [id], [keeper, ...others], leaving);
  }
  // Links: new or changed records now with a person they were not with before.
  for (const id of afterIds) {
    const moved = byAfter.get(id)!.filter((m) => m.changed && m.before !== id);
    if (moved.length === 0) continue;
    const existed = byAfter.get(id)!.some((m) => m.before === id) || byBefore.has(id);
    push('linked', moved[0]!.tenant, existed ? [id] : [], [id], moved);
  }
  return events;
}
