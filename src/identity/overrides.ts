// Manual overrides, applied on every run: never-match and always-match pairs of source records, and extra
// placeholder values to block. CSV with a header:
//   KIND,TENANT_ID,SOURCE_SYSTEM_L,CUSTOMER_ID_L,SOURCE_SYSTEM_R,CUSTOMER_ID_R,VALUE
// KIND is never_match | always_match | block (VALUE only). TENANT_ID and SOURCE_SYSTEM_* may be empty
// (default tenant, source system DEFAULT).
import { UsageError } from '../runtime/errors.ts';
import type { RecordKey } from './ids.ts';

export interface Overrides {
  never: [RecordKey, RecordKey][];
  always: [RecordKey, RecordKey][];
  block: string[];
}

export const EMPTY_OVERRIDES: Overrides = { never: [], always: [], block: [] };

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') out.push(cur), (cur = '');
    else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

export function parseOverrides(text: string, source = 'overrides file', defaultTenant = 'default'): Overrides {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (lines.length === 0) return { never: [], always: [], block: [] };
  const header = splitCsvLine(lines[0]!).map((h) => h.toUpperCase());
  const idx = (name: string) => header.indexOf(name);
  for (const required of ['KIND']) {
    if (idx(required) < 0) throw new UsageError(`${source}: missing column ${required} (header: KIND,TENANT_ID,SOURCE_SYSTEM_L,CUSTOMER_ID_L,SOURCE_SYSTEM_R,CUSTOMER_ID_R,VALUE)`);
  }
  const out: Overrides = { never: [], always: [], block: [] };
  lines.slice(1).forEach((line, n) => {
    const f = splitCsvLine(line);
    const get = (name: string) => (idx(name) >= 0 ? f[idx(name)] ?? '' : '');
    const kind = get('KIND').toLowerCase();
    const tenant = get('TENANT_ID') || defaultTenant;
    if (kind === 'block') {
      if (!get('VALUE')) throw new UsageError(`${source} line ${n + 2}: KIND=block needs a VALUE`);
      out.block.push(get('VALUE'));
      return;
    }
    if (kind !== 'never_match' && kind !== 'always_match') {
      throw new UsageError(`${source} line ${n + 2}: KIND must be never_match, always_match or block, got '${get('KIND')}'`);
    }
    const l = { tenant, source: get('SOURCE_SYSTEM_L') || 'DEFAULT', customerId: get('CUSTOMER_ID_L') };
    const r = { tenant, source: get('SOURCE_SYSTEM_R') || 'DEFAULT', customerId: get('CUSTOMER_ID_R') };
    if (!l.customerId || !r.customerId) throw new UsageError(`${source} line ${n + 2}: ${kind} needs CUSTOMER_ID_L and CUSTOMER_ID_R`);
    (kind === 'never_match' ? out.never : out.always).push([l, r]);
  });
  return out;
}
