// 基础设施 page: the infrastructure snapshot (GET /api/v1/ops/infra) for staff — the database and its
// slow statements, job queues and worker lag, the event bus, broker connections, device online rates per
// district, model deployments' latency and errors. Read only; refreshed on demand.
//
// Safety: every server string reaches the DOM as text (the h() builder never parses HTML).

import { h } from "../lib/dom.js";
import { cell, locked, table } from "../lib/tables.js";

const BREAKER = { closed: "正常 closed", half_open: "试探 half-open", open: "熔断 open" };

function num(v) {
  return v == null ? "—" : typeof v === "number" ? v.toLocaleString("zh-CN", { maximumFractionDigits: 1 }) : String(v);
}

function pct(v) {
  return v == null ? "—" : `${(v * 100).toFixed(1)}%`;
}

function mib(bytes) {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

function section(title, body) {
  return h("section", { class: "card" }, h("h2", { text: title }), body);
}

function view(s) {
  const db = s.database;
  const slow = db.slow_queries;
  return [
    h("p", { class: "muted", testid: "infra-generated", text: `模式 ${s.mode} · 生成于 ${s.generated_at}` }),
    section("数据库 Database", [
      table(["方言", "大小", "分析库", "运行中超阈值", "慢查询（阈值）"], [h("tr", { testid: "infra-database" },
        cell(db.dialect), cell(mib(db.size_bytes)), cell(mib(db.analytics_size_bytes)), cell(num(db.running_long)),
        cell(`${slow.count}（≥ ${slow.threshold_ms} ms）`))], "infra-database-table"),
      slow.recent.length ? table(["最慢的近期语句", "毫秒", "时间"], slow.recent.map((q) => h("tr", { testid: "infra-slow" },
        cell(h("code", { text: q.statement })), cell(num(q.ms)), cell(q.at))), "infra-slow-table") : null,
    ]),
    section("任务队列 Job queues", table(["队列", "模式", "排队", "运行中", "失败", "最早排队（秒）"],
      s.queues.map((q) => h("tr", { testid: "infra-queue", "data-name": q.queue }, cell(q.queue), cell(q.mode),
        cell(num(q.queued)), cell(num(q.running)), cell(num(q.failed)), cell(num(q.oldest_queued_s)))), "infra-queues")),
    section("事件总线 Bus", table(["模式", "持久", "待确认", "死信", "广播", "滞后（秒）", "最早待确认（秒）"],
      [h("tr", { testid: "infra-bus" }, cell(s.bus.mode), cell(num(s.bus.durable)), cell(num(s.bus.pending)),
        cell(num(s.bus.dead_letters)), cell(num(s.bus.broadcast)), cell(num(s.bus.lag_s)),
        cell(num(s.bus.oldest_pending_s)))], "infra-bus-table")),
    section("消息代理 Brokers", s.brokers.length ? table(["代理", "状态", "客户端", "探测（毫秒）", "错误"],
      s.brokers.map((b) => h("tr", { testid: "infra-broker", "data-name": b.broker, "data-up": String(b.up) },
        cell(b.broker), cell(b.up ? "在线 up" : "离线 down"), cell(num(b.clients)), cell(num(b.probe_ms)),
        cell(b.error || "—"))), "infra-brokers")
      : h("p", { class: "muted", testid: "infra-no-brokers", text: "未配置消息代理（嵌入模式）no brokers configured" })),
    section("各区设备在线率 Devices per district", s.devices.length ? table(["区", "设备", "在线", "在线率"],
      s.devices.map((d) => h("tr", { testid: "infra-district", "data-name": d.district }, cell(d.district),
        cell(num(d.devices)), cell(num(d.online)), cell(pct(d.online_rate)))), "infra-devices")
      : h("p", { class: "muted", text: "暂无设备 no devices" })),
    section("模型部署 Model endpoints", s.models.length ? table(["模型组", "部署", "提供方", "断路器", "调用", "失败", "错误率",
      "平均时延（毫秒）", "最近错误"], s.models.map((m) => h("tr", { testid: "infra-model", "data-name": m.deployment },
      cell(m.group), cell(m.deployment), cell(m.provider), cell(BREAKER[m.state] || m.state), cell(num(m.calls)),
      cell(num(m.failures)), cell(pct(m.error_rate)), cell(num(m.mean_latency_ms)), cell(m.last_error || "—"))),
    "infra-models") : h("p", { class: "muted", text: "未配置模型部署 no model deployments" })),
  ];
}

export function render(root, api) {
  const body = h("div", { testid: "infra-body" });
  const refresh = h("button", { type: "button", testid: "infra-refresh", text: "刷新 Refresh" });
  root.append(h("div", { class: "infra-page", testid: "infra-page" },
    h("h1", { text: "基础设施 Infrastructure" }), refresh, body));

  async function load() {
    refresh.disabled = true;
    try {
      body.replaceChildren(...view(await api.get("/api/v1/ops/infra")).filter(Boolean));
    } catch (err) {
      body.replaceChildren(locked(err, "infra-locked"));
    } finally {
      refresh.disabled = false;
    }
  }

  refresh.addEventListener("click", load);
  load();
  window.addEventListener("aicity:identity", load);
  return () => window.removeEventListener("aicity:identity", load);
}
