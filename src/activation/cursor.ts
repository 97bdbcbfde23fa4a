// Where each destination is in the committed batches it delivers: the last batch delivered whole, and within the
// batch being delivered the ranges of records already acknowledged (or dead-lettered). Saved in the lake after every
// acknowledgement, so a crash resumes without re-sending what was acknowledged.
import type { Lake } from '../lake/lake.ts';
import { ACTIVATION_ROOT } from './paths.ts';

export interface Cursor {
  /** Last batch delivered whole (0: none). */
  batch: number;
  /** The batch in progress: half-open [start, end) ranges of its records (ordered by event id) that are done. */
  current?: { batch: number; done: [number, number][] };
  /** Topics: sequence numbers per partition before the in-flight send, to find what arrived after a crash. */
  pending?: { batch: number; range: [number, number]; sequences: Record<string, number> };
}

export const CURSOR_DIR = `${ACTIVATION_ROOT}/cursors`;

export function cursorPath(destination: string): string {
  return `${CURSOR_DIR}/${destination.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;
}

export async function readCursor(lake: Lake, destination: string): Promise<Cursor> {
  const p = cursorPath(destination);
  if (!(await lake.exists(p))) return { batch: 0 };
  return JSON.parse((await lake.read(p)).toString('utf8')) as Cursor;
}

export async function saveCursor(lake: Lake, destination: string, c: Cursor): Promise<void> {
  await lake.write(cursorPath(destination), JSON.stringify(c) + '\n');
}

/** Adds [s, e) to sorted, merged ranges. */
export function addRange(ranges: [number, number][], s: number, e: number): [number, number][] {
  const all = [...ranges, [s, e] as [number, number]].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const r of all) {
    const last = out.at(-1);
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** The parts of [s, e) not covered by the ranges. */
export function uncovered(ranges: readonly [number, number][], s: number, e: number): [number, number][] {
  const out: [number, number][] = [];
  let at = s;
  for (const [a, b] of ranges) {
    if (b <= at || a >= e) continue;
    if (a > at) out.push([at, Math.min(a, e)]);
    at = Math.max(at, b);
  }
  if (at < e) out.push([at, e]);
  return out;
}
