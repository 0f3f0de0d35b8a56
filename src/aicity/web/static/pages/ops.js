// 运营 operations page: per agent and skill — volume, success, abstentions, latency, tokens and
// people's 👍/👎 — the questions nobody served (clustered), and the five-dimension assessment.
//
// Safety: every server string reaches the DOM as text (the h() builder never parses HTML).

import { h } from "../lib/dom.js";
import { cell, table, locked } from "../lib/tables.js";

const REASONS = { down: "点踩", error: "出错", abstained: "未作答", abandoned: "放弃追问", unserved: "目录未覆盖" };
const DIMENSIONS = { facilities: "智能设施", hub: "智能中枢", applications: "智能应用", evolution: "持续进化", people: "以人为本" };

const pct = (v) => (v == null ? "—" : `${Math.round(v * 100)}%`);
const num = (v) => (v == null ? "—" : String(v));


function opsRows(rows, testid) {
  return rows.map((r) => h("tr", { testid, "data-name": r.name },
    cell(h("code", { text: r.name })), cell(num(r.calls)), cell(pct(r.success_rate)), cell(pct(r.abstention_rate)),
    cell(num(r.errors + r.denied)), cell(num(r.latency_ms_p50)), cell(num(r.latency_ms_p95)),
    cell(`${r.input_tokens}/${r.output_tokens}`), cell(`${r.up}/${r.down}`)));
}

const HEADINGS = ["名称", "调用", "成功率", "未作答", "出错", "p50 ms", "p95 ms", "token 入/出", "👍/👎"];

class AgentsView {
  constructor(api) {
    this.api = api;
    this.summary = h("p", { class: "muted", testid: "ops-summary" });
    this.body = h("div");
    this.view = h("section", { class: "card", testid: "ops-agents" },
      h("h2", { text: "智能体运营 Agent operations（最近 30 天）" }), this.summary, this.body);
  }

  async load() {
    let data;
    try {
      data = await this.api.get("/api/v1/ops/agents?days=30");
    } catch (err) {
      this.summary.textContent = "";
      this.body.replaceChildren(locked(err, "ops-locked"));
      return;
    }
    this.summary.textContent = `运行 ${data.runs} 次，拦截 ${data.blocked}，未作答 ${data.abstained_runs}，` +
      `追问 ${data.clarifications}；评价 👍 ${data.feedback.up ?? 0} / 👎 ${data.feedback.down ?? 0}`;
    const clusters = data.failed.map((g) => h("tr", { testid: "ops-cluster" },
      cell(h("strong", { text: g.label })), cell(num(g.size)),
      cell(Object.entries(g.reasons).map(([k, n]) => `${REASONS[k] || k} ${n}`).join("，")),
      cell(h("ul", { style: "margin:0;padding-left:18px" }, g.examples.slice(0, 3).map((t) => h("li", { text: t }))))));
    this.body.replaceChildren(
      h("h3", { text: "按智能体 By agent" }), table(HEADINGS, opsRows(data.agents, "ops-agent"), "ops-agents-table"),
      h("h3", { text: "按技能 By skill" }), table(HEADINGS, opsRows(data.skills, "ops-skill"), "ops-skills-table"),
      h("h3", { text: "模型网关计量 Gateway meter" }),
      table(["调用方", "请求", "错误", "prompt", "completion"], data.gateway.map((g) => h("tr", {},
        cell(h("code", { text: g.agent })), cell(num(g.requests)), cell(num(g.errors)), cell(num(g.prompt_tokens)),
        cell(num(g.completion_tokens)))), "ops-gateway-table"),
      h("h3", { text: "没人服务的问题 What people ask that nobody serves" }),
      data.failed.length ? table(["主题", "数量", "原因", "例子"], clusters, "ops-clusters")
        : h("p", { class: "muted", testid: "ops-clusters-empty", text: "暂无 none" }));
  }
}

class AssessmentView {
  constructor(api) {
    this.api = api;
    this.body = h("div");
    this.view = h("section", { class: "card", testid: "ops-assessment" },
      h("h2", { text: "智慧城市评估 Assessment（五个维度）" }), this.body);
  }

  async load() {
    let data;
    try {
      data = await this.api.get("/api/v1/ops/assessment");
    } catch (err) {
      this.body.replaceChildren(locked(err, "ops-locked"));
      return;
    }
    const rows = Object.entries(data.dimensions).map(([id, d]) => {
      const bar = h("span", { style: "display:inline-block;height:10px;background:var(--accent, #2563eb)" });
      bar.style.width = `${Math.max(1, Math.round(d.score))}%`;
      return h("tr", { testid: "ops-dimension", "data-id": id },
        cell(h("strong", { text: DIMENSIONS[id] || id })), cell(num(d.score)),
        cell(h("span", { style: "display:inline-block;width:200px;background:var(--border)" }, bar)));
    });
    const weakest = data.weakest.slice(0, 5).map((w) => h("li", { testid: "ops-weakest",
      text: `${DIMENSIONS[w.dimension] || w.dimension} · ${w.name}：${num(w.value)}（${w.source}）` }));
    this.body.replaceChildren(table(["维度", "得分", ""], rows, "ops-dimensions"),
      h("h3", { text: "最薄弱的指标 Weakest points" }), h("ol", {}, weakest));
  }
}

export function render(root, api) {
  const agents = new AgentsView(api);
  const assessment = new AssessmentView(api);
  root.append(h("div", { class: "ops-page", testid: "ops-page" },
    h("h1", { text: "运营 Operations" }), agents.view, assessment.view));
  const load = () => { agents.load(); assessment.load(); };
  load();
  window.addEventListener("aicity:identity", load);
  return () => window.removeEventListener("aicity:identity", load);
}
