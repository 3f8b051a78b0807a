// What a period's two flags mean for people. A period that is not over yet is partial; when no
// data has arrived for it so far it is also missing: drawn as missing, but worded as "not yet",
// since its data may still come (unlike a past period with none, where nothing arrived).

const STATUS = {
  missing: { word: "missing", tooltip: "Missing: no data arrived for this period" },
  pending: { word: "no data yet (not over)", tooltip: "No data yet: this period is not over" },
  partial: { word: "partial", tooltip: "Partial: not over yet or only partly covered" },
  complete: { word: "complete", tooltip: "Complete" },
};

/** "missing", "pending" (missing and partial), "partial" or "complete". */
export function periodState(document, index) {
  if (document.missing[index]) return document.partial[index] ? "pending" : "missing";
  return document.partial[index] ? "partial" : "complete";
}

/** The status word of a period, for the data table. */
export function statusWord(document, index) {
  return STATUS[periodState(document, index)].word;
}

/** The tooltip line of a period: what is special about it, if anything. */
export function statusLine(document, index) {
  return STATUS[periodState(document, index)].tooltip;
}

/** How many periods are in each state. */
export function stateCounts(document) {
  const counts = { missing: 0, pending: 0, partial: 0, complete: 0 };
  document.periods.forEach((_, index) => {
    counts[periodState(document, index)] += 1;
  });
  return counts;
}
