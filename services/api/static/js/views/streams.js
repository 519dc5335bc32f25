// #/streams: start watching a live stream, and the tenant's streams (newest first).

import { ApiError, getJSON, sendJSON } from "../api.js";
import { h, uniqueId } from "../dom.js";
import { dateTime, percent } from "../format.js";

export const STREAM_STATUS_TEXT = {
  connecting: "Connecting",
  live: "Live",
  ended: "Ended",
  failed: "Failed",
  stopped: "Stopped",
};

export function streamBadge(status) {
  return h("span", { class: `badge status-${status}`, "data-status": status }, STREAM_STATUS_TEXT[status] || status);
}

export function mountStreams(main, ctx) {
  ctx.setTitle("Live streams");
  const urlId = uniqueId("stream-url");
  const secondsId = uniqueId("stream-seconds");
  const error = h("div", { class: "error", role: "alert", hidden: true });
  const url = h("input", { id: urlId, name: "url", type: "text", required: true, autocomplete: "off", placeholder: "rtsp://, rtmp://, srt:// or https://…/index.m3u8" });
  const seconds = h("input", { id: secondsId, name: "segment_seconds", type: "number", min: "1", max: "60", step: "1", value: "4" });
  const submit = h("button", { type: "submit", class: "button" }, "Start watching");
  const form = h(
    "form",
    { class: "stream-form", novalidate: true },
    h("p", {}, h("label", { for: urlId }, "Stream URL"), url),
    h("p", {}, h("label", { for: secondsId }, "Segment length (seconds)"), seconds),
    error,
    h("p", {}, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      const stream = await sendJSON("/v1/streams", "POST", { url: url.value.trim(), segment_seconds: Number(seconds.value) || undefined });
      ctx.navigate(`#/streams/${stream.id}`);
    } catch (err) {
      error.textContent = err instanceof ApiError ? [err.message, ...err.fieldErrors].join(" ") : String(err);
      error.hidden = false;
      submit.disabled = false;
    }
  });
  const list = h("ul", { class: "stream-list" }, h("li", {}, "Loading…"));
  main.append(h("h1", {}, "Live streams"), form, h("h2", {}, "Streams"), list);
  getJSON("/v1/streams?limit=50")
    .then(({ data }) => {
      list.replaceChildren();
      if (!data.items.length) list.append(h("li", {}, "No streams yet."));
      for (const st of data.items) {
        const rolling = st.rolling && st.rolling.probability !== null ? ` · rolling ${percent(st.rolling.probability)}` : "";
        list.append(
          h("li", {}, h("a", { href: `#/streams/${st.id}` }, st.url), " ", streamBadge(st.status), ` ${dateTime(st.created_at)}${rolling}`),
        );
      }
    })
    .catch((err) => {
      list.replaceChildren(h("li", { class: "error" }, err.message));
    });
  return null;
}
