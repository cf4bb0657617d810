import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES } from '../http/roles.ts';
import { createTestContext, type TestContext } from '../test/harness.ts';
import { PROTECTED_ROUTES, PUBLIC_ROUTES } from '../test/route-table.ts';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => {
  await ctx.close();
});

function send(route: (typeof PROTECTED_ROUTES)[number], headers: Record<string, string>) {
  const init: RequestInit = { method: route.method, headers: { ...headers } };
  if (route.body !== undefined) {
    init.body = JSON.stringify(route.body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  return ctx.app.request(route.path, init);
}

async function expectProblem(res: Response, status: number, type: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const body = (await res.json()) as { type: string; requestId: string };
  expect(body.type).toBe(`urn:vigil:problem:${type}`);
  expect(body.requestId).not.toBe('');
}

describe('every route the app serves is either protected or deliberately public', () => {
  it('has no route missing from the auth table', () => {
    const served = new Set(
      ctx.app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`),
    );
    const known = new Set([...PROTECTED_ROUTES.map((r) => `${r.method} ${r.template}`), ...PUBLIC_ROUTES]);
    expect([...served].filter((r) => !known.has(r))).toEqual([]);
    expect([...known].filter((r) => !served.has(r))).toEqual([]);
  });
});

describe.each(PROTECTED_ROUTES)('$method $template', (route) => {
  it('answers 401 without a key, with a Bearer challenge', async () => {
    const res = await send(route, {});
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await expectProblem(res, 401, 'unauthorized');
  });

  it.each([
    ['an unknown well-formed key', `vgl_000000000000_${'A'.repeat(43)}`],
    ['a key with a real id and a wrong secret', 'REAL_ID_WRONG_SECRET'],
    ['a malformed key', 'not-a-key'],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
  ])('answers 401 for %s', async (_label, token) => {
    let header = token.startsWith('Basic') ? token : `Bearer ${token}`;
    if (token === 'REAL_ID_WRONG_SECRET') header = `Bearer ${ctx.keys.admin.slice(0, -4)}AAAA`;
    await expectProblem(await send(route, { authorization: header }), 401, 'unauthorized');
  });

  it('answers 401 for a revoked key', async () => {
    await expectProblem(
      await send(route, { authorization: `Bearer ${ctx.revokedKey}` }),
      401,
      'unauthorized',
    );
  });

  const wrongRoles = ROLES.filter((role) => !route.roles.includes(role));
  it.each(wrongRoles)('answers 403 to the %s role', async (role) => {
    await expectProblem(await send(route, ctx.auth(role)), 403, 'forbidden');
  });

  it.each(route.roles)('lets the %s role through', async (role) => {
    const res = await send(route, ctx.auth(role));
    expect([401, 403]).not.toContain(res.status);
    expect(res.status).toBeLessThan(500);
  });
});
