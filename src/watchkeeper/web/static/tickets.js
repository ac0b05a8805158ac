// The ticket list: open tickets first (triggered, then acknowledged), filtered by status,
// service and severity; the filters live in the address so a view can be shared.

import { api, query } from "./api.js";
import { badge, clear, field, h, hashParams, select, setHashParams, table, when } from "./dom.js";

export const STATUSES = [
  ["open", "Open"],
  ["triggered", "Triggered"],
  ["acknowledged", "Acknowledged"],
  ["resolved", "Resolved"],
  ["closed", "Closed"],
  ["all", "All"],
];
export const SEVERITIES = ["critical", "high", "warning", "info"];
const ORDER = { triggered: 0, acknowledged: 1, resolved: 2, closed: 3 };

export function mount(root, _params, ctx) {
  const initial = hashParams();
  const status = select("status", STATUSES, initial.get("status") || "open");
  const service = select("service", [["", "All services"]], "");
  const severity = select(
    "severity",
    [["", "All severities"], ...SEVERITIES.map((s) => [s, s])],
    initial.get("severity") || "",
  );
  let wantedService = initial.get("service") || "";
  const summary = h("span", { class: "summary", id: "ticket-summary" });
  const list = h("div", { id: "ticket-list" });

  const filters = () => ({
    status: status.value,
    service: service.value,
    severity: severity.value,
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
    const rows = await load(filters());
    if (!root.isConnected) return;
    render(rows);
  };
  const changed = () => {
    wantedService = service.value;
    setHashParams("/tickets", filters());
    refresh();
  };
  for (const control of [status, service, severity]) control.addEventListener("change", changed);

  function render(rows) {
    const counts = { triggered: 0, acknowledged: 0 };
    for (const t of rows) if (t.status in counts) counts[t.status] += 1;
    summary.textContent =
      `${rows.length} ticket${rows.length === 1 ? "" : "s"} · ` +
      `${counts.triggered} triggered · ${counts.acknowledged} acknowledged`;
    document.title = counts.triggered ? `(${counts.triggered}) Watchkeeper` : "Watchkeeper";
    clear(
      list,
      table(
        ["#", "Status", "Severity", "Title", "Service", "Alerts", "Who", "Detected", "Last alert"],
        rows.map(row),
        "No tickets match these filters.",
      ),
    );
  }

  clear(
    root,
    h(
      "div",
      { class: "toolbar" },
      h("h1", {}, "Tickets"),
      field("Status", status),
      field("Service", service),
      field("Severity", severity),
      summary,
    ),
    list,
  );
  return { refresh };
}

async function load({ status, service, severity }) {
  const common = { service, severity };
  let rows;
  if (status === "all") {
    // Every open ticket, then the most recent of the rest.
    const [open, recent] = await Promise.all([
      api("GET", query("tickets", { ...common, status: "open", limit: 500 })),
      api("GET", query("tickets", { ...common, limit: 200 })),
    ]);
    const seen = new Set(open.tickets.map((t) => t.id));
    rows = [...open.tickets, ...recent.tickets.filter((t) => !seen.has(t.id))];
  } else {
    rows = (await api("GET", query("tickets", { ...common, status, limit: 500 }))).tickets;
  }
  return rows.sort((a, b) => (ORDER[a.status] ?? 9) - (ORDER[b.status] ?? 9) || b.id - a.id);
}

function row(t) {
  const link = `#/tickets/${t.id}`;
  return h(
    "tr",
    { class: `ticket status-${t.status}`, "data-ticket": t.id },
    h("td", {}, h("a", { href: link }, `#${t.id}`)),
    h("td", {}, badge("status", t.status), t.false_alarm ? badge("flag", "false alarm") : null),
    h("td", {}, badge("severity", t.severity)),
    h("td", { class: "title" }, h("a", { href: link }, t.title)),
    h("td", {}, t.service),
    h("td", { class: "num" }, t.alert_count),
    h("td", {}, t.acknowledged_by || t.assignee || ""),
    h("td", {}, when(t.detected)),
    h("td", {}, when(t.last_alert_at)),
  );
}
