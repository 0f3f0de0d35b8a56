// 产业招商 industry page: a chain's map upstream → downstream with each node coloured by its local
// strength (缺失 / 薄弱 / 一般 / 较强, the rule shown), the outside companies ranked for a node with
// the components and reasons of each score, the project pipeline board (线索 → … → 考核) where a
// project moves one stage, and the chain report in one click.
//
// Safety: every server string reaches the DOM as text (h() builds text nodes only); the report
// opens as a blob of the server's HTML (its charts are SVG the server escaped) in a new tab.

import { h } from "../lib/dom.js";

const BASE = "/api/v1/industry";
const enc = encodeURIComponent;
const STAGES = ["线索", "立项", "分派", "协同", "落地", "移交", "考核"];
const POSITIONS = ["上游", "中游", "下游"];

export function render(root, api) {
  const chainSelect = h("select", { testid: "industry-chain" });
  const districtSelect = h("select", { testid: "industry-district" }, h("option", { value: "", text: "全市" }));
  const reportButton = h("button", { type: "button", testid: "industry-report", text: "生成报告（HTML）" });
  const status = h("p", { class: "muted", testid: "industry-status" });
  const mapBox = h("div", { class: "industry-map", testid: "industry-map" });
  const rule = h("p", { class: "muted", testid: "industry-rule" });
  const leadsBox = h("div", { class: "industry-leads", testid: "industry-leads" });
  const board = h("div", { class: "industry-board", testid: "industry-board" });
  let disposed = false;
  let current = null;

  function fail(where, err) {
    if (!disposed) status.replaceChildren(h("span", { class: "error", testid: "industry-error", text: `${where}：${err.message || err}` }));
  }

  function nodeBox(n) {
    const f = n.figures;
    return h("button", { type: "button", class: `industry-node strength-${n.strength.level}`, testid: "industry-node",
      "data-level": n.strength.level, title: n.strength.reason, onclick: () => loadLeads(n.name) },
      h("strong", { text: n.name }),
      h("span", { text: `${n.strength.label} · 指数 ${n.strength.index.toFixed(2)}` }),
      h("span", { class: "muted", text: `企业 ${f.firms} 家 · 营收 ${Math.round(f.revenue_10k_yuan).toLocaleString()} 万元` }),
      h("span", { class: "muted", text: `外地线索 ${n.leads} 条` }));
  }

  async function loadMap() {
    const chain = chainSelect.value;
    const district = districtSelect.value;
    status.textContent = "加载中…";
    let m;
    try {
      m = await api.get(`${BASE}/chains/${enc(chain)}${district ? `?district=${enc(district)}` : ""}`);
    } catch (err) { fail("产业链图谱", err); return; }
    if (disposed) return;
    current = m;
    if (districtSelect.options.length === 1) {
      const names = new Set();
      m.nodes.forEach((n) => Object.keys(n.figures.districts).forEach((d) => names.add(d)));
      [...names].sort().forEach((d) => districtSelect.append(h("option", { value: d, text: d })));
    }
    const columns = POSITIONS.map((pos) => h("div", { class: "industry-column" }, h("h3", { text: pos }),
      m.nodes.filter((n) => n.position === pos).map(nodeBox)));
    mapBox.replaceChildren(...columns.flatMap((c, i) => (i ? [h("div", { class: "industry-arrow", text: "→" }), c] : [c])));
    rule.textContent = `判定规则：${m.rule}。缺失或薄弱：${m.gaps.join("、") || "无"}`;
    status.textContent = `${m.district || "全市"}${m.chain}：${m.nodes.length} 个环节，在营企业 ${m.firms} 家`;
    leadsBox.replaceChildren(h("p", { class: "muted", text: "点击环节查看招商线索" }));
  }

  async function loadLeads(node) {
    leadsBox.replaceChildren(h("p", { class: "muted", text: "排序中…" }));
    let r;
    try {
      r = await api.get(`${BASE}/chains/${enc(current.chain)}/leads?node=${enc(node)}&limit=10`);
    } catch (err) {
      leadsBox.replaceChildren(h("p", { class: "error", testid: "industry-leads-error", text: err.message || String(err) }));
      return;
    }
    if (disposed) return;
    leadsBox.replaceChildren(h("h3", { text: `${r.chain}“${node}”招商线索` }), h("p", { class: "muted", text: r.rule }),
      h("ol", {}, r.leads.map((x) => h("li", { testid: "industry-lead" },
        h("strong", { text: `${x.company}（${x.province}）得分 ${x.score.toFixed(1)}` }), " ",
        h("button", { type: "button", testid: "industry-lead-project", text: "建项目",
          onclick: () => createProject(x) }),
        h("ul", {}, x.components.map((c) => h("li", { class: "muted",
          text: `${c.label} ${c.weight} × ${c.score} = ${c.points}：${c.reason}` })))))));
  }

  async function createProject(lead) {
    try {
      await api.post(`${BASE}/projects`, { company: lead.company, chain: lead.chain, node: lead.node, owner: "招商专班" });
    } catch (err) { fail("建项目", err); return; }
    loadBoard();
  }

  async function move(p, to) {
    try {
      await api.post(`${BASE}/projects/${enc(p.id)}/move`, { to, note: "" });
    } catch (err) { fail("推进项目", err); return; }
    loadBoard();
  }

  async function loadBoard() {
    let list;
    try { list = await api.get(`${BASE}/projects`); } catch (err) { fail("项目看板", err); return; }
    if (disposed) return;
    board.replaceChildren(...STAGES.map((stage) => h("div", { class: "industry-stage", testid: `industry-stage-${stage}` },
      h("h3", { text: `${stage}（${list.filter((p) => p.stage === stage).length}）` }),
      list.filter((p) => p.stage === stage).map((p) => h("div", { class: `industry-card${p.stalled ? " stalled" : ""}`,
        testid: "industry-card" },
        h("strong", { text: p.name }),
        h("span", { class: "muted", text: `${p.owner} · 第 ${p.days_in_stage}/${p.limit_days} 天${p.stalled ? " · 已超期" : ""}` }),
        p.allowed_moves[0] && STAGES.indexOf(p.allowed_moves[0]) > STAGES.indexOf(p.stage)
          ? h("button", { type: "button", testid: "industry-advance", text: `推进到${p.allowed_moves[0]}`,
            onclick: () => move(p, p.allowed_moves[0]) }) : null)))));
  }

  async function openReport() {
    try {
      const res = await fetch(`${BASE}/chains/${enc(chainSelect.value)}/report?format=html`, { headers: api.headers({ Accept: "text/html" }) });
      if (!res.ok) throw new Error(`${res.status}`);
      const url = URL.createObjectURL(new Blob([await res.text()], { type: "text/html" }));
      status.replaceChildren(h("a", { href: url, target: "_blank", rel: "noopener", testid: "industry-report-link",
        text: `${chainSelect.value}产业链报告已生成，点击打开` }));
    } catch (err) { fail("生成报告", err); }
  }

  chainSelect.addEventListener("change", () => { districtSelect.length = 1; loadMap(); });
  districtSelect.addEventListener("change", loadMap);
  reportButton.addEventListener("click", openReport);
  root.append(h("section", { class: "industry-page" }, h("h1", { text: "产业招商" }),
    h("p", {}, "产业链 ", chainSelect, " 区域 ", districtSelect, " ", reportButton), status, mapBox, rule,
    h("h2", { text: "招商线索" }), leadsBox, h("h2", { text: "项目看板" }), board));

  (async () => {
    let chains;
    try { chains = await api.get(`${BASE}/chains`); } catch (err) { fail("产业链", err); return; }
    if (disposed) return;
    chains.forEach((c) => chainSelect.append(h("option", { value: c.chain, text: `${c.chain}（${c.firms} 家）` })));
    chainSelect.value = chains.some((c) => c.chain === "新能源汽车") ? "新能源汽车" : chains[0]?.chain;
    await loadMap();
    await loadBoard();
  })();
  return () => { disposed = true; };
}
