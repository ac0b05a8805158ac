// Integrations and what each rejected: count, last error and a sample, so a sender's lost
// payload is visible to the person who can fix the sender.

import { api } from "./api.js";
import { badge, clear, h, table, when } from "./dom.js";

export function mount(root) {
  // Which sample payloads are unfolded: kept across the 10-second refresh.
  const open = new Set();
  const row = (i) => integrationRow(i, open);
  const list = h("div", { id: "integration-list" });
  const unknown = h("div", { id: "unknown-rejections" });

  const refresh = async () => {
    const data = await api("GET", "integrations");
    if (!root.isConnected) return;
    clear(
      list,
      table(
        ["Integration", "Type", "Channel", "Service", "Rejected", "Last rejection"],
        data.integrations.map(row),
        "No integrations are configured.",
      ),
    );
    const r = data.unknown_key_rejections;
    clear(
      unknown,
      r.count
        ? [
            h("p", {}, `${r.count} payload(s) came with a key no integration has.`),
            rejection(r, "", open),
          ]
        : h("p", { class: "muted" }, "None."),
    );
  };

  clear(
    root,
    h("h1", {}, "Integrations"),
    h("section", { class: "card" }, list),
    h("section", { class: "card" }, h("h2", {}, "Unknown integration keys"), unknown),
  );
  return { refresh };
}

function integrationRow(i, open) {
  const r = i.rejections;
  return h(
    "tr",
    { class: r.count ? "rejecting" : "", "data-integration": i.id },
    h("td", {}, h("b", {}, i.name), h("div", { class: "muted small" }, i.id)),
    h("td", {}, i.type),
    h("td", {}, i.channel, " ", badge("kind", i.channel_kind)),
    h("td", {}, i.service || "—"),
    h("td", { class: `num ${r.count ? "bad" : ""}` }, r.count),
    h("td", {}, r.count ? rejection(r, i.id, open) : h("span", { class: "muted" }, "—")),
  );
}

function rejection(r, key, open) {
  const details = r.sample
    ? h(
        "details",
        { open: open.has(key) },
        h("summary", {}, "sample payload"),
        h("pre", {}, sample(r.sample)),
      )
    : null;
  details?.addEventListener("toggle", () => {
    if (details.open) open.add(key);
    else open.delete(key);
  });
  return h(
    "div",
    { class: "rejection" },
    h(
      "div",
      {},
      when(r.last_at),
      r.last_status ? ` · HTTP ${r.last_status}` : null,
      r.last_remote ? ` · from ${r.last_remote}` : null,
    ),
    r.last_error ? h("div", { class: "why" }, r.last_error) : null,
    details,
  );
}

function sample(value) {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}
