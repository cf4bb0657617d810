import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Hono } from 'hono';
import type { AppEnv } from '../../http/context.ts';
import { ProblemError } from '../../http/problem.ts';

/**
 * The API reference: swagger-ui from the `swagger-ui-dist` package (pinned by the lockfile), served by Vigil
 * itself, so `/docs` works offline and loads nothing from another origin. Its own script starts it: the page's
 * CSP allows scripts from Vigil's origin only, never inline ones. swagger-ui sets inline styles, hence
 * `style-src 'unsafe-inline'`; its images are data URIs.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vigil API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/start.js"></script>
</body>
</html>
`;

const START = `window.addEventListener('load', () => {
  window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });
});
`;

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

/** The assets the page loads, read once from the package. */
function loadAssets(): Map<string, { body: string; type: string }> {
  const dist = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const assets = new Map<string, { body: string; type: string }>();
  for (const name of ['swagger-ui.css', 'swagger-ui-bundle.js']) {
    assets.set(name, {
      body: fs.readFileSync(path.join(dist, name), 'utf8'),
      type: TYPES[path.extname(name)] ?? '',
    });
  }
  assets.set('start.js', { body: START, type: TYPES['.js'] ?? '' });
  return assets;
}

/** `GET /docs` and its assets (no key). */
export function docsRoutes() {
  let assets: ReturnType<typeof loadAssets> | undefined;
  return new Hono<AppEnv>()
    .get('/', (c) => c.html(PAGE, 200, { 'content-security-policy': CSP }))
    .get('/assets/:name', (c) => {
      assets ??= loadAssets();
      const asset = assets.get(c.req.param('name'));
      if (!asset) throw new ProblemError('not-found', 'no such asset of the API reference');
      return c.body(asset.body, 200, {
        'content-type': asset.type,
        'content-security-policy': CSP,
        // The package version is pinned: an hour's cache spares reloading 1.5 MB on every visit.
        'cache-control': 'public, max-age=3600',
      });
    });
}
