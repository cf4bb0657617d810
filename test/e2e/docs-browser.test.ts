import fs from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS } from '../chromium.ts';
import { tempDataDir } from '../harness.ts';
import { type ServerProcess, startServerProcess } from '../processes.ts';
import { databaseEnv } from '../server-database.ts';

const dataDir = tempDataDir();
let vigil: ServerProcess;
let browser: Browser;

beforeAll(async () => {
  vigil = await startServerProcess({ VIGIL_DATA_DIR: dataDir, ...(await databaseEnv(dataDir)) });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  vigil?.child.kill('SIGTERM');
  await vigil?.exited;
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('/docs in headless Chromium, every other origin blocked (end to end)', () => {
  it('loads the API reference from Vigil alone and lists its operations', async () => {
    const page = await browser.newPage();
    const elsewhere: string[] = [];
    const refused: string[] = [];
    // Anything the page asks of another origin is blocked and noted: the reference must not need it.
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(vigil.baseUrl) || url.startsWith('data:')) return route.continue();
      elsewhere.push(url);
      return route.abort();
    });
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/.test(message.text())) refused.push(message.text());
    });
    const response = await page.goto(`${vigil.baseUrl}/docs`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self'/);
    await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 });
    const paths = await page.$$eval('.opblock-summary-path', (nodes) =>
      nodes.map((n) => n.textContent ?? ''),
    );
    expect(paths.some((p) => p.includes('/v1/events'))).toBe(true);
    expect(paths.some((p) => p.includes('/v1/privacy-requests'))).toBe(true);
    expect(await page.title()).toBe('Vigil API');
    expect(elsewhere).toEqual([]);
    expect(refused).toEqual([]);
    await page.close();
  }, 60_000);
});
