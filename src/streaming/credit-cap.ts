// Bounds the AMQP link credit of Event Hubs partition receivers.
//
// @azure/event-hubs 6.0.x tops a partition receiver up on every receive call with `prefetchCount - queue length`
// credits (dist/esm/partitionReceiver.js, addCredits) without subtracting the credit still outstanding on the link.
// A consumer that keeps up with a hub (its queue short at each call) therefore accumulates roughly one batch of
// credit per call, and the first time it falls behind (a commit, a GC pause) the service may deliver all of that
// credit at once: the client's queue, and memory, then grow with the backlog. Measured here: a consumer that kept
// receiving while its batches committed ran out of a 256 MB heap under a 1M-event backlog, holding 44k events in the
// SDK's queue of one partition with a prefetch of 2,000.
//
// The cap applies to receivers that manage credit by hand (credit_window 0, as the SDK's partition receivers do);
// receivers with a credit window (the SDK's management links, the local hub's own links) keep rhea's behaviour.
import { createRequire } from 'node:module';

export interface RheaReceiver {
  credit: number;
  options?: { credit_window?: number };
  flow(credit: number): void;
  add_credit(credit: number): void;
}

/** rhea's receiver link prototype: the SDK and this module share one rhea (npm dedupes it); link.js holds the class. */
export function rheaReceiverPrototype(): RheaReceiver {
  return (createRequire(import.meta.url)('rhea/lib/link.js') as { Receiver: { prototype: RheaReceiver } }).Receiver.prototype;
}

let cap = 0;
let installed = false;

/**
 * From now on the outstanding credit of a manual-credit receiver link never exceeds `max` (process-wide; 0 turns
 * the cap off). The consumer sets it to its prefetch count.
 */
export function setReceiverCreditCap(max: number): void {
  if (!(max >= 0)) throw new RangeError(`credit cap must be >= 0, got ${max}`);
  cap = max;
  if (installed) return;
  installed = true;
  const receiver = rheaReceiverPrototype();
  const flow = receiver.flow;
  const capped = function (this: RheaReceiver, credit: number): void {
    if (cap > 0 && this.options?.credit_window === 0) credit = Math.min(credit, cap - this.credit);
    flow.call(this, credit);
  };
  receiver.flow = capped;
  receiver.add_credit = capped;
}

/** The cap in force (0: none). */
export const receiverCreditCap = (): number => cap;
