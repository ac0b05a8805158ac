// Silences: who muted what, until when, and why; create one, or expire it early.

import { api, problemView, query } from "./api.js";
import { badge, clear, field, h, hashParams, table, when } from "./dom.js";

const CONFIRM_MS = 4000;

export function mount(root) {
  const initial = hashParams();
  const matchers = h("textarea", {
    name: "matchers",
    id: "silence-matchers",
    rows: 3,
    required: true,
    placeholder: 'one per line, e.g.\nservice="checkout"\nalertname=~"Disk.*"',
  });
  matchers.value = initial.get("matchers") || "";
  const duration = h("input", {
    type: "text",
    name: "duration",
    id: "silence-duration",
    value: "2h",
    required: true,
  });
  const comment = h("input", {
    type: "text",
    name: "comment",
    id: "silence-comment",
    required: true,
    placeholder: "why",
  });
  const feedback = h("div", { class: "feedback", id: "silence-feedback", "aria-live": "polite" });
  const showExpired = h("input", { type: "checkbox", id: "show-expired" });
  const list = h("div", { id: "silence-list" });

  // An armed "Really expire?" button survives the 10-second refresh: it is skipped meanwhile.
  const armed = new Set();
  const refresh = async () => {
    if (armed.size > 0) return;
    const expired = showExpired.checked ? "true" : "";
    const data = await api("GET", query("silences", { expired }));
    if (!root.isConnected) return;
    clear(
      list,
      table(
        ["State", "Matchers", "Starts", "Ends", "Created by", "Comment", ""],
        data.silences.map((s) => row(s, feedback, refresh, armed)),
        "No silences.",
      ),
    );
  };
  showExpired.addEventListener("change", refresh);

  const create = h(
    "form",
    { class: "card", id: "silence-form" },
    h("h2", {}, "New silence"),
    field("Matchers", matchers),
    h("div", { class: "inline" }, field("Duration", duration), field("Comment", comment)),
    h("button", { type: "submit", class: "primary" }, "Create silence"),
    feedback,
  );
  create.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = create.querySelector("button[type=submit]");
    button.disabled = true;
    feedback.replaceChildren();
    try {
      const lines = matchers.value.split("\n").map((m) => m.trim()).filter(Boolean);
      const made = await api("POST", "silences", {
        matchers: lines,
        duration: duration.value.trim(),
        comment: comment.value.trim(),
      });
      const text = `Silence ${made.id} created, ${made.state}.`;
      feedback.replaceChildren(h("div", { class: "ok" }, text));
      matchers.value = "";
      comment.value = "";
      await refresh();
    } catch (err) {
      feedback.replaceChildren(problemView(err));
    } finally {
      button.disabled = false;
    }
  });

  clear(
    root,
    h("h1", {}, "Silences"),
    create,
    h(
      "section",
      { class: "card" },
      h(
        "div",
        { class: "toolbar" },
        h("h2", {}, "Silences"),
        h("label", {}, showExpired, " show expired"),
      ),
      list,
    ),
  );
  return { refresh };
}

function row(s, feedback, refresh, armed) {
  const expire = h("button", { type: "button", class: "danger", "data-silence": s.id }, "Expire");
  let timer = null;
  expire.addEventListener("click", async () => {
    // Expiring a silence can start pages: ask for a second click.
    if (timer === null) {
      expire.textContent = "Really expire?";
      armed.add(s.id);
      timer = setTimeout(() => {
        timer = null;
        armed.delete(s.id);
        expire.textContent = "Expire";
      }, CONFIRM_MS);
      return;
    }
    clearTimeout(timer);
    armed.delete(s.id);
    expire.disabled = true;
    feedback.replaceChildren();
    try {
      await api("DELETE", `silences/${encodeURIComponent(s.id)}`);
      feedback.replaceChildren(h("div", { class: "ok" }, `Silence ${s.id} expired.`));
      await refresh();
    } catch (err) {
      feedback.replaceChildren(problemView(err));
      expire.disabled = false;
    }
  });
  return h(
    "tr",
    { class: `silence state-${s.state}`, "data-silence": s.id },
    h("td", {}, badge("silence", s.state)),
    h("td", {}, s.matchers.map((m) => h("div", {}, h("code", {}, m)))),
    h("td", {}, when(s.starts_at)),
    h("td", {}, when(s.ends_at)),
    h("td", {}, s.created_by),
    h("td", { class: "title" }, s.comment),
    h("td", {}, s.state === "expired" ? null : expire),
  );
}
