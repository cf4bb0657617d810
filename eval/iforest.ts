// `npm run eval -- iforest`: the isolation forest on every ODDS set, mean ROC AUC over seeds 0–4 against the
// scikit-learn reference (target: within 0.02) and fit+score time against the reference seconds.

import { rocAuc } from '../detectors/fraud/evaluation.ts';
import { IsolationForest } from '../detectors/fraud/isolation-forest.ts';
import { loadOdds, oddsReference } from './odds.ts';

export async function run(): Promise<void> {
  const rows = [];
  let allWithin = true;
  for (const set of oddsReference()) {
    const { x, labels } = loadOdds(set);
    const aucs: number[] = [];
    let seconds = 0;
    for (let seed = 0; seed < 5; seed += 1) {
      const started = performance.now();
      const scores = IsolationForest.fit(x, { seed }).scoreAll(x);
      seconds += (performance.now() - started) / 1000;
      aucs.push(rocAuc(scores, labels));
    }
    const auc = aucs.reduce((a, b) => a + b, 0) / aucs.length;
    const within = Math.abs(auc - set.sklearnAuc) <= 0.02;
    allWithin &&= within;
    rows.push({
      set: set.name,
      n: set.n,
      d: set.d,
      'AUC (ours)': Number(auc.toFixed(4)),
      'AUC (sklearn)': set.sklearnAuc,
      diff: Number((auc - set.sklearnAuc).toFixed(4)),
      'within 0.02': within ? 'yes' : 'NO',
      's (ours)': Number((seconds / 5).toFixed(3)),
      's (sklearn)': set.sklearnSeconds,
      'time ratio': Number((seconds / 5 / set.sklearnSeconds).toFixed(2)),
    });
  }
  console.log(
    '\nisolation forest on ODDS: 100 trees, ψ = 256, fit and scored on the whole set, mean of seeds 0–4',
  );
  console.table(rows);
  console.log(allWithin ? 'every set within 0.02 of scikit-learn' : 'SOME SETS ARE NOT WITHIN 0.02');
}
