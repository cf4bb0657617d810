/** The roles an API key can hold; each key holds exactly one. */
export const ROLES = ['ingest', 'sre', 'dpo', 'analyst', 'admin'] as const;

export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
