// One job: live status while it runs (polling at the server's Retry-After), then the verdict
// with its evidence: gauge, the upload's Content Credentials (C2PA provenance), timeline, faces
// with heatmaps, media facts, model card, webhook deliveries, the full JSON, and delete.

import { ApiError, getJSON, objectUrl, request, retryAfter } from "../api.js";
import { VERDICT_TEXT, isTerminal, statusBadge } from "../badges.js";
import { gauge, timeline } from "../charts.js";
import { append, clear, h } from "../dom.js";
import { bytes, clock, dateTime, duration, number, percent, relative } from "../format.js";

const FACES_SHOWN = 12;
const FACE_PAGES = 5;

export function mountJob(root, { config, navigate, flash, setTitle, params }) {
  const jobId = decodeURIComponent(params[0]);
  const controller = new AbortController();
  const { signal } = controller;
  const objectUrls = [];
  const observers = [];
  let timer = null;
  let failures = 0;
  let job = null;
  let renderedFor = null; // status whose full view is on screen
  let downloadUrl = null;

  setTitle(`Job ${jobId}`);
  const title = h("h1", { id: "job-title" }, `Job ${jobId}`);
  const subtitle = h("p", { class: "subtitle", id: "job-subtitle" });
  const toolbar = h("div", { class: "toolbar", id: "job-actions" });
  const statusSection = h("section", { class: "card", id: "job-status", "aria-labelledby": "job-status-heading" });
  const statusLine = h("p", { class: "status-line", id: "status-line", "aria-live": "polite" });
  const body = h("div", { id: "job-body" });

  root.append(
    h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("a", { href: "#/jobs" }, "Jobs"), h("span", { "aria-hidden": "true" }, " › "), h("span", {}, jobId)),
    h("div", { class: "page-head" }, h("div", {}, title, subtitle), toolbar),
    statusSection,
    body,
  );

  // --- polling ---------------------------------------------------------------------------

  async function load() {
    timer = null;
    let res;
    try {
      ({ data: job, res } = await getJSON(`/v1/jobs/${encodeURIComponent(jobId)}`, { signal }));
    } catch (err) {
      if (err.name === "AbortError") return;
      if (err instanceof ApiError && err.status === 404) {
        showMissing();
        return;
      }
      if (err instanceof ApiError && err.status === 401) return;
      failures += 1;
      const wait = Math.min(2 ** failures, 30);
      statusLine.textContent = `${err.message} Trying again in ${wait} s.`;
      timer = setTimeout(load, wait * 1000);
      return;
    }
    failures = 0;
    render();
    if (!isTerminal(job.status)) {
      const wait = retryAfter(res, config.poll_after_s);
      statusSection.dataset.retryAfter = String(wait);
      timer = setTimeout(load, wait * 1000);
    }
  }

  function showMissing() {
    clear(statusSection);
    clear(body);
    clear(toolbar);
    title.textContent = "Job not found";
    setTitle("Job not found");
    statusSection.append(
      h("p", { role: "alert" }, `There is no job ${jobId} for your API key. It may have been deleted.`),
      h("p", {}, h("a", { href: "#/jobs" }, "Back to the jobs")),
    );
  }

  // --- rendering -------------------------------------------------------------------------

  function render() {
    const name = job.media.filename || (job.media.kind === "image" ? "Image" : "Video");
    title.textContent = name;
    setTitle(name);
    clear(subtitle).append(
      statusBadge(job.status),
      ` Job ${job.id} · submitted `,
      h("time", { datetime: job.created_at, title: dateTime(job.created_at) }, relative(job.created_at)),
    );
    renderStatus();
    renderToolbar();
    if (renderedFor !== job.status && isTerminal(job.status)) {
      renderedFor = job.status;
      renderBody();
    }
  }

  // the live line stays the same element (re-inserting a live region makes screen readers repeat it)
  const statusHeading = h("h2", { id: "job-status-heading", class: "visually-hidden" }, "Status");
  const stepsHolder = h("div");
  const statusExtra = h("div");
  statusSection.append(statusHeading, stepsHolder, statusLine, statusExtra);

  function renderStatus() {
    const { status, progress } = job;
    const total = progress.segments_total;
    const done = progress.segments_done;
    const steps = [
      { key: "uploaded", label: "Uploaded", state: "done" },
      { key: "queued", label: "Queued", state: status === "queued" ? "current" : "done" },
      {
        key: "processing",
        label: total ? `Analysing (${done} of ${total} segments)` : "Analysing",
        state: status === "queued" ? "todo" : status === "processing" ? "current" : "done",
      },
      { key: "verdict", label: "Verdict", state: status === "completed" ? "done" : "todo" },
    ];
    if (status === "failed" || status === "cancelled") steps[3] = { key: "verdict", label: status === "failed" ? "Failed" : "Cancelled", state: "stopped" };

    let line;
    if (status === "queued") line = "Waiting for a worker…";
    else if (status === "processing") line = total ? `Analysing: ${done} of ${total} segments done.` : "Analysing: cutting the video into segments…";
    else if (status === "completed") line = `Finished${job.completed_at ? ` in ${duration((new Date(job.completed_at) - new Date(job.created_at)) / 1000)}` : ""}.`;
    else if (status === "failed") line = "The analysis failed.";
    else line = "This job was cancelled.";
    if (statusLine.textContent !== line) statusLine.textContent = line;

    statusSection.dataset.status = status;
    clear(stepsHolder).append(
      h(
        "ol",
        { class: "steps" },
        steps.map((st) =>
          h("li", { class: `step step-${st.state}`, "data-step": st.key, "aria-current": st.state === "current" ? "step" : null }, h("span", { class: "step-dot", "aria-hidden": "true" }), h("span", {}, st.label, st.state === "done" ? h("span", { class: "visually-hidden" }, " (done)") : null)),
        ),
      ),
    );
    clear(statusExtra);
    if (!isTerminal(status)) {
      const bar = h("progress", { id: "segments-progress", "aria-labelledby": "status-line" });
      if (total) {
        bar.max = total;
        bar.value = done;
      }
      statusExtra.append(bar, h("p", { class: "hint" }, "This page updates by itself; you can leave it and come back."));
    }
    if (status === "failed" && job.error) {
      statusExtra.append(
        h("div", { class: "error-box", role: "alert", id: "job-error" }, h("p", {}, h("strong", {}, job.error.title || "Error")), job.error.detail ? h("p", {}, job.error.detail) : null),
      );
    }
  }

  function renderToolbar() {
    clear(toolbar);
    if (downloadUrl) URL.revokeObjectURL(downloadUrl);
    downloadUrl = URL.createObjectURL(new Blob([JSON.stringify(job, null, 2)], { type: "application/json" }));
    toolbar.append(h("a", { class: "button", id: "download-json", href: downloadUrl, download: `deepfakestream-job-${job.id}.json` }, "Download JSON"));
    if (config.features.delete_job) {
      toolbar.append(h("button", { type: "button", class: "button button-danger", id: "delete-job", onclick: openDeleteDialog }, isTerminal(job.status) ? "Delete…" : "Cancel and delete…"));
    }
  }

  function renderBody() {
    clear(body);
    const result = job.status === "completed" ? job.result : null;
    if (result) body.append(verdictSection(result));
    // beside the verdict, never merged into it; shown for failed jobs too (it was read first)
    if (job.provenance) body.append(provenanceSection(job.provenance));
    if (result) {
      if (job.media.kind === "video" && result.segments.length) body.append(timelineSection(result));
      body.append(facesSection(result));
    }
    const modelSlot = h("section", { class: "card", id: "model-card", "aria-labelledby": "model-heading" }, h("h2", { id: "model-heading" }, "Model"), h("p", { class: "hint" }, "Loading the model card…"));
    body.append(mediaSection(), modelSlot);
    loadModel(modelSlot, result);
    if (config.features.deliveries) {
      const slot = h("section", { class: "card", id: "deliveries", "aria-labelledby": "deliveries-heading", hidden: true });
      body.append(slot);
      loadDeliveries(slot);
    }
  }

  // --- verdict ---------------------------------------------------------------------------

  function verdictSection(result) {
    const { verdict, probability, threshold } = result;
    let explanation;
    if (verdict === "no_face") {
      explanation = "No face was found in the frames the model looked at, so there is nothing to judge. Faces must be visible and at least about 64 pixels tall.";
    } else {
      explanation = `The model gives a ${percent(probability)} probability that the faces were manipulated, ${verdict === "fake" ? "at or above" : "below"} its threshold of ${percent(threshold, 0)}.`;
    }
    const segmentsWithFaces = result.segments.filter((seg) => seg.faces > 0).length;
    return h(
      "section",
      { class: `card verdict-card is-${verdict === "no_face" ? "gap" : verdict}`, id: "verdict", "aria-labelledby": "verdict-heading" },
      h("h2", { id: "verdict-heading" }, "Verdict"),
      h("p", { class: `verdict-text verdict-${verdict}`, id: "verdict-text", "data-verdict": verdict }, VERDICT_TEXT[verdict] || verdict),
      h("p", { class: "explanation" }, explanation),
      probability !== null && probability !== undefined ? responsive((width) => gauge(probability, threshold, { width }), "gauge-holder") : null,
      result.warning ? h("p", { class: "notice", id: "model-warning" }, h("strong", {}, "Caution: "), result.warning) : null,
      h(
        "p",
        { class: "hint" },
        `Based on ${result.faces_scored} face${result.faces_scored === 1 ? "" : "s"}` +
          (job.media.kind === "video" ? ` in ${segmentsWithFaces} of ${result.segments.length} segments` : "") +
          `, scored by ${result.model.name} ${result.model.version}.`,
      ),
    );
  }

  // --- provenance (C2PA Content Credentials) ----------------------------------------------

  function provenanceSection(p) {
    let state;
    let headline;
    let badgeClass;
    if (!p.present) {
      state = "absent";
      headline = "No Content Credentials";
      badgeClass = "verdict-no_face";
    } else if (!p.valid) {
      state = "invalid";
      headline = "Content Credentials failed validation";
      badgeClass = "verdict-fake";
    } else if (p.trusted) {
      state = "trusted";
      headline = "Valid Content Credentials from a trusted signer";
      badgeClass = "verdict-real";
    } else {
      state = "valid";
      headline = "Valid Content Credentials, signer not on the trust list";
      badgeClass = "status-cancelled";
    }
    const ai = p.ai_generated;
    const aiText = !p.present
      ? null
      : ai === true
        ? "The manifest declares this media AI-generated."
        : ai === false
          ? "The manifest declares this media not AI-generated."
          : "The manifest makes no declaration about AI generation.";
    const actions = (p.actions || []).map((a) => [a.action, a.digital_source_type, a.software_agent].filter(Boolean).join(" · "));
    const errors = p.validation_errors || [];
    return h(
      "section",
      { class: "card", id: "provenance", "aria-labelledby": "provenance-heading", "data-state": state },
      h("h2", { id: "provenance-heading" }, "Content Credentials"),
      h("p", { id: "provenance-state" }, h("span", { class: `badge ${badgeClass}` }, headline)),
      aiText ? h("p", { id: "provenance-ai", "data-ai": String(ai) }, h("strong", {}, aiText)) : null,
      errors.length
        ? h(
            "div",
            { class: "error-box", id: "provenance-errors" },
            h("p", {}, h("strong", {}, p.present ? "Validation failed:" : "Provenance could not be checked:")),
            h("ul", {}, errors.map((e) => h("li", {}, h("code", {}, e.code), ` ${e.explanation}`))),
          )
        : null,
      p.present
        ? facts([
            ["Signer", p.signer ? p.signer.common_name || "–" : null],
            ["Organisation", p.signer ? p.signer.issuer : null],
            ["Written by", p.claim_generator],
            ["Created", p.created_at],
            ["Actions", actions.length ? actions.join("; ") : null],
            ["Ingredients", p.ingredients ? String(p.ingredients) : null],
          ])
        : null,
      h(
        "p",
        { class: "hint" },
        p.present
          ? "What the file's signed C2PA manifest says about where it came from. It is evidence beside the model's verdict, not part of it; an AI declaration is the signer's statement, not a finding of the model."
          : "The file carries no C2PA manifest. Most media has none; its absence says nothing about whether the media is real.",
      ),
    );
  }

  // --- timeline --------------------------------------------------------------------------

  let drawTimeline = null;

  function timelineSection(result) {
    const draw = (faces) => (width) => timeline(result.segments, { duration: job.media.duration_s, threshold: result.threshold, faces, width });
    const timelineHolder = responsive(draw([]), "chart-holder");
    drawTimeline = (faces) => timelineHolder.redraw(draw(faces));
    const rows = result.segments.map((seg) =>
      h(
        "tr",
        {},
        h("td", {}, String(seg.index + 1)),
        h("td", {}, `${clock(seg.start_s)}–${clock(seg.end_s)}`),
        h("td", {}, seg.probability === null || seg.probability === undefined ? "no face" : percent(seg.probability)),
        h("td", {}, String(seg.faces)),
        h("td", {}, String(seg.frames_sampled)),
      ),
    );
    return h(
      "section",
      { class: "card", id: "timeline", "aria-labelledby": "timeline-heading" },
      h("h2", { id: "timeline-heading" }, "When in the video"),
      h("p", { class: "hint" }, "Each step is one segment of the video at its probability; dots are single faces. Hatched stretches had no face to judge."),
      h(
        "ul",
        { class: "legend", "aria-label": "Legend" },
        h("li", {}, h("span", { class: "swatch swatch-fake", "aria-hidden": "true" }), "at or above the threshold"),
        h("li", {}, h("span", { class: "swatch swatch-real", "aria-hidden": "true" }), "below the threshold"),
        h("li", {}, h("span", { class: "swatch swatch-gap", "aria-hidden": "true" }), "no face"),
      ),
      timelineHolder,
      h(
        "details",
        { class: "table-details" },
        h("summary", {}, "Segments as a table"),
        h(
          "div",
          { class: "table-scroll" },
          h("table", { class: "data-table", id: "segments-table" }, h("thead", {}, h("tr", {}, ["Segment", "Time", "Probability", "Faces", "Frames sampled"].map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, rows)),
        ),
      ),
    );
  }

  /** A holder that draws an SVG chart at its own width, and again when that width changes
   *  (phones rotate; the same font size must stay readable at any width). */
  function responsive(draw, cls) {
    const holder = h("div", { class: cls });
    let current = draw;
    let drawnAt = 0;
    const paint = () => {
      const width = Math.round(holder.clientWidth);
      if (!width || Math.abs(width - drawnAt) < 8) return;
      drawnAt = width;
      clear(holder).append(current(width));
    };
    holder.redraw = (next) => {
      current = next;
      drawnAt = 0;
      paint();
    };
    const observer = new ResizeObserver(paint);
    observer.observe(holder);
    observers.push(observer);
    return holder;
  }

  // --- faces -----------------------------------------------------------------------------

  function facesSection(result) {
    const section = h(
      "section",
      { class: "card", id: "faces", "aria-labelledby": "faces-heading" },
      h("h2", { id: "faces-heading" }, "Faces the model looked at"),
      h("p", { class: "hint" }, "The most suspicious faces of each segment, most suspicious first. Beside each face, its heatmap: warmer colours mark the regions that drove the score."),
    );
    const list = h("ul", { class: "face-grid", id: "face-grid" });
    const note = h("p", { class: "hint", id: "faces-note" }, result.faces_scored ? "Loading faces…" : "No face was scored.");
    section.append(note, list);
    if (result.faces_scored) loadFaces(result, list, note, section);
    return section;
  }

  async function loadFaces(result, list, note, section) {
    const faces = [];
    let cursor = null;
    try {
      for (let page = 0; page < FACE_PAGES; page += 1) {
        const query = new URLSearchParams({ limit: "1000" });
        if (cursor) query.set("cursor", cursor);
        const { data } = await getJSON(`/v1/jobs/${encodeURIComponent(jobId)}/faces?${query}`, { signal });
        faces.push(...data.items);
        cursor = data.next_cursor;
        if (!cursor) break;
      }
    } catch (err) {
      if (err.name === "AbortError") return;
      note.textContent = `The faces could not be loaded: ${err.message}`;
      return;
    }
    if (drawTimeline && faces.length) {
      // thousands of dots only blur the chart (and slow a phone): keep an even sample
      const every = Math.ceil(faces.length / 3000);
      drawTimeline(every > 1 ? faces.filter((_, i) => i % every === 0) : faces);
    }
    const evidence = faces.filter((f) => f.thumbnail_url).sort((a, b) => b.probability - a.probability);
    if (!evidence.length) {
      note.textContent = `${faces.length} faces were scored; no face images are stored for this job (they may have been deleted).`;
      return;
    }
    note.textContent = `${evidence.length} of ${faces.length} scored faces have stored images.`;
    const showCards = (n) => {
      clear(list);
      for (const face of evidence.slice(0, n)) list.append(faceCard(face, result.threshold));
    };
    showCards(FACES_SHOWN);
    if (evidence.length > FACES_SHOWN) {
      const more = h("button", { type: "button", class: "button", id: "show-all-faces" }, `Show all ${evidence.length} faces`);
      more.addEventListener("click", () => {
        showCards(evidence.length);
        more.remove();
        list.querySelector("li:nth-child(" + (FACES_SHOWN + 1) + ") img")?.focus();
      });
      section.append(h("div", { class: "actions" }, more));
    }
  }

  function faceImage(url, alt, cls) {
    const img = h("img", { alt, class: cls, width: "160", height: "160", "data-state": "loading" });
    objectUrl(url, signal)
      .then((src) => {
        objectUrls.push(src);
        img.addEventListener("load", () => (img.dataset.state = "loaded"), { once: true });
        img.src = src;
      })
      .catch((err) => {
        if (err.name === "AbortError") return;
        img.dataset.state = "missing";
        img.alt = `${alt} (image not available: ${err.message})`;
      });
    return img;
  }

  function faceCard(face, threshold) {
    const flagged = face.probability >= threshold;
    const where = `at ${clock(face.time_s)}`;
    return h(
      "li",
      { class: "face-card", "data-probability": face.probability },
      h(
        "figure",
        {},
        h(
          "div",
          { class: "face-images" },
          faceImage(face.thumbnail_url, `Face ${where}`, "face-thumb"),
          face.heatmap_url ? faceImage(face.heatmap_url, `Heatmap of the face ${where}`, "face-heatmap") : null,
        ),
        h(
          "figcaption",
          {},
          h("span", { class: `badge ${flagged ? "verdict-fake" : "verdict-real"}` }, `${percent(face.probability)}`),
          h("span", { class: "face-when" }, `${where} · segment ${face.segment_index + 1}`),
        ),
      ),
    );
  }

  // --- media facts and model card ----------------------------------------------------------

  function facts(pairs) {
    return h("dl", { class: "facts" }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "").map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  }

  function mediaSection() {
    const m = job.media;
    return h(
      "section",
      { class: "card", id: "media-facts", "aria-labelledby": "media-heading" },
      h("h2", { id: "media-heading" }, "Media"),
      facts([
        ["File", m.filename || "–"],
        ["Type", m.kind === "video" ? "Video" : "Image"],
        ["Size", bytes(m.size_bytes)],
        ["Duration", m.kind === "video" && m.duration_s !== null ? duration(m.duration_s) : null],
        ["Resolution", m.width && m.height ? `${m.width} × ${m.height}` : null],
        ["Frame rate", m.kind === "video" && m.fps ? `${number(m.fps, 2)} fps` : null],
        ["Submitted", dateTime(job.created_at)],
        ["Finished", job.completed_at ? dateTime(job.completed_at) : null],
        ["Metadata", job.metadata && Object.keys(job.metadata).length ? JSON.stringify(job.metadata) : null],
      ]),
    );
  }

  async function loadModel(slot, result) {
    let card;
    try {
      ({ data: card } = await getJSON("/v1/model", { signal }));
    } catch (err) {
      if (err.name === "AbortError") return;
      clear(slot).append(h("h2", { id: "model-heading" }, "Model"), h("p", {}, `The model card could not be read: ${err.message}`));
      return;
    }
    clear(slot).append(h("h2", { id: "model-heading" }, "Model"));
    if (result && result.model.sha256 !== card.sha256) {
      slot.append(h("p", { class: "notice", id: "model-mismatch" }, `This job was scored by ${result.model.name} ${result.model.version} (${result.model.sha256.slice(0, 12)}…). The card below describes the model served now.`));
    }
    append(
      slot,
      h("p", { class: "model-name", id: "model-name" }, h("strong", {}, card.name), ` ${card.version} `, card.trained ? null : h("span", { class: "badge status-failed", id: "model-untrained" }, "untrained weights")),
      card.warning ? h("p", { class: "notice", id: "model-card-warning" }, h("strong", {}, "Caution: "), card.warning) : null,
      card.description ? h("p", {}, card.description) : null,
      facts([
        ["Threshold", percent(card.threshold, 1)],
        ["Architecture", card.architecture],
        ["Backbone", card.backbone ? `${card.backbone}${card.input_size ? ` at ${card.input_size} px` : ""}` : null],
        ["Created", card.created_at],
        ["SHA-256", h("code", { title: card.sha256 }, `${card.sha256.slice(0, 16)}…`)],
      ]),
      trainingBlock(card.training),
      metricsBlock(card.metrics),
    );
  }

  function scalar(v) {
    if (v === null || v === undefined) return "–";
    if (typeof v === "number") return number(v, 4);
    if (typeof v === "boolean") return v ? "yes" : "no";
    if (typeof v === "object") {
      return Object.entries(v)
        .filter(([, x]) => typeof x !== "object" || x === null)
        .map(([k, x]) => `${k}: ${scalar(x)}`)
        .join(", ");
    }
    return String(v);
  }

  function trainingBlock(training) {
    const entries = Object.entries(training || {});
    if (!entries.length) return h("p", { class: "hint" }, "This checkpoint records no training data.");
    const { description, config: trainConfig, ...rest } = training;
    return h(
      "div",
      { class: "training", id: "model-training" },
      h("h3", {}, "Trained on"),
      description ? h("p", {}, String(description)) : null,
      facts(Object.entries(rest).map(([k, v]) => [k.replaceAll("_", " "), scalar(v)])),
      trainConfig ? h("details", {}, h("summary", {}, "Full training configuration"), h("pre", {}, JSON.stringify(trainConfig, null, 2))) : null,
    );
  }

  function metricsBlock(metrics) {
    const groups = [];
    for (const [dataset, value] of Object.entries(metrics || {})) {
      if (!value || typeof value !== "object") continue;
      const rows = Object.entries(value)
        .filter(([, m]) => m && typeof m === "object" && "f1" in m)
        .map(([level, m]) =>
          h(
            "tr",
            { class: "metric-row" },
            h("th", { scope: "row" }, level.replaceAll("_", " ")),
            h("td", { class: "num" }, number(m.f1)),
            h("td", { class: "num" }, number(m.roc_auc)),
            h("td", { class: "num" }, number(m.log_loss)),
            h("td", { class: "num" }, number(m.precision)),
            h("td", { class: "num" }, number(m.recall)),
            h("td", { class: "num" }, m.n === undefined ? "–" : String(m.n)),
          ),
        );
      if (rows.length) groups.push(h("tbody", {}, h("tr", { class: "group-row" }, h("th", { colspan: "7", scope: "colgroup" }, dataset)), rows));
    }
    if (!groups.length) return h("p", { class: "hint", id: "model-metrics" }, "No measured metrics are recorded in this checkpoint.");
    return h(
      "div",
      { class: "metrics", id: "model-metrics" },
      h("h3", {}, "Measured"),
      h(
        "div",
        { class: "table-scroll" },
        h("table", { class: "data-table" }, h("thead", {}, h("tr", {}, ["Level", "F1", "ROC-AUC", "Log loss", "Precision", "Recall", "N"].map((c, i) => h("th", { scope: "col", class: i ? "num" : null }, c)))), groups),
      ),
    );
  }

  // --- webhook deliveries ------------------------------------------------------------------

  let deliveryChecks = 0;
  let deliveryTimer = null;

  async function loadDeliveries(slot) {
    deliveryTimer = null;
    let data;
    try {
      ({ data } = await getJSON(`/v1/jobs/${encodeURIComponent(jobId)}/deliveries`, { signal }));
    } catch (err) {
      if (err.name === "AbortError") return;
      if (err instanceof ApiError && err.status === 404) return; // not served for this job
      slot.hidden = false;
      clear(slot).append(h("h2", { id: "deliveries-heading" }, "Webhook deliveries"), h("p", {}, `The delivery log could not be read: ${err.message}`));
      return;
    }
    const items = Array.isArray(data) ? data : data.items || data.deliveries || [];
    // follow deliveries still being tried (retries back off for seconds to minutes)
    deliveryChecks += 1;
    const unsettled = items.some((d) => d.status === "pending" || d.status === "sending");
    if ((unsettled || (job.callback_url && !items.length)) && deliveryChecks < 60) {
      deliveryTimer = setTimeout(() => loadDeliveries(slot), Math.max(config.poll_after_s, 2) * 1000);
    }
    if (!items.length && !job.callback_url) return;
    slot.hidden = false;
    clear(slot).append(h("h2", { id: "deliveries-heading" }, "Webhook deliveries"));
    if (!items.length) {
      slot.append(h("p", {}, `No delivery to ${job.callback_url} yet.`));
      return;
    }
    for (const d of items) {
      const attempts = Array.isArray(d.attempts) ? d.attempts : [];
      slot.append(
        h(
          "div",
          { class: "delivery", "data-status": d.status || "" },
          h("p", {}, h("strong", {}, d.event_type || d.type || "event"), " → ", h("code", {}, d.url || job.callback_url || ""), " ", h("span", { class: `badge delivery-${d.status}` }, d.status || "")),
          attempts.length
            ? h(
                "div",
                { class: "table-scroll" },
                h(
                  "table",
                  { class: "data-table" },
                  h("thead", {}, h("tr", {}, ["Attempt", "Started", "Response", "Time", "Error"].map((c) => h("th", { scope: "col" }, c)))),
                  h(
                    "tbody",
                    {},
                    attempts.map((a) =>
                      h(
                        "tr",
                        {},
                        h("td", {}, String(a.number ?? "")),
                        h("td", {}, a.started_at ? dateTime(a.started_at) : "–"),
                        h("td", {}, a.status_code ? String(a.status_code) : "–"),
                        h("td", {}, a.duration_ms !== undefined && a.duration_ms !== null ? `${a.duration_ms} ms` : "–"),
                        h("td", {}, a.error || ""),
                      ),
                    ),
                  ),
                ),
              )
            : h("p", { class: "hint" }, `${typeof d.attempts === "number" ? d.attempts : 0} attempt(s)${d.next_attempt_at ? `; next at ${dateTime(d.next_attempt_at)}` : ""}.`),
        ),
      );
    }
  }

  // --- delete ------------------------------------------------------------------------------

  function openDeleteDialog() {
    const purge = h("input", { type: "checkbox", id: "purge", checked: true });
    const error = h("p", { class: "error", role: "alert" });
    const confirm = h("button", { type: "button", class: "button button-danger", id: "confirm-delete" }, "Delete");
    const cancel = h("button", { type: "button", class: "button", id: "cancel-delete" }, "Keep it");
    const dialog = h(
      "dialog",
      { class: "dialog", "aria-labelledby": "delete-heading", "aria-describedby": "delete-text" },
      h("h2", { id: "delete-heading" }, isTerminal(job.status) ? "Delete this job?" : "Cancel and delete this job?"),
      h("p", { id: "delete-text" }, "The uploaded file, its segments and the face images are removed from storage. This cannot be undone."),
      h("p", { class: "checkbox" }, purge, h("label", { for: "purge" }, "Also erase the verdict and the job record")),
      error,
      h("div", { class: "actions" }, cancel, confirm),
    );
    const close = () => {
      dialog.close();
      dialog.remove();
      document.getElementById("delete-job")?.focus();
    };
    cancel.addEventListener("click", close);
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      close();
    });
    confirm.addEventListener("click", async () => {
      confirm.disabled = true;
      error.textContent = "";
      try {
        await request(`/v1/jobs/${encodeURIComponent(jobId)}${purge.checked ? "?purge=true" : ""}`, { method: "DELETE", signal });
      } catch (err) {
        if (err.name === "AbortError") return;
        if (!(err instanceof ApiError && err.status === 404)) {
          error.textContent = `Not deleted: ${err.message}`;
          confirm.disabled = false;
          return;
        }
      }
      dialog.close();
      dialog.remove();
      if (purge.checked) {
        flash("The job was deleted.");
        navigate("#/jobs");
      } else {
        flash("The job's media were deleted.");
        renderedFor = null;
        navigate(`#/jobs/${encodeURIComponent(jobId)}`);
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  }

  load();

  return () => {
    controller.abort();
    if (timer) clearTimeout(timer);
    if (deliveryTimer) clearTimeout(deliveryTimer);
    for (const url of objectUrls) URL.revokeObjectURL(url);
    for (const observer of observers) observer.disconnect();
    if (downloadUrl) URL.revokeObjectURL(downloadUrl);
    document.querySelectorAll("dialog.dialog").forEach((d) => d.remove());
  };
}
