// The console shell: header (role, API key or a login that exchanges it for a session cookie,
// who am I, logout), nav built from /api/v1/console/pages,
// a hash router (#/<page id>) that loads each page's ES module and calls render(root, api),
// and an error toast. Pages get `api`, a small helper over fetch (see makeApi below).

const KEY_STORE = "aicity.apiKey";
const ROLE_STORE = "aicity.role";
const ROLES = ["citizen", "enterprise", "official", "operator", "admin"];

/** An API failure carrying an RFC 9457 problem body {type, title, status, detail}. */
export class ApiError extends Error {
  constructor(problem, status) {
    const p = problem && typeof problem === "object" ? problem : {};
    const title = typeof p.title === "string" && p.title ? p.title : `请求失败 HTTP ${status || "error"}`;
    const detail = typeof p.detail === "string" ? p.detail : "";
    super(detail ? `${title}: ${detail}` : title);
    this.name = "ApiError";
    this.problem = p;
    this.status = p.status || status || 0;
    this.title = title;
    this.detail = detail;
  }
}

// --- storage (localStorage may be unavailable, e.g. in a sandboxed frame) ------------------

function load(key, fallback = "") {
  try {
    return localStorage.getItem(key) ?? fallback;
  } catch {
    return fallback;
  }
}

function save(key, value) {
  try {
    if (value) localStorage.setItem(key, value);
    else localStorage.removeItem(key);
  } catch {
    /* ignore */
  }
}

// --- the api helper -----------------------------------------------------------------------

async function problemOf(res) {
  let body = null;
  try {
    const text = await res.text();
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!body || typeof body !== "object") {
    body = { title: `请求失败 HTTP ${res.status}`, detail: res.statusText || "", status: res.status };
  }
  return new ApiError(body, res.status);
}

/** Parse a Server-Sent Events byte stream; calls onEvent(name, data) per event
 * (data is JSON-decoded when it parses, else the raw string). */
export function sseParser(onEvent) {
  let buf = "";
  let event = "";
  let data = [];
  const line = (text) => {
    if (text === "") {
      if (data.length) {
        const raw = data.join("\n");
        let value = raw;
        try {
          value = JSON.parse(raw);
        } catch {
          /* keep the string */
        }
        onEvent(event || "message", value);
      }
      event = "";
      data = [];
      return;
    }
    if (text.startsWith(":")) return; // comment / keep-alive ping
    const colon = text.indexOf(":");
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  };
  return {
    push(chunk) {
      buf += chunk;
      const re = /\r\n|\r|\n/g;
      let start = 0;
      let m;
      while ((m = re.exec(buf))) {
        // a lone "\r" at the end may be the first half of "\r\n": wait for more bytes
        if (m[0] === "\r" && m.index === buf.length - 1) break;
        line(buf.slice(start, m.index));
        start = re.lastIndex;
      }
      buf = buf.slice(start);
    },
    end() {
      if (buf) line(buf.replace(/\r$/, ""));
      buf = "";
      line(""); // dispatch a last event that had no trailing blank line
    },
  };
}

function makeApi() {
  const cache = new Map();
  const api = {
    apiKey: () => load(KEY_STORE).trim(),
    role: () => {
      const r = load(ROLE_STORE, "citizen");
      return ROLES.includes(r) ? r : "citizen";
    },
    headers(extra = {}) {
      const h = { Accept: "application/json", ...extra };
      const key = api.apiKey();
      if (key) h.Authorization = `Bearer ${key}`;
      return h;
    },
    async get(path, { signal, headers = {} } = {}) {
      const res = await fetch(path, { headers: api.headers(headers), signal });
      if (!res.ok) throw await problemOf(res);
      return res.status === 204 ? null : res.json();
    },
    async post(path, body, { signal, headers = {} } = {}) {
      const res = await fetch(path, {
        method: "POST",
        headers: api.headers({ "Content-Type": "application/json", ...headers }),
        body: JSON.stringify(body ?? {}),
        signal,
      });
      if (!res.ok) throw await problemOf(res);
      return res.status === 204 ? null : res.json();
    },
    /** POST a JSON body and read the Server-Sent Events answer; onEvent(name, data) per event.
     * A 4xx/5xx before the stream starts rejects with an ApiError (the problem body). */
    async stream(path, body, onEvent, { signal } = {}) {
      const res = await fetch(path, {
        method: "POST",
        headers: api.headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
        body: JSON.stringify(body ?? {}),
        signal,
      });
      if (!res.ok) throw await problemOf(res);
      const parser = sseParser(onEvent);
      if (!res.body) {
        parser.push(await res.text());
        parser.end();
        return;
      }
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(decoder.decode(value, { stream: true }));
      }
      parser.push(decoder.decode());
      parser.end();
    },
    /** GET once per session and remember (for reference lists such as departments). */
    cached(path) {
      if (!cache.has(path)) {
        const p = api.get(path).catch((err) => {
          cache.delete(path);
          throw err;
        });
        cache.set(path, p);
      }
      return cache.get(path);
    },
    /** {id: {name, name_en, duties}} — department names for display; {} if unavailable. */
    async departments() {
      try {
        const list = await api.cached("/api/v1/departments");
        return Object.fromEntries(list.map((d) => [d.id, d]));
      } catch {
        return {};
      }
    },
    toast,
    ApiError,
  };
  return api;
}

// --- toast --------------------------------------------------------------------------------

/** Show an error (ApiError, Error or string) in a dismissable toast; returns the element. */
export function toast(err, { kind = "error", timeout = 9000 } = {}) {
  const box = document.getElementById("toasts");
  const el = document.createElement("div");
  el.className = `toast toast-${kind}`;
  el.setAttribute("role", kind === "error" ? "alert" : "status");
  el.dataset.testid = kind === "error" ? "error-toast" : "info-toast";
  let title = "";
  let detail = "";
  if (err instanceof ApiError) {
    title = err.title;
    detail = err.detail;
    if (err.status) el.dataset.status = String(err.status);
  } else if (err instanceof Error) {
    title = err.name === "TypeError" ? "网络错误 Network error" : "出错了 Error";
    detail = err.message;
  } else {
    title = String(err);
  }
  const text = document.createElement("div");
  text.className = "toast-text";
  const strong = document.createElement("strong");
  strong.className = "toast-title";
  strong.textContent = title;
  text.append(strong);
  if (detail) {
    const d = document.createElement("div");
    d.className = "toast-detail";
    d.textContent = detail;
    text.append(d);
  }
  const close = document.createElement("button");
  close.type = "button";
  close.className = "toast-close";
  close.setAttribute("aria-label", "关闭 Close");
  close.textContent = "×";
  close.addEventListener("click", () => el.remove());
  el.append(text, close);
  box.append(el);
  while (box.children.length > 4) box.firstElementChild.remove();
  if (timeout) setTimeout(() => el.remove(), timeout);
  return el;
}

// --- shell --------------------------------------------------------------------------------

const api = makeApi();
let pages = [];
let cleanup = null;
let routeSeq = 0;

function moduleUrl(module) {
  // modules are paths under /static/, never absolute URLs or parent paths
  if (typeof module !== "string" || /^[a-z]+:|^\/\/|\.\./i.test(module)) return null;
  return `/static/${module.replace(/^\/+/, "")}`;
}

function buildNav() {
  const nav = document.getElementById("nav");
  nav.replaceChildren();
  for (const p of pages) {
    const a = document.createElement("a");
    a.href = `#/${encodeURIComponent(p.id)}`;
    a.className = "nav-link";
    a.dataset.page = p.id;
    a.dataset.testid = "nav-link";
    if (p.icon) {
      const i = document.createElement("span");
      i.className = "nav-icon";
      i.setAttribute("aria-hidden", "true");
      i.textContent = p.icon;
      a.append(i);
    }
    const t = document.createElement("span");
    t.textContent = p.title;
    a.append(t);
    nav.append(a);
  }
}

function message(root, text, cls = "empty") {
  const p = document.createElement("p");
  p.className = cls;
  p.textContent = text;
  root.replaceChildren(p);
}

async function route() {
  const seq = ++routeSeq;
  const root = document.getElementById("content");
  const wanted = decodeURIComponent(location.hash.replace(/^#\/?/, "").split(/[/?]/)[0] || "");
  const page = pages.find((p) => p.id === wanted) || pages[0];
  if (!page) {
    message(root, "没有可用的页面 No console pages are registered.");
    return;
  }
  if (page.id !== wanted) {
    history.replaceState(null, "", `#/${encodeURIComponent(page.id)}`);
  }
  for (const a of document.querySelectorAll("#nav .nav-link")) {
    if (a.dataset.page === page.id) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = `${page.title} · 城市超级助理 · aicity`;
  if (typeof cleanup === "function") {
    try {
      cleanup();
    } catch (err) {
      console.warn("page cleanup failed", err);
    }
  }
  cleanup = null;
  const url = moduleUrl(page.module);
  if (!url) {
    message(root, `页面模块无效 invalid page module: ${page.module}`, "error");
    return;
  }
  let mod;
  try {
    mod = await import(url);
  } catch (err) {
    if (seq !== routeSeq) return;
    message(root, `页面加载失败 could not load ${page.title}`, "error");
    toast(err);
    return;
  }
  if (seq !== routeSeq) return;
  root.replaceChildren();
  root.dataset.page = page.id;
  try {
    cleanup = (await mod.render(root, api)) || null;
  } catch (err) {
    toast(err);
  }
}

let whoamiSeq = 0;

async function refreshWhoami() {
  const el = document.getElementById("whoami");
  const logout = document.getElementById("logout");
  const seq = ++whoamiSeq;
  try {
    const me = await api.get("/api/v1/me");
    if (seq !== whoamiSeq) return me; // a later identity change owns the header
    // authenticated without a key in the page: the HttpOnly session cookie (a console login)
    const session = me.authenticated && !api.apiKey();
    el.textContent = me.authenticated
      ? `${session ? "已登录" : "已认证"} ${me.role}${me.department ? ` · ${me.department}` : ""}`
      : "未认证 anonymous";
    el.classList.toggle("is-auth", !!me.authenticated);
    el.dataset.session = session ? "1" : "";
    logout.hidden = !session;
    return me;
  } catch (err) {
    if (seq !== whoamiSeq) return null;
    el.textContent = "身份无效 invalid key";
    el.classList.remove("is-auth");
    logout.hidden = true;
    toast(err);
    return null;
  }
}

function identityChanged() {
  window.dispatchEvent(new CustomEvent("aicity:identity", { detail: { role: api.role() } }));
}

/** Who is asking changed: show it, act as the new identity's own role, tell the pages. */
async function identityRefreshed() {
  const select = document.getElementById("role-select");
  const me = await refreshWhoami();
  if (me && me.authenticated && ROLES.includes(me.role) && me.role !== select.value) {
    select.value = me.role; // act as the key's own role by default
    save(ROLE_STORE, me.role);
  }
  identityChanged();
}

/** POST without the stored key (login and logout speak for the session cookie). */
async function sessionPost(path, body) {
  const res = await fetch(path, {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    body: JSON.stringify(body ?? {}),
  });
  if (!res.ok) throw await problemOf(res);
}

function setupIdentity() {
  const select = document.getElementById("role-select");
  const key = document.getElementById("api-key");
  const login = document.getElementById("login");
  select.value = api.role();
  key.value = api.apiKey();
  select.addEventListener("change", () => {
    save(ROLE_STORE, select.value);
    identityChanged();
  });
  key.addEventListener("change", () => {
    save(KEY_STORE, key.value.trim());
    identityRefreshed();
  });
  key.addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    e.preventDefault(); // Enter keeps the key in the page (as before); the 登录 button logs in
    key.blur();
  });
  // 登录: the key is exchanged for a signed session in an HttpOnly cookie and then forgotten
  document.getElementById("login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const value = key.value.trim();
    if (!value) {
      toast("请输入 API key 再登录 enter an API key to log in");
      key.focus();
      return;
    }
    login.disabled = true;
    try {
      await sessionPost("/api/v1/auth/login", { api_key: value });
      key.value = "";
      save(KEY_STORE, "");
      await identityRefreshed();
    } catch (err) {
      toast(err);
    } finally {
      login.disabled = false;
    }
  });
  document.getElementById("logout").addEventListener("click", async () => {
    try {
      await sessionPost("/api/v1/auth/logout");
    } catch (err) {
      if (err.status !== 401) toast(err); // 401: the session had already ended
    }
    select.value = "citizen";
    save(ROLE_STORE, "citizen");
    await identityRefreshed();
  });
}

async function start() {
  setupIdentity();
  document.querySelector(".skip-link")?.addEventListener("click", (e) => {
    e.preventDefault(); // keep the hash for the router
    document.getElementById("content").focus();
  });
  refreshWhoami();
  try {
    pages = await api.get("/api/v1/console/pages");
  } catch (err) {
    message(document.getElementById("content"), "无法加载页面列表 could not load the console pages", "error");
    toast(err);
    return;
  }
  buildNav();
  window.addEventListener("hashchange", route);
  await route();
}

window.addEventListener("unhandledrejection", (e) => {
  if (e.reason instanceof ApiError || e.reason instanceof Error) {
    toast(e.reason);
    e.preventDefault();
  }
});

start();
