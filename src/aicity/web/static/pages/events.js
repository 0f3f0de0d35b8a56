// 事件中心 events board (staff): filters (status, department, district, category), the events
// table, a map of the city's districts with the events as dots, and the selected event's
// details, its lifecycle actions (the event's `allowed_actions`) and its timeline.
//
// The events API answers 403 without a staff key: the page says so instead of a table.
// Safety: every server string reaches the DOM as text (lib/dom.js builds nodes only).

import { h } from "../lib/dom.js";
import { CityMap } from "../lib/citymap.js";

const BASE = "/api/v1/events";
const LIMIT = 500; // the API's maximum page
const STATUSES = {
  reported: "待派发", dispatched: "已派发", accepted: "已受理", in_progress: "处置中",
  resolved: "已办结", closed: "已关闭", merged: "已合并",
};
const OPEN = new Set(["reported", "dispatched", "accepted", "in_progress"]);
const PRIORITIES = { urgent: "紧急", high: "高", normal: "普通", low: "低" };
const ACTIONS = {
  report: "上报", dispatch: "派发", accept: "受理", start: "开始处置", resolve: "办结", close: "关闭",
  reopen: "重办", reject: "退回", merge: "合并", correct: "纠正类别", escalate: "超时升级",
};
const NEEDS_NOTE = new Set(["reject", "reopen"]);
const FILTERS = [
  ["status", "状态 Status"], ["department", "部门 Department"], ["district", "辖区 District"], ["category", "类别 Category"],
];

/** Remembered across page switches: the filters. */
const memory = { filters: {} };

const enc = encodeURIComponent;
const label = (table, key) => (key in table ? `${table[key]}` : String(key ?? ""));
const slug = (v) => String(v ?? "").replace(/[^\w-]/g, "");

function when(iso, { seconds = false } = {}) {
  if (!iso) return "—";
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return String(iso);
  return t.toLocaleString("zh-CN", {
    hour12: false, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    ...(seconds ? { year: "numeric", second: "2-digit" } : {}),
  });
}

function badge(kind, value, table) {
  return h("span", { class: `ev-badge ev-${kind}-${slug(value)}`, "data-value": value, text: label(table, value) });
}

function slaCell(ev) {
  return [
    ev.sla_due_at ? h("span", { text: when(ev.sla_due_at) }) : h("span", { class: "muted", text: "—" }),
    ev.sla_breached ? h("span", { class: "ev-badge ev-breached", testid: "sla-breached", text: "已超时" }) : null,
  ];
}

// --- the page -----------------------------------------------------------------------------

export function render(root, api) {
  const page = new EventsPage(api);
  root.append(page.view);
  page.start();
  const onIdentity = () => page.load({ reopen: true });
  window.addEventListener("aicity:identity", onIdentity);
  return () => {
    window.removeEventListener("aicity:identity", onIdentity);
    page.disposed = true;
  };
}

class EventsPage {
  constructor(api) {
    this.api = api;
    this.events = [];
    this.names = { department: {}, district: {}, category: {} };
    this.selected = null;
    this.seq = { list: 0, detail: 0 };
    this.disposed = false;
    this.build();
  }

  // --- layout -----------------------------------------------------------------------------

  build() {
    this.selects = {};
    const filters = FILTERS.map(([key, text]) => {
      const select = h("select", {
        class: "ev-filter", testid: `filter-${key}`, "aria-label": text,
        onchange: () => this.setFilter(key, select.value),
      }, h("option", { value: "", text: "全部 All" }));
      this.selects[key] = select;
      return h("label", { class: "ev-field" }, h("span", { class: "ev-field-label", text }), select);
    });
    this.fillOptions("status", Object.entries(STATUSES));
    const reset = h("button", { type: "button", class: "btn btn-small", testid: "filter-reset", onclick: () => this.resetFilters() },
      "清除筛选 Reset");
    const refresh = h("button", { type: "button", class: "btn btn-small", testid: "events-refresh", onclick: () => this.load({ reopen: true }) },
      "刷新 Refresh");

    this.notice = h("div", { class: "ev-notice", testid: "events-forbidden", role: "alert", hidden: true });
    this.count = h("span", { class: "muted small", testid: "events-count" });
    this.tbody = h("tbody", {});
    this.table = h("table", { class: "ev-table", testid: "events-table" },
      h("thead", {}, h("tr", {}, ...["编号 ID", "类别 Category", "辖区 / 地址", "优先级", "状态 Status", "处置时限 SLA", "部门 Dept."]
        .map((t) => h("th", { scope: "col", text: t })))),
      this.tbody);

    this.map = new CityMap({
      onEvent: (id) => this.open(id),
      onDistrict: (id) => this.setFilter("district", this.selects.district.value === id ? "" : id),
      dotClass: (ev) => `ev-prio-${slug(ev.priority)}${OPEN.has(ev.status) ? "" : " is-done"}`,
      dotTitle: (ev) => `${ev.id} · ${ev.category_name || ev.category} · ${label(PRIORITIES, ev.priority)} · ${label(STATUSES, ev.status)}`,
    });
    const legend = h("div", { class: "ev-legend small muted" },
      ...Object.entries(PRIORITIES).map(([k, v]) => h("span", {}, h("i", { class: `ev-swatch ev-prio-${k}` }), v)),
      h("span", {}, h("i", { class: "ev-swatch is-done" }), "已办结/关闭"),
      h("span", { text: "点击辖区按辖区筛选 · click a district to filter" }));

    this.detail = h("aside", { class: "ev-detail", testid: "event-detail", "aria-label": "事件详情 Event", tabindex: "-1" },
      this.detailPlaceholder());

    this.view = h("section", { class: "ev", "aria-label": "事件中心 Events" },
      h("div", { class: "ev-toolbar" },
        h("h1", {}, "事件中心 ", h("small", { text: "Events" })), this.count, h("span", { class: "ev-spacer" }), refresh),
      h("form", { class: "ev-filters", role: "search", onsubmit: (e) => e.preventDefault() }, ...filters, reset),
      this.notice,
      h("div", { class: "ev-body" },
        h("div", { class: "ev-main" },
          h("section", { class: "ev-card ev-map-card", "aria-label": "地图 Map" }, this.map.el, legend),
          h("section", { class: "ev-card ev-table-card", "aria-label": "事件列表 Events" }, this.table)),
        this.detail));
  }

  detailPlaceholder(text = "选择一个事件查看详情与时间线。Pick an event to see its timeline.") {
    return h("p", { class: "ev-empty muted", text });
  }

  fillOptions(key, pairs) {
    const select = this.selects[key];
    select.replaceChildren(select.options[0], ...pairs.map(([value, text]) => h("option", { value, text })));
    select.value = memory.filters[key] || "";
    if (select.value !== (memory.filters[key] || "")) delete memory.filters[key]; // no longer offered
  }

  // --- reference data, filters ------------------------------------------------------------

  async start() {
    const [departments, categories, districts] = await Promise.all([
      this.api.departments(),
      this.api.cached(`${BASE}/categories`).catch((err) => (this.api.toast(err), [])),
      this.api.cached(`${BASE}/districts`).catch((err) => (this.api.toast(err), null)),
    ]);
    if (this.disposed) return;
    const features = Array.isArray(districts?.features) ? districts.features : [];
    this.names.department = Object.fromEntries(Object.values(departments).map((d) => [d.id, d.name || d.id]));
    this.names.category = Object.fromEntries((Array.isArray(categories) ? categories : []).map((c) => [c.id, c.name || c.id]));
    this.names.district = Object.fromEntries(features.map((f) => [String(f.properties?.id), f.properties?.name || f.properties?.id]));
    for (const key of ["department", "category", "district"]) this.fillOptions(key, Object.entries(this.names[key]));
    this.map.setDistricts(districts);
    const linked = decodeURIComponent(location.hash.replace(/^#\/?/, "").split("/")[1] || "");
    await this.load();
    if (linked && !this.disposed) this.open(linked);
  }

  setFilter(key, value) {
    if (value) memory.filters[key] = value;
    else delete memory.filters[key];
    this.selects[key].value = value;
    this.load();
  }

  resetFilters() {
    memory.filters = {};
    for (const select of Object.values(this.selects)) select.value = "";
    this.load();
  }

  // --- the list and the map ---------------------------------------------------------------

  async load({ reopen = false } = {}) {
    const seq = ++this.seq.list;
    const params = new URLSearchParams({ ...memory.filters, limit: LIMIT });
    const filtered = Object.keys(memory.filters).length > 0;
    this.view.classList.add("is-busy");
    let list;
    let all;
    try {
      [list, all] = await Promise.all([
        this.api.get(`${BASE}?${params}`),
        filtered ? this.api.get(`${BASE}?limit=${LIMIT}`) : null, // the map's counts ignore the filters
      ]);
    } catch (err) {
      if (seq !== this.seq.list || this.disposed) return;
      this.view.classList.remove("is-busy");
      const denied = err.status === 403 || err.status === 401;
      this.showList([], {}, denied ? "需要工作人员身份 A staff key is needed" : "无法加载事件 could not load");
      if (denied) this.forbidden(err);
      else this.api.toast(err);
      return;
    }
    if (seq !== this.seq.list || this.disposed) return;
    this.view.classList.remove("is-busy");
    this.notice.hidden = true;
    if (!this.selected) this.clearDetail();
    const counts = {};
    for (const ev of (all || list).events) if (OPEN.has(ev.status) && ev.district) counts[ev.district] = (counts[ev.district] || 0) + 1;
    this.showList(list.events, counts);
    if (reopen && this.selected) this.open(this.selected);
  }

  forbidden(err) {
    this.notice.hidden = false;
    this.notice.replaceChildren(
      h("strong", { text: "事件中心仅供工作人员使用 Staff only" }),
      h("p", { text: "当前身份无权查看事件（HTTP 403）。请在右上角填入公务人员、运营人员或管理员的 API key。" +
        "Enter an official's, operator's or admin's API key above." }),
      err.detail ? h("p", { class: "muted small", text: err.detail }) : null);
    this.selected = null;
    this.clearDetail("需要工作人员身份 A staff key is needed.");
  }

  clearDetail(text) {
    delete this.detail.dataset.id;
    this.detail.replaceChildren(this.detailPlaceholder(text));
  }

  showList(events, counts, empty = "没有符合条件的事件 No events") {
    this.events = Array.isArray(events) ? events : [];
    const n = this.events.length;
    this.count.textContent = `共 ${n} 件${n >= LIMIT ? `（仅显示最新 ${LIMIT} 件）` : ""}`;
    this.map.setEvents(this.events);
    this.map.setCounts(counts);
    if (!n) {
      this.tbody.replaceChildren(h("tr", {}, h("td", { colspan: 7, class: "ev-empty muted", text: empty })));
      return;
    }
    this.tbody.replaceChildren(...this.events.map((ev) => this.row(ev)));
    this.markSelected();
  }

  row(ev) {
    const open = () => this.open(ev.id);
    const place = this.names.district[ev.district] || ev.district || "";
    return h("tr", {
      class: "ev-row", testid: "event-row", tabindex: "0", "data-id": ev.id, "data-status": ev.status,
      "data-category": ev.category, "data-department": ev.department, "data-district": ev.district || "",
      onclick: open, onkeydown: (e) => e.key === "Enter" && open(),
    },
    h("td", {}, h("code", { class: "ev-id", text: ev.id })),
    h("td", {}, h("div", { text: ev.category_name || ev.category }), h("div", { class: "muted small ev-title", text: ev.title })),
    h("td", {}, h("div", { text: place || "—" }), ev.address ? h("div", { class: "muted small", text: ev.address }) : null),
    h("td", {}, badge("prio", ev.priority, PRIORITIES)),
    h("td", { testid: "event-status" }, badge("status", ev.status, STATUSES)),
    h("td", { class: "ev-sla" }, slaCell(ev)),
    h("td", { text: ev.department_name || this.names.department[ev.department] || ev.department }));
  }

  markSelected() {
    for (const tr of this.tbody.querySelectorAll(".ev-row")) {
      const on = tr.dataset.id === this.selected;
      tr.classList.toggle("is-selected", on);
      if (on) tr.setAttribute("aria-selected", "true");
      else tr.removeAttribute("aria-selected");
    }
    this.map.select(this.selected);
  }

  // --- one event ----------------------------------------------------------------------------

  async open(id) {
    const seq = ++this.seq.detail;
    this.selected = id;
    this.markSelected();
    history.replaceState(null, "", `#/events/${enc(id)}`);
    let event;
    let rows;
    try {
      [event, { history: rows }] = await Promise.all([
        this.api.get(`${BASE}/${enc(id)}`), this.api.get(`${BASE}/${enc(id)}/history`)]);
    } catch (err) {
      if (seq !== this.seq.detail || this.disposed) return;
      this.clearDetail("无法加载事件 could not load the event");
      this.api.toast(err);
      return;
    }
    if (seq !== this.seq.detail || this.disposed) return;
    this.detail.dataset.id = event.id;
    this.detail.replaceChildren(...this.detailEls(event, Array.isArray(rows) ? rows : []).filter(Boolean));
  }

  detailEls(ev, rows) {
    const meta = [
      ["类别 Category", ev.category_name || ev.category],
      ["部门 Department", ev.department_name || ev.department],
      ["辖区 District", this.names.district[ev.district] || ev.district || "—"],
      ["地址 Address", ev.address || "—"],
      ["来源 Source", ev.source],
      ["上报人 Reporters", ev.reporters],
      ["上报时间 Reported", when(ev.created_at, { seconds: true })],
      ["处置时限 SLA", slaCell(ev)],
    ];
    return [
      h("header", { class: "ev-detail-head" },
        h("h2", { testid: "event-title", text: ev.title || ev.id }),
        h("div", { class: "ev-detail-badges" }, h("code", { class: "ev-id", text: ev.id }),
          h("span", { testid: "detail-status", "data-status": ev.status }, badge("status", ev.status, STATUSES)),
          badge("prio", ev.priority, PRIORITIES))),
      h("p", { class: "ev-description", testid: "event-description", text: ev.description }),
      ev.merged_into ? h("p", { class: "ev-note small" }, "已合并到 merged into ",
        h("button", { type: "button", class: "btn-link", text: ev.merged_into, onclick: () => this.open(ev.merged_into) })) : null,
      h("dl", { class: "ev-meta" }, ...meta.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", {}, v)])),
      this.actionsEl(ev),
      h("h3", { class: "ev-subhead", text: `时间线 Timeline（${rows.length}）` }),
      h("ol", { class: "ev-timeline", testid: "event-timeline" }, ...rows.map((r) => this.timelineItem(r))),
    ];
  }

  actionsEl(ev) {
    const actions = Array.isArray(ev.allowed_actions) ? ev.allowed_actions : [];
    if (!actions.length) return h("p", { class: "muted small", testid: "no-actions", text: "当前状态没有可执行的操作。No actions." });
    const note = h("textarea", {
      class: "ev-note-input", testid: "action-note", rows: 2, maxlength: 2000,
      placeholder: "说明（退回、重办须填写原因）note — required to reject or reopen", "aria-label": "说明 Note",
    });
    const hint = h("p", { class: "ev-hint small", testid: "note-required", role: "alert", hidden: true,
      text: "请先填写原因 A reason is required." });
    note.addEventListener("input", () => { hint.hidden = true; });
    const dept = actions.includes("dispatch") ? h("select", { class: "ev-filter", testid: "dispatch-department", "aria-label": "派发部门 Department" },
      ...Object.entries(this.names.department).map(([id, name]) => h("option", { value: id, text: name, selected: id === ev.department }))) : null;
    const buttons = actions.map((action) => h("button", {
      type: "button", class: `btn btn-small${NEEDS_NOTE.has(action) ? "" : " btn-primary"}`, testid: "event-action",
      "data-action": action, text: `${label(ACTIONS, action)} ${action}`,
      onclick: () => this.act(ev, action, { note, hint, dept, buttons }),
    }));
    return h("section", { class: "ev-actions", "aria-label": "处置 Actions" },
      h("h3", { class: "ev-subhead", text: "处置 Actions" }), note, hint,
      dept ? h("label", { class: "ev-field ev-field-inline" }, h("span", { class: "ev-field-label", text: "派发到 Dispatch to" }), dept) : null,
      h("div", { class: "ev-action-buttons" }, buttons));
  }

  async act(ev, action, { note, hint, dept, buttons }) {
    const text = note.value.trim();
    if (NEEDS_NOTE.has(action) && !text) {
      hint.hidden = false;
      note.focus();
      return;
    }
    const body = { action, note: text };
    if (action === "dispatch" && dept && dept.value && dept.value !== ev.department) body.department = dept.value;
    for (const b of buttons) b.disabled = true;
    try {
      await this.api.post(`${BASE}/${enc(ev.id)}/transitions`, body);
      this.api.toast(`已${label(ACTIONS, action)} ${ev.id}`, { kind: "info", timeout: 4000 });
    } catch (err) {
      this.api.toast(err); // 409 lists the allowed actions, 403 says who may act
    }
    if (!this.disposed) await this.load({ reopen: true }); // the fresh state either way
  }

  timelineItem(r) {
    const move = r.from_status && r.from_status !== r.to_status
      ? `${label(STATUSES, r.from_status)} → ${label(STATUSES, r.to_status)}`
      : label(STATUSES, r.to_status);
    return h("li", { class: `ev-step ev-step-${slug(r.action)}`, testid: "timeline-item", "data-action": r.action },
      h("div", { class: "ev-step-head" },
        h("strong", { text: label(ACTIONS, r.action) }), h("span", { class: "muted small", text: r.action }),
        h("span", { class: "ev-step-move small", text: move })),
      h("div", { class: "muted small" }, h("span", { class: "ev-actor", text: r.actor }), " · ", h("time", { datetime: r.at, text: when(r.at, { seconds: true }) })),
      r.note ? h("p", { class: "ev-step-note", testid: "timeline-note", text: r.note }) : null);
  }
}
