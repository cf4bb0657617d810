import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../http/api-keys.ts';
import { createFaroApp } from '../../ingest/faro/index.ts';
import { migrateToLatest } from '../../storage/index.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../chromium.ts';
import { tempDataDir } from '../harness.ts';
import { ROOT, type ServerProcess, startServerProcess } from '../processes.ts';
import { databaseEnv, openServerStorage } from '../server-database.ts';

// The real @grafana/faro-web-sdk, bundled for the browser, in Debian's Chromium driven by playwright-core,
// sending to a real Vigil process across origins (so CORS is real too).
const dataDir = tempDataDir();
let vigil: ServerProcess;
let pages: http.Server;
let pageOrigin: string;
let appKey: string;
let browser: Browser;

async function sdkBundle(): Promise<string> {
  const result = await build({
    stdin: {
      contents: "export * from '@grafana/faro-web-sdk';",
      resolveDir: ROOT,
      loader: 'js',
    },
    bundle: true,
    format: 'iife',
    globalName: 'FaroSdk',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

function pageHtml(collectUrl: string): string {
  return `<!doctype html><html><head><title>shop</title><script src="/faro.js"></script></head><body>
<h1>Product 42</h1>
<script>
  const faro = FaroSdk.initializeFaro({
    url: ${JSON.stringify(collectUrl)},
    app: { name: 'shop-web', version: '1.0.0', environment: 'test' },
    instrumentations: FaroSdk.getWebInstrumentations({ captureConsole: false }),
    batching: { sendTimeout: 100 },
  });
  faro.api.setUser({ id: 'u-browser', email: 'anna@example.com', fullName: 'Anna Kowalska' });
  faro.api.pushLog(['checkout started in the browser']);
  faro.api.pushMeasurement({ type: 'web-vitals', values: { lcp: 1234.5 } });
  faro.api.pushEvent('affiliate_link_click', { partner: 'p-77' });
  setTimeout(() => { throw new Error('uncaught boom in the browser'); }, 0);
  window.faroReady = true;
</script></body></html>`;
}

beforeAll(async () => {
  const bundle = await sdkBundle();
  let collectUrl = '';
  pages = http.createServer((req, res) => {
    if (req.url === '/faro.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    } else if (req.url?.startsWith('/products/42')) {
      res.writeHead(200, { 'content-type': 'text/html' }).end(pageHtml(collectUrl));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;

  const storage = await openServerStorage(dataDir);
  await migrateToLatest(storage.db);
  appKey = (
    await createFaroApp(
      storage.db,
      { name: 'shop-web', origins: [pageOrigin] },
      { name: 'e2e', role: 'operator' },
      new Date(),
    )
  ).key;
  const ingestKey = (
    await createApiKey(
      storage.db,
      { name: 'e2e-ingest', role: 'ingest' },
      { name: 'e2e', role: 'operator' },
      new Date(),
    )
  ).key;
  await storage.close();
  vigil = await startServerProcess({ VIGIL_DATA_DIR: dataDir, ...(await databaseEnv(dataDir)) });
  // The page's user has consented to analytics: without it the consent gate would drop the telemetry.
  const consent = await fetch(`${vigil.baseUrl}/v1/consents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      subjectId: 'u-browser',
      decisions: { analytics: 'granted' },
      policyVersion: 'v1',
      source: 'banner',
    }),
  });
  if (consent.status !== 201) throw new Error(`consent not recorded: ${consent.status}`);
  collectUrl = `${vigil.baseUrl}/collect/${appKey}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  vigil?.child.kill('SIGTERM');
  await vigil?.exited;
  await new Promise((resolve) => pages?.close(resolve));
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function storedKinds(): Promise<
  {
    kind: string;
    name: string | null;
    message: string | null;
    user_id: string | null;
    page_url: string | null;
  }[]
> {
  const storage = await openServerStorage(dataDir);
  try {
    return await storage.db
      .selectFrom('browser_telemetry')
      .select(['kind', 'name', 'message', 'user_id', 'page_url'])
      .orderBy('id')
      .execute();
  } finally {
    await storage.close();
  }
}

describe('the real Faro web SDK in headless Chromium', () => {
  it('sends a log, an uncaught error, a measurement and an event that Vigil stores and measures', async () => {
    const page = await browser.newPage();
    await page.goto(`${pageOrigin}/products/42?utm_source=instagram&email=anna@example.com`);
    await page.waitForFunction('window.faroReady === true');

    let rows = await storedKinds();
    for (
      let i = 0;
      i < 100 && !['log', 'exception', 'measurement', 'event'].every((k) => rows.some((r) => r.kind === k));
      i += 1
    ) {
      await new Promise((r) => setTimeout(r, 100));
      rows = await storedKinds();
    }
    await page.close();

    expect(
      rows.find((r) => r.kind === 'log' && r.message === 'checkout started in the browser'),
    ).toBeDefined();
    expect(
      rows.find((r) => r.kind === 'exception' && r.message?.includes('uncaught boom in the browser')),
    ).toBeDefined();
    expect(rows.find((r) => r.kind === 'measurement' && r.name === 'web-vitals')).toBeDefined();
    expect(rows.find((r) => r.kind === 'event' && r.name === 'affiliate_link_click')).toBeDefined();
    const withUser = rows.filter((r) => r.user_id === 'u-browser');
    expect(withUser.length).toBeGreaterThan(0);
    for (const r of rows) {
      if (r.page_url !== null) expect(r.page_url).toBe(`${pageOrigin}/products/42?utm_source=instagram`);
    }
    const dbText = JSON.stringify(rows);
    expect(dbText).not.toContain('anna@example.com');
    expect(dbText).not.toContain('Anna Kowalska');

    const metrics = await (await fetch(`${vigil.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /vigil_web_vitals_lcp_seconds_count\{app="shop-web",page="\/products\/:id"\} [1-9]/,
    );
    expect(metrics).toMatch(/vigil_browser_exceptions_total\{app="shop-web"\} [1-9]/);
  });
});
