// The console shell: loads /v1/config, asks for an API key when the server needs one,
// and routes #/ (upload), #/jobs (list), #/jobs/{id} (job) and #/signin to their views.

import { ApiError, auth, getConfig } from "./api.js";
import { clear, h } from "./dom.js";
import { mountJob } from "./views/job.js";
import { mountJobs } from "./views/jobs.js";
import { mountSignIn } from "./views/signin.js";
import { mountStream } from "./views/stream.js";
import { mountStreams } from "./views/streams.js";
import { mountUpload } from "./views/upload.js";

const main = document.getElementById("main");
const flashRegion = document.getElementById("flash");
const signOut = document.getElementById("sign-out");

let config = null;
let cleanup = null;
let pendingFlash = null;

const ROUTES = [
  { name: "signin", pattern: /^#\/signin(?:\?(.*))?$/, mount: mountSignIn, public: true },
  { name: "job", pattern: /^#\/jobs\/([0-9A-Za-z]{1,64})$/, mount: mountJob },
  { name: "jobs", pattern: /^#\/jobs(?:\?(.*))?$/, mount: mountJobs },
  { name: "stream", pattern: /^#\/streams\/([0-9A-Za-z]{1,64})$/, mount: mountStream },
  { name: "streams", pattern: /^#\/streams$/, mount: mountStreams },
  { name: "upload", pattern: /^(?:#\/?)?$/, mount: mountUpload },
];

export function navigate(hash, { replace = false } = {}) {
  if (location.hash === hash) {
    render();
  } else if (replace) {
    history.replaceState(null, "", hash);
    render();
  } else {
    location.hash = hash;
  }
}

/** A message shown (and announced) on the next page, e.g. "Job deleted". */
export function flash(message, kind = "info") {
  pendingFlash = { message, kind };
}

function showFlash() {
  clear(flashRegion);
  if (!pendingFlash) return;
  const { message, kind } = pendingFlash;
  pendingFlash = null;
  flashRegion.append(h("p", { class: `flash flash-${kind}` }, message));
}

function setTitle(title) {
  document.title = title ? `${title} · DeepfakeStream` : "DeepfakeStream";
}

function markNav(name) {
  for (const link of document.querySelectorAll("[data-nav]")) {
    const active =
      link.dataset.nav === name ||
      (name === "job" && link.dataset.nav === "jobs") ||
      (name === "stream" && link.dataset.nav === "streams");
    if (active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function updateSignOut() {
  signOut.hidden = !(config && config.auth_required && auth.key);
}

function render({ focus = true } = {}) {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const hash = location.hash || "#/";
  let route = ROUTES.find((r) => r.pattern.test(hash));
  if (!route) route = ROUTES[ROUTES.length - 1];
  const match = hash.match(route.pattern) || [];
  if (config.auth_required && !auth.key && !route.public) {
    history.replaceState(null, "", `#/signin?next=${encodeURIComponent(hash)}`);
    render({ focus });
    return;
  }
  clear(main);
  showFlash();
  markNav(route.name);
  updateSignOut();
  const ctx = { config, navigate, flash, setTitle, params: match.slice(1) };
  cleanup = route.mount(main, ctx) || null;
  if (focus) {
    const heading = main.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: false });
    }
  }
}

function showFatal(err) {
  clear(main);
  setTitle("Unavailable");
  main.append(
    h("h1", {}, "The service is not reachable"),
    h("p", { class: "error", role: "alert" }, err instanceof ApiError ? err.message : String(err)),
    h("p", {}, h("button", { type: "button", class: "button", onclick: () => location.reload() }, "Try again")),
  );
}

async function start() {
  try {
    config = await getConfig();
  } catch (err) {
    showFatal(err);
    return;
  }
  window.addEventListener("hashchange", () => render());
  window.addEventListener("dfs:unauthorized", () => {
    if (!config.auth_required) return;
    auth.clear();
    flash("Your API key was not accepted. Please sign in again.", "error");
    const next = location.hash.startsWith("#/signin") ? "#/" : location.hash || "#/";
    navigate(`#/signin?next=${encodeURIComponent(next)}`, { replace: true });
  });
  // "#main" would be taken for a route: move focus instead of changing the address
  document.querySelector(".skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    main.focus();
  });
  signOut.addEventListener("click", () => {
    auth.clear();
    flash("Signed out. The API key was removed from this tab.");
    navigate("#/signin", { replace: true });
  });
  render({ focus: false });
}

start();
