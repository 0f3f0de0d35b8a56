// 推演模拟 Simulation: run a flood simulation (EPA SWMM) for a design storm, follow its progress,
// see the flooded places on the city map (the dashboard's map), the comparison with the
// waterlogging watch, the recommendations (queued for approval, never actuated), and the history.
// #/sim?job=<id> opens one job.

import { h } from "../lib/dom.js";
import { CityMap } from "../lib/citymap.js";
import { TrafficPanel } from "./sim_traffic.js";

const PERIODS = [2, 5, 10, 20, 50, 100];
const POLL_MS = 700;
const FINAL = ["succeeded", "failed", "cancelled"];

export function render(root, api) {
  const page = new SimPage(api);
  root.append(page.view);
  page.start();
  return () => page.stop();
}

function fmt(v, digits = 2) {
  return typeof v === "number" ? v.toFixed(digits) : "—";
}

function clock(iso) {
  return iso ? new Date(iso).toLocaleTimeString("zh-CN", { hour12: false, hour: "2-digit", minute: "2-digit" }) : "—";
}

class SimPage {
  constructor(api) {
    this.api = api;
    this.disposed = false;
    this.timer = null;
    this.job = null;
    this.build();
  }

  build() {
    this.period = h("select", { testid: "sim-period", "aria-label": "重现期 Return period" },
      ...PERIODS.map((p) => h("option", { value: String(p), selected: p === 50 ? true : null, text: `${p} 年一遇` })));
    this.district = h("select", { testid: "sim-district", "aria-label": "区域 District" },
      h("option", { value: "", text: "全市 whole city" }));
    this.duration = h("input", { type: "number", min: "10", step: "10", value: "120", testid: "sim-duration",
      "aria-label": "降雨历时（分钟）Duration (min)", class: "sim-duration" });
    this.run = h("button", { type: "submit", class: "btn", testid: "sim-run" }, "开始模拟 Run");
    this.cancelBtn = h("button", { type: "button", class: "btn btn-small", testid: "sim-cancel", hidden: true,
      onclick: () => this.cancel() }, "取消 Cancel");
    this.status = h("div", { class: "muted small", testid: "sim-status", role: "status" });
    this.bar = h("progress", { max: "1", value: "0", testid: "sim-progress", hidden: true });
    this.map = new CityMap({ onEvent: () => {}, onDistrict: () => {}, dotClass: () => "", dotTitle: () => "" });
    this.map.el.dataset.testid = "sim-map";
    this.summary = h("div", { testid: "sim-summary" });
    this.table = h("div", { testid: "sim-flooded" });
    this.compare = h("div", { class: "small", testid: "sim-compare" });
    this.recs = h("div", { testid: "sim-recommendations" });
    this.history = h("ol", { class: "db-alarms", testid: "sim-history" });
    this.traffic = new TrafficPanel(this.api, { follow: (id) => this.follow(id), request: (job, rec) => this.request(job, rec) });
    const form = h("form", { class: "ev-toolbar", testid: "sim-form", onsubmit: (e) => { e.preventDefault(); this.submit(); } },
      h("h1", {}, "推演模拟 ", h("small", { text: "Flood simulation (EPA SWMM)" })), h("span", { class: "ev-spacer" }),
      this.period, this.district, this.duration, this.run, this.cancelBtn);
    this.view = h("section", { class: "ev db", "aria-label": "推演模拟 Simulation" },
      form, h("div", {}, this.bar, this.status),
      h("div", { class: "ev-body" },
        h("div", { class: "ev-main" },
          h("section", { class: "ev-card ev-map-card", "aria-label": "积水地图 Flood map" }, this.map.el,
            h("div", { class: "ev-legend small muted" },
              h("span", {}, h("i", { class: "ev-swatch db-flood db-flood-flooded" }), "积水 ≥ 30 cm"),
              h("span", {}, h("i", { class: "ev-swatch db-flood db-flood-warning" }), "积水 15–30 cm"))),
          h("section", { class: "ev-card", "aria-label": "结果 Result" }, this.summary, this.table, this.compare, this.recs),
          this.traffic.view),
        h("aside", { class: "ev-card db-side", "aria-label": "历史 History" },
          h("h2", { class: "ev-subhead", text: "模拟历史 History" }), this.history)));
  }

  async start() {
    const districts = await this.api.cached("/api/v1/events/districts").catch((err) => (this.api.toast(err), null));
    if (this.disposed) return;
    this.map.setDistricts(districts);
    for (const f of districts?.features || []) {
      this.district.append(h("option", { value: f.properties.id, text: f.properties.name }));
    }
    const wanted = new URLSearchParams(location.hash.split("?")[1] || "").get("job");
    this.traffic.load();
    await this.loadHistory();
    if (wanted) this.follow(wanted);
  }

  stop() {
    this.disposed = true;
    clearTimeout(this.timer);
    this.traffic.stop();
  }

  async loadHistory() {
    let page;
    try {
      page = await this.api.get("/api/v1/sim/jobs?limit=20");
    } catch (err) {
      this.status.textContent = err.status === 401 || err.status === 403
        ? "需要工作人员身份 A staff key is needed." : String(err.message || err);
      return;
    }
    if (this.disposed) return;
    this.history.replaceChildren(...page.jobs.map((j) => h("li", { testid: "sim-history-item", "data-id": j.id },
      h("a", { href: `#/sim?job=${encodeURIComponent(j.id)}`, onclick: (e) => { e.preventDefault(); this.follow(j.id); } },
        j.kind === "traffic" ? `${j.id} · ${j.params.corridor} 信号配时`
          : `${j.id} · ${j.params.return_period ? `${j.params.return_period} 年一遇` : "实时降雨"} · ${j.params.district || "全市"}`),
      h("span", { class: "muted small", text: ` ${j.status_label}` }))));
    if (!page.jobs.length) this.history.append(h("li", { class: "muted small", text: "暂无 None yet" }));
  }

  async submit() {
    const body = { return_period: Number(this.period.value), duration_min: Number(this.duration.value) };
    if (this.district.value) body.district = this.district.value;
    this.run.disabled = true;
    try {
      const job = await this.api.post("/api/v1/sim/jobs", body);
      this.follow(job.id);
    } catch (err) {
      this.api.toast(err);
      this.run.disabled = false;
    }
  }

  async cancel() {
    if (!this.job) return;
    try {
      await this.api.post(`/api/v1/sim/jobs/${encodeURIComponent(this.job)}/cancel`);
    } catch (err) {
      this.api.toast(err);
    }
  }

  async follow(id) {
    this.job = id;
    clearTimeout(this.timer);
    let job;
    try {
      job = await this.api.get(`/api/v1/sim/jobs/${encodeURIComponent(id)}`);
    } catch (err) {
      this.api.toast(err);
      return;
    }
    if (this.disposed || this.job !== id) return;
    const done = FINAL.includes(job.status);
    this.bar.hidden = done;
    this.bar.value = job.progress;
    this.cancelBtn.hidden = done;
    this.run.disabled = !done;
    this.status.textContent = `任务 ${job.id}：${job.status_label} ${Math.round(job.progress * 100)}% ${job.message || ""}`;
    this.status.dataset.status = job.status;
    if (!done) {
      this.timer = setTimeout(() => this.follow(id), POLL_MS);
      return;
    }
    this.loadHistory();
    if (job.status === "succeeded") {
      const result = await this.api.get(`/api/v1/sim/jobs/${encodeURIComponent(id)}/result`);
      this.traffic.show(job.kind === "traffic" ? result : null);
      this.show(job.kind === "traffic" ? null : result);
    } else {
      this.traffic.show(null);
      this.show(null);
      if (job.error) this.status.textContent += `（${job.error}）`;
    }
  }

  show(result) {
    this.map.setMarkers((result?.flooded || []).map((f) => ({
      id: f.node, lat: f.lat, lon: f.lon, r: f.watch_point ? 7 : 5, shape: f.watch_point ? "square" : "circle",
      cls: `db-flood ${f.max_depth_m >= 0.3 ? "db-flood-flooded" : "db-flood-warning"}`, testid: "sim-marker",
      title: `${f.place} · 最大积水 ${fmt(f.max_depth_m)} m · ${clock(f.start)} 起 ${Math.round(f.duration_min)} 分钟`,
    })));
    if (!result) {
      for (const el of [this.summary, this.table, this.compare, this.recs]) el.replaceChildren();
      return;
    }
    const s = result.scenario;
    this.summary.replaceChildren(h("p", { testid: "sim-summary-text",
      text: `${s.label}：雨量 ${s.rain_depth_mm} mm，峰值 ${s.peak_intensity_mm_h} mm/h；积水超过 15 cm 的地点 ${result.flooded.length} 处，`
        + `最深 ${fmt(result.max_depth_m)} m，总溢流 ${Math.round(result.total_overflow_m3)} m³` }));
    this.table.replaceChildren(h("table", { class: "sim-table" },
      h("thead", {}, h("tr", {}, ...["地点", "区", "最大积水 m", "开始", "持续 分钟", "溢流 m³"].map((t) => h("th", { text: t })))),
      h("tbody", {}, ...result.flooded.map((f) => h("tr", { testid: "sim-row", "data-node": f.node },
        h("td", { text: f.place }), h("td", { text: f.district_name }), h("td", { text: fmt(f.max_depth_m) }),
        h("td", { text: clock(f.start) }), h("td", { text: String(Math.round(f.duration_min)) }),
        h("td", { text: String(Math.round(f.overflow_m3)) }))))));
    const c = result.comparison;
    this.compare.replaceChildren(h("p", { text: `与内涝预警（质量守恒）对比：两者都判积水 ${c.both}，仅 SWMM ${c.swmm_only}，`
      + `仅预警模型 ${c.watch_only}，都不积水 ${c.neither}（一致率 ${c.agreement ?? "—"}）` }));
    this.recs.replaceChildren(...result.recommendations.map((r) => h("div", { class: "sim-rec", testid: "sim-rec" },
      h("span", { text: `${r.label}：${r.reason} ` }),
      r.actuation ? h("button", { type: "button", class: "btn btn-small", testid: "sim-rec-request",
        onclick: () => this.request(result.job_id, r.id) }, "提交审批 Request approval") : null)));
  }

  async request(job, rec) {
    try {
      const out = await this.api.post(`/api/v1/sim/jobs/${encodeURIComponent(job)}/actions`, { recommendation: rec });
      this.api.toast(`${out.title}：${out.body}`, { kind: "info" });
    } catch (err) {
      this.api.toast(err);
    }
  }
}
