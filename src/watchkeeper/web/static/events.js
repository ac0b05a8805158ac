// Recent events and the decision taken on each: the answer to "why wasn't I paged?".

import { api, query } from "./api.js";
import { clear, field, h, hashParams, select, setHashParams } from "./dom.js";
import { eventsTable } from "./ticket.js";

const DECISIONS = [
  "converged",
  "deduplicated",
  "duplicate",
  "muted",
  "unmuted",
  "dropped",
  "unrouted",
  "ignored",
  "acknowledged",
  "resolved",
  "heartbeat",
];

export function mount(root, _params, ctx) {
  const initial = hashParams();
  const decision = select(
    "decision",
    [["", "All decisions"], ...DECISIONS.map((d) => [d, d])],
    initial.get("decision") || "",
  );
  const service = select("service", [["", "All services"]], "");
  const dedupKey = h("input", {
    type: "search",
    name: "dedup_key",
    id: "dedup_key",
    placeholder: "exact dedup key",
    value: initial.get("dedup_key") || "",
  });
  const alertId = initial.get("alert_id") || "";
  let wantedService = initial.get("service") || "";
  const list = h("div", { id: "event-list" });
  const allLink = h("a", { href: "#/events" }, "all events");

  const filters = () => ({
    decision: decision.value,
    service: service.value,
    dedup_key: dedupKey.value.trim(),
    alert_id: alertId,
  });
  const refresh = async () => {
    const services = await ctx.services();
    if (service.options.length !== services.length + 1) {
      clear(
        service,
        h("option", { value: "" }, "All services"),
        services.map((id) => h("option", { value: id }, id)),
      );
      service.value = services.includes(wantedService) ? wantedService : "";
    }
    const data = await api("GET", query("events", { ...filters(), limit: 200 }));
    if (!root.isConnected) return;
    clear(list, eventsTable(data.events, { withTicket: true }));
  };
  const changed = () => {
    wantedService = service.value;
    setHashParams("/events", filters());
    refresh();
  };
  decision.addEventListener("change", changed);
  service.addEventListener("change", changed);
  dedupKey.addEventListener("change", changed);

  clear(
    root,
    h(
      "div",
      { class: "toolbar" },
      h("h1", {}, "Events"),
      field("Decision", decision),
      field("Service", service),
      field("Dedup key", dedupKey),
      alertId
        ? h("span", { class: "summary" }, `alert #${alertId} only · `, allLink)
        : null,
    ),
    h(
      "p",
      { class: "muted" },
      "Every event received, newest first, with what was done with it and why. A muted, " +
        "dropped or unrouted event opened no ticket and paged nobody.",
    ),
    list,
  );
  return { refresh };
}
