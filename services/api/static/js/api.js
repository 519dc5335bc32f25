// The console's only way to the server: the public /v1 API, with the API key (if any) from
// sessionStorage. Errors become ApiError carrying the server's RFC 9457 problem document.

const KEY = "dfs.apiKey";

export const auth = {
  get key() {
    return sessionStorage.getItem(KEY);
  },
  set(key) {
    sessionStorage.setItem(KEY, key);
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
};

export class ApiError extends Error {
  constructor(status, problem) {
    const p = problem || {};
    super(p.detail || p.title || (status ? `The server answered ${status}.` : "The server could not be reached."));
    this.name = "ApiError";
    this.status = status;
    this.problem = p;
  }

  /** Field-level messages of a 422 (`errors[]`), as "field: message" lines. */
  get fieldErrors() {
    const errors = Array.isArray(this.problem.errors) ? this.problem.errors : [];
    return errors.map((e) => (e.field ? `${e.field}: ${e.message}` : String(e.message || "")));
  }
}

const NETWORK_PROBLEM = {
  title: "Network error",
  detail: "The server could not be reached. Check your connection and try again.",
};

function authHeaders(extra = {}) {
  const headers = { Accept: "application/json, application/problem+json", ...extra };
  const key = auth.key;
  if (key) headers.Authorization = `Bearer ${key}`;
  return headers;
}

function unauthorized(problem) {
  window.dispatchEvent(new CustomEvent("dfs:unauthorized", { detail: problem }));
}

async function readProblem(res) {
  const type = res.headers.get("Content-Type") || "";
  try {
    if (type.includes("json")) return await res.json();
    const text = await res.text();
    return { title: res.statusText || `HTTP ${res.status}`, detail: text.slice(0, 300) || undefined };
  } catch {
    return { title: res.statusText || `HTTP ${res.status}` };
  }
}

/** fetch() with the API key; throws ApiError on a non-2xx answer or a network failure. */
export async function request(path, { method = "GET", signal, headers, skipAuthEvent = false } = {}) {
  let res;
  try {
    res = await fetch(path, { method, signal, headers: authHeaders(headers), credentials: "omit", cache: "no-store" });
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new ApiError(0, NETWORK_PROBLEM);
  }
  if (!res.ok) {
    const problem = await readProblem(res);
    if (res.status === 401 && !skipAuthEvent) unauthorized(problem);
    throw new ApiError(res.status, problem);
  }
  return res;
}

export async function getJSON(path, options) {
  const res = await request(path, options);
  return { data: res.status === 204 ? null : await res.json(), res };
}

/** Seconds the server asks us to wait before polling again (Retry-After), within sane bounds. */
export function retryAfter(res, fallback) {
  const raw = res.headers.get("Retry-After");
  const seconds = raw === null ? NaN : Number(raw);
  const value = Number.isFinite(seconds) ? seconds : fallback;
  return Math.min(Math.max(value, 1), 60);
}

export function getConfig() {
  return getJSON("/v1/config").then(({ data }) => data);
}

/**
 * POST /v1/jobs with XMLHttpRequest, because fetch() cannot report upload progress.
 * onProgress(loadedBytes, totalBytes) is called as the body goes out.
 * Returns {promise, abort}; the promise resolves to the created Job.
 */
export function uploadJob(file, fields, { onProgress } = {}) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields || {})) {
      if (value !== undefined && value !== null && value !== "") form.append(name, value);
    }
    form.append("file", file, file.name);
    xhr.open("POST", "/v1/jobs");
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener("progress", (event) => {
      if (onProgress) onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = { title: `HTTP ${xhr.status}`, detail: xhr.responseText.slice(0, 300) };
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body);
        return;
      }
      if (xhr.status === 401) unauthorized(body);
      reject(new ApiError(xhr.status, body));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, NETWORK_PROBLEM)));
    xhr.addEventListener("abort", () => reject(new DOMException("Upload cancelled", "AbortError")));
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

/** An artifact (image) fetched with the API key, as an object URL the caller must revoke. */
export async function objectUrl(path, signal) {
  const res = await request(path, { signal, headers: { Accept: "image/*" } });
  return URL.createObjectURL(await res.blob());
}

/** POST/DELETE with a JSON body (or none); resolves to the parsed answer. */
export async function sendJSON(path, method, body) {
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: authHeaders(body === undefined ? {} : { "Content-Type": "application/json" }),
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, NETWORK_PROBLEM);
  }
  if (!res.ok) {
    const problem = await readProblem(res);
    if (res.status === 401) unauthorized(problem);
    throw new ApiError(res.status, problem);
  }
  return res.status === 204 ? null : res.json();
}

/**
 * Server-sent events of a live stream, read with fetch() (EventSource cannot send the API key).
 * onEvent({id, event, data}) per event; a dropped connection is resumed with Last-Event-ID.
 * Returns a function that stops listening. onEnd() runs after the stream's final event.
 */
export function streamEvents(streamId, { onEvent, onEnd, onError }) {
  const controller = new AbortController();
  let last = 0;
  let stopped = false;
  const run = async () => {
    while (!stopped) {
      try {
        const res = await request(`/v1/streams/${encodeURIComponent(streamId)}/events`, {
          signal: controller.signal,
          headers: { Accept: "text/event-stream", "Last-Event-ID": String(last) },
        });
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const fields = {};
            for (const line of block.split("\n")) {
              if (!line || line.startsWith(":")) continue;
              const at = line.indexOf(":");
              fields[line.slice(0, at)] = line.slice(at + 1).replace(/^ /, "");
            }
            if (!fields.event) continue;
            last = Number(fields.id) || last;
            onEvent({ id: last, event: fields.event, data: JSON.parse(fields.data) });
          }
        }
        if (onEnd) onEnd();
        return; // the server ends the response after the final status
      } catch (err) {
        if (stopped || (err && err.name === "AbortError")) return;
        if (onError) onError(err);
        if (err instanceof ApiError && err.status >= 400 && err.status < 500) return;
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    }
  };
  run();
  return () => {
    stopped = true;
    controller.abort();
  };
}
