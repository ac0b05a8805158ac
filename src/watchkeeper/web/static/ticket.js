// One ticket: its quality timestamps, alerts (with mute reasons), events (with the decision
// taken on each, and why), timeline, and the operations a responder needs.

import { api, problemView } from "./api.js";
import { badge, clear, field, h, labelList, outLink, select, table, when } from "./dom.js";
import { SEVERITIES } from "./tickets.js";

const QUALITY = [
  ["impact_start", "Impact start"],
  ["detected", "Detected"],
  ["acknowledged", "Acknowledged", "acknowledged_by"],
  ["localized", "Localized"],
  ["mitigated", "Mitigated"],
  ["resolved", "Resolved", "resolved_by"],
  ["closed", "Closed"],
];

// Which buttons make sense in which state; the server has the last word and says why not.
const OPERATIONS = [
  ["acknowledge", "Acknowledge", ["triggered"]],
  ["unacknowledge", "Unacknowledge", ["acknowledged"]],
  ["resolve", "Resolve", ["triggered", "acknowledged"]],
  ["reopen", "Reopen", ["resolved"]],
  ["escalate", "Escalate", ["triggered", "acknowledged"]],
];

export function mount(root, { id }, ctx) {
  let current = null;
  const header = h("div", { class: "ticket-header" });
  const body = h("div", { class: "ticket-body" });
  const actions = actionPanel(id, ctx, () => current, () => refresh());

  const refresh = async () => {
    const t = await api("GET", `tickets/${id}`);
    if (!root.isConnected) return;
    const first = current === null;
    current = t;
    renderHeader(header, t);
    renderBody(body, t);
    actions.update(t, first);
  };

  clear(
    root,
    h("a", { href: "#/tickets", class: "back" }, "← Tickets"),
    header,
    h("div", { class: "ticket-grid" }, body, actions.el),
  );
  return { refresh };
}

function renderHeader(el, t) {
  document.title = `#${t.id} ${t.title} · Watchkeeper`;
  clear(
    el,
    h("h1", {}, h("span", { class: "muted" }, `#${t.id} `), t.title),
    h(
      "div",
      { class: "chips" },
      badge("status", t.status),
      badge("severity", t.severity),
      t.false_alarm ? badge("flag", "false alarm") : null,
      h("span", {}, "service ", h("b", {}, t.service)),
      t.assignee ? h("span", {}, "assignee ", h("b", {}, t.assignee)) : null,
      t.merged_into
        ? h("span", {}, "merged into ", ticketLink(t.merged_into))
        : null,
    ),
  );
}

function renderBody(el, t) {
  clear(
    el,
    section("Quality timestamps", qualityList(t)),
    section("Alerts", alertsTable(t.alerts)),
    section(
      "Events: what was done with each, and why",
      eventsTable(t.events),
      h(
        "p",
        { class: "muted" },
        "Events that opened no ticket (muted, dropped, unrouted) are on the ",
        h("a", { href: `#/events?service=${encodeURIComponent(t.service)}` }, "Events page"),
        ".",
      ),
    ),
    section("Timeline", timeline(t.timeline)),
  );
}

function ticketLink(id) {
  return h("a", { href: `#/tickets/${id}` }, `#${id}`);
}

function section(title, ...content) {
  return h("section", { class: "card" }, h("h2", {}, title), content);
}

function qualityList(t) {
  const items = [];
  for (const [key, label, by] of QUALITY) {
    items.push(h("dt", {}, label));
    items.push(h("dd", { "data-field": key }, when(t[key]), by && t[by] ? ` by ${t[by]}` : null));
  }
  const rc = t.root_cause || {};
  const rootCause =
    rc.service || rc.category ? `${rc.service || "?"} / ${rc.category || "?"}` : "—";
  const more = [
    ["Channel", [t.channel || "—", " ", t.channel_kind ? badge("kind", t.channel_kind) : null]],
    ["Integration", t.integration || "—"],
    ["First automatic event", when(t.first_automatic_at)],
    ["Severity", [t.severity, t.severity_set_by ? ` (set by ${t.severity_set_by})` : " (alerts)"]],
    ["Root cause", rootCause],
    ["False alarm", t.false_alarm ? "yes" : "no"],
    ["Escalations", `${t.escalation_count} (round ${t.round})`],
    ["Responders", t.responders.length ? t.responders.join(", ") : "—"],
    ["Open for grouping", t.open_for_grouping ? "yes" : "no"],
  ];
  for (const [label, value] of more) {
    items.push(h("dt", {}, label));
    items.push(h("dd", {}, value));
  }
  return h("dl", { class: "facts" }, items);
}

function alertsTable(alerts) {
  return table(
    [
      "#",
      "Status",
      "Severity",
      "Summary",
      "Dedup key",
      "Integration",
      "Events",
      "Last event",
      "Muted",
      "Labels",
      "",
    ],
    alerts.map((a) =>
      h(
        "tr",
        { class: a.muted ? "muted-row" : "" },
        h("td", {}, a.id),
        h("td", {}, badge("alert", a.status)),
        h("td", {}, badge("severity", a.severity)),
        h(
          "td",
          { class: "title" },
          a.title || a.summary,
          a.route_reason ? h("div", { class: "muted small" }, `routed: ${a.route_reason}`) : null,
          (a.links || []).map((l) => h("div", { class: "small" }, outLink(l.href, l.text))),
        ),
        h("td", {}, h("code", {}, a.dedup_key)),
        h("td", {}, a.integration),
        h("td", { class: "num" }, a.event_count),
        h("td", {}, when(a.last_event_at)),
        h(
          "td",
          {},
          a.muted ? h("span", { class: "why" }, a.muted_reason) : "no",
          a.muted && a.muted_until ? [" until ", when(a.muted_until)] : null,
        ),
        h("td", {}, labelList(a.labels)),
        h(
          "td",
          { class: "small" },
          h("a", { href: `#/events?alert_id=${a.id}` }, "events"),
          " · ",
          h("a", { href: silenceLink(a) }, "silence…"),
        ),
      ),
    ),
    "No alerts (a ticket opened by hand).",
  );
}

function silenceLink(alert) {
  const labels = alert.labels || {};
  const matchers = [`service="${alert.service}"`];
  if (labels.alertname) matchers.push(`alertname="${labels.alertname.replace(/["\\]/g, "\\$&")}"`);
  return `#/silences?matchers=${encodeURIComponent(matchers.join("\n"))}`;
}

export function eventsTable(events, { withTicket = false } = {}) {
  return table(
    [
      "Received",
      "Integration",
      "Action",
      "Decision",
      "Why",
      "Dedup key",
      "Summary",
      ...(withTicket ? ["Service", "Ticket"] : []),
    ],
    events.map((e) =>
      h(
        "tr",
        { class: `decision-${e.decision}` },
        h("td", {}, when(e.received_at)),
        h("td", {}, e.integration),
        h("td", {}, e.action, e.kind && e.kind !== "alert" ? ` (${e.kind})` : null),
        h("td", {}, badge("decision", e.decision)),
        h("td", { class: "why" }, e.reason || ""),
        h("td", {}, h("code", {}, e.dedup_key || "")),
        h("td", { class: "title" }, e.summary || ""),
        withTicket ? h("td", {}, e.service || "—") : null,
        withTicket
          ? h("td", {}, e.ticket_id ? ticketLink(e.ticket_id) : "—")
          : null,
      ),
    ),
    "No events.",
  );
}

function timeline(entries) {
  if (entries.length === 0) return h("p", { class: "muted" }, "Nothing yet.");
  return h(
    "ol",
    { class: "timeline" },
    entries.map((e) =>
      h(
        "li",
        {},
        when(e.at),
        " ",
        badge("kind", e.kind),
        e.actor ? h("b", {}, ` ${e.actor}`) : null,
        e.message ? h("div", { class: "message" }, e.message) : null,
      ),
    ),
  );
}

function actionPanel(id, ctx, getTicket, refresh) {
  const feedback = h("div", { class: "feedback", id: "action-feedback", "aria-live": "polite" });
  const note = h("input", { type: "text", name: "note", id: "note", placeholder: "optional note" });
  const buttons = OPERATIONS.map(([op, label]) =>
    h(
      "button",
      { type: "button", id: `op-${op}`, "data-op": op, onclick: () => operate(op, label) },
      label,
    ),
  );
  const comment = h("textarea", {
    name: "comment",
    id: "comment",
    rows: 3,
    placeholder: "what you see, what you did",
  });
  const severity = select("set-severity", SEVERITIES.map((s) => [s, s]), "warning");
  const rcService = select("rc-service", [["", "—"]], "");
  const rcCategory = h("input", {
    type: "text",
    id: "rc-category",
    maxlength: 64,
    placeholder: "e.g. deploy, config, capacity",
  });
  const falseAlarm = h("button", {
    type: "button",
    id: "op-false-alarm",
    onclick: () => toggleFalseAlarm(),
  });

  let busy = false;
  async function run(label, call) {
    busy = true;
    for (const b of el.querySelectorAll("button")) b.disabled = true;
    feedback.replaceChildren();
    try {
      await call();
      feedback.replaceChildren(h("div", { class: "ok" }, `${label}: done`));
    } catch (err) {
      feedback.replaceChildren(problemView(err));
    }
    busy = false;
    try {
      await refresh();
    } catch (err) {
      feedback.append(problemView(err));
      const t = getTicket();
      if (t) update(t, false);
    }
  }

  const operate = (op, label) =>
    run(label, async () => {
      await api("POST", `tickets/${id}/${op}`, { note: note.value });
      note.value = "";
    });

  const addComment = () =>
    run("Comment", async () => {
      await api("POST", `tickets/${id}/comments`, { text: comment.value });
      comment.value = "";
    });

  const setSeverity = () =>
    run("Severity", () => api("PATCH", `tickets/${id}`, { severity: severity.value }));

  const setRootCause = () =>
    run("Root cause", () =>
      api("PATCH", `tickets/${id}`, {
        root_cause: { service: rcService.value || null, category: rcCategory.value.trim() || null },
      }),
    );

  const toggleFalseAlarm = () => {
    const marked = getTicket()?.false_alarm ?? false;
    return run(marked ? "Clear false alarm" : "False alarm", () =>
      api("PATCH", `tickets/${id}`, { false_alarm: !marked }),
    );
  };

  function enable(t) {
    for (const b of buttons) {
      const allowed = OPERATIONS.find(([op]) => op === b.dataset.op)[2];
      b.disabled = !allowed.includes(t.status);
    }
    falseAlarm.textContent = t.false_alarm ? "Clear false alarm" : "Mark false alarm";
  }

  async function update(t, first) {
    if (busy) return;
    enable(t);
    for (const b of el.querySelectorAll("button:not([data-op])")) b.disabled = false;
    if (first) {
      severity.value = t.severity;
      const services = await ctx.services();
      const options = services.map((s) => h("option", { value: s }, s));
      clear(rcService, h("option", { value: "" }, "—"), options);
      rcService.value = t.root_cause?.service || "";
      rcCategory.value = t.root_cause?.category || "";
    }
  }

  const el = h(
    "aside",
    { class: "card actions" },
    h("h2", {}, "Actions"),
    feedback,
    field("Note", note),
    h("div", { class: "buttons" }, buttons),
    h("h3", {}, "Comment"),
    comment,
    h("button", { type: "button", id: "op-comment", onclick: addComment }, "Add comment"),
    h("h3", {}, "Severity"),
    h(
      "div",
      { class: "inline" },
      severity,
      h("button", { type: "button", id: "op-severity", onclick: setSeverity }, "Set severity"),
    ),
    h("h3", {}, "Root cause"),
    field("Service", rcService),
    field("Category", rcCategory),
    h("button", { type: "button", id: "op-root-cause", onclick: setRootCause }, "Set root cause"),
    h("h3", {}, "Verdict"),
    falseAlarm,
  );
  return { el, update };
}
