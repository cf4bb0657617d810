// The OpenSearch sink's shared calls (search-sink-suite.ts) on a real cluster, when OPENSEARCH_URL names one
// (`http://127.0.0.1:9200`, or with credentials `https://user:password@host:9200`; a self-signed certificate
// needs NODE_EXTRA_CA_CERTS). Every test writes under a prefix of its own, removed after: indices, templates
// and retention policies. Skipped, saying why, when the variable is not set. The cluster needs the Index State
// Management plugin (part of the default distribution).
import { describe } from 'vitest';
import { searchSinkSuite } from './search-sink-suite.ts';

const NODE = process.env.OPENSEARCH_URL;
if (NODE === undefined) console.warn('OpenSearch cluster tests skipped: OPENSEARCH_URL is not set');

/** Deletes a test prefix's indices, templates and policies; what is already gone is fine. */
async function removePrefix(prefix: string) {
  if (NODE === undefined) return;
  const url = new URL(NODE);
  const headers: Record<string, string> = {};
  if (url.username !== '' || url.password !== '') {
    const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
  }
  const base = `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  const paths = [
    `/${prefix}-logs-*,${prefix}-telemetry-*?expand_wildcards=all`,
    `/_index_template/${prefix}-logs`,
    `/_index_template/${prefix}-telemetry`,
    `/_plugins/_ism/policies/${prefix}-logs-retention`,
    `/_plugins/_ism/policies/${prefix}-telemetry-retention`,
  ];
  for (const path of paths) {
    const response = await fetch(`${base}${path}`, { method: 'DELETE', headers });
    await response.body?.cancel();
  }
}

describe.skipIf(NODE === undefined)('the OpenSearch sink on a real cluster', () => {
  searchSinkSuite('cluster', {
    node: () => NODE ?? '',
    refresh: 'wait_for',
    cleanup: removePrefix,
  });
});
