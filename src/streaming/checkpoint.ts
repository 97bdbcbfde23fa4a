// Where a partition's progress lives: in the lake, beside the data it describes, so data and position can never
// disagree in a way that loses records (see docs/streaming.md, "Commit protocol").
import { joinLake, type Lake } from '../lake/lake.ts';

export interface Checkpoint {
  hub: string;
  consumerGroup: string;
  partitionId: string;
  /** Last sequence number whose record is committed to Bronze/quarantine. */
  sequenceNumber: number;
  offset: string;
  enqueuedTime: string;
  committedAt: string;
  loadId: string;
  /** Files the last batch committed (for lineage; recovery does not need them). */
  files: string[];
}

export function safeSegment(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^\.+/, '_').slice(0, 80);
}

export function checkpointPath(hub: string, consumerGroup: string, partitionId: string): string {
  return joinLake('_checkpoints/eventhubs', safeSegment(hub), safeSegment(consumerGroup), `partition-${safeSegment(partitionId)}.json`);
}

export async function readCheckpoint(lake: Lake, hub: string, consumerGroup: string, partitionId: string): Promise<Checkpoint | undefined> {
  const path = checkpointPath(hub, consumerGroup, partitionId);
  if (!(await lake.exists(path))) return undefined;
  const cp = JSON.parse((await lake.read(path)).toString('utf8')) as Checkpoint;
  if (!Number.isInteger(cp.sequenceNumber)) throw new Error(`Checkpoint ${path} has no valid sequenceNumber`);
  return cp;
}

/** Written after the batch's data files are committed; lake.write replaces it atomically. */
export async function writeCheckpoint(lake: Lake, cp: Checkpoint): Promise<void> {
  await lake.write(checkpointPath(cp.hub, cp.consumerGroup, cp.partitionId), JSON.stringify(cp, null, 2));
}
