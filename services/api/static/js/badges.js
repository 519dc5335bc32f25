// Status and verdict badges: text first (colour is a second cue, never the only one).

import { h } from "./dom.js";
import { percent } from "./format.js";

const STATUS_TEXT = {
  queued: "Queued",
  processing: "Analysing",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};

export const VERDICT_TEXT = {
  fake: "Likely manipulated",
  real: "No manipulation detected",
  no_face: "No face found",
};

export function isTerminal(status) {
  return status === "completed" || status === "failed" || status === "cancelled";
}

export function statusBadge(status) {
  return h("span", { class: `badge status-${status}`, "data-status": status }, STATUS_TEXT[status] || status);
}

export function verdictBadge(result, { withProbability = false } = {}) {
  if (!result) return null;
  const text = VERDICT_TEXT[result.verdict] || result.verdict;
  const suffix = withProbability && result.probability !== null && result.probability !== undefined ? ` · ${percent(result.probability)}` : "";
  return h("span", { class: `badge verdict-${result.verdict}`, "data-verdict": result.verdict }, text + suffix);
}
