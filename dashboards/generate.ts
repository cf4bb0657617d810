// `npm run dashboards`: writes every Vigil dashboard to dashboards/generated/<uid>.json, the files Grafana
// provisions (see grafana/provisioning/dashboards/vigil.yaml), and removes JSON files no dashboard produces.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { vigilDashboards } from './index.ts';
import { toJsonText } from './json-text.ts';

/** Where the generated dashboards live. */
export const GENERATED_DIR = fileURLToPath(new URL('./generated/', import.meta.url));

/** Each dashboard's file name (`<uid>.json`) and JSON text, as `npm run dashboards` writes them. */
export function generatedDashboardFiles(): Map<string, string> {
  return new Map(vigilDashboards().map((dashboard) => [`${dashboard.uid}.json`, toJsonText(dashboard)]));
}

function writeGeneratedDashboards(): void {
  const files = generatedDashboardFiles();
  mkdirSync(GENERATED_DIR, { recursive: true });
  for (const [name, text] of files) writeFileSync(`${GENERATED_DIR}${name}`, text);
  for (const name of readdirSync(GENERATED_DIR)) {
    if (name.endsWith('.json') && !files.has(name)) rmSync(`${GENERATED_DIR}${name}`);
  }
  console.log(`wrote ${[...files.keys()].join(', ')} to dashboards/generated/`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) writeGeneratedDashboards();
