// The jobs list: newest first, filtered by status, paged with the server's cursor. The
// filter, page size and cursor live in the URL (#/jobs?status=…&limit=…&cursor=…), so a page
// can be reloaded, bookmarked and left with the Back button.

import { getJSON } from "../api.js";
import { isTerminal, statusBadge, verdictBadge } from "../badges.js";
import { clear, h } from "../dom.js";
import { bytes, dateTime, percent, relative } from "../format.js";

const STATUSES = ["queued", "processing", "completed", "failed", "cancelled"];
const PAGE_SIZES = [10, 20, 50, 100];
const STATUS_LABELS = { "": "All", queued: "Queued", processing: "Analysing", completed: "Completed", failed: "Failed", cancelled: "Cancelled" };

/** Cursors of the pages before the current one, per filter, so "Newer" can go back. */
const trails = new Map();

export function mountJobs(root, { navigate, setTitle, params, config }) {
  setTitle("Jobs");
  const query = new URLSearchParams(params[0] || "");
  const status = STATUSES.includes(query.get("status")) ? query.get("status") : "";
  const limit = PAGE_SIZES.includes(Number(query.get("limit"))) ? Number(query.get("limit")) : 20;
  const cursor = query.get("cursor") || "";
  const filterKey = `${status}|${limit}`;
  const trail = trails.get(filterKey) || [];
  if (!cursor) trail.length = 0;
  trails.set(filterKey, trail);

  const controller = new AbortController();
  let timer = null;

  const hashFor = (next) => {
    const q = new URLSearchParams();
    if (status) q.set("status", status);
    if (limit !== 20) q.set("limit", String(limit));
    for (const [k, v] of Object.entries(next)) {
      if (v) q.set(k, v);
      else q.delete(k);
    }
    const text = q.toString();
    return `#/jobs${text ? `?${text}` : ""}`;
  };

  const statusSelect = h(
    "select",
    { id: "status-filter", name: "status" },
    ["", ...STATUSES].map((st) => h("option", { value: st, selected: st === status }, STATUS_LABELS[st])),
  );
  const sizeSelect = h(
    "select",
    { id: "page-size", name: "limit" },
    PAGE_SIZES.map((n) => h("option", { value: String(n), selected: n === limit }, String(n))),
  );
  statusSelect.addEventListener("change", () => {
    const q = new URLSearchParams();
    if (statusSelect.value) q.set("status", statusSelect.value);
    if (limit !== 20) q.set("limit", String(limit));
    navigate(`#/jobs${q.toString() ? `?${q}` : ""}`);
  });
  sizeSelect.addEventListener("change", () => {
    const q = new URLSearchParams();
    if (status) q.set("status", status);
    if (sizeSelect.value !== "20") q.set("limit", sizeSelect.value);
    navigate(`#/jobs${q.toString() ? `?${q}` : ""}`);
  });

  const refresh = h("button", { type: "button", class: "button", id: "refresh-jobs" }, "Refresh");
  const summary = h("p", { class: "hint", id: "jobs-summary", "aria-live": "polite" }, "Loading jobs…");
  const results = h("div", { id: "jobs-results" });
  const pager = h("nav", { class: "pager", "aria-label": "Pages of jobs" });

  root.append(
    h("div", { class: "page-head" }, h("h1", {}, "Jobs"), h("a", { class: "button button-primary", href: "#/" }, "Analyse a file")),
    h(
      "form",
      { class: "filters", onsubmit: (e) => e.preventDefault() },
      h("div", { class: "field" }, h("label", { for: "status-filter" }, "Status"), statusSelect),
      h("div", { class: "field" }, h("label", { for: "page-size" }, "Per page"), sizeSelect),
      refresh,
    ),
    summary,
    results,
    pager,
  );

  function row(job) {
    const r = job.result;
    const name = job.media.filename || job.id;
    let verdictCell;
    if (r) verdictCell = verdictBadge(r);
    else if (job.status === "failed") verdictCell = h("span", { class: "muted" }, job.error?.title || "failed");
    else if (!isTerminal(job.status)) {
      const p = job.progress;
      verdictCell = h("span", { class: "muted" }, p.segments_total ? `${p.segments_done} of ${p.segments_total} segments` : "waiting");
    } else verdictCell = h("span", { class: "muted" }, "–");
    return h(
      "tr",
      { "data-job-id": job.id },
      h("td", { "data-label": "Submitted" }, h("time", { datetime: job.created_at, title: dateTime(job.created_at) }, relative(job.created_at))),
      h("td", { "data-label": "File" }, h("a", { href: `#/jobs/${encodeURIComponent(job.id)}`, class: "job-link" }, name), h("span", { class: "muted small" }, ` ${job.media.kind}, ${bytes(job.media.size_bytes)}`)),
      h("td", { "data-label": "Status" }, statusBadge(job.status)),
      h("td", { "data-label": "Verdict" }, verdictCell),
      h("td", { "data-label": "Probability", class: "num" }, r && r.probability !== null && r.probability !== undefined ? percent(r.probability) : "–"),
    );
  }

  async function load() {
    timer = null;
    const q = new URLSearchParams({ limit: String(limit) });
    if (status) q.set("status", status);
    if (cursor) q.set("cursor", cursor);
    let data;
    try {
      ({ data } = await getJSON(`/v1/jobs?${q}`, { signal: controller.signal }));
    } catch (err) {
      if (err.name === "AbortError") return;
      summary.textContent = "";
      clear(results).append(h("p", { class: "error", role: "alert" }, `The jobs could not be loaded: ${err.message}`));
      return;
    }
    // an automatic refresh must not steal the keyboard focus from a row
    const focusedId = document.activeElement?.closest?.("tr[data-job-id]")?.dataset.jobId;
    clear(results);
    clear(pager);
    const filtered = status ? ` ${STATUS_LABELS[status].toLowerCase()}` : "";
    if (!data.items.length) {
      summary.textContent = cursor ? "No older jobs." : `No${filtered} jobs yet.`;
      if (!cursor && !status) results.append(h("p", {}, h("a", { href: "#/" }, "Analyse your first video or photo.")));
    } else {
      summary.textContent = `Showing ${data.items.length}${filtered} job${data.items.length === 1 ? "" : "s"}, newest first${cursor ? ` (page ${trail.length + 1})` : ""}.`;
      results.append(
        h(
          "div",
          { class: "table-scroll" },
          h(
            "table",
            { class: "data-table jobs-table", id: "jobs-table" },
            h("caption", { class: "visually-hidden" }, "Jobs, newest first"),
            h("thead", {}, h("tr", {}, ["Submitted", "File", "Status", "Verdict", "Probability"].map((c) => h("th", { scope: "col" }, c)))),
            h("tbody", {}, data.items.map(row)),
          ),
        ),
      );
    }
    if (cursor) {
      const newer = h("button", { type: "button", class: "button", id: "newer-page" }, "← Newer");
      newer.addEventListener("click", () => {
        const previous = trail.pop() || "";
        navigate(hashFor({ cursor: previous }));
      });
      pager.append(newer);
    }
    if (data.next_cursor) {
      const older = h("button", { type: "button", class: "button", id: "older-page" }, "Older →");
      older.addEventListener("click", () => {
        trail.push(cursor);
        navigate(hashFor({ cursor: data.next_cursor }));
      });
      pager.append(older);
    }
    if (focusedId) results.querySelector(`tr[data-job-id="${CSS.escape(focusedId)}"] a`)?.focus();
    // keep unfinished jobs moving on the first page
    if (!cursor && data.items.some((j) => !isTerminal(j.status))) {
      timer = setTimeout(load, Math.max(config.poll_after_s, 2) * 1000);
    }
  }

  refresh.addEventListener("click", () => {
    if (timer) clearTimeout(timer);
    summary.textContent = "Loading jobs…";
    load();
  });
  load();

  return () => {
    controller.abort();
    if (timer) clearTimeout(timer);
  };
}
