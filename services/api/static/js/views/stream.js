// #/streams/{id}: a live stream as it is scored: the rolling gauge, the timeline growing one
// segment at a time (server-sent events), alerts highlighted, and a stop button.

import { ApiError, getJSON, sendJSON, streamEvents } from "../api.js";
import { VERDICT_TEXT } from "../badges.js";
import { h } from "../dom.js";
import { percent } from "../format.js";
import { streamBadge } from "./streams.js";

const TERMINAL = new Set(["ended", "failed", "stopped"]);

export function mountStream(main, ctx) {
  const [streamId] = ctx.params;
  ctx.setTitle("Live stream");
  const heading = h("h1", {}, "Live stream");
  const status = h("p", { class: "stream-status", "aria-live": "polite" });
  const url = h("p", { class: "stream-url" });
  const gaugeValue = h("div", { class: "gauge-value" });
  const gaugeText = h("p", { class: "gauge-text", "aria-live": "polite" }, "Waiting for the first scored segment…");
  const gauge = h(
    "div",
    { class: "gauge", role: "meter", "aria-label": "Rolling probability of manipulation", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0" },
    gaugeValue,
  );
  const timeline = h("ol", { class: "timeline", "aria-label": "Scored segments" });
  const alerts = h("ul", { class: "alerts", "aria-live": "assertive" });
  const stop = h("button", { type: "button", class: "button button-danger" }, "Stop watching");
  const problem = h("p", { class: "error", role: "alert", hidden: true });
  const alertIndexes = new Set();
  main.append(
    heading,
    url,
    status,
    h("section", { class: "stream-gauge" }, h("h2", {}, "Rolling verdict"), gauge, gaugeText),
    h("section", {}, h("h2", {}, "Alerts"), alerts),
    h("section", {}, h("h2", {}, "Timeline"), timeline),
    problem,
    h("p", {}, stop),
  );

  const showStatus = (value, error) => {
    status.replaceChildren("Status: ", streamBadge(value));
    if (error) {
      problem.textContent = error.detail || error.title;
      problem.hidden = false;
    }
    stop.disabled = TERMINAL.has(value);
    stop.hidden = TERMINAL.has(value);
  };
  const showRolling = (rolling) => {
    if (!rolling || rolling.probability === null || rolling.probability === undefined) return;
    const p = rolling.probability;
    gaugeValue.style.width = `${Math.round(p * 100)}%`;
    gauge.setAttribute("aria-valuenow", String(Math.round(p * 100)));
    gauge.dataset.verdict = rolling.verdict;
    gaugeText.textContent = `${percent(p)} · ${VERDICT_TEXT[rolling.verdict] || rolling.verdict} (last ${rolling.window_segments} segments with faces, threshold ${percent(rolling.threshold)})`;
  };
  const addAlert = (a) => {
    alertIndexes.add(a.index);
    const item = timeline.querySelector(`[data-index="${a.index}"]`);
    if (item) item.classList.add("segment-alert");
    alerts.append(h("li", { class: "alert-item" }, `Alert at ${a.at_s.toFixed(1)} s (segment ${a.index}): rolling probability ${percent(a.probability)} ≥ ${percent(a.threshold)}`));
  };
  const addSegment = (seg) => {
    if (timeline.querySelector(`[data-index="${seg.index}"]`)) return;
    const p = seg.probability;
    const label = p === null ? "no face" : percent(p);
    const bar = h("span", { class: "bar" });
    bar.style.height = `${p === null ? 4 : Math.max(4, Math.round(p * 100))}%`;
    const item = h(
      "li",
      { class: `segment${p === null ? " segment-noface" : ""}${alertIndexes.has(seg.index) ? " segment-alert" : ""}`, "data-index": String(seg.index), title: `${seg.start_s.toFixed(1)}–${seg.end_s.toFixed(1)} s: ${label}` },
      bar,
      h("span", { class: "segment-label" }, `${seg.start_s.toFixed(0)} s · ${label}`),
    );
    timeline.append(item);
    showRolling(seg.rolling);
  };

  let stopListening = null;
  getJSON(`/v1/streams/${encodeURIComponent(streamId)}`)
    .then(({ data }) => {
      url.textContent = data.url;
      showStatus(data.status, data.error);
      showRolling(data.rolling);
      stopListening = streamEvents(streamId, {
        onEvent: ({ event, data: d }) => {
          if (event === "segment") addSegment(d);
          else if (event === "alert") addAlert(d);
          else if (event === "status") showStatus(d.status, d.error);
        },
        onError: (err) => {
          if (err instanceof ApiError && err.status >= 400 && err.status < 500) {
            problem.textContent = err.message;
            problem.hidden = false;
          }
        },
      });
    })
    .catch((err) => {
      heading.textContent = "Stream not found";
      problem.textContent = err.message;
      problem.hidden = false;
      stop.hidden = true;
    });

  stop.addEventListener("click", async () => {
    stop.disabled = true;
    try {
      const data = await sendJSON(`/v1/streams/${encodeURIComponent(streamId)}`, "DELETE");
      status.replaceChildren("Status: ", streamBadge(data.status), data.status === "stopped" ? "" : " · stopping…");
    } catch (err) {
      problem.textContent = err.message;
      problem.hidden = false;
      stop.disabled = false;
    }
  });

  return () => {
    if (stopListening) stopListening();
  };
}
