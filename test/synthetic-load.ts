// A short synthetic load on a running Vigil through its public API: what every user of it does once — the
// marketplace sends affiliates, clicks, sales, a refund, server logs and a payout request; a storefront sends
// Faro telemetry; a DPO records and withdraws consent and files a privacy request; an admin runs the detectors
// and the retention purge. After it, every metric family a dashboard or an alert reads has a series.
import fs from 'node:fs';
import path from 'node:path';
import type { Role } from '../http/roles.ts';
import { ROOT } from './processes.ts';

const FARO_PAYLOAD = path.join(ROOT, 'test/fixtures/faro-payload-sample.json');

export interface LoadTarget {
  baseUrl: string;
  /** A key of each role the load uses. */
  keys: Pick<Record<Role, string>, 'ingest' | 'dpo' | 'admin'>;
  /** A Faro app's key, and an origin the app allows. */
  faro: { appKey: string; origin: string };
}

async function send(target: LoadTarget, role: keyof LoadTarget['keys'], route: string, body?: unknown) {
  const res = await fetch(`${target.baseUrl}${route}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${target.keys[role]}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`POST ${route}: ${res.status} ${text.slice(0, 300)}`);
  return text;
}

/** Log entries of the last minutes: a checkout that answers, with a few errors, and a slow search. */
function logEntries(now: number, round: number) {
  return Array.from({ length: 40 }, (_, i) => ({
    ts: new Date(now - (40 - i) * 1000).toISOString(),
    level: i % 10 === 0 ? 'error' : 'info',
    service: 'shop',
    message: i % 2 === 0 ? 'GET /api/search' : 'POST /api/checkout',
    route: i % 2 === 0 ? '/api/search' : '/api/checkout',
    method: i % 2 === 0 ? 'GET' : 'POST',
    status: i % 10 === 0 ? 503 : 200,
    durationMs: i % 2 === 0 ? 900 + round : 120 + (i % 7),
  }));
}

/** Clicks and sales of two campaigns in the last two minutes, one sale refunded. */
function affiliateEvents(now: number, round: number) {
  const events: Record<string, unknown>[] = [];
  for (let i = 0; i < 30; i += 1) {
    const ts = new Date(now - 90_000 + i * 2000).toISOString();
    const id = `r${round}-c${i}`;
    events.push({
      id,
      type: 'click',
      ts,
      affiliateId: i % 3 === 0 ? 'aff-2' : 'aff-1',
      campaignId: i % 3 === 0 ? 'summer-drop' : 'bf-2026',
      clickId: id,
      ip: `198.51.100.${i + 1}`,
      userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)',
      referrer: i % 2 === 0 ? 'https://www.instagram.com/' : '',
      country: 'DE',
    });
    if (i % 5 === 0)
      events.push({
        id: `r${round}-o${i}`,
        type: 'conversion',
        ts: new Date(Date.parse(ts) + 60_000).toISOString(),
        affiliateId: i % 3 === 0 ? 'aff-2' : 'aff-1',
        clickId: id,
        orderId: `r${round}-order-${i}`,
        subjectId: `u-${i}`,
        amount: 59.9,
        currency: 'EUR',
        ip: `198.51.100.${i + 1}`,
        userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)',
        country: 'DE',
      });
  }
  events.push({
    id: `r${round}-refund`,
    type: 'refund',
    ts: new Date(now - 1000).toISOString(),
    orderId: `r${round}-order-0`,
    amount: 59.9,
    currency: 'EUR',
  });
  return events;
}

/** One round of the load; `round` keeps ids apart when it runs again. */
export async function syntheticLoad(target: LoadTarget, round = 0): Promise<void> {
  const now = Date.now();
  await send(target, 'ingest', '/v1/affiliates', {
    affiliates: [
      { id: 'aff-1', name: 'Jane Creator', couponCodes: ['JANE10'] },
      { id: 'aff-2', name: 'Max Creator', couponCodes: ['MAX15'] },
    ],
  });
  await send(target, 'ingest', '/v1/events', { events: affiliateEvents(now, round) });
  await send(target, 'ingest', '/v1/logs', logEntries(now, round));
  // A bad batch: refused whole, counted by reason.
  await fetch(`${target.baseUrl}/v1/logs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.keys.ingest}`, 'content-type': 'application/json' },
    body: JSON.stringify([{ level: 'loud' }]),
  });
  // The payload names its user: their consent to analytics is what keeps it.
  const payload = JSON.parse(fs.readFileSync(FARO_PAYLOAD, 'utf8')) as { meta: { user: { id: string } } };
  await send(target, 'dpo', '/v1/consents', {
    subjectId: payload.meta.user.id,
    decisions: { analytics: 'granted' },
    policyVersion: '2026-11',
    source: 'banner',
    method: 'save',
  });
  const faro = await fetch(`${target.baseUrl}/collect/${target.faro.appKey}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: target.faro.origin },
    body: JSON.stringify(payload),
  });
  if (faro.status >= 300) throw new Error(`Faro payload: ${faro.status} ${await faro.text()}`);
  const subject = `u-load-${round}`;
  await send(target, 'dpo', '/v1/consents', {
    subjectId: subject,
    decisions: { analytics: 'granted', marketing: 'granted' },
    policyVersion: '2026-11',
    source: 'banner',
    method: 'save',
  });
  await send(target, 'dpo', `/v1/subjects/${subject}/consents/withdraw`, { purposes: ['marketing'] });
  await send(target, 'dpo', '/v1/privacy-requests', { type: 'access', subjectId: subject });
  const period = {
    periodStart: new Date(now - 14 * 86_400_000).toISOString(),
    periodEnd: new Date(now + 60_000).toISOString(),
  };
  await send(target, 'admin', '/v1/detectors/fraud/run', { ...period, retrain: true });
  for (const affiliateId of ['aff-1', 'aff-2'])
    await send(target, 'ingest', '/v1/payouts', {
      id: `pay-${round}-${affiliateId}`,
      affiliateId,
      ...period,
      amount: 120.5,
      currency: 'EUR',
    });
  await send(target, 'admin', '/v1/detectors/traffic/run');
  await send(target, 'admin', '/v1/retention/run', { dryRun: false });
}
