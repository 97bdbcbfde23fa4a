// Collected identity links (IDENTITY_LINKS, from `c360 collect`) in batch identity resolution. A link between two
// records (an alias between two identified userIds, an anonymous identify and its userId) is an always-match edge. An
// id that is no record (an anonymousId, a userId never identified) joins the person of the record it is linked to,
// nearest first, earliest link first among equally near ones, and gets a crosswalk row, so events that carry only an
// anonymousId are stamped with the right CUSTOMER360_ID. Two records are never merged through an id that is not one
// (a shared browser does not make two people one).
import type { RecordKey } from './ids.ts';

export interface CollectedLink {
  source: string;
  customerId: string;
  linkedId: string;
  linkedAt: string;
  linkId: string;
}

const node = (source: string, id: string) => `${source}\0${id}`;

/** Always-match pairs: links whose two ends are both records. */
export function linkOverrides(links: readonly CollectedLink[], tenant: string, isRecord: (source: string, id: string) => boolean): [RecordKey, RecordKey][] {
  return links
    .filter((l) => l.customerId !== l.linkedId && isRecord(l.source, l.customerId) && isRecord(l.source, l.linkedId))
    .map((l) => [
      { tenant, source: l.source, customerId: l.customerId },
      { tenant, source: l.source, customerId: l.linkedId },
    ]);
}

/**
 * CUSTOMER360_IDs for the linked ids that are not records: breadth first from the records over the links (one hop per
 * round), links taken in (time, id) order within a round. `recordIds` maps node(source, id) of every record to its id.
 */
export function linkedIds(links: readonly CollectedLink[], recordIds: ReadonlyMap<string, string>): { source: string; customerId: string; customer360Id: string }[] {
  const ordered = [...links].sort((a, b) => (a.linkedAt < b.linkedAt ? -1 : a.linkedAt > b.linkedAt ? 1 : a.linkId < b.linkId ? -1 : a.linkId > b.linkId ? 1 : 0));
  const assigned = new Map<string, string>();
  const idOf = (n: string) => recordIds.get(n) ?? assigned.get(n);
  for (let changed = true; changed; ) {
    changed = false;
    const round = new Map<string, string>();
    for (const l of ordered) {
      const a = node(l.source, l.customerId);
      const b = node(l.source, l.linkedId);
      for (const [from, to] of [[a, b], [b, a]] as const) {
        const id = idOf(from);
        if (id !== undefined && idOf(to) === undefined && !round.has(to)) round.set(to, id);
      }
    }
    for (const [n, id] of round) ((changed = true), assigned.set(n, id));
  }
  return [...assigned].map(([n, customer360Id]) => {
    const [source, customerId] = n.split('\0') as [string, string];
    return { source, customerId, customer360Id };
  });
}
