// PLACEHOLDER owned by the sample-generator helper: replaced with the real generator.
import type { Logger } from '../runtime/logger.ts';

export interface SampleOptions {
  customers: number;
  days: number;
  seed: number;
  out: string;
  log?: Logger;
}

export const DEFAULT_SAMPLE = { customers: 2000, days: 120, seed: 42 };

export async function generateSample(_options: SampleOptions): Promise<void> {
  throw new Error('sample generator not built yet');
}
