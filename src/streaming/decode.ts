// One event -> one buffered record: the table it names, its JSON body, its position; or the reason it is poison
// (not JSON, no/unknown table, oversized). Pure: no I/O, so every poison case is testable without a hub.
import { getContract, REASON, type TableContract } from '../../schemas/index.ts';
import { TABLE_PROPERTY } from './replay.ts';

export interface EventPosition {
  partitionId: string;
  sequenceNumber: number;
  offset: string;
  enqueuedTime: Date;
}

export interface RecordEvent extends EventPosition {
  kind: 'record';
  contract: TableContract;
  /** The body as one line of JSON text (an object); validated against the contract at flush time. */
  json: string;
  keys: string[];
  bytes: number;
}

export interface PoisonEvent extends EventPosition {
  kind: 'poison';
  /** The table application property as received (may be absent or unknown). */
  table: string | null;
  /** The body as text (a prefix when oversized). */
  body: string;
  bytes: number;
  reasons: string[];
}

export type DecodedEvent = RecordEvent | PoisonEvent;

export interface DecodeOptions {
  /** Bodies larger than this are quarantined as OVERSIZED (default 64 KiB). */
  maxRecordBytes?: number;
}

export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024;
/** How much of an oversized body quarantine keeps. */
const OVERSIZED_PREFIX = 1024;

export interface RawEvent {
  body: unknown;
  properties?: Record<string, unknown>;
  sequenceNumber: number;
  offset: string | number;
  enqueuedTimeUtc: Date;
}

function bodyText(body: unknown): { text: string; bytes: number } {
  if (Buffer.isBuffer(body)) return { text: body.toString('utf8'), bytes: body.length };
  if (body instanceof Uint8Array) return { text: Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8'), bytes: body.length };
  const text = typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body);
  return { text, bytes: Buffer.byteLength(text) };
}

export function decodeEvent(partitionId: string, event: RawEvent, options: DecodeOptions = {}): DecodedEvent {
  const pos: EventPosition = {
    partitionId,
    sequenceNumber: event.sequenceNumber,
    offset: String(event.offset),
    enqueuedTime: event.enqueuedTimeUtc,
  };
  const rawTable = event.properties?.[TABLE_PROPERTY];
  const table = rawTable === undefined || rawTable === null ? null : String(rawTable);
  const { text, bytes } = bodyText(event.body);
  const max = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const poison = (reasons: string[], body = text): PoisonEvent => ({ kind: 'poison', ...pos, table, body, bytes, reasons });

  if (bytes > max) return poison([`_RECORD:${REASON.OVERSIZED}`], text.slice(0, OVERSIZED_PREFIX));
  const contract = table === null ? undefined : contractFor(table);
  let parsed: unknown;
  let isJson = true;
  try {
    parsed = JSON.parse(text);
  } catch {
    isJson = false;
  }
  const isObject = isJson && typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  const reasons: string[] = [];
  if (!contract) reasons.push(`_RECORD:${REASON.UNKNOWN_TABLE}`);
  if (!isObject) reasons.push(`_RECORD:${REASON.NOT_JSON}`);
  if (reasons.length > 0) return poison(reasons);
  // Whitespace newlines are the only ones valid JSON can hold unescaped: one line per record for NDJSON.
  const json = text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]+/g, ' ') : text;
  return { kind: 'record', ...pos, contract: contract!, json, keys: Object.keys(parsed as object), bytes };
}

const contracts = new Map<string, TableContract | null>();
/** getContract, remembered per property value (it runs once per event). */
function contractFor(table: string): TableContract | undefined {
  let c = contracts.get(table);
  if (c === undefined) {
    try {
      c = getContract(table);
    } catch {
      c = null;
    }
    if (contracts.size < 1000) contracts.set(table, c);
  }
  return c ?? undefined;
}
