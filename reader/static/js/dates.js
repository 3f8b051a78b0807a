// Dates as the API sees them: UTC calendar days written YYYY-MM-DD. Every computation here
// works on UTC midnights, so the browser's own time zone never shifts a day.

const DAY_MS = 86_400_000;

/** A YYYY-MM-DD string as the UTC midnight Date of that day. */
export function parseDay(text) {
  return new Date(`${text}T00:00:00Z`);
}

/** The YYYY-MM-DD string of a Date's UTC day. */
export function formatDay(date) {
  return date.toISOString().slice(0, 10);
}

/** Today, UTC. */
export function todayUtc(now = new Date()) {
  return parseDay(formatDay(now));
}

/** The day `days` after (or before, when negative) the given day. */
export function addDays(date, days) {
  return new Date(date.getTime() + days * DAY_MS);
}

/** The first day of the month `months` after (or before) the given day's month. */
export function monthStart(date, months = 0) {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1));
}

// Each preset gives the inclusive range ending today and the interval that reads best for it.
const PRESETS = {
  "7d": (today) => ({ start: addDays(today, -6), interval: "day" }),
  "30d": (today) => ({ start: addDays(today, -29), interval: "day" }),
  "90d": (today) => ({ start: addDays(today, -89), interval: "week" }),
  month: (today) => ({ start: monthStart(today), interval: "day" }),
  "12m": (today) => ({ start: monthStart(today, -11), interval: "month" }),
};

/** The earliest start of a range ending today: the API serves at most `retentionDays` days,
 *  today included (a day before it would make the range longer than the retention). */
export function earliestStart(today, retentionDays) {
  return addDays(today, -(retentionDays - 1));
}

/** The start, end and suggested interval of a preset, or null for "custom". A preset longer
 *  than the retention starts at the earliest start the API accepts instead (`clipped`). */
export function presetRange(name, today = todayUtc(), retentionDays = Infinity) {
  const preset = PRESETS[name];
  if (!preset) return null;
  const { start, interval } = preset(today);
  const earliest = Number.isFinite(retentionDays) ? earliestStart(today, retentionDays) : start;
  const clipped = start < earliest;
  return { start: formatDay(clipped ? earliest : start), end: formatDay(today), interval, clipped };
}

/** The last day of period `index`: the day before the next period, or the range's end. */
export function periodEnd(document, index) {
  const next = document.periods[index + 1];
  return next === undefined ? document.end : formatDay(addDays(parseDay(next), -1));
}

const DAY_FORMAT = new Intl.DateTimeFormat(undefined, {
  timeZone: "UTC", day: "numeric", month: "short", year: "numeric",
});
const SHORT_DAY_FORMAT = new Intl.DateTimeFormat(undefined, {
  timeZone: "UTC", day: "numeric", month: "short",
});
const WEEKDAY_FORMAT = new Intl.DateTimeFormat(undefined, {
  timeZone: "UTC", weekday: "short", day: "numeric", month: "short", year: "numeric",
});
const MONTH_FORMAT = new Intl.DateTimeFormat(undefined, {
  timeZone: "UTC", month: "short", year: "numeric",
});
const LONG_MONTH_FORMAT = new Intl.DateTimeFormat(undefined, {
  timeZone: "UTC", month: "long", year: "numeric",
});

/** A day for people, e.g. "8 Dec 2026". */
export function humanDay(text) {
  return DAY_FORMAT.format(parseDay(text));
}

/** A range for people, e.g. "1 Dec 2026 – 31 Dec 2026". */
export function humanRange(start, end) {
  return start === end ? humanDay(start) : `${humanDay(start)} – ${humanDay(end)}`;
}

/** The short axis label of a period. */
export function tickLabel(period, interval) {
  const day = parseDay(period);
  return interval === "month" ? MONTH_FORMAT.format(day) : SHORT_DAY_FORMAT.format(day);
}

/** The full name of period `index`; weeks and months are clipped to the range. */
export function periodTitle(document, index) {
  const first = document.periods[index];
  const last = periodEnd(document, index);
  if (document.interval === "day") return WEEKDAY_FORMAT.format(parseDay(first));
  const monthEnd = formatDay(addDays(monthStart(parseDay(first), 1), -1));
  if (document.interval === "month" && first.endsWith("-01") && last === monthEnd) {
    return LONG_MONTH_FORMAT.format(parseDay(first));
  }
  return `${document.interval === "week" ? "Week" : "Month"} ${humanRange(first, last)}`;
}
