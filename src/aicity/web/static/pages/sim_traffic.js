// 推演模拟 · 干道信号配时 (corridor signal timing on Eclipse SUMO): the panel of the sim page that starts a
// `traffic` job (corridor, peak, measured period) and shows a finished one: travel time along the
// corridor, delay, queue and throughput under the plan running now and the optimised plan, the plan
// per crossing, and the signal devices the plan can be sent to (a request for approval, never a command).

import { h } from "../lib/dom.js";

const MEASURED = [[3600, "完整高峰小时 60 分钟"], [1800, "30 分钟"], [300, "快速预览 5 分钟"]];
const ROWS = [
  ["travel_time_s", "干道全程行程时间", (v) => `${(v / 60).toFixed(1)} 分钟`],
  ["delay_s", "车均延误", (v) => `${v.toFixed(0)} s`],
  ["corridor_delay_s", "全程车辆车均延误", (v) => `${v.toFixed(0)} s`],
  ["queue_m", "进口道平均最大排队", (v) => `${v.toFixed(0)} m`],
  ["corridor_queue_m", "干道进口道平均最大排队", (v) => `${v.toFixed(0)} m`],
  ["max_queue_m", "最长排队", (v) => `${v.toFixed(0)} m`],
  ["throughput_veh_h", "通过量", (v) => `${v} 辆/小时`],
];
const PHASES = [["through", "主路直行"], ["left", "主路左转"], ["cross", "横向道路"]];

function show(v, f) {
  return typeof v === "number" ? f(v) : "—";
}

export class TrafficPanel {
  // follow(id): the page follows the job; request(job, rec): queues a recommendation for approval
  constructor(api, { follow, request }) {
    this.api = api;
    this.request = request;
    this.corridor = h("select", { testid: "traffic-corridor", "aria-label": "干道 Corridor" });
    this.period = h("select", { testid: "traffic-period", "aria-label": "高峰 Peak" },
      h("option", { value: "am", text: "早高峰" }), h("option", { value: "pm", text: "晚高峰" }));
    this.measured = h("select", { testid: "traffic-measured", "aria-label": "统计时长 Measured period" },
      ...MEASURED.map(([s, label]) => h("option", { value: String(s), text: label })));
    this.run = h("button", { type: "submit", class: "btn", testid: "traffic-run" }, "仿真配时优化 Run");
    this.result = h("div", { testid: "traffic-result" });
    const form = h("form", { class: "ev-toolbar", testid: "traffic-form", onsubmit: async (e) => {
      e.preventDefault();
      const body = { kind: "traffic", corridor: this.corridor.value, period: this.period.value, optimize: true,
        measured_s: Number(this.measured.value) };
      if (body.measured_s < 3600) body.warmup_s = 120;
      this.run.disabled = true;
      try {
        follow((await this.api.post("/api/v1/sim/jobs", body)).id);
      } catch (err) {
        this.api.toast(err);
      } finally {
        this.run.disabled = false;
      }
    } }, h("h2", { class: "ev-subhead" }, "干道信号配时 ", h("small", { text: "Signal timing (Eclipse SUMO)" })),
    h("span", { class: "ev-spacer" }), this.corridor, this.period, this.measured, this.run);
    this.view = h("section", { class: "ev-card", "aria-label": "干道信号配时 Signal timing", testid: "traffic-panel" },
      form, this.result);
  }

  // the corridors are staff-only: they are asked for again when who is asking changes
  load() {
    this.onIdentity = () => this.loadCorridors();
    window.addEventListener("aicity:identity", this.onIdentity);
    return this.loadCorridors();
  }

  stop() {
    window.removeEventListener("aicity:identity", this.onIdentity);
  }

  async loadCorridors() {
    try {
      const out = await this.api.get("/api/v1/sim/traffic/corridors");
      this.corridor.replaceChildren(...out.corridors.map((c) => h("option", { value: c.name,
        text: `${c.name}（${(c.length_m / 1000).toFixed(1)} km，${c.crossings.length} 个路口）` })));
    } catch {
      this.corridor.replaceChildren(h("option", { value: "", text: "需要工作人员身份" }));
    }
  }

  show(result) {
    if (!result) {
      this.result.replaceChildren();
      return;
    }
    const d = result.demand;
    const change = result.change_pct || {};
    const after = result.after || {};
    const volumes = Object.entries(d.peak_veh_h).map(([k, v]) => `${k} ${v} 辆/小时`).join("，");
    const table = h("table", { class: "sim-table", testid: "traffic-compare" },
      h("thead", {}, h("tr", {}, ...["指标", "现行配时", "优化配时", "变化"].map((t) => h("th", { text: t })))),
      h("tbody", {}, ...ROWS.map(([key, label, f]) => h("tr", { testid: "traffic-row", "data-metric": key },
        h("td", { text: label }), h("td", { text: show(result.before[key], f) }), h("td", { text: show(after[key], f) }),
        h("td", { text: typeof change[key] === "number" ? `${change[key] > 0 ? "+" : ""}${change[key]}%` : "—" })))));
    const plan = result.plan;
    const planTable = plan ? h("table", { class: "sim-table", testid: "traffic-plan" },
      h("thead", {}, h("tr", {}, ...["路口", "Y", "C0 s", "相位差 s", ...PHASES.map(([, l]) => `${l} s`)]
        .map((t) => h("th", { text: t })))),
      h("tbody", {}, ...plan.crossings.map((r) => h("tr", {},
        h("td", { text: r.name }), h("td", { text: String(r.Y) }), h("td", { text: String(r.c0_s) }),
        h("td", { text: String(r.offset_s) }), ...PHASES.map(([p]) => h("td", { text: String(r.greens_s[p]) })))))) : null;
    this.result.replaceChildren(
      h("p", { testid: "traffic-summary", text: `${result.corridor} ${d.period_label} ${String(d.hour).padStart(2, "0")}:00 起一小时`
        + `（工作日均值：${volumes}），${(result.network.length_m / 1000).toFixed(1)} km、${result.network.crossings.length} 个信号路口；`
        + `同一批 ${result.simulation.vehicles} 辆车分别在现行配时与优化配时下仿真（统计 ${result.simulation.measured_s / 60} 分钟）。` }),
      table,
      plan ? h("p", { class: "small", text: `优化配时：韦伯斯特法（损失时间 ${plan.lost_time_s} s，C0 = (1.5L+5)/(1−Y)），`
        + `公共周期 ${plan.cycle_s} s（关键路口 ${plan.critical}），按 ${plan.progression_kmh} km/h 设高峰方向绿波。` }) : null,
      planTable,
      ...result.recommendations.map((r) => h("div", { class: "sim-rec", testid: "traffic-rec" },
        h("span", { text: `${r.label}：${r.reason} ` }),
        h("button", { type: "button", class: "btn btn-small", testid: "traffic-rec-request",
          onclick: () => this.request(result.job_id, r.id) }, "提交审批 Request approval"))));
  }
}
