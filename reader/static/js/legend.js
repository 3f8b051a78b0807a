// The chart's legend as HTML: readable by screen readers and zoomable, unlike canvas text.

import { SERIES } from "./series.js";

/** One item per series: its line colour, its marker shape and its plan name. */
export function renderLegend(list) {
  list.replaceChildren(
    ...SERIES.map(({ key, label, color, marker, rotation }) => {
      const item = document.createElement("li");
      item.dataset.series = key;
      const swatch = document.createElement("span");
      swatch.className = `swatch marker-${marker}${rotation ? " marker-flipped" : ""}`;
      swatch.style.setProperty("--series-color", color);
      swatch.setAttribute("aria-hidden", "true");
      item.append(swatch, label);
      return item;
    }),
  );
}
