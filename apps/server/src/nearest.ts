/**
 * The nearest known name to a mistyped one, for "did you mean" hints in configuration problems.
 */
export function didYouMean(name: string, known: Iterable<string>): string {
  const nearest = nearestName(name, known);
  return nearest === undefined ? '' : ` Did you mean ${nearest}?`;
}

/** The known name within a few edits of `name` (at most 2, or a quarter of its length), if any. */
export function nearestName(name: string, known: Iterable<string>): string | undefined {
  const [best] = [...known].map((candidate) => [candidate, editDistance(name, candidate)] as const).sort((a, b) => a[1] - b[1]);
  return best && best[1] > 0 && best[1] <= Math.max(2, Math.floor(name.length / 4)) ? best[0] : undefined;
}

/** Levenshtein distance: edits that turn one name into the other. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return previous[b.length] as number;
}
