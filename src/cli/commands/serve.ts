// `c360 serve`: the /customer/profile API over a snapshot of the warehouse (docs/serving.md). Runs until
// SIGTERM/SIGINT, then stops accepting and closes the snapshot.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { openLake } from '../../lake/index.ts';
import { UsageError } from '../../runtime/errors.ts';
import { entraVerifier, parseApiKeys } from '../../serving/auth.ts';
import { OPENAPI_FILE, openApiText } from '../../serving/openapi.ts';
import { startServer } from '../../serving/serve.ts';
import { HOME_OPTION, homeOf, int, str, type Command } from '../command.ts';

/**
 * The key of the hashes that stand for e-mail and phone ids in the audit log: C360_AUDIT_KEY (hex or text; in Azure a
 * secret), else HOME/audit/hash.key, made once (readable by its owner only) so hashes match across restarts.
 */
async function auditKey(home: string): Promise<Buffer> {
  const env = process.env.C360_AUDIT_KEY;
  if (env) return /^[0-9a-f]{32,}$/i.test(env) ? Buffer.from(env, 'hex') : Buffer.from(env, 'utf8');
  const file = join(home, 'audit', 'hash.key');
  const have = await readFile(file).catch(() => null);
  if (have && have.length >= 32) return have;
  const key = randomBytes(32);
  await mkdir(join(home, 'audit'), { recursive: true });
  await writeFile(file, key, { mode: 0o600, flag: 'wx' }).catch(async () => {
    const other = await readFile(file); // another server made it first
    key.set(other.subarray(0, 32));
  });
  return key;
}

function buildPriority(v: string): 'idle' | number {
  if (v === 'idle') return v;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 19) throw new UsageError(`--build-priority must be idle or a nice value 0..19, got '${v.slice(0, 20)}'`);
  return n;
}

export const command: Command = {
  name: 'serve',
  summary: 'The /customer/profile API (and /customers, /health, /openapi.json) over a snapshot of the warehouse or the lake',
  options: {
    ...HOME_OPTION,
    port: { type: 'string', description: 'TCP port (0: any free port)', default: '8081' },
    host: { type: 'string', description: 'Interface to listen on', default: '127.0.0.1' },
    'api-key': { type: 'string', multiple: true, description: 'KEY:ROLE[:NAME] with ROLE agent (sees PII) or analyst (masked); repeatable (also $C360_API_KEYS, comma separated)' },
    'entra-tenant': { type: 'string', description: 'Accept Entra ID access tokens of this tenant (default: $C360_ENTRA_TENANT_ID); roles claim agent or analyst' },
    'entra-audience': { type: 'string', description: "The API's application id URI or client id, the tokens' aud (default: $C360_ENTRA_AUDIENCE)" },
    'entra-jwks-url': { type: 'string', description: 'Signing key set URL (default: the tenant\'s; other clouds, tests)' },
    'entra-issuer': { type: 'string', description: "Issuer accepted (default: the tenant's v2 and v1 issuers)" },
    source: { type: 'string', description: 'warehouse (HOME/warehouse.duckdb) or lake (the latest Gold snapshot; what the Azure Container App uses)', default: 'warehouse' },
    warehouse: { type: 'string', description: 'Warehouse file (default HOME/warehouse.duckdb)' },
    'rate-limit': { type: 'string', description: 'Requests per second per caller (0: none)', default: '100' },
    burst: { type: 'string', description: 'Requests a caller may send at once above the rate (default: the rate)' },
    'audit-log': { type: 'string', description: "Audit log file, '-' for stdout (default HOME/audit/api.jsonl)" },
    poll: { type: 'string', description: 'Seconds between checks for a new snapshot (0: never)', default: '30' },
    'build-priority': { type: 'string', description: "CPU priority of a new snapshot's build while serving: idle (SCHED_IDLE via chrt: only CPU the requests leave) or a nice value 0..19", default: 'idle' },
    'log-requests': { type: 'boolean', description: 'Log every request (default: errors only)' },
    'dashboard-public': { type: 'boolean', description: 'Serve /dashboard/ without a key (default: the API key, sent by browsers as the Basic password)' },
    'write-openapi': { type: 'boolean', description: `Write ${OPENAPI_FILE} (the OpenAPI document) and exit` },
  },
  async run(values, _p, io) {
    if (values['write-openapi']) {
      const file = resolve(OPENAPI_FILE);
      await writeFile(file, openApiText());
      io.out(`wrote ${file}`);
      return 0;
    }
    const home = homeOf(values);
    const kind = str(values, 'source') ?? 'warehouse';
    if (kind !== 'warehouse' && kind !== 'lake') throw new UsageError(`--source must be warehouse or lake, got '${kind}'`);
    const apiKeys = parseApiKeys((values['api-key'] as string[] | undefined) ?? []);
    const tenantId = str(values, 'entra-tenant') ?? (process.env.C360_ENTRA_TENANT_ID || undefined);
    const audience = str(values, 'entra-audience') ?? (process.env.C360_ENTRA_AUDIENCE || undefined);
    const issuer = str(values, 'entra-issuer');
    const jwksUrl = str(values, 'entra-jwks-url');
    if ((tenantId || issuer || jwksUrl) && !audience) throw new UsageError('Entra ID needs --entra-audience (or C360_ENTRA_AUDIENCE): the API\'s application id URI or client id');
    const verifyToken = audience ? await entraVerifier({ tenantId, audience, issuer, jwksUrl }) : undefined;
    if (apiKeys.length === 0 && !verifyToken) throw new UsageError('No way to authenticate callers: give --api-key KEY:ROLE (or C360_API_KEYS) and/or --entra-tenant with --entra-audience');
    const perSecond = int(values, 'rate-limit', 100);
    const server = await startServer({
      lake: await openLake(home),
      source: kind === 'warehouse' ? { kind, path: resolve(str(values, 'warehouse') ?? join(home, 'warehouse.duckdb')) } : { kind },
      apiKeys,
      verifyToken,
      port: int(values, 'port', 8081),
      host: str(values, 'host') ?? '127.0.0.1',
      rateLimit: { perSecond, burst: int(values, 'burst', perSecond) },
      auditLog: str(values, 'audit-log') ?? join(home, 'audit', 'api.jsonl'),
      pollSeconds: int(values, 'poll', 30),
      buildPriority: buildPriority(str(values, 'build-priority') ?? 'idle'),
      snapshotDir: join(home, 'tmp', 'serve'),
      dashboardDir: join(home, 'dashboard'),
      dashboardAccess: values['dashboard-public'] === true ? 'public' : 'authenticated',
      auditKey: await auditKey(home),
      log: io.log,
      logRequests: values['log-requests'] === true,
    });
    io.log.info('profile API listening', { url: server.url, keys: apiKeys.length, entraId: !!verifyToken, source: kind });
    io.out(server.url);
    const loaded = await server.ready;
    if (!loaded) io.log.warn('no snapshot yet; answering 503 until one loads', { error: server.store.lastError });
    await new Promise<void>((done) => {
      process.once('SIGTERM', done);
      process.once('SIGINT', done);
    });
    io.log.info('stopping');
    await server.close();
    return 0;
  },
};
