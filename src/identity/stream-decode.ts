// One event of the identity topic (c360-id-resolution) -> one customer record for the graph, or the reason it is
// refused. The collector writes CUSTOMERS records there with the `table` application property (plus IDENTITY_LINKS
// and ACCOUNT_MEMBERSHIP, which the Bronze stream takes to Silver; this consumer counts and passes them by). Keys
// are the CUSTOMERS contract names or the aliases `c360 resolve` accepts (email, dob, surname, ...). Pure: no I/O.
import { RAW_COLUMNS } from './graph.ts';
import { COLUMN_ALIASES } from './input.ts';

export interface StreamPosition {
  partitionId: string;
  sequenceNumber: number;
  offset: string;
  enqueuedTime: Date;
}

export type DecodedIdentityEvent =
  | (StreamPosition & { kind: 'record'; values: (string | null)[] })
  | (StreamPosition & { kind: 'other'; table: string })
  | (StreamPosition & { kind: 'poison'; reason: string; body: string });

const COLUMN_OF = new Map<string, number>(RAW_COLUMNS.map((c, i) => [c, i]));
/** The largest body kept whole in quarantine (Event Hubs' own event limit is 1 MiB). */
const MAX_BODY = 1024 * 1024;

function bodyText(body: unknown): string {
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8');
  if (typeof body === 'string') return body;
  return body === undefined ? '' : JSON.stringify(body);
}

export function decodeIdentityEvent(
  pos: StreamPosition,
  event: { body: unknown; properties?: Record<string, unknown> },
): DecodedIdentityEvent {
  const table = event.properties?.table;
  if (table !== undefined && table !== null && String(table).toUpperCase() !== 'CUSTOMERS') return { ...pos, kind: 'other', table: String(table) };
  const text = bodyText(event.body);
  const poison = (reason: string) => ({ ...pos, kind: 'poison' as const, reason, body: text.slice(0, MAX_BODY) });
  if (text.length > MAX_BODY) return poison('_RECORD:OVERSIZED');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return poison('_RECORD:NOT_JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return poison('_RECORD:NOT_AN_OBJECT');
  const values: (string | null)[] = RAW_COLUMNS.map(() => null);
  let found = 0;
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    const col = COLUMN_OF.get(k.toUpperCase()) ?? COLUMN_OF.get(COLUMN_ALIASES[k.trim().toLowerCase()] ?? '');
    if (col === undefined || v === null || v === undefined) continue;
    if (typeof v === 'object') return poison(`${RAW_COLUMNS[col]}:NOT_A_VALUE`);
    const s = String(v).trim();
    if (s === '') continue;
    values[col] = s;
    found++;
  }
  if (found === 0) return poison('_RECORD:NO_CUSTOMER_COLUMNS');
  return { ...pos, kind: 'record', values };
}
