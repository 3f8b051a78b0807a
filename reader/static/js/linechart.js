// The active-users line chart (Chart.js, vendored). A missing period has no value (null in the
// API), which is not the same as 0 users: it is plotted at 0 so the line visibly drops, but
// every segment touching it is dotted and its column is hatched, so it never reads as a solid 0.
// Partial periods get hollow markers on a shaded column; a period that is both (not over, no
// data yet) is drawn as missing and worded as "no data yet" (periods.js).

import { periodTitle, tickLabel } from "./dates.js";
import { statusLine } from "./periods.js";
import { SERIES } from "./series.js";

export const MISSING_DASH = [1, 5]; // with round caps: dots
const MISSING_FILL = "rgba(90, 100, 115, 0.22)";
const PARTIAL_FILL = "rgba(0, 114, 178, 0.08)";
const GRID = "#e3e7ee";
const INK = "#3a4250";

/** Whether a line segment starts or ends on a missing period. */
function touchesMissing(document, context) {
  return document.missing[context.p0DataIndex] || document.missing[context.p1DataIndex];
}

/** A diagonal hatch for missing columns, drawn once per chart. */
function hatch(context) {
  const tile = Object.assign(window.document.createElement("canvas"), { width: 8, height: 8 });
  const pen = tile.getContext("2d");
  pen.strokeStyle = MISSING_FILL;
  pen.lineWidth = 2;
  pen.beginPath();
  pen.moveTo(0, 8);
  pen.lineTo(8, 0);
  pen.stroke();
  return context.createPattern(tile, "repeat");
}

/** A plugin that shades partial and hatches missing periods behind the lines. */
function periodBands(state) {
  let pattern = null;
  return {
    id: "periodBands",
    beforeDatasetsDraw(chart) {
      const { ctx, chartArea: area, scales } = chart;
      const document = state.document;
      if (!document) return;
      pattern ??= hatch(ctx);
      const count = document.periods.length;
      const step = count > 1 ? scales.x.getPixelForValue(1) - scales.x.getPixelForValue(0) : 0;
      ctx.save();
      for (let index = 0; index < count; index += 1) {
        const fill = document.missing[index] ? pattern : document.partial[index] && PARTIAL_FILL;
        if (!fill) continue;
        const middle = scales.x.getPixelForValue(index);
        const left = count > 1 ? Math.max(area.left, middle - step / 2) : area.left;
        const right = count > 1 ? Math.min(area.right, middle + step / 2) : area.right;
        ctx.fillStyle = fill;
        ctx.fillRect(left, area.top, right - left, area.bottom - area.top);
      }
      ctx.restore();
    },
  };
}

/** The value text of one point in the tooltip. */
function valueText(document, key, index) {
  const value = document.series[key][index];
  return value === null ? "no data" : value.toLocaleString();
}

/** One Chart.js dataset per series, styled from the document held in `state`. */
function dataset(state, series, index) {
  const point = (flags) => state.document?.[flags] ?? [];
  // Markers shrink as periods crowd together (a year of days on a phone is a line, not dots).
  const markerSize = (c) => {
    const periods = Math.max(1, state.document?.periods.length ?? 1);
    const spacing = (c.chart.chartArea?.width ?? 0) / periods;
    return spacing >= 16 ? 3.5 : spacing >= 7 ? 2 : 0;
  };
  return {
    label: series.label,
    seriesKey: series.key,
    data: [],
    order: index === 0 ? 0 : 1, // the all-plans line is drawn on top
    borderColor: series.color,
    backgroundColor: series.color,
    borderWidth: series.width,
    borderCapStyle: "round",
    pointStyle: series.marker,
    rotation: series.rotation ?? 0,
    pointRadius: (c) => {
      if (point("missing")[c.dataIndex]) return 0;
      return point("partial")[c.dataIndex] ? Math.max(3, markerSize(c) + 1.5) : markerSize(c);
    },
    pointHoverRadius: (c) => (point("missing")[c.dataIndex] ? 3 : Math.max(4, markerSize(c) + 2.5)),
    pointBackgroundColor: (c) => (point("partial")[c.dataIndex] ? "#ffffff" : series.color),
    pointBorderWidth: (c) => (point("partial")[c.dataIndex] ? 2 : 1),
    tension: 0,
    segment: {
      borderDash: (c) => (touchesMissing(state.document, c) ? MISSING_DASH : undefined),
    },
  };
}

/** Chart.js options: integer y axis from 0, UTC period labels, a tooltip per period. */
function options(state) {
  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  return {
    maintainAspectRatio: false,
    animation: reducedMotion ? false : { duration: 250 },
    interaction: { mode: "index", intersect: false },
    layout: { padding: { top: 4, right: 8 } },
    scales: {
      x: {
        grid: { color: GRID },
        ticks: {
          color: INK,
          maxRotation: 0,
          autoSkipPadding: 12,
          callback: (value) => {
            const period = state.document?.periods[value];
            return period ? tickLabel(period, state.document.interval) : "";
          },
        },
      },
      y: {
        beginAtZero: true,
        grid: { color: GRID },
        ticks: { color: INK, precision: 0 },
        title: { display: true, text: "Active users", color: INK },
      },
    },
    plugins: {
      legend: { display: false }, // the HTML legend above the chart is readable by everyone
      tooltip: {
        usePointStyle: true,
        backgroundColor: "rgba(20, 26, 36, 0.92)",
        padding: 10,
        callbacks: {
          title: (items) => periodTitle(state.document, items[0].dataIndex),
          label: (item) => {
            const key = item.dataset.seriesKey;
            return ` ${item.dataset.label}: ${valueText(state.document, key, item.dataIndex)}`;
          },
          footer: (items) => statusLine(state.document, items[0].dataIndex),
        },
      },
    },
  };
}

/** Create the chart on the canvas; `draw(document)` then shows a document, `clear()` none. */
export function createLineChart(canvas) {
  const state = { document: null };
  const chart = new window.Chart(canvas, {
    type: "line",
    data: { labels: [], datasets: SERIES.map((series, i) => dataset(state, series, i)) },
    options: options(state),
    plugins: [periodBands(state)],
  });
  return {
    chart,
    draw(document) {
      state.document = document;
      chart.data.labels = document.periods;
      chart.data.datasets.forEach((set) => {
        set.data = document.series[set.seriesKey].map((value) => value ?? 0);
      });
      chart.update();
    },
    clear() {
      state.document = null;
      chart.data.labels = [];
      chart.data.datasets.forEach((set) => {
        set.data = [];
      });
      chart.update();
    },
  };
}
