// 一屏统览 live dashboard of the demo city (staff): KPI tiles (devices online/offline, active
// alarms by severity, open events, pending approvals), the district map (lib/citymap.js) with
// devices by type, active alarms by severity and events as dots, the active alarms list (a click
// draws that device's readings over time, with the rule's threshold), the waterlogging watch
// (roads flooded or about to flood, on the map and in a list), and refresh: a button and
// polling every 10 s while the tab is visible, stopped when the page is left.
//
// The IoT, events and approvals APIs answer 401/403 without a staff key: the page says so.
// Safety: every server string reaches the DOM as text (lib/dom.js builds nodes only).

import { h, svg } from "../lib/dom.js";
import { CityMap } from "../lib/citymap.js";

const POLL_MS = 10_000;
const OPEN = new Set(["reported", "dispatched", "accepted", "in_progress"]);
const SEVERITIES = { critical: "危急", high: "高", medium: "中", low: "低" };
const PRIORITIES = { urgent: "紧急", high: "高", normal: "普通", low: "低" };
// the waterlogging levels worth showing, most urgent first (normal and no_data are left out)
const FLOOD_LEVELS = ["flooded", "warning", "watch"];
const enc = encodeURIComponent;
const slug = (v) => String(v ?? "").replace(/[^\w-]/g, "");
const label = (table, key) => (key in table ? table[key] : String(key ?? ""));

function when(iso) {
  if (!iso) return "—";
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? String(iso)
    : t.toLocaleString("zh-CN", { hour12: false, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function render(root, api) {
  const page = new Dashboard(api);
  root.append(page.view);
  page.start();
  const onIdentity = () => page.load();
  const onVisible = () => document.visibilityState === "visible" && page.load();
  window.addEventListener("aicity:identity", onIdentity);
  document.addEventListener("visibilitychange", onVisible);
  return () => {
    page.stop();
    window.removeEventListener("aicity:identity", onIdentity);
    document.removeEventListener("visibilitychange", onVisible);
  };
}

class Dashboard {
  constructor(api) {
    this.api = api;
    this.disposed = false;
    this.timer = null;
    this.seq = { load: 0, chart: 0 };
    this.devices = new Map();
    this.rules = [];
    this.chartDevice = null;
    this.build();
  }

  build() {
    this.kpis = h("div", { class: "db-kpis", testid: "dashboard-kpis" });
    this.notice = h("div", { class: "ev-notice", testid: "dashboard-forbidden", role: "alert", hidden: true });
    this.updated = h("span", { class: "muted small", testid: "dashboard-updated", role: "status" });
    const refresh = h("button", { type: "button", class: "btn btn-small", testid: "dashboard-refresh", onclick: () => this.load() },
      "刷新 Refresh");
    this.map = new CityMap({
      onEvent: (id) => { location.hash = `#/events/${enc(id)}`; },
      onDistrict: () => {},
      dotClass: (ev) => `ev-prio-${slug(ev.priority)}`,
      dotTitle: (ev) => `${ev.id} · ${ev.category_name || ev.category} · ${label(PRIORITIES, ev.priority)}`,
    });
    this.map.el.dataset.testid = "dashboard-map";
    this.legend = h("div", { class: "ev-legend small muted db-legend" });
    this.alarmList = h("ol", { class: "db-alarms", testid: "alarm-list" });
    this.floodList = h("ol", { class: "db-alarms", testid: "flood-list" });
    this.chart = h("div", { class: "db-chart", testid: "readings-chart" },
      h("p", { class: "muted small", text: "点击告警查看设备读数曲线 Pick an alarm to see the device's readings." }));
    this.view = h("section", { class: "ev db", "aria-label": "一屏统览 Dashboard" },
      h("div", { class: "ev-toolbar" },
        h("h1", {}, "一屏统览 ", h("small", { text: "City dashboard" })), this.updated, h("span", { class: "ev-spacer" }), refresh),
      this.notice,
      this.kpis,
      h("div", { class: "ev-body" },
        h("div", { class: "ev-main" },
          h("section", { class: "ev-card ev-map-card", "aria-label": "地图 Map" }, this.map.el, this.legend),
          h("section", { class: "ev-card db-chart-card", "aria-label": "设备读数 Readings" },
            h("h2", { class: "ev-subhead", text: "设备读数 Readings" }), this.chart)),
        h("aside", { class: "ev-card db-side", "aria-label": "告警 Alarms" },
          h("h2", { class: "ev-subhead", text: "内涝预警 Waterlogging watch" }), this.floodList,
          h("h2", { class: "ev-subhead", text: "活动告警 Active alarms" }), this.alarmList)));
  }

  async start() {
    const districts = await this.api.cached("/api/v1/events/districts").catch((err) => (this.api.toast(err), null));
    if (this.disposed) return;
    this.map.setDistricts(districts);
    await this.load();
    if (this.disposed) return;
    this.timer = setInterval(() => {
      if (document.visibilityState === "visible") this.load();
    }, POLL_MS);
  }

  stop() {
    this.disposed = true;
    clearInterval(this.timer);
    this.timer = null;
  }

  // the distributed mode's bus (docs/scale-out.md): its backlog and dead letters, after the update time
  async showBus(seq) {
    let bus;
    try {
      bus = await this.api.get("/api/v1/ops/bus");
    } catch {
      return;  // not staff, or the bus is unreachable: the dashboard itself is unaffected
    }
    if (seq !== this.seq.load || this.disposed || bus.mode !== "redis") return;
    this.updated.textContent += ` · 事件总线 待处理 ${bus.pending} · 死信 ${bus.dead_letters}`;
  }

  async load() {
    const seq = ++this.seq.load;
    let devices, alarms, events, approvals, rules, floods;
    try {
      [devices, alarms, events, approvals, rules, floods] = await Promise.all([
        this.api.get("/api/v1/iot/devices?limit=5000"),
        this.api.get("/api/v1/iot/alarms?status=active&limit=1000"),
        this.api.get("/api/v1/events?limit=500"),
        this.api.get("/api/v1/approvals?status=pending&limit=500"),
        this.api.get("/api/v1/iot/rules"),
        this.api.get("/api/v1/safety/waterlogging"),
      ]);
    } catch (err) {
      if (seq !== this.seq.load || this.disposed) return;
      if (err.status === 401 || err.status === 403) this.forbidden(err);
      else this.api.toast(err);
      return;
    }
    if (seq !== this.seq.load || this.disposed) return;
    this.notice.hidden = true;
    this.rules = Array.isArray(rules) ? rules : [];
    this.devices = new Map(devices.map((d) => [d.id, d]));
    const open = (events.events || []).filter((ev) => OPEN.has(ev.status));
    this.showKpis(devices, alarms, open, approvals);
    const atRisk = floods.filter((o) => FLOOD_LEVELS.includes(o.level))
      .sort((a, b) => FLOOD_LEVELS.indexOf(a.level) - FLOOD_LEVELS.indexOf(b.level));
    this.showMap(devices, alarms, open, atRisk);
    this.showAlarms(alarms);
    this.showFloods(atRisk);
    this.updated.textContent = `更新于 ${when(new Date().toISOString())}`;
    this.showBus(seq);
    if (this.chartDevice) this.showReadings(this.chartDevice.id, this.chartDevice.attribute);
  }

  forbidden(err) {
    this.notice.hidden = false;
    this.notice.replaceChildren(
      h("strong", { text: "一屏统览仅供工作人员使用 Staff only" }),
      h("p", { text: "当前身份无权查看（HTTP 403）。请在右上角填入公务人员、运营人员或管理员的 API key。" +
        "Enter an official's, operator's or admin's API key above." }),
      err.detail ? h("p", { class: "muted small", text: err.detail }) : null);
    this.kpis.replaceChildren();
    this.alarmList.replaceChildren();
    this.floodList.replaceChildren();
    this.map.setMarkers([]);
    this.map.setEvents([]);
    this.chartDevice = null;
    this.chart.replaceChildren(h("p", { class: "muted small", text: "需要工作人员身份 A staff key is needed." }));
  }

  showKpis(devices, alarms, open, approvals) {
    const online = devices.filter((d) => d.online).length;
    const tile = (key, title, value, extra) => h("div", { class: `db-kpi db-kpi-${key}`, testid: "kpi", "data-kpi": key },
      h("div", { class: "db-kpi-title small muted", text: title }),
      h("div", { class: "db-kpi-value", testid: "kpi-value", text: String(value) }), extra || null);
    const bySeverity = Object.keys(SEVERITIES).map((s) => [s, alarms.filter((a) => a.severity === s).length]);
    this.kpis.replaceChildren(
      tile("online", "在线设备 Online", online),
      tile("offline", "离线设备 Offline", devices.length - online),
      tile("alarms", "活动告警 Active alarms", alarms.length,
        h("div", { class: "db-kpi-sub small" }, ...bySeverity.map(([s, n]) =>
          h("span", { class: `db-sev db-sev-${s}`, testid: "kpi-severity", "data-severity": s, text: `${SEVERITIES[s]} ${n}` })))),
      tile("events", "未办结事件 Open events", open.length,
        h("a", { class: "small", href: "#/events", text: "事件中心 →" })),
      tile("approvals", "待审批 Pending approvals", approvals.length,
        h("a", { class: "small", href: "#/approvals", testid: "approvals-link", text: "去审批 →" })));
  }

  showMap(devices, alarms, open, floods) {
    const types = [...new Set(devices.map((d) => d.type))].sort();
    const typeIndex = Object.fromEntries(types.map((t, i) => [t, i % 8]));
    const markers = devices.map((d) => ({
      id: d.id, lat: d.lat, lon: d.lon, shape: "square", r: 4, testid: "device-marker",
      cls: `db-dev db-dev-${typeIndex[d.type]}${d.online ? "" : " is-offline"}`,
      title: `${d.name || d.id} · ${d.type} · ${d.online ? "在线" : "离线"}`,
    }));
    for (const a of alarms) {
      const d = this.devices.get(a.device_id);
      if (!d) continue;
      markers.push({
        id: a.id, lat: d.lat, lon: d.lon, r: 9, testid: "alarm-marker", cls: `db-alarm db-sev-${slug(a.severity)}`,
        title: `${label(SEVERITIES, a.severity)} · ${a.message || a.id}`, onClick: () => this.pickAlarm(a),
      });
    }
    for (const o of floods) {
      markers.push({
        id: o.id, lat: o.lat, lon: o.lon, r: 7, testid: "flood-marker", cls: `db-flood db-flood-${slug(o.level)}`,
        title: `${o.level_label} · ${o.label}`,
      });
    }
    this.map.setMarkers(markers);
    this.map.setEvents(open);
    this.legend.replaceChildren(
      ...types.map((t) => h("span", {}, h("i", { class: `ev-swatch db-dev db-dev-${typeIndex[t]}` }), t)),
      ...Object.entries(SEVERITIES).map(([k, v]) => h("span", {}, h("i", { class: `ev-swatch db-alarm db-sev-${k}` }), `告警${v}`)),
      h("span", {}, h("i", { class: "ev-swatch db-flood db-flood-warning" }), "易涝点 watch point"),
      h("span", {}, h("i", { class: "ev-swatch ev-prio-normal" }), "事件 event"));
  }

  showFloods(floods) {
    if (!floods.length) {
      this.floodList.replaceChildren(h("li", { class: "muted small", text: "暂无积水风险 No road at risk" }));
      return;
    }
    this.floodList.replaceChildren(...floods.map((o) => h("li", {
      class: `db-alarm-item db-flood-${slug(o.level)}`, testid: "flood-item", "data-id": o.id, "data-level": o.level,
    },
    h("div", {}, h("span", { class: `db-sev db-flood-${slug(o.level)}`, text: o.level_label }), " ",
      h("strong", { text: `${o.label}` }), h("span", { class: "muted small", text: ` ${o.district}` })),
    h("div", { class: "small", text: o.minutes_to_flood === 0 ? `积水 ${o.depth?.value ?? "—"} m`
      : o.minutes_to_flood != null ? `约 ${o.minutes_to_flood} 分钟后超过 15 cm` : `${o.horizon_min} 分钟后约 ${o.predicted_depth_m ?? "—"} m` }),
    h("div", { class: "muted small", text: (o.reasons || []).join("；") }))));
  }

  showAlarms(alarms) {
    if (!alarms.length) {
      this.alarmList.replaceChildren(h("li", { class: "muted small", text: "没有活动告警 No active alarms" }));
      return;
    }
    this.alarmList.replaceChildren(...alarms.map((a) => {
      const d = this.devices.get(a.device_id);
      const pick = () => this.pickAlarm(a);
      return h("li", {
        class: `db-alarm-item db-sev-${slug(a.severity)}`, testid: "alarm-item", "data-id": a.id, "data-device": a.device_id,
        tabindex: "0", role: "button", onclick: pick, onkeydown: (e) => e.key === "Enter" && pick(),
      },
      h("div", {}, h("span", { class: `db-sev db-sev-${slug(a.severity)}`, text: label(SEVERITIES, a.severity) }), " ",
        h("strong", { text: d?.name || a.device_id })),
      h("div", { class: "small", text: a.message }),
      h("div", { class: "muted small", text: `${when(a.last_seen)} · ×${a.count}` }));
    }));
  }

  pickAlarm(alarm) {
    const rule = this.rules.find((r) => r.id === alarm.rule_id);
    for (const li of this.alarmList.children) li.classList.toggle("is-selected", li.dataset?.id === alarm.id);
    this.showReadings(alarm.device_id, rule?.attribute || null);
  }

  async showReadings(deviceId, attribute) {
    const seq = ++this.seq.chart;
    this.chartDevice = { id: deviceId, attribute };
    let rows;
    try {
      rows = await this.api.get(`/api/v1/iot/devices/${enc(deviceId)}/readings?limit=500${attribute ? `&attribute=${enc(attribute)}` : ""}`);
    } catch (err) {
      if (seq === this.seq.chart && !this.disposed) this.api.toast(err);
      return;
    }
    if (seq !== this.seq.chart || this.disposed) return;
    const attr = attribute || rows[0]?.attribute;
    const points = rows.filter((r) => r.attribute === attr).reverse(); // oldest first
    const device = this.devices.get(deviceId);
    const rule = this.rules.find((r) => r.kind === "threshold" && r.attribute === attr && r.limit != null
      && (r.device_id === deviceId || (!r.device_id && r.device_type === device?.type)));
    this.chart.dataset.device = deviceId;
    this.chart.replaceChildren(
      h("p", { class: "small" }, h("strong", { text: device?.name || deviceId }), " · ",
        h("code", { text: attr || "—" }), ` · ${points.length} 个读数 readings`),
      points.length ? lineChart(points, rule) : h("p", { class: "muted small", text: "暂无读数 No readings" }));
  }
}

/** An inline SVG line of readings over time, with the threshold as a dashed line. */
function lineChart(points, rule) {
  const W = 640, H = 220, L = 48, R = 12, T = 12, B = 28;
  const ts = points.map((p) => new Date(p.observed_at).getTime());
  const vs = points.map((p) => Number(p.value));
  const limit = rule ? Number(rule.limit) : null;
  let [lo, hi] = [Math.min(...vs, limit ?? Infinity), Math.max(...vs, limit ?? -Infinity)];
  if (hi === lo) [lo, hi] = [lo - 1, hi + 1];
  const [t0, t1] = [Math.min(...ts), Math.max(...ts)];
  const x = (t) => Math.round((L + (t1 === t0 ? 0.5 : (t - t0) / (t1 - t0)) * (W - L - R)) * 10) / 10;
  const y = (v) => Math.round((T + (hi - v) / (hi - lo) * (H - T - B)) * 10) / 10;
  const fmt = (v) => String(Math.round(v * 100) / 100);
  const unit = points[0].unit || "";
  const g = svg("svg", { class: "db-chart-svg", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "读数曲线 Readings over time" },
    svg("line", { class: "db-axis", x1: L, y1: H - B, x2: W - R, y2: H - B }),
    svg("line", { class: "db-axis", x1: L, y1: T, x2: L, y2: H - B }),
    svg("text", { class: "db-tick", x: L - 4, y: y(hi) + 4, "text-anchor": "end", text: fmt(hi) }),
    svg("text", { class: "db-tick", x: L - 4, y: y(lo) + 4, "text-anchor": "end", text: fmt(lo) }),
    svg("text", { class: "db-tick", x: L, y: H - 8, text: new Date(t0).toLocaleTimeString("zh-CN", { hour12: false }) }),
    svg("text", { class: "db-tick", x: W - R, y: H - 8, "text-anchor": "end", text: new Date(t1).toLocaleTimeString("zh-CN", { hour12: false }) }));
  if (limit != null) {
    g.append(svg("line", { class: "db-threshold", testid: "chart-threshold", "data-limit": limit, x1: L, y1: y(limit), x2: W - R, y2: y(limit) },
      svg("title", { text: `阈值 threshold ${fmt(limit)} ${unit}` })),
    svg("text", { class: "db-tick db-threshold-label", x: W - R, y: y(limit) - 4, "text-anchor": "end", text: `阈值 ${fmt(limit)}` }));
  }
  g.append(svg("polyline", { class: "db-line", testid: "chart-line", "data-points": points.length,
    points: points.map((p, i) => `${x(ts[i])},${y(vs[i])}`).join(" ") }));
  for (const [i, p] of points.entries()) {
    g.append(svg("circle", { class: "db-point", testid: "chart-point", cx: x(ts[i]), cy: y(vs[i]), r: 2.5 },
      svg("title", { text: `${when(p.observed_at)} · ${fmt(vs[i])} ${unit}` })));
  }
  return g;
}
