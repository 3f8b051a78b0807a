// The date controls stay inside what the reader serves: at most the retention's number of days
// (the reader writes it into the page), ending today, UTC. Presets are clipped to that window
// and typed dates are checked against it before anything is asked of the API.

import { earliestStart, formatDay, humanDay, presetRange, todayUtc } from "./dates.js";

// DESIGN.md's default, for a copy of the page not served by the reader (placeholder unfilled).
const DEFAULT_RETENTION_DAYS = 400;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const $ = (id) => document.getElementById(id);

/** "1 day", "60 days". */
function days(count) {
  return `${count} ${count === 1 ? "day" : "days"}`;
}

/** The days the reader keeps, from the page's `insights-retention-days` meta tag. */
export function retentionDays() {
  const content = document.querySelector('meta[name="insights-retention-days"]')?.content ?? "";
  const kept = /^\d+$/.test(content) ? Number(content) : 0;
  return kept > 0 ? kept : DEFAULT_RETENTION_DAYS;
}

/** The first and last day a range may hold: the retention's first day, and today (UTC). */
export function dateBounds(retention, today = todayUtc()) {
  return { min: formatDay(earliestStart(today, retention)), max: formatDay(today) };
}

/** A preset longer than the retention starts at the retention's first day and says so; a
 *  clipped preset that would repeat an earlier option is hidden (with 60 days kept, "Last 12
 *  months" would be "Last 90 days" again). */
function configurePresets(retention, today) {
  const allKept = `Last ${days(retention)} (all kept)`;
  const shown = new Set();
  let lastShown = null;
  for (const option of $("range").options) {
    option.dataset.label ??= option.textContent;
    const range = presetRange(option.value, today, retention);
    if (!range) continue;
    const key = `${range.start}/${range.end}`;
    const repeat = range.clipped && shown.has(key);
    shown.add(key);
    option.hidden = repeat;
    option.disabled = repeat;
    option.textContent = range.clipped ? allKept : option.dataset.label;
    if (!repeat) lastShown = option;
    else if (option.selected && lastShown) lastShown.selected = true;
  }
}

/** Bound both date inputs and fit the presets to today; again whenever the day may have
 *  changed (Refresh), since both move with the clock. */
export function followTheClock(retention) {
  const today = todayUtc();
  const { min, max } = dateBounds(retention, today);
  for (const id of ["start", "end"]) Object.assign($(id), { min, max });
  configurePresets(retention, today);
}

/** Fill the dates from the chosen preset, and pick the interval that suits it if asked. */
export function applyPreset(retention, { suggestInterval = true } = {}) {
  const range = presetRange($("range").value, todayUtc(), retention);
  if (!range) return;
  $("start").value = range.start;
  $("end").value = range.end;
  if (suggestInterval) $(`interval-${range.interval}`).checked = true;
}

/** Whether a date is still being typed: incomplete, or a year below 1000 (typing "2026" into
 *  a date input passes through the years 0002, 0020 and 0202, each a change of its own). */
export function stillTyping() {
  return ["start", "end"].some((id) => {
    const input = $(id);
    return input.validity.badInput || input.value === "" || input.value.startsWith("0");
  });
}

/** Why the API cannot be asked for these dates, in one line; null when it can. */
export function dateProblem({ start, end }, retention) {
  if (!DAY.test(start) || !DAY.test(end)) return "Enter both dates in full (day, month and year).";
  const { min, max } = dateBounds(retention);
  if (end > max) {
    const today = humanDay(max);
    return `The end date cannot be after today, ${today} (UTC): later days have no data yet.`;
  }
  if (start < min) {
    return `The reader keeps ${days(retention)}: choose a start on or after ${humanDay(min)}.`;
  }
  if (start > end) return "Choose a start date on or before the end date.";
  return null;
}
