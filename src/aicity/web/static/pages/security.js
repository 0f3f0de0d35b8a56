// 安全中心 security-center page: recent security events (guard blocks and masks, approvals,
// authentication, policy changes) with their counts, and the guard policy per stage and role,
// which an admin edits (enable/disable detectors, thresholds, actions) and saves in place.
//
// Safety: every server string reaches the DOM as text (the h() builder never parses HTML).

import { h } from "../lib/dom.js";
import { cell, table } from "../lib/tables.js";

const STAGES = { input: "用户输入", retrieved: "检索资料", tool: "工具结果", output: "回答" };
const ROLES = ["citizen", "enterprise", "official", "operator", "admin"];
const ACTIONS = { block: "拦截", neutralise: "中和", flag: "仅记录" };
const TYPES = { "": "全部 all", guard: "护栏 guard", auth: "认证 auth", approval: "审批 approval" };
const DAYS = [1, 7, 30];
const EDITABLE = ["attacks", "attack_threshold", "on_attack", "pii", "payloads"];

function select(options, value, attrs = {}) {
  const el = h("select", attrs, Object.entries(options).map(([v, t]) => h("option", { value: v, text: t })));
  el.value = value;
  return el;
}


// --- events -------------------------------------------------------------------------------

class EventsView {
  constructor(api) {
    this.api = api;
    this.type = select(TYPES, "", { testid: "events-type", "aria-label": "类型 type" });
    this.days = select(Object.fromEntries(DAYS.map((d) => [d, `最近 ${d} 天`])), "7", { testid: "events-days" });
    this.summary = h("p", { class: "muted", testid: "events-summary" });
    this.body = h("div");
    const refresh = h("button", { class: "btn btn-small", testid: "events-refresh", text: "刷新 refresh",
      onclick: () => this.load() });
    this.type.addEventListener("change", () => this.load());
    this.days.addEventListener("change", () => this.load());
    this.view = h("section", { class: "card", testid: "security-events" },
      h("h2", { text: "安全事件 Security events" }),
      h("div", { style: "display:flex;gap:8px;align-items:center" }, this.type, this.days, refresh),
      this.summary, this.body);
  }

  async load() {
    const q = new URLSearchParams({ days: this.days.value, limit: "200" });
    if (this.type.value) q.append("type", this.type.value);
    let data;
    try {
      data = await this.api.get(`/api/v1/security/events?${q}`);
    } catch (err) {
      this.summary.textContent = "";
      const locked = err.status === 401 || err.status === 403;
      this.body.replaceChildren(h("p", { class: "muted", testid: "events-locked",
        text: locked ? "需要管理员或运维身份 admin or operator key required" : String(err.message || err) }));
      return;
    }
    const s = data.summary;
    this.summary.textContent = `共 ${s.total} 起；拦截攻击 ${s.blocked_attacks} 次；` +
      Object.entries(s.by_type).map(([t, n]) => `${t} ${n}`).join("，");
    if (!data.events.length) {
      this.body.replaceChildren(h("p", { class: "muted", testid: "events-empty", text: "暂无安全事件 no events" }));
      return;
    }
    const rows = data.events.map((e) => h("tr", { testid: "security-event", "data-type": e.type },
      cell(new Date(e.time).toLocaleString("zh-CN")), cell(h("strong", { text: e.type })),
      cell(e.stage ? (STAGES[e.stage] || e.stage) : ""), cell(e.role || ""),
      cell(e.rules.join(", ")), cell(e.actor)));
    this.body.replaceChildren(table(["时间", "类型", "阶段", "角色", "规则", "来源"], rows, "events-table"));
  }
}

// --- policy -------------------------------------------------------------------------------

class PolicyView {
  constructor(api) {
    this.api = api;
    this.policy = null;
    this.body = h("div");
    this.status = h("span", { class: "muted", testid: "policy-status", role: "status" });
    this.view = h("section", { class: "card", testid: "guard-policy" },
      h("h2", { text: "护栏策略 Guard policy" }), this.body);
  }

  async load() {
    try {
      this.policy = await this.api.get("/api/v1/guard/policy");
    } catch (err) {
      const locked = err.status === 401 || err.status === 403;
      this.body.replaceChildren(h("p", { class: "muted", testid: "policy-locked",
        text: locked ? "查看与修改护栏策略需要管理员 API key admin key required" : String(err.message || err) }));
      return;
    }
    this.draw();
  }

  field(values, name, onChange) {
    const v = values[name];
    if (name === "attack_threshold") {
      const el = h("input", { type: "number", min: "0", max: "1", step: "0.05", value: String(v),
        testid: `policy-${name}`, style: "width:5em" });
      el.addEventListener("change", () => onChange(Number(el.value)));
      return el;
    }
    if (name === "on_attack") {
      const el = select(ACTIONS, v, { testid: `policy-${name}` });
      el.addEventListener("change", () => onChange(el.value));
      return el;
    }
    const el = h("input", { type: "checkbox", testid: `policy-${name}` });
    el.checked = Boolean(v);
    el.addEventListener("change", () => onChange(el.checked));
    return el;
  }

  row(stage, role) {
    const base = this.policy[stage];
    const override = role ? base.roles[role] : null;
    const values = { ...base, ...(override || {}) };
    const set = (name) => (value) => {
      if (role) override[name] = value;
      else base[name] = value;
    };
    const remove = role && h("button", { class: "btn btn-link", text: "移除", testid: "policy-remove",
      onclick: () => { delete base.roles[role]; this.draw(); } });
    return h("tr", { testid: "policy-row", "data-stage": stage, "data-role": role || "" },
      cell(STAGES[stage]), cell(role || "全部角色"),
      ...EDITABLE.map((name) => cell(this.field(values, name, set(name)))), cell(remove || ""));
  }

  draw() {
    const p = this.policy;
    const enabled = h("input", { type: "checkbox", testid: "policy-enabled" });
    enabled.checked = p.enabled;
    enabled.addEventListener("change", () => { p.enabled = enabled.checked; });
    const rows = Object.keys(STAGES).flatMap((stage) =>
      [this.row(stage, null), ...Object.keys(p[stage].roles).map((role) => this.row(stage, role))]);
    const stage = select(STAGES, "input", { testid: "override-stage" });
    const role = select(Object.fromEntries(ROLES.map((r) => [r, r])), "citizen", { testid: "override-role" });
    const add = h("button", { class: "btn btn-small", text: "添加角色覆盖 add role override", testid: "override-add",
      onclick: () => { p[stage.value].roles[role.value] ||= {}; this.draw(); } });
    const save = h("button", { class: "btn btn-primary", text: "保存 save", testid: "policy-save",
      onclick: () => this.save(save) });
    this.body.replaceChildren(
      h("p", { class: "muted", text: `来源 source: ${p.source}；修改立即生效并记入审计账本。` }),
      h("label", {}, enabled, " 启用安全护栏 guard enabled"),
      table(["阶段", "角色", "攻击检测", "阈值", "动作", "个人信息", "载荷"], rows, "policy-table"),
      h("div", { style: "display:flex;gap:8px;align-items:center;margin-top:8px" }, stage, role, add),
      h("div", { style: "display:flex;gap:8px;align-items:center;margin-top:8px" }, save, this.status));
  }

  async save(button) {
    const { source, ...body } = this.policy;
    button.disabled = true;
    try {
      const res = await fetch("/api/v1/guard/policy", {
        method: "PUT", headers: this.api.headers({ "Content-Type": "application/json" }), body: JSON.stringify(body),
      });
      const data = await res.json();
      if (!res.ok) throw new this.api.ApiError(data, res.status);
      this.policy = data;
      this.draw();
      this.status.textContent = "已保存 saved";
    } catch (err) {
      this.status.textContent = "保存失败 not saved";
      this.api.toast(err);
    } finally {
      button.disabled = false;
    }
  }
}

export function render(root, api) {
  const events = new EventsView(api);
  const policy = new PolicyView(api);
  root.append(h("div", { class: "security-center", testid: "security-center" },
    h("h1", { text: "安全中心 Security center" }), events.view, policy.view));
  const load = () => { events.load(); policy.load(); };
  load();
  window.addEventListener("aicity:identity", load);
  return () => window.removeEventListener("aicity:identity", load);
}
