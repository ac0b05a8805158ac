// Building the page from data without ever parsing data as HTML: text goes in as text nodes,
// links only to http(s), and event handlers only from our own code.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) {
      if (typeof value !== "function") throw new TypeError(`${name} must be a function`);
      el.addEventListener(name.slice(2), value);
    } else if (name === "href") {
      const safe = safeUrl(value);
      if (safe !== null) el.setAttribute("href", safe);
    } else if (name === "class") {
      el.className = value;
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  add(el, children);
  return el;
}

export function add(el, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  return add(el, children);
}

// A URL we are willing to put in an href: our own #routes, or an absolute http(s) URL.
export function safeUrl(value) {
  const text = String(value ?? "");
  if (text.startsWith("#")) return text;
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

// A link that leaves the console (from an alert's payload): shown as text if it is not http(s).
export function outLink(url, text) {
  const safe = safeUrl(url);
  if (safe === null || safe.startsWith("#")) return h("span", { class: "muted" }, text || url);
  return h("a", { href: safe, target: "_blank", rel: "noopener noreferrer" }, text || safe);
}

export function when(iso) {
  if (!iso) return h("span", { class: "muted" }, "—");
  const date = new Date(iso);
  return h("time", { datetime: iso, title: iso }, `${localTime(date)} (${ago(date)})`);
}

export function localTime(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

export function ago(date) {
  const seconds = Math.round((Date.now() - date.getTime()) / 1000);
  const n = Math.abs(seconds);
  const [m, hr, d] = [Math.floor(n / 60), Math.floor(n / 3600), Math.floor(n / 86400)];
  let text;
  if (n < 60) text = `${n}s`;
  else if (m < 60) text = `${m}m`;
  else if (hr < 48) text = m % 60 ? `${hr}h ${m % 60}m` : `${hr}h`;
  else text = hr % 24 ? `${d}d ${hr % 24}h` : `${d}d`;
  return seconds < 0 ? `in ${text}` : `${text} ago`;
}

export function badge(kind, text) {
  return h("span", { class: `badge ${kind}-${String(text).replace(/[^a-z0-9_-]/gi, "")}` }, text);
}

export function table(headers, rows, empty = "Nothing here.") {
  if (rows.length === 0) return h("p", { class: "muted empty" }, empty);
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, headers.map((name) => h("th", {}, name)))),
    h("tbody", {}, rows),
  );
}

export function labelList(labels) {
  const entries = Object.entries(labels || {});
  if (entries.length === 0) return h("span", { class: "muted" }, "—");
  return h(
    "span",
    { class: "labels" },
    entries.map(([k, v]) => h("code", { class: "label" }, `${k}=${v}`)),
  );
}

export function select(name, options, value) {
  return h(
    "select",
    { name, id: name },
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)),
  );
}

export function field(label, control) {
  return h("label", { class: "field" }, h("span", {}, label), control);
}

// The query part of the hash route (#/view?x=1) as URLSearchParams.
export function hashParams() {
  const hash = location.hash;
  const q = hash.indexOf("?");
  return new URLSearchParams(q < 0 ? "" : hash.slice(q + 1));
}

// Put filters in the address without a hashchange (which would rebuild the view).
export function setHashParams(path, params) {
  const query = new URLSearchParams(
    Object.entries(params).filter(([, v]) => v !== "" && v !== null && v !== undefined),
  ).toString();
  history.replaceState(null, "", `#${path}${query ? `?${query}` : ""}`);
}
