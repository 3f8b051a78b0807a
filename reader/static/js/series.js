// The five series of the API document, in its order, with how each is drawn.
// Colours are the Okabe-Ito palette (distinguishable with the common colour-vision
// deficiencies, each at least 3:1 against white); a marker shape per plan means colour is
// never the only cue.

export const SERIES = [
  { key: "all", label: "All plans", color: "#000000", marker: "circle", width: 3 },
  { key: "free", label: "Free", color: "#0072B2", marker: "rect", width: 2 },
  { key: "standard", label: "Standard", color: "#D55E00", marker: "triangle", width: 2 },
  { key: "premium", label: "Premium", color: "#009E73", marker: "rectRot", width: 2 },
  { key: "enterprise", label: "Enterprise", color: "#CC79A7", marker: "triangle", width: 2,
    rotation: 180 },
];

export const PRODUCT_LABELS = {
  all: "All products",
  trello: "Trello",
  jira: "Jira",
  confluence: "Confluence",
  jsm: "Jira Service Management",
};
