// The README's role table, made from the route table the auth suite tests (test/route-table.ts).
// `npm run docs:roles` writes it into README.md between its markers; test/readme.test.ts fails when they differ.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './processes.ts';
import { PROTECTED_ROUTES, PUBLIC_ROUTES } from './route-table.ts';

export const README = path.join(ROOT, 'README.md');
export const START = '<!-- role table: generated from test/route-table.ts by `npm run docs:roles` -->';
export const END = '<!-- end of role table -->';

/** `POST /v1/keys/:name/revoke` as the README writes it: `POST /v1/keys/{name}/revoke`. */
const written = (method: string, template: string) => `\`${method} ${template.replace(/:(\w+)/g, '{$1}')}\``;

/** The table as Markdown, columns padded as the formatter pads them. */
export function roleTable(): string {
  // One row per resource (`/v1/keys`) and set of roles, in the route table's order.
  const groups = new Map<string, { roles: string; routes: string[] }>();
  for (const route of PROTECTED_ROUTES) {
    const roles = route.roles.join(', ');
    const key = `${route.template.split('/').slice(0, 3).join('/')} ${roles}`;
    const group = groups.get(key) ?? { roles, routes: [] };
    group.routes.push(written(route.method, route.template));
    groups.set(key, group);
  }
  const rows: [string, string][] = [...groups.values()].map((g) => [g.routes.join(', '), g.roles]);
  const open = PUBLIC_ROUTES.filter((r) => !r.includes('/collect')).map((r) => {
    const [method = '', template = ''] = r.split(' ');
    return written(method, template);
  });
  rows.push([open.join(', '), 'none']);
  rows.push([
    `${written('POST', '/collect')}, ${written('POST', '/collect/:appKey')} and their preflights`,
    'a Faro app key, from an allowed origin',
  ]);
  const header: [string, string] = ['route', 'roles'];
  const width = [0, 1].map((i) => Math.max(...[header, ...rows].map((row) => row[i as 0 | 1].length)));
  const line = (cells: [string, string]) => `| ${cells.map((c, i) => c.padEnd(width[i] ?? 0)).join(' | ')} |`;
  return [line(header), `| ${width.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

/** The README with its role table replaced by the generated one. */
export function withRoleTable(readme: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md lacks the role table markers ${START} … ${END}`);
  return `${readme.slice(0, start + START.length)}\n\n${roleTable()}\n\n${readme.slice(end)}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  fs.writeFileSync(README, withRoleTable(fs.readFileSync(README, 'utf8')));
}
