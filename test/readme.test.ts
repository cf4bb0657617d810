import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { README, withRoleTable } from './role-table.ts';

describe('README.md', () => {
  it('shows the role table the auth suite tests (run `npm run docs:roles` after changing a route)', () => {
    const readme = fs.readFileSync(README, 'utf8');
    expect(readme).toBe(withRoleTable(readme));
  });
});
