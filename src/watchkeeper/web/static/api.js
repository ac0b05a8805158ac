// Talking to the management API: the bearer token from this tab's sessionStorage, and
// problem+json errors turned into ApiError with the title, detail and field the server sent.

import { h } from "./dom.js";

const BASE = new URL("../api/v1/", location.href);
const TOKEN_KEY = "watchkeeper.token";

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

// Listeners called when the server says the token is not (or no longer) good.
const unauthorized = new Set();
export function onUnauthorized(callback) {
  unauthorized.add(callback);
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json, application/problem+json" };
  const secret = token.get();
  if (secret) headers.Authorization = `Bearer ${secret}`;
  const init = { method, headers, cache: "no-store", redirect: "error" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(new URL(path, BASE), init);
  } catch (err) {
    throw new ApiError(0, { title: "Server unreachable", detail: String(err.message || err) });
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const problem =
      data && typeof data === "object" && !Array.isArray(data)
        ? data
        : { title: response.statusText || "Error", detail: text.slice(0, 500) };
    const error = new ApiError(response.status, problem);
    if (response.status === 401) for (const callback of unauthorized) callback(error);
    throw error;
  }
  return data;
}

export function query(path, params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v !== "" && v !== null && v !== undefined) search.append(name, String(v));
    }
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

// What went wrong, as the server said it: title (status), detail, the field, what is allowed.
export function problemView(error) {
  const p = error instanceof ApiError ? error.problem : { title: "Error", detail: String(error) };
  const status = error instanceof ApiError && error.status ? ` (${error.status})` : "";
  const rows = [];
  if (p.field) rows.push(h("div", {}, h("b", {}, "Field: "), h("code", {}, p.field)));
  if (p.allowed) rows.push(h("div", {}, h("b", {}, "Allowed: "), String(p.allowed)));
  const more = Array.isArray(p.errors) && p.errors.length > 1 ? p.errors : [];
  return h(
    "div",
    { class: "problem", role: "alert" },
    h("div", { class: "problem-title" }, `${p.title || "Error"}${status}`),
    p.detail ? h("div", { class: "problem-detail" }, String(p.detail)) : null,
    rows,
    more.length
      ? h(
          "ul",
          {},
          more.map((e) =>
            h("li", {}, h("code", {}, e.field || e.path || "?"), ": ", e.message || ""),
          ),
        )
      : null,
  );
}
