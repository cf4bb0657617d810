import fs from 'node:fs';
import path from 'node:path';

/** The data directory could be changed by another user: Vigil does not start on it. */
export class DataDirUnsafeError extends Error {}

const OWNER_ONLY_DIR = 0o700;
const OWNER_ONLY_FILE = 0o600;
/** Files Vigil keeps directly in the data directory, made readable by their owner only whatever the umask. */
const DATA_FILES = ['vigil.sqlite', 'vigil.sqlite-wal', 'vigil.sqlite-shm', 'vigil.lock', 'secret'];

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}

/**
 * Makes the data directory (creating it when missing) and what it holds readable and writable by its owner
 * only: the directory 0700, its files 0600, whatever the umask and however the directory was made before the
 * first start. Refuses (DataDirUnsafeError) a directory that others may write or that another user owns: they
 * could have swapped its files for links, or could swap them later.
 */
export function secureDataDir(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: OWNER_ONLY_DIR });
  const stat = fs.statSync(dataDir);
  if (!stat.isDirectory()) throw new DataDirUnsafeError(`the data directory ${dataDir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw new DataDirUnsafeError(
      `the data directory ${dataDir} belongs to user ${stat.uid}, not to this process's user ${uid}`,
    );
  }
  if ((stat.mode & 0o022) !== 0) {
    throw new DataDirUnsafeError(
      `the data directory ${dataDir} may be written by other users (mode ${octal(stat.mode)}); ` +
        `make it its owner's only (chmod 700 ${dataDir}) or choose another VIGIL_DATA_DIR`,
    );
  }
  if ((stat.mode & 0o777) !== OWNER_ONLY_DIR) fs.chmodSync(dataDir, OWNER_ONLY_DIR);
  for (const name of DATA_FILES) restrictFile(path.join(dataDir, name));
  const journal = path.join(dataDir, 'event-journal');
  if (fs.existsSync(journal)) {
    fs.chmodSync(journal, OWNER_ONLY_DIR);
    for (const name of fs.readdirSync(journal)) restrictFile(path.join(journal, name));
  }
}

/** Creates the file 0600 when missing (SQLite gives its -wal and -shm the database file's mode), or makes it so. */
export function createOwnerOnlyFile(file: string): void {
  fs.closeSync(fs.openSync(file, 'a', OWNER_ONLY_FILE));
  restrictFile(file);
}

function restrictFile(file: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (stat.isSymbolicLink())
    throw new DataDirUnsafeError(`${file} is a symbolic link; Vigil keeps no links there`);
  if (stat.isFile() && (stat.mode & 0o777) !== OWNER_ONLY_FILE) fs.chmodSync(file, OWNER_ONLY_FILE);
}
