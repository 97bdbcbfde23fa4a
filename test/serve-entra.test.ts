// Entra ID access tokens on the profile API: tokens signed with a locally generated RSA key whose public half a
// local JWKS server publishes (as Entra's discovery/v2.0/keys does), validated with jose: the role from the roles
// claim decides masking; expired, wrongly addressed, wrongly issued, foreign-signed and tampered tokens are 401, a
// token without a role of this API 403, an unreachable key set 503. The server answers from the lake's snapshot.
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalLake } from '../src/lake/local-lake.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { entraVerifier } from '../src/serving/auth.ts';
import { startServer, type RunningServer } from '../src/serving/serve.ts';
import { AS_OF } from './fixtures/gold-scenario.ts';
import { writeServeScenario } from './fixtures/serve-scenario.ts';

const ISSUER = 'https://login.microsoftonline.test/0000-tenant/v2.0';
const AUDIENCE = 'api://c360-profile';
const KID = 'test-key-1';

let home: string;
let jwks: Server;
let jwksFetches = 0;
let server: RunningServer;
let key: CryptoKey;
let foreign: CryptoKey;

async function token(claims: JWTPayload, o: { key?: CryptoKey; kid?: string; iss?: string; aud?: string; exp?: string | number } = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: o.kid ?? KID, typ: 'JWT' })
    .setIssuer(o.iss ?? ISSUER)
    .setAudience(o.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(o.exp ?? '10m')
    .sign(o.key ?? key);
}

async function profile(bearer: string) {
  const res = await fetch(`${server.url}/customer/profile/c360:P1?fields=FIRST_NAME,EMAIL_ADDRESS`, { headers: { authorization: `Bearer ${bearer}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-entra-'));
  const lake = new LocalLake(join(home, 'lake'));
  await writeServeScenario(home, lake, [AS_OF]);
  const pair = await generateKeyPair('RS256');
  key = pair.privateKey;
  foreign = (await generateKeyPair('RS256')).privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  jwks = createServer((_req, res) => {
    jwksFetches++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  const port = (jwks.address() as { port: number }).port;
  server = await startServer({
    lake, source: { kind: 'lake' }, apiKeys: [],
    verifyToken: await entraVerifier({ audience: AUDIENCE, issuer: ISSUER, jwksUrl: `http://127.0.0.1:${port}/discovery/v2.0/keys` }),
    port: 0, host: '127.0.0.1', rateLimit: { perSecond: 0 }, auditLog: join(home, 'audit.jsonl'), pollSeconds: 0,
    snapshotDir: join(home, 'serve'), log: silentLogger,
  });
  expect(await server.ready).toBe(true);
});

afterAll(async () => {
  await server?.close();
  jwks?.close();
  await rm(home, { recursive: true, force: true });
});

describe('Entra ID tokens', () => {
  it('the roles claim decides what the caller sees: agent in clear, analyst masked; the audit names the user', async () => {
    const agent = await profile(await token({ roles: ['agent'], preferred_username: 'sam@contoso.test', oid: 'o-1' }));
    expect(agent).toEqual({ status: 200, body: expect.objectContaining({ CUSTOMER360_ID: 'P1', FIRST_NAME: 'Ann' }) });
    const analyst = await profile(await token({ roles: ['analyst'], azp: 'bi-app' }));
    expect(analyst.status).toBe(200);
    expect(analyst.body.FIRST_NAME).toBe('A***');
    expect(String(analyst.body.EMAIL_ADDRESS)).toMatch(/^\*{5}@/);
    expect(jwksFetches).toBe(1); // keys are cached by kid
    await new Promise((r) => setTimeout(r, 50));
    const audit = (await readFile(join(home, 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(audit.map((a) => [a.principal, a.role, a.via, a.customers])).toEqual([
      ['sam@contoso.test', 'agent', 'entra-id', ['P1']],
      ['bi-app', 'analyst', 'entra-id', ['P1']],
    ]);
  });

  it('expired, wrong audience, wrong issuer, foreign-signed, tampered and malformed tokens are 401', async () => {
    const good = await token({ roles: ['agent'] });
    const [h, p, s] = good.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), roles: ['agent'], sub: 'mallory' })).toString('base64url');
    const cases: [string, string, RegExp][] = [
      ['expired', await token({ roles: ['agent'] }, { exp: Math.floor(Date.now() / 1000) - 3600 }), /"exp"/],
      ['audience', await token({ roles: ['agent'] }, { aud: 'api://something-else' }), /"aud"/],
      ['issuer', await token({ roles: ['agent'] }, { iss: 'https://evil.test/v2.0' }), /"iss"/],
      ['foreign key, same kid', await token({ roles: ['agent'] }, { key: foreign }), /signature/],
      ['foreign key, unknown kid', await token({ roles: ['agent'] }, { key: foreign, kid: 'other' }), /no applicable key|matching/i],
      ['tampered payload', `${h}.${forged}.${s}`, /signature/],
      ['not a JWT', 'abc.def.ghi', /Invalid token/],
    ];
    for (const [what, t, message] of cases) {
      const r = await profile(t);
      expect([what, r.status, r.body.error]).toEqual([what, 401, 'invalid_token']);
      expect(String(r.body.message)).toMatch(message);
    }
  });

  it('a valid token without a role of this API is 403', async () => {
    const r = await profile(await token({ roles: ['Reader'], preferred_username: 'eve@contoso.test' }));
    expect([r.status, r.body.error]).toEqual([403, 'forbidden']);
  });

  it('an unreachable key set is 503 (retry), not 401', async () => {
    const verify = await entraVerifier({ audience: AUDIENCE, issuer: ISSUER, jwksUrl: 'http://127.0.0.1:9/keys' });
    await expect(verify(await token({ roles: ['agent'] }))).rejects.toMatchObject({ status: 503, code: 'auth_unavailable' });
  });
});
