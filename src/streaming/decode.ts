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
  /** The body as received (json is it with line breaks turned to spaces), for quarantine's `_source_record`. */
  text: string;
  keys: string[];
  bytes: number;
}

/**
 * A record whose body was not parsed here (DecodeOptions.deferParse): one line of bytes from `{` to `}`, checked as
 * JSON and searched for its keys by DuckDB when the batch is written (batch-writer.ts), poison if it is not JSON.
 */
export interface UnparsedRecordEvent extends EventPosition {
  kind: 'unparsed';
  contract: TableContract;
  /** The body from its opening brace (leading blanks dropped). */
  raw: Buffer;
  /** The whole body, when blanks before its `{` were dropped from raw (quarantine keeps the body as received). */
  original?: Buffer;
  /** Whether the object has no members (`{}`), so the position field needs no comma after it. */
  empty: boolean;
  bytes: number;
}

export interface PoisonEvent extends EventPosition {
  kind: 'poison';
  /** The table application property as received (may be absent or unknown). */
  table: string | null;
  /** The body as text, whole. */
  body: string;
  bytes: number;
  reasons: string[];
}

export type DecodedEvent = RecordEvent | UnparsedRecordEvent | PoisonEvent;

export interface DecodeOptions {
  /** Bodies larger than this are quarantined (whole) as OVERSIZED (default 1 MiB, Event Hubs' largest event). */
  maxRecordBytes?: number;
  /**
   * Leave a one-line body that starts with `{` and ends with `}` unparsed (kind 'unparsed'): JSON.parse and the
   * object it builds were the largest per-event costs of the receiving thread (with the garbage collection they
   * cause); DuckDB checks such lines at commit time instead.
   */
  deferParse?: boolean;
}

const isBlank = (b: number) => b === 0x20 || b === 0x09;

/** Event Hubs' largest event (Standard and Premium: 1 MB): every event the service delivers is read as a record. */
export const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;

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
  if (options.deferParse && table !== null && event.body instanceof Uint8Array) {
    const fast = unparsed(pos, table, event.body, options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES);
    if (fast) return fast;
  }
  const { text, bytes } = bodyText(event.body);
  const max = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const poison = (reasons: string[], body = text): PoisonEvent => ({ kind: 'poison', ...pos, table, body, bytes, reasons });

  // Quarantine keeps the whole body: the original is never lost, only refused.
  if (bytes > max) return poison([`_RECORD:${REASON.OVERSIZED}`]);
  const contract = table === null ? undefined : contractFor(table);
  const parsed = parseObject(text);
  const reasons: string[] = [];
  if (!contract) reasons.push(`_RECORD:${REASON.UNKNOWN_TABLE}`);
  if (!parsed) reasons.push(`_RECORD:${REASON.NOT_JSON}`);
  if (reasons.length > 0) return poison(reasons);
  // A key named twice: readers disagree on which value counts, so loading one would drop the other silently; the
  // empty key cannot be a column (the NDJSON drop path quarantines such a line as MALFORMED too).
  if (badKey(text) !== undefined) return poison([`_RECORD:${REASON.MALFORMED}`]);
  // Whitespace newlines are the only ones valid JSON can hold unescaped: one line per record for NDJSON.
  const json = text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]+/g, ' ') : text;
  return { kind: 'record', ...pos, contract: contract!, json, text, keys: Object.keys(parsed!), bytes };
}

/** The JSON object `text` holds, or undefined when it is not JSON or not an object (NOT_JSON). */
export function parseObject(text: string): object | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : undefined;
}

/**
 * The first key the top level of a JSON object text names twice or empty (compared as decoded: `"a"` and `"\u0061"`
 * are one key, as DuckDB's json_keys sees them), or undefined. `text` must be valid JSON (parseObject passed): one
 * scan that skips strings and counts nesting; only top-level member names are decoded.
 */
export function badKey(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      for (;;) {
        j = text.indexOf('"', j);
        if (j < 0) return undefined;
        // An escaped quote has an odd number of backslashes before it.
        let b = j - 1;
        while (text.charCodeAt(b) === 0x5c) b--;
        if ((j - 1 - b) % 2 === 0) break;
        j++;
      }
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (key === '' || seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth === 1) expectKey = true;
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2c && depth === 1) expectKey = true;
  }
  return undefined;
}

/** The 'unparsed' form of a body, when it qualifies: known table, within the size limit, one line, `{...}`. */
function unparsed(pos: EventPosition, table: string, body: Uint8Array, max: number): UnparsedRecordEvent | undefined {
  const n = body.length;
  if (n > max || n < 2) return undefined;
  const contract = contractFor(table);
  if (!contract) return undefined;
  let start = 0;
  while (start < n && isBlank(body[start]!)) start++;
  let end = n - 1;
  while (end > start && isBlank(body[end]!)) end--;
  if (body[start] !== 0x7b || body[end] !== 0x7d || end === start) return undefined;
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, n);
  // A line of the spool holds one record; bodies with line breaks take the parsed path.
  if (buf.indexOf(0x0a, start) >= 0 || buf.indexOf(0x0d, start) >= 0) return undefined;
  let first = start + 1;
  while (first < end && isBlank(buf[first]!)) first++;
  return { kind: 'unparsed', ...pos, contract, raw: buf.subarray(start), ...(start > 0 ? { original: buf } : {}), empty: first === end, bytes: n };
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
