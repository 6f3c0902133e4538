// daskctl serve's page. The token lives in this tab's sessionStorage, which belongs to this
// origin alone (scheme, host and port): another port of the same host (a cluster's dashboard,
// any local listener) can neither read it nor receive it, as it would a cookie. It reaches
// serve only as an Authorization header. Everything shown is set as text, never as markup.
"use strict";

const KEY = "daskctl-serve-token";
const $ = (id) => document.getElementById(id);
let pending = null;

// `/#token=T` (serve's redirect of `/?token=T`, or the address it printed): into this tab's
// storage, and out of the address bar and the history entry before anything is asked.
(function takeTokenFromFragment() {
  const m = /^#token=([^&]+)$/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(KEY, decodeURIComponent(m[1]));
  }
  if (location.hash) {
    history.replaceState(null, "", location.pathname + location.search);
  }
})();

function token() {
  return sessionStorage.getItem(KEY);
}

function showLogin(why) {
  $("main").hidden = true;
  $("login").hidden = false;
  if (why) {
    $("login-why").textContent = why;
  }
}

async function api(path, body) {
  const init = { headers: { Authorization: "Bearer " + token() }, cache: "no-store" };
  if (body !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  if (r.status === 401 || r.status === 403) {
    const text = await r.text();
    // a refused token (not a refused action, which answers JSON)
    if (!text.startsWith("{")) {
      sessionStorage.removeItem(KEY);
      showLogin("The token was refused: enter it again.");
      throw new Error("token refused");
    }
    return { status: r.status, body: JSON.parse(text) };
  }
  return { status: r.status, body: await r.json() };
}

function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) {
    td.className = cls;
  }
  tr.appendChild(td);
  return td;
}

function fillSelect(select, name, choice) {
  select.replaceChildren();
  const any = document.createElement("option");
  any.value = "";
  any.textContent = "any " + name;
  select.appendChild(any);
  for (const v of choice.values) {
    const o = document.createElement("option");
    o.value = v;
    o.textContent = v;
    o.selected = v === choice.chosen;
    select.appendChild(o);
  }
}

function note(id, text) {
  const other = id === "done" ? "failed" : "done";
  $(other).hidden = true;
  $(id).textContent = text;
  $(id).hidden = false;
}

function row(r, readOnly) {
  const tr = document.createElement("tr");
  tr.dataset.cluster = r.cluster;
  cell(tr, r.name);
  cell(tr, r.backend);
  cell(tr, r.status, r.status);
  cell(tr, r.workers, "workers");
  cell(tr, r.threads);
  cell(tr, r.memory);
  cell(tr, r.age);
  cell(tr, r.idle);
  cell(tr, r.cores, "cores");
  cell(tr, r.core_hours, "core-hours");
  cell(tr, r.cost);
  cell(tr, r.owner);
  const dash = cell(tr, r.dashboard ? "" : "-");
  if (r.dashboard) {
    // serve only sends http(s) links to the scheduler's own host
    const a = document.createElement("a");
    a.href = r.dashboard;
    a.rel = "noopener noreferrer";
    a.textContent = r.dashboard;
    dash.appendChild(a);
  }
  if (!readOnly) {
    const td = cell(tr, "");
    const n = document.createElement("input");
    n.type = "number";
    n.name = "workers";
    n.min = "0";
    n.value = String(r.size);
    const scale = document.createElement("button");
    scale.value = "scale";
    scale.textContent = "scale";
    scale.addEventListener("click", () => ask(r.cluster, "scale", n.value));
    const del = document.createElement("button");
    del.value = "delete";
    del.textContent = "delete";
    del.addEventListener("click", () => ask(r.cluster, "delete"));
    td.append(n, " ", scale, " ", del);
  }
  return tr;
}

async function load() {
  const { status, body } = await api("/api/view" + location.search);
  if (status !== 200) {
    note("failed", body.failed || "the view could not be read");
    return;
  }
  $("login").hidden = true;
  $("main").hidden = false;
  $("taken").textContent = body.taken;
  $("usage").textContent = body.usage;
  $("warnings").replaceChildren(
    ...body.warnings.map((w) => {
      const p = document.createElement("p");
      p.className = "note failed";
      p.textContent = w;
      return p;
    }),
  );
  const f = $("filters");
  fillSelect(f.elements.backend, "backend", body.backend);
  fillSelect(f.elements.status, "status", body.status);
  fillSelect(f.elements.user, "user", body.user);
  $("actions-head").hidden = body.read_only;
  const rows = body.rows.map((r) => row(r, body.read_only));
  document.querySelector("#clusters tbody").replaceChildren(...rows);
  $("clusters").dataset.count = String(rows.length);
}

// the first step: what would happen, and the tag that lets the second do exactly that
async function ask(cluster, action, workers) {
  const req = { cluster, action };
  if (action === "scale") {
    const n = Number(workers);
    if (!Number.isInteger(n) || n < 0) {
      note("failed", "invalid worker count " + JSON.stringify(workers));
      return;
    }
    req.workers = n;
  }
  const { body } = await api("/api/act", req);
  if (body.failed !== undefined) {
    note("failed", body.failed);
    return;
  }
  pending = Object.assign(req, { tag: body.tag });
  $("done").hidden = true;
  $("failed").hidden = true;
  $("confirm").textContent = body.question;
  $("yes").textContent = "yes, " + action;
  $("confirm-box").hidden = false;
}

async function confirmed(event) {
  event.preventDefault();
  const req = pending;
  pending = null;
  $("confirm-box").hidden = true;
  if (!req) {
    return;
  }
  $("yes").disabled = true;
  try {
    const { body } = await api("/api/act", req);
    if (body.done !== undefined) {
      await load();
      note("done", body.done);
    } else {
      note("failed", body.failed);
    }
  } finally {
    $("yes").disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, event.target.elements.token.value.trim());
    event.target.reset();
    load().catch(() => {});
  });
  $("confirm-box").addEventListener("submit", (event) => confirmed(event).catch(() => {}));
  $("no").addEventListener("click", () => {
    pending = null;
    $("confirm-box").hidden = true;
  });
  if (token()) {
    load().catch(() => {});
  } else {
    showLogin();
  }
});
