// Webhook delivery of one batch of records: HTTP POST of signed JSON batches, retried with exponential backoff on
// server errors, timeouts and refused connections; a batch the receiver rejects (4xx other than 408/429) is split in
// halves until the rejected record is alone, which goes to the dead-letter dataset. Progress is saved after every
// acknowledgement (cursor.ts), so a crash resumes where it stopped.
import { createHmac } from 'node:crypto';
import { TransientError } from '../runtime/errors.ts';
import { addRange, uncovered } from './cursor.ts';

export const SIGNATURE_HEADER = 'X-C360-Signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the receiver recomputes it and rejects stale timestamps. */
export function signBody(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')}`;
}

/** Checks a signature header (for receivers; the tests' receiver uses it). */
export function verifySignature(secret: string, body: string, header: string | undefined, nowSeconds: number, toleranceSeconds = 300): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m || Math.abs(nowSeconds - Number(m[1])) > toleranceSeconds) return false;
  return signBody(secret, body, Number(m[1])) === header;
}

export interface WebhookTarget {
  id: string;
  url: string;
  secret: string;
  batchSize: number;
  timeoutMs: number;
  maxAttempts: number;
  /** First retry delay; doubles per attempt (capped at 30 s). */
  backoffMs: number;
}

export interface DeadLetter {
  index: number;
  status: number;
  reason: string;
}

export interface WebhookProgress {
  done: [number, number][];
  /** Called after every acknowledged or dead-lettered range with the new done ranges (persist them). */
  save(done: [number, number][]): Promise<void>;
  /** Persist a rejected record before it is marked done. */
  deadLetter(d: DeadLetter): Promise<void>;
}

export interface WebhookStats {
  posts: number;
  retries: number;
  splits: number;
  delivered: number;
  deadLettered: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Outcome = { ok: true } | { ok: false; rejected: true; status: number; reason: string };

async function postOnce(t: WebhookTarget, body: string, batchId: string): Promise<{ status: number; text: string; retryAfter?: number }> {
  const now = Math.floor(Date.now() / 1000);
  const res = await fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signBody(t.secret, body, now), 'X-C360-Batch-Id': batchId, 'Idempotency-Key': batchId },
    body,
    signal: AbortSignal.timeout(t.timeoutMs),
  });
  const text = await res.text().catch(() => '');
  const ra = Number(res.headers.get('retry-after'));
  return { status: res.status, text, ...(Number.isFinite(ra) && ra > 0 ? { retryAfter: ra * 1000 } : {}) };
}

async function post(t: WebhookTarget, body: string, batchId: string, stats: WebhookStats): Promise<Outcome> {
  let last = '';
  for (let attempt = 1; attempt <= t.maxAttempts; attempt++) {
    let wait = Math.min(t.backoffMs * 2 ** (attempt - 1), 30_000);
    try {
      stats.posts++;
      const r = await postOnce(t, body, batchId);
      if (r.status >= 200 && r.status < 300) return { ok: true };
      if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
        return { ok: false, rejected: true, status: r.status, reason: r.text.slice(0, 500) };
      }
      last = `HTTP ${r.status} ${r.text.slice(0, 200)}`;
      if (r.retryAfter) wait = Math.min(Math.max(wait, r.retryAfter), 30_000);
    } catch (e) {
      last = (e as Error).name === 'TimeoutError' ? `no answer within ${t.timeoutMs} ms` : `${(e as Error).message}${(e as { cause?: Error }).cause ? `: ${(e as { cause: Error }).cause.message}` : ''}`;
    }
    if (attempt < t.maxAttempts) {
      stats.retries++;
      await sleep(wait);
    }
  }
  throw new TransientError(`webhook ${t.id} (${t.url}): no success after ${t.maxAttempts} attempts; last: ${last}. Delivered records are saved; the next run resumes`);
}

/**
 * Delivers records [0, count) of one batch. `body(start, end)` renders the JSON body of a range (records ordered
 * deterministically). Throws a TransientError when the receiver keeps failing (progress is kept).
 */
export async function deliverWebhookBatch(
  t: WebhookTarget,
  count: number,
  body: (start: number, end: number) => Promise<string>,
  batchIdOf: (start: number, end: number) => string,
  progress: WebhookProgress,
): Promise<WebhookStats> {
  const stats: WebhookStats = { posts: 0, retries: 0, splits: 0, delivered: 0, deadLettered: 0 };
  let done = progress.done;
  const stack: [number, number][] = [];
  for (let s = Math.floor(count / t.batchSize) * t.batchSize; s >= 0; s -= t.batchSize) if (s < count) stack.push([s, Math.min(s + t.batchSize, count)]);
  while (stack.length) {
    const [s, e] = stack.pop()!;
    const todo = uncovered(done, s, e);
    if (todo.length !== 1 || todo[0]![0] !== s || todo[0]![1] !== e) {
      // Partly done before a crash: send only what is left.
      for (const r of todo.reverse()) stack.push(r);
      continue;
    }
    const out = await post(t, await body(s, e), batchIdOf(s, e), stats);
    if (out.ok) {
      done = addRange(done, s, e);
      stats.delivered += e - s;
      await progress.save(done);
    } else if (e - s === 1) {
      await progress.deadLetter({ index: s, status: out.status, reason: out.reason });
      done = addRange(done, s, e);
      stats.deadLettered++;
      await progress.save(done);
    } else {
      const mid = s + Math.ceil((e - s) / 2);
      stats.splits++;
      stack.push([mid, e], [s, mid]);
    }
  }
  return stats;
}
