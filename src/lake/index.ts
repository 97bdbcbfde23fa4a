import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../runtime/errors.ts';
import type { Lake } from './lake.ts';
import { LocalLake } from './local-lake.ts';

export * from './lake.ts';
export { LocalLake } from './local-lake.ts';

/** The local lake `spec` names (as openLake), or undefined for an ADLS lake: opened without touching the network. */
export function localLakeOf(home: string, spec = process.env.C360_LAKE_URL): LocalLake | undefined {
  if (!spec) return new LocalLake(resolve(home, 'lake'));
  if (spec.startsWith('file://')) return new LocalLake(fileURLToPath(spec));
  if (/^(https?|abfss):\/\//.test(spec)) return undefined;
  return new LocalLake(resolve(spec));
}

/**
 * Opens the lake named by `spec` (a flag or C360_LAKE_URL): a folder path or file:// URL for a local lake,
 * an https://<account>.dfs|blob.core.windows.net/<container> or abfss:// URL for ADLS Gen2. Default: HOME/lake.
 */
export async function openLake(home: string, spec = process.env.C360_LAKE_URL): Promise<Lake> {
  const local = localLakeOf(home, spec);
  if (local) return local;
  const adlsModule = './adls-lake.ts';
  const mod = (await import(adlsModule).catch((e) => {
    throw new UsageError(`The ADLS lake is not available in this build (${(e as Error).message}); use a local lake folder.`);
  })) as { openAdlsLake(spec: string, home: string): Promise<Lake> };
  return mod.openAdlsLake(spec!, home);
}
