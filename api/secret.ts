import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const SECRET_FILE = 'secret';

/**
 * The key for hashing identifiers: `VIGIL_SECRET` when set, else the one in the data dir, generated there
 * (readable by the owner only) on first start. Losing it makes existing hashes unmatchable, so it is kept.
 */
export function resolveSecret(configured: string | undefined, dataDir: string): Buffer {
  if (configured !== undefined) return Buffer.from(configured, 'utf8');
  const file = path.join(dataDir, SECRET_FILE);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    // Another process (or an earlier start) made it first: use theirs.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stored = fs.readFileSync(file, 'utf8').trim();
  if (stored.length < 32)
    throw new Error(`${file} holds fewer than 32 characters; set VIGIL_SECRET or fix the file`);
  return Buffer.from(stored, 'utf8');
}
