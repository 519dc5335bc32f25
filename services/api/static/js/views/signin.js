// Sign-in with an API key. The key lives in sessionStorage only: gone when the tab closes.

import { ApiError, auth, request } from "../api.js";
import { h } from "../dom.js";

export function mountSignIn(root, { navigate, setTitle, params }) {
  setTitle("Sign in");
  const query = new URLSearchParams(params[0] || "");
  const next = query.get("next") || "#/";
  const safeNext = next.startsWith("#/") && !next.startsWith("#/signin") ? next : "#/";

  const input = h("input", {
    id: "api-key",
    name: "api-key",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    "aria-describedby": "api-key-help",
  });
  const error = h("p", { id: "signin-error", class: "error", role: "alert" });
  const submit = h("button", { type: "submit", class: "button button-primary" }, "Sign in");
  let controller = null;

  const form = h(
    "form",
    {
      class: "card narrow",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        error.textContent = "";
        const key = input.value.trim();
        if (!key) {
          error.textContent = "Enter your API key.";
          input.focus();
          return;
        }
        submit.disabled = true;
        submit.textContent = "Checking…";
        controller = new AbortController();
        auth.set(key);
        try {
          // Any authenticated read proves the key; listing one job is the cheapest.
          await request("/v1/jobs?limit=1", { signal: controller.signal, skipAuthEvent: true });
          navigate(safeNext, { replace: true });
        } catch (err) {
          if (err.name === "AbortError") return;
          auth.clear();
          error.textContent =
            err instanceof ApiError && err.status === 401 ? `That key was not accepted: ${err.message}` : err.message;
          input.focus();
        } finally {
          submit.disabled = false;
          submit.textContent = "Sign in";
        }
      },
    },
    h("label", { for: "api-key" }, "API key"),
    input,
    h(
      "p",
      { id: "api-key-help", class: "hint" },
      "Your administrator gives you a key starting with dfs_. It is kept in this browser tab only and forgotten when you close it.",
    ),
    error,
    h("div", { class: "actions" }, submit),
  );

  root.append(h("h1", {}, "Sign in"), h("p", { class: "lead" }, "This DeepfakeStream server needs an API key."), form);
  input.focus();
  return () => controller && controller.abort();
}
