// The ODDS benchmark sets in the reference data (odds/) with their scikit-learn reference figures.
import fs from 'node:fs';
import path from 'node:path';
import { type Matrix, toMatrix } from '../detectors/fraud/isolation-forest.ts';
import { referenceFile } from './reference-data.ts';

export interface OddsSet {
  name: string;
  file: string;
  n: number;
  d: number;
  sklearnAuc: number;
  sklearnAucStd: number;
  sklearnSeconds: number;
  paperAuc: number | null;
}

export function oddsReference(): OddsSet[] {
  return (JSON.parse(fs.readFileSync(referenceFile('odds/reference.json'), 'utf8')) as { sets: OddsSet[] })
    .sets;
}

/** A set's features (every column but `label`) and labels (1 = anomaly). */
export function loadOdds(set: OddsSet): { x: Matrix; labels: Int8Array } {
  const [header = '', ...lines] = fs
    .readFileSync(referenceFile(path.join('odds', set.file)), 'utf8')
    .trim()
    .split('\n');
  const columns = header.split(',');
  const labelAt = columns.indexOf('label');
  const rows: number[][] = [];
  const labels = new Int8Array(lines.length);
  lines.forEach((line, i) => {
    const values = line.split(',').map(Number);
    labels[i] = values[labelAt] === 1 ? 1 : 0;
    rows.push(values.filter((_, c) => c !== labelAt));
  });
  return { x: toMatrix(rows), labels };
}
