// The console's shell: sign-in with a token, the hash router, and the 10-second refresh.

import { api, onUnauthorized, problemView, token } from "./api.js";
import { clear, h, localTime } from "./dom.js";
import * as events from "./events.js";
import * as integrations from "./integrations.js";
import * as silences from "./silences.js";
import * as ticket from "./ticket.js";
import * as tickets from "./tickets.js";

const REFRESH_MS = 10_000;

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const banner = document.getElementById("banner");
const updated = document.getElementById("updated");

// #/path?query -> a view and its parameters.
const routes = [
  [/^\/tickets\/(\d+)$/, ticket, (m) => ({ id: Number(m[1]) })],
  [/^\/tickets$/, tickets, () => ({})],
  [/^\/events$/, events, () => ({})],
  [/^\/silences$/, silences, () => ({})],
  [/^\/integrations$/, integrations, () => ({})],
];

const SERVICES_TTL_MS = 60_000;

const state = { me: null, services: null, servicesAt: 0, view: null, timer: null };

const ctx = {
  // Service ids for filters and forms; configuration changes rarely, so keep them a minute.
  async services() {
    if (state.services === null || Date.now() - state.servicesAt > SERVICES_TTL_MS) {
      const data = await api("GET", "services");
      state.services = data.services.map((s) => s.id);
      state.servicesAt = Date.now();
    }
    return state.services;
  },
  go(hash) {
    location.hash = hash;
  },
};

function showBanner(content) {
  if (content === null) {
    banner.hidden = true;
    banner.replaceChildren();
  } else {
    clear(banner, content);
    banner.hidden = false;
  }
}

function signInView(problem) {
  const input = h("input", {
    type: "password",
    id: "token",
    name: "token",
    autocomplete: "off",
    required: true,
    placeholder: "paste your API token",
  });
  const errors = h("div", {}, problem ? problemView(problem) : null);
  const form = h(
    "form",
    { class: "card sign-in", id: "sign-in" },
    h("h1", {}, "Sign in"),
    h(
      "p",
      { class: "muted" },
      "Paste an API token (watchkeeper token create, or the admin token). It is kept in this " +
        "browser tab only and sent to this server only.",
    ),
    h("label", { class: "field" }, h("span", {}, "Token"), input),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
    errors,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    token.set(input.value.trim());
    try {
      await signIn();
    } catch (err) {
      token.clear();
      clear(errors, problemView(err));
    }
  });
  return form;
}

function showSignIn(problem = null) {
  stopView();
  state.me = null;
  state.services = null;
  nav.hidden = true;
  who.hidden = true;
  showBanner(null);
  updated.textContent = "";
  clear(main, signInView(problem));
  document.getElementById("token").focus();
}

async function signIn() {
  state.me = await api("GET", "me");
  const me = state.me;
  document.getElementById("who-name").textContent =
    `Signed in as ${me.actor}${me.admin ? " (admin)" : ""}`;
  nav.hidden = false;
  who.hidden = false;
  await route();
}

function stopView() {
  if (state.timer !== null) clearInterval(state.timer);
  state.timer = null;
  state.view = null;
}

async function refresh(view) {
  if (state.view !== view || document.hidden) return;
  try {
    await view.refresh();
    if (state.view === view) {
      showBanner(null);
      updated.textContent = `Updated ${localTime(new Date())}`;
    }
  } catch (err) {
    if (state.view === view && state.me !== null) showBanner(problemView(err));
  }
}

async function route() {
  if (state.me === null) return;
  stopView();
  const hash = location.hash.replace(/^#/, "") || "/tickets";
  const path = hash.split("?")[0];
  let found = null;
  for (const [pattern, module, params] of routes) {
    const m = pattern.exec(path);
    if (m) {
      found = [module, params(m)];
      break;
    }
  }
  if (found === null) {
    ctx.go("#/tickets");
    return;
  }
  const [module, params] = found;
  for (const link of nav.querySelectorAll("a")) {
    link.classList.toggle("active", path.startsWith(`/${link.dataset.view}`));
  }
  const root = h("section", { class: "view" });
  clear(main, root);
  const view = module.mount(root, params, ctx);
  state.view = view;
  await refresh(view);
  state.timer = setInterval(() => refresh(view), REFRESH_MS);
}

document.getElementById("sign-out").addEventListener("click", () => {
  token.clear();
  showSignIn();
});
document.addEventListener("visibilitychange", () => {
  if (!document.hidden && state.view !== null) refresh(state.view);
});
window.addEventListener("hashchange", route);
onUnauthorized((err) => {
  if (state.me !== null) {
    token.clear();
    showSignIn(err);
  }
});

if (token.get()) {
  signIn().catch((err) => {
    token.clear();
    showSignIn(err);
  });
} else {
  showSignIn();
}
