// Where the evaluations, benchmarks and the tests that use them find the project's larger reference data (the
// ODDS sets, TalkingData's ad clicks): VIGIL_REFERENCE_DATA, or the `shared/data` folder beside the repository.
// This is tooling, not the service, so it reads its one variable itself.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The reference data directory. */
const REFERENCE_DATA_DIR = path.resolve(
  process.env.VIGIL_REFERENCE_DATA || path.join(HERE, '../../shared/data'),
);

/** Whether `relative` (e.g. `odds/reference.json`) is in the reference data directory. */
export function hasReferenceData(relative: string): boolean {
  return fs.existsSync(path.join(REFERENCE_DATA_DIR, relative));
}

/** The path of `relative` in the reference data directory; a plain error saying what is missing and why. */
export function referenceFile(relative: string): string {
  const file = path.join(REFERENCE_DATA_DIR, relative);
  if (!fs.existsSync(file)) {
    throw new Error(
      `reference data ${relative} is not in ${REFERENCE_DATA_DIR}: set VIGIL_REFERENCE_DATA to a directory ` +
        'holding odds/ (the ODDS sets as ADBench publishes them, with reference.json) and ' +
        "clicks/talkingdata-sample.csv (TalkingData AdTracking's public train_sample.csv)",
    );
  }
  return file;
}
