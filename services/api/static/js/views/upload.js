// Upload: drag-and-drop or the file picker, checked here for type and size, sent with a real
// progress bar (bytes sent), then handed to the job page, which follows the job live.

import { ApiError, uploadJob } from "../api.js";
import { clear, h } from "../dom.js";
import { bytes, percent } from "../format.js";

/** Accepted extensions and MIME types, from the server's /v1/config. */
function acceptance(config) {
  const extensions = new Set();
  const mimes = new Set();
  for (const t of config.accepted_types) {
    mimes.add(t.mime);
    for (const ext of t.extensions) extensions.add(ext.toLowerCase());
  }
  return { extensions, mimes };
}

function describeTypes(config) {
  const names = (kind) =>
    config.accepted_types
      .filter((t) => t.kind === kind)
      .map((t) => t.extensions[0].toUpperCase())
      .join(", ");
  return `Videos: ${names("video")}. Images: ${names("image")}. Up to ${bytes(config.max_upload_bytes)}.`;
}

/** Why this file cannot be sent, or null. The server judges by content and has the last word. */
export function checkFile(file, config) {
  const { extensions, mimes } = acceptance(config);
  const ext = file.name.includes(".") ? file.name.split(".").pop().toLowerCase() : "";
  if (!extensions.has(ext) && !mimes.has(file.type)) {
    return `“${file.name}” is not a supported file type. ${describeTypes(config)}`;
  }
  if (file.size === 0) return `“${file.name}” is empty.`;
  if (file.size > config.max_upload_bytes) {
    return `“${file.name}” is ${bytes(file.size)}; the largest upload this server takes is ${bytes(config.max_upload_bytes)}.`;
  }
  return null;
}

export function mountUpload(root, { config, navigate, setTitle }) {
  setTitle("Analyse");
  const { extensions, mimes } = acceptance(config);
  const accept = [...[...extensions].map((e) => `.${e}`), ...mimes].join(",");

  let selected = null;
  let upload = null;

  const fileInput = h("input", { id: "file", name: "file", type: "file", accept, class: "visually-hidden" });
  const dropzone = h(
    "div",
    { class: "dropzone", id: "dropzone" },
    h("p", { class: "dropzone-title" }, "Drop a video or photo here"),
    h("p", {}, "or"),
    fileInput,
    h("label", { for: "file", class: "button button-primary" }, "Choose a file"),
    h("p", { class: "hint", id: "types-hint" }, describeTypes(config)),
  );

  const chosen = h("p", { class: "chosen", id: "chosen", "aria-live": "polite" });
  const error = h("div", { class: "error-box", id: "upload-error", role: "alert" });
  const callbackInput = h("input", {
    id: "callback-url",
    name: "callback_url",
    type: "url",
    inputmode: "url",
    placeholder: "https://example.org/hooks/deepfakestream",
    "aria-describedby": "callback-help",
  });
  const metadataInput = h("textarea", {
    id: "metadata",
    name: "metadata",
    rows: "3",
    spellcheck: "false",
    placeholder: '{"case": "A-17"}',
    "aria-describedby": "metadata-help",
  });
  const options = h(
    "details",
    { class: "options" },
    h("summary", {}, "Options (webhook, case metadata)"),
    h("label", { for: "callback-url" }, "Webhook URL"),
    callbackInput,
    h("p", { class: "hint", id: "callback-help" }, "Optional. Called when the job ends."),
    h("label", { for: "metadata" }, "Metadata (JSON object)"),
    metadataInput,
    h("p", { class: "hint", id: "metadata-help" }, "Optional, at most 4 KB. Stored with the job and returned with it."),
  );
  const submit = h("button", { type: "submit", class: "button button-primary", id: "start-upload", disabled: true }, "Upload and analyse");

  const progress = h("progress", { id: "upload-progress", max: "1", value: "0", "aria-describedby": "upload-progress-text" });
  const progressText = h("p", { id: "upload-progress-text", class: "progress-text" });
  const cancel = h("button", { type: "button", class: "button", id: "cancel-upload" }, "Cancel upload");
  const progressLabel = h("label", { for: "upload-progress", id: "upload-progress-label" }, "Uploading");
  const progressBox = h("div", { class: "card progress-box", id: "upload-status", hidden: true }, progressLabel, progress, progressText, h("div", { class: "actions" }, cancel));

  function showError(message, details = []) {
    clear(error);
    if (!message) return;
    error.append(h("p", {}, message));
    if (details.length) error.append(h("ul", {}, details.map((d) => h("li", {}, d))));
  }

  function choose(file) {
    showError(null);
    selected = null;
    submit.disabled = true;
    clear(chosen);
    if (!file) return;
    const problem = checkFile(file, config);
    if (problem) {
      showError(problem);
      return;
    }
    selected = file;
    chosen.append("Selected: ", h("strong", {}, file.name), ` (${bytes(file.size)})`);
    submit.disabled = false;
  }

  fileInput.addEventListener("change", () => choose(fileInput.files[0] || null));
  for (const type of ["dragenter", "dragover"]) {
    dropzone.addEventListener(type, (event) => {
      event.preventDefault();
      dropzone.classList.add("dragging");
    });
  }
  for (const type of ["dragleave", "dragend"]) dropzone.addEventListener(type, () => dropzone.classList.remove("dragging"));
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropzone.classList.remove("dragging");
    const files = event.dataTransfer && event.dataTransfer.files;
    if (files && files.length > 1) {
      showError("Drop one file at a time.");
      return;
    }
    choose(files && files[0] ? files[0] : null);
  });

  const warnOnLeave = (event) => {
    event.preventDefault();
    event.returnValue = "";
  };

  function setBusy(busy) {
    for (const el of [fileInput, callbackInput, metadataInput, submit]) el.disabled = busy || (el === submit && !selected);
    dropzone.classList.toggle("disabled", busy);
    progressBox.hidden = !busy;
    if (busy) window.addEventListener("beforeunload", warnOnLeave);
    else window.removeEventListener("beforeunload", warnOnLeave);
  }

  function onProgress(loaded, total) {
    progress.max = total;
    progress.value = Math.min(loaded, total);
    progressText.textContent =
      loaded >= total
        ? `${bytes(total)} sent. Waiting for the server to store it…`
        : `${bytes(loaded)} of ${bytes(total)} sent (${percent(loaded / total, 0)})`;
  }

  const form = h(
    "form",
    {
      class: "upload-form",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        if (!selected || upload) return;
        showError(null);
        const file = selected;
        progressLabel.textContent = `Uploading ${file.name}`;
        onProgress(0, file.size);
        setBusy(true);
        upload = uploadJob(file, { callback_url: callbackInput.value.trim(), metadata: metadataInput.value.trim() }, { onProgress });
        cancel.focus();
        try {
          const job = await upload.promise;
          upload = null;
          setBusy(false);
          navigate(`#/jobs/${encodeURIComponent(job.id)}`);
        } catch (err) {
          upload = null;
          setBusy(false);
          if (err.name === "AbortError") {
            showError("Upload cancelled.");
          } else if (err instanceof ApiError) {
            const lead = err.status ? `The server refused the file: ${err.message}` : err.message;
            showError(lead, err.fieldErrors);
          } else {
            showError(String(err));
          }
          submit.focus();
        }
      },
    },
    dropzone,
    chosen,
    error,
    options,
    h("div", { class: "actions" }, submit),
  );
  cancel.addEventListener("click", () => upload && upload.abort());

  root.append(
    h("h1", {}, "Analyse a video or photo"),
    h(
      "p",
      { class: "lead" },
      "DeepfakeStream looks at every face in your file and estimates how likely it is that the faces were swapped or synthesised. You will see the verdict, when in the video the model was suspicious, and the faces it looked at.",
    ),
    form,
    progressBox,
  );

  return () => {
    window.removeEventListener("beforeunload", warnOnLeave);
    if (upload) upload.abort();
  };
}
