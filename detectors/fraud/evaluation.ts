// Ranking metrics for detectors: ROC AUC and average precision (PR-AUC), with ties handled exactly.

/** Area under the ROC curve: the chance a random positive scores above a random negative (ties count half). */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort(
    (a, b) => (scores[a] as number) - (scores[b] as number),
  );
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1] as number] === scores[order[i] as number]) j += 1;
    const averageRank = (i + j + 2) / 2; // 1-based ranks i+1 … j+1
    for (let k = i; k <= j; k += 1) {
      if (labels[order[k] as number] === 1) {
        positives += 1;
        rankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Average precision (the area under the precision–recall curve as scikit-learn computes it). */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort(
    (a, b) => (scores[b] as number) - (scores[a] as number),
  );
  const positives = Array.from(labels as ArrayLike<number>).filter((l) => l === 1).length;
  if (positives === 0) return Number.NaN;
  let truePositives = 0;
  let seen = 0;
  let previousRecall = 0;
  let ap = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1] as number] === scores[order[i] as number]) j += 1;
    for (let k = i; k <= j; k += 1) if (labels[order[k] as number] === 1) truePositives += 1;
    seen = j + 1;
    const recall = truePositives / positives;
    ap += (recall - previousRecall) * (truePositives / seen);
    previousRecall = recall;
    i = j + 1;
  }
  return ap;
}

/** Precision and recall of a set of flags against labels. */
export function precisionRecall(flagged: ArrayLike<boolean>, labels: ArrayLike<number>) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i += 1) {
    if (flagged[i] && labels[i] === 1) tp += 1;
    else if (flagged[i]) fp += 1;
    else if (labels[i] === 1) fn += 1;
  }
  return {
    precision: tp + fp === 0 ? 1 : tp / (tp + fp),
    recall: tp + fn === 0 ? 1 : tp / (tp + fn),
    tp,
    fp,
    fn,
  };
}
