// Audience definitions as files (audiences/*.yaml, *.yml or *.json): read, checked against the audience columns and
// turned into Audience values. Every error names the file, line and column of what is wrong.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node as YamlNode, type YAMLMap } from 'yaml';
import { CONSENT_CHANNELS } from '../privacy/consent.ts';
import { UsageError } from '../runtime/errors.ts';
import { customerProfile } from '../gold/customer-profile.ts';
import { AUDIENCE_COLUMNS } from './audience-columns.ts';
import { UNTRACKED_COLUMNS } from './profile-changes.ts';
import { closest, compileFilter, FilterError, type CompiledFilter } from './filter.ts';

/** Columns a changed() trigger can watch: the profile's, as the change feed compares them. */
const PROFILE_COLUMNS = new Set(customerProfile.columns.map((c) => c.name));

export const CADENCES = ['every-run', 'daily', 'weekly', 'monthly'] as const;
export type Cadence = (typeof CADENCES)[number];
export const PURPOSES = ['marketing', 'service'] as const;
export type Purpose = (typeof PURPOSES)[number];
export type ConsentName = Lowercase<(typeof CONSENT_CHANNELS)[number]>;
export const CONSENT_NAMES = CONSENT_CHANNELS.map((c) => c.toLowerCase() as ConsentName);

interface DestinationBase {
  /** Unique within the audience: '<type>' or the name given. */
  name: string;
  purpose: Purpose;
  /** Required for marketing: only members with CONSENT_<channel> = TRUE are sent (fail closed). */
  consent?: ConsentName;
}
export interface WebhookDestination extends DestinationBase {
  type: 'webhook';
  url: string;
  /** Name of the environment variable holding the HMAC key. */
  secretEnv: string;
  batchSize: number;
  timeoutMs: number;
  maxAttempts: number;
}
export interface FileDestination extends DestinationBase {
  type: 'file';
  format: 'csv' | 'parquet';
}
export interface TopicDestination extends DestinationBase {
  type: 'topic';
}
export type Destination = WebhookDestination | FileDestination | TopicDestination;

/**
 * A next-best-action trigger: fires action.triggered for a member when they enter the audience ('entered': the
 * profile crossed into the filter's state, e.g. churn risk above a level) or when one of the columns changed in the
 * profile change feed of the day ('changed': e.g. a tier). At most once per member, action and day.
 */
export interface Trigger {
  action: string;
  on: 'entered' | 'changed';
  /** changed: the profile columns watched. */
  columns: string[];
}

export interface Audience {
  name: string;
  description: string;
  filter: string;
  compiled: CompiledFilter;
  cadence: Cadence;
  /** Columns sent with each member to destinations (CUSTOMER360_ID always). */
  attributes: string[];
  destinations: Destination[];
  triggers: Trigger[];
  /** File it was read from (relative to the audiences folder's parent when possible). */
  file: string;
}

export class AudienceFileError extends UsageError {
  constructor(readonly file: string, readonly line: number, readonly column: number, readonly reason: string) {
    super(`${file}:${line}:${column}: ${reason}`);
    this.name = 'AudienceFileError';
  }
}

const TOP_KEYS = ['name', 'description', 'filter', 'cadence', 'attributes', 'destinations', 'triggers'];
const TRIGGER_KEYS = ['action', 'on'];
const DEST_KEYS: Record<Destination['type'], string[]> = {
  webhook: ['type', 'name', 'purpose', 'consent', 'url', 'secret', 'batchSize', 'timeoutMs', 'maxAttempts'],
  file: ['type', 'name', 'purpose', 'consent', 'format'],
  topic: ['type', 'name', 'purpose', 'consent'],
};

/**
 * Maps an offset inside a scalar's value to its offset in the file by aligning the value's characters with the source
 * (quotes, block indicators and indentation are skipped; whitespace matches any whitespace, as folding changes it).
 */
function valueOffsetToSource(source: string, start: number, end: number, value: string, offset: number): number {
  let j = start;
  if (source[j] === '"' || source[j] === "'") j++;
  else if (source[j] === '|' || source[j] === '>') j = source.indexOf('\n', j) + 1 || end;
  let pos = j;
  for (let k = 0; k <= Math.min(offset, value.length - 1); k++) {
    const ws = /\s/.test(value[k]!);
    while (j < end && !(ws ? /\s/.test(source[j]!) : source[j] === value[k])) j++;
    pos = j;
    j++;
  }
  return offset >= value.length ? Math.min(j, end) : pos;
}

export function parseAudience(text: string, file: string): Audience {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number, reason: string): AudienceFileError => {
    const { line, col } = lc.linePos(offset);
    return new AudienceFileError(file, line, col, reason);
  };
  const atNode = (n: YamlNode | null | undefined, reason: string, fallback = 0) => at(n?.range?.[0] ?? fallback, reason);
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw at(e.pos[0], `not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const root = doc.contents;
  if (!isMap(root)) throw atNode(root, 'an audience is a mapping with name, filter and destinations');

  const keysOf = (m: YAMLMap, allowed: readonly string[], where: string) => {
    const out = new Map<string, { key: YamlNode; value: YamlNode | null }>();
    for (const pair of m.items) {
      const key = pair.key as YamlNode;
      const k = isScalar(key) ? String(key.value) : '';
      if (!allowed.includes(k)) {
        const near = closest(k, allowed);
        throw atNode(key, `unknown key '${k}' in ${where}${near ? ` (did you mean '${near}'?)` : ''}; allowed: ${allowed.join(', ')}`);
      }
      out.set(k, { key, value: (pair.value as YamlNode | null) ?? null });
    }
    return out;
  };
  const str = (entry: { key: YamlNode; value: YamlNode | null } | undefined, what: string): string | undefined => {
    if (!entry) return undefined;
    const v = entry.value;
    if (!isScalar(v) || typeof v.value !== 'string' || v.value.trim() === '') throw atNode(v ?? entry.key, `${what} must be non-empty text`);
    return v.value;
  };
  const num = (entry: { key: YamlNode; value: YamlNode | null } | undefined, what: string, min: number, max: number, dflt: number): number => {
    if (!entry) return dflt;
    const v = entry.value;
    if (!isScalar(v) || typeof v.value !== 'number' || !Number.isInteger(v.value) || v.value < min || v.value > max) {
      throw atNode(v ?? entry.key, `${what} must be a whole number from ${min} to ${max}`);
    }
    return v.value;
  };
  const oneOf = <T extends string>(entry: { key: YamlNode; value: YamlNode | null } | undefined, what: string, allowed: readonly T[], dflt?: T): T | undefined => {
    const s = str(entry, what);
    if (s === undefined) return dflt;
    if (!allowed.includes(s as T)) throw atNode(entry!.value, `${what} must be one of ${allowed.join(', ')}; got '${s}'`);
    return s as T;
  };

  const top = keysOf(root, TOP_KEYS, 'the audience');
  const name = str(top.get('name'), 'name');
  if (!name) throw at(0, 'name is required');
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(name)) throw atNode(top.get('name')!.value, `name '${name}' must be lower-case letters, digits, '-' or '_' (at most 63)`);
  const filterEntry = top.get('filter');
  const filter = str(filterEntry, 'filter');
  if (filter === undefined) throw at(0, 'filter is required');
  let compiled: CompiledFilter;
  try {
    compiled = compileFilter(filter, AUDIENCE_COLUMNS);
  } catch (e) {
    if (!(e instanceof FilterError)) throw e;
    const node = filterEntry!.value!;
    const [start, end] = node.range!;
    throw at(valueOffsetToSource(text, start, end, filter, e.offset), `filter: ${e.message}`);
  }
  const cadence = oneOf(top.get('cadence'), 'cadence', CADENCES, 'every-run')!;

  const attributes: string[] = [];
  const attrEntry = top.get('attributes');
  if (attrEntry) {
    if (!isSeq(attrEntry.value)) throw atNode(attrEntry.value ?? attrEntry.key, 'attributes is a list of column names');
    for (const item of attrEntry.value.items as YamlNode[]) {
      const col = isScalar(item) && typeof item.value === 'string' ? item.value.toUpperCase() : undefined;
      if (!col || !AUDIENCE_COLUMNS.has(col)) {
        const near = col ? closest(col, [...AUDIENCE_COLUMNS.keys()]) : undefined;
        throw atNode(item, `attributes: unknown column ${isScalar(item) ? String(item.value) : ''}${near ? ` (did you mean ${near}?)` : ''}`);
      }
      if (!attributes.includes(col) && col !== 'CUSTOMER360_ID') attributes.push(col);
    }
  }

  const destinations: Destination[] = [];
  const destEntry = top.get('destinations');
  if (destEntry) {
    if (!isSeq(destEntry.value)) throw atNode(destEntry.value ?? destEntry.key, 'destinations is a list');
    for (const item of destEntry.value.items as YamlNode[]) {
      if (!isMap(item)) throw atNode(item, 'a destination is a mapping with a type (webhook, file or topic)');
      const typeNode = item.items.find((p) => isScalar(p.key) && p.key.value === 'type');
      const type = typeNode && isScalar(typeNode.value) ? String(typeNode.value.value) : undefined;
      if (!type || !(type in DEST_KEYS)) throw atNode((typeNode?.value as YamlNode) ?? item, `destination type must be one of ${Object.keys(DEST_KEYS).join(', ')}${type ? `; got '${type}'` : ''}`);
      const d = keysOf(item, DEST_KEYS[type as Destination['type']], `a ${type} destination`);
      const purpose = oneOf(d.get('purpose'), 'purpose', PURPOSES, 'marketing')!;
      const consent = oneOf(d.get('consent'), 'consent', CONSENT_NAMES);
      if (purpose === 'marketing' && !consent) {
        throw atNode(item, `a marketing destination needs 'consent: <${CONSENT_NAMES.join('|')}>': only members with that consent are sent (or 'purpose: service' for non-marketing use)`);
      }
      const base = { name: str(d.get('name'), 'destination name') ?? type, purpose, ...(consent ? { consent } : {}) };
      if (destinations.some((x) => x.name === base.name)) throw atNode(item, `two destinations are named '${base.name}': give each a distinct 'name'`);
      if (type === 'webhook') {
        const url = str(d.get('url'), 'url');
        if (!url) throw atNode(item, 'a webhook destination needs a url');
        if (!/^https?:\/\/[^\s/]+/.test(url)) throw atNode(d.get('url')!.value, `url must be an http(s) URL; got '${url}'`);
        const secret = str(d.get('secret'), 'secret');
        if (!secret || !/^env:[A-Z_][A-Z0-9_]*$/.test(secret)) {
          throw atNode(d.get('secret')?.value ?? item, "a webhook needs 'secret: env:VARIABLE', the environment variable holding its HMAC key (never the key itself)");
        }
        destinations.push({
          ...base, type, url, secretEnv: secret.slice(4),
          batchSize: num(d.get('batchSize'), 'batchSize', 1, 10_000, 500),
          timeoutMs: num(d.get('timeoutMs'), 'timeoutMs', 100, 300_000, 10_000),
          maxAttempts: num(d.get('maxAttempts'), 'maxAttempts', 1, 20, 6),
        });
      } else if (type === 'file') {
        destinations.push({ ...base, type, format: oneOf(d.get('format'), 'format', ['csv', 'parquet'] as const, 'csv')! });
      } else {
        destinations.push({ ...base, type: 'topic' });
      }
    }
  }
  const triggers: Trigger[] = [];
  const trigEntry = top.get('triggers');
  if (trigEntry) {
    if (!isSeq(trigEntry.value)) throw atNode(trigEntry.value ?? trigEntry.key, 'triggers is a list of {action, on}');
    for (const item of trigEntry.value.items as YamlNode[]) {
      if (!isMap(item)) throw atNode(item, "a trigger is a mapping: action: <name>, on: entered | changed(COLUMN, ...)");
      const t = keysOf(item, TRIGGER_KEYS, 'a trigger');
      const action = str(t.get('action'), 'action');
      if (!action) throw atNode(item, 'a trigger needs an action name');
      if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(action)) throw atNode(t.get('action')!.value, `action '${action}' must be lower-case letters, digits, '-' or '_' (at most 63)`);
      if (triggers.some((x) => x.action === action)) throw atNode(t.get('action')!.value, `two triggers are named '${action}'`);
      const on = str(t.get('on'), 'on');
      if (!on) throw atNode(item, "a trigger needs 'on: entered' or 'on: changed(COLUMN, ...)'");
      const onNode = t.get('on')!.value!;
      const m = /^\s*changed\s*\(([^)]*)\)\s*$/i.exec(on);
      if (on.trim() === 'entered') {
        triggers.push({ action, on: 'entered', columns: [] });
      } else if (m) {
        const cols = m[1]!.split(',').map((c) => c.trim().toUpperCase()).filter(Boolean);
        if (!cols.length) throw atNode(onNode, 'changed(...) names at least one profile column');
        for (const c of cols) {
          if (!PROFILE_COLUMNS.has(c) || UNTRACKED_COLUMNS.has(c)) {
            const near = closest(c, [...PROFILE_COLUMNS].filter((x) => !UNTRACKED_COLUMNS.has(x)));
            throw at(valueOffsetToSource(text, onNode.range![0], onNode.range![1], on, on.toUpperCase().indexOf(c)), `on: changed(): ${c} is not a tracked profile column${near ? ` (did you mean ${near}?)` : ''}`);
          }
        }
        triggers.push({ action, on: 'changed', columns: cols });
      } else {
        throw atNode(onNode, `on must be 'entered' or 'changed(COLUMN, ...)'; got '${on}'`);
      }
    }
  }
  return { name, description: str(top.get('description'), 'description') ?? '', filter, compiled, cadence, attributes, destinations, triggers, file };
}

/**
 * Every audience in a folder (*.yaml, *.yml, *.json), sorted by name; names must be unique. No folder: undefined,
 * which is not the same as an empty folder (a folder whose files were removed makes their members exit).
 */
export async function loadAudiences(dir: string): Promise<Audience[] | undefined> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const out: Audience[] = [];
  for (const f of files) {
    const full = join(dir, f);
    const shown = relative(process.cwd(), full).startsWith('..') ? full : relative(process.cwd(), full);
    const a = parseAudience(await readFile(full, 'utf8'), shown);
    const dup = out.find((x) => x.name === a.name);
    if (dup) throw new UsageError(`${shown}: audience name '${a.name}' is also used by ${dup.file}`);
    out.push(a);
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
