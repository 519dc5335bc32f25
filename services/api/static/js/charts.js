// Inline SVG charts: the verdict gauge and the per-segment timeline. Both carry a text
// alternative (role="img" + label; the timeline also has a table next to it).

import { s, uniqueId } from "./dom.js";
import { clock, percent } from "./format.js";

/**
 * A horizontal gauge from 0 % to 100 %: the probability as a filled bar and a marker, the
 * threshold as a labelled tick. Colour is never the only cue: positions and labels say it too.
 */
export function gauge(probability, threshold, { width = 480 } = {}) {
  const W = Math.min(Math.max(width, 280), 560);
  const H = 100;
  const left = 16;
  const right = W - 16;
  const barY = 24;
  const barH = 18;
  const x = (p) => left + (right - left) * Math.min(Math.max(p, 0), 1);
  const flagged = probability >= threshold;
  const titleId = uniqueId("gauge-title");
  const label = `Probability of manipulation ${percent(probability)}; the model's threshold is ${percent(threshold)}; ${
    flagged ? "at or above" : "below"
  } the threshold.`;
  const anchor = (p) => (p < 0.1 ? "start" : p > 0.9 ? "end" : "middle");
  const px = x(probability);
  const tx = x(threshold);

  return s(
    "svg",
    { class: "gauge", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": titleId, id: "verdict-gauge" },
    s("title", { id: titleId }, label),
    s("rect", { class: "gauge-track", x: left, y: barY, width: right - left, height: barH, rx: 9 }),
    s("rect", { class: "gauge-zone-fake", x: tx, y: barY, width: Math.max(right - tx, 0), height: barH }),
    s("rect", {
      class: `gauge-fill ${flagged ? "is-fake" : "is-real"}`,
      x: left,
      y: barY + 4,
      width: Math.max(px - left, 2),
      height: barH - 8,
      rx: 5,
      "data-probability": probability,
    }),
    s("line", { class: "gauge-threshold", x1: tx, x2: tx, y1: barY - 8, y2: barY + barH + 4, "data-threshold": threshold }),
    s("text", { class: "gauge-threshold-label", x: tx, y: barY - 11, "text-anchor": anchor(threshold) }, `threshold ${percent(threshold, 0)}`),
    s("path", { class: `gauge-marker ${flagged ? "is-fake" : "is-real"}`, d: `M ${px} ${barY + barH + 2} l 7 12 l -14 0 z` }),
    s("text", { class: "gauge-value", x: px, y: barY + barH + 32, "text-anchor": anchor(probability) }, percent(probability)),
    [0, 0.25, 0.5, 0.75, 1].map((t) =>
      s("text", { class: "gauge-scale", x: x(t), y: H - 4, "text-anchor": t === 0 ? "start" : t === 1 ? "end" : "middle" }, `${t * 100}%`),
    ),
  );
}

function niceStep(span, maxTicks) {
  const steps = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
  return steps.find((st) => span / st <= maxTicks) || 3600 * Math.ceil(span / (3600 * maxTicks));
}

/**
 * Probability over time: one step per segment (its probability over its time range), the
 * threshold as a dashed line, each scored face as a dot. A segment without faces has no
 * probability: it is drawn as a hatched gap, not as zero.
 */
export function timeline(segments, { duration, threshold, faces = [], width = 720 }) {
  const W = Math.max(width, 280);
  const H = 240;
  const m = { left: 46, right: 16, top: 14, bottom: 34 };
  const end = Math.max(duration || 0, ...segments.map((seg) => seg.end_s), 0.001);
  const x = (t) => m.left + ((W - m.left - m.right) * t) / end;
  const y = (p) => m.top + (H - m.top - m.bottom) * (1 - p);
  const patternId = uniqueId("noface");
  const titleId = uniqueId("timeline-title");
  const withFaces = segments.filter((seg) => seg.probability !== null && seg.probability !== undefined);
  const gaps = segments.length - withFaces.length;
  const peak = withFaces.reduce((best, seg) => (best && best.probability >= seg.probability ? best : seg), null);
  const label =
    `Probability of manipulation over ${clock(end)} in ${segments.length} segments` +
    (peak ? `; highest ${percent(peak.probability)} at ${clock(peak.start_s)}–${clock(peak.end_s)}` : "") +
    (gaps ? `; ${gaps} segment${gaps > 1 ? "s" : ""} without a face` : "") +
    `; threshold ${percent(threshold, 0)}.`;

  const step = niceStep(end, Math.min(8, Math.max(3, Math.floor((W - m.left - m.right) / 80))));
  const xTicks = [];
  for (let t = 0; t <= end + 1e-6; t += step) xTicks.push(t);

  const parts = [
    s("title", { id: titleId }, label),
    s(
      "defs",
      {},
      s(
        "pattern",
        { id: patternId, width: 8, height: 8, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
        s("rect", { width: 8, height: 8, class: "noface-bg" }),
        s("line", { x1: 0, y1: 0, x2: 0, y2: 8, class: "noface-hatch" }),
      ),
    ),
  ];
  for (const p of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      s("line", { class: "grid", x1: m.left, x2: W - m.right, y1: y(p), y2: y(p) }),
      s("text", { class: "axis-label", x: m.left - 6, y: y(p) + 4, "text-anchor": "end" }, `${p * 100}%`),
    );
  }
  for (const t of xTicks) {
    parts.push(
      s("line", { class: "tick", x1: x(t), x2: x(t), y1: H - m.bottom, y2: H - m.bottom + 5 }),
      s("text", { class: "axis-label", x: x(t), y: H - m.bottom + 18, "text-anchor": x(t) > W - m.right - 20 ? "end" : "middle" }, clock(t, step >= 1)),
    );
  }
  parts.push(s("text", { class: "axis-title", x: W - m.right, y: H - 2, "text-anchor": "end" }, "time (min:s)"));

  for (const seg of segments) {
    const x0 = x(seg.start_s);
    const x1 = Math.max(x(seg.end_s), x0 + 1);
    const hasProbability = seg.probability !== null && seg.probability !== undefined;
    const tip = hasProbability
      ? `Segment ${seg.index + 1}: ${clock(seg.start_s)}–${clock(seg.end_s)}, ${percent(seg.probability)}, ${seg.faces} face${seg.faces === 1 ? "" : "s"}`
      : `Segment ${seg.index + 1}: ${clock(seg.start_s)}–${clock(seg.end_s)}, no face found`;
    if (hasProbability) {
      const flagged = seg.probability >= threshold;
      parts.push(
        s(
          "g",
          { class: `segment ${flagged ? "is-fake" : "is-real"}`, "data-index": seg.index, "data-probability": seg.probability },
          s("title", {}, tip),
          s("rect", { class: "segment-area", x: x0, y: y(seg.probability), width: x1 - x0, height: y(0) - y(seg.probability) }),
          s("line", { class: "segment-line", x1: x0, x2: x1, y1: y(seg.probability), y2: y(seg.probability) }),
        ),
      );
    } else {
      parts.push(
        s(
          "g",
          { class: "segment is-gap", "data-index": seg.index },
          s("title", {}, tip),
          s("rect", { x: x0, y: y(1), width: x1 - x0, height: y(0) - y(1), fill: `url(#${patternId})` }),
          x1 - x0 > 44 ? s("text", { class: "gap-label", x: (x0 + x1) / 2, y: y(0.88), "text-anchor": "middle" }, "no face") : null,
        ),
      );
    }
  }
  for (const face of faces) {
    parts.push(
      s("circle", { class: "face-dot", cx: x(face.time_s), cy: y(face.probability), r: 3 }, s("title", {}, `Face at ${clock(face.time_s)}: ${percent(face.probability)}`)),
    );
  }
  parts.push(
    s("line", { class: "threshold-line", x1: m.left, x2: W - m.right, y1: y(threshold), y2: y(threshold) }),
    s("text", { class: "threshold-label", x: W - m.right - 4, y: y(threshold) - 5, "text-anchor": "end" }, `threshold ${percent(threshold, 0)}`),
    s("line", { class: "axis", x1: m.left, x2: W - m.right, y1: y(0), y2: y(0) }),
  );
  return s("svg", { class: "timeline", id: "timeline-chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": titleId }, parts);
}
