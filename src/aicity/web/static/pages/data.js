// 数据目录 data-catalog page: search the catalog (titles, descriptions, columns, synonyms), and a
// dataset's page — columns with meanings, units, grades and personal-information marks, the
// quality report, versions, lineage, and sample rows only where the caller may read rows
// (personal columns come back masked from the server outside the owner department).
//
// Safety: every server string reaches the DOM as text (h() builds text nodes only).

import { h } from "../lib/dom.js";

const BASE = "/api/v1/data";
const PII = { personal: "个人信息", sensitive: "敏感个人信息" };
const STATUS = { passed: "通过", failed: "未通过", skipped: "跳过" };
const enc = encodeURIComponent;

function gradeBadge(d) {
  const text = `${d.grade_name ?? d.grade} ${d.sensitivity_level} 级${d.confirmed ? "" : "（建议）"}`;
  return h("span", { class: `data-badge data-level-${Number(d.sensitivity_level) || 0}`, testid: "grade", text });
}

function table(headers, rows, testid) {
  return h("table", { class: "data-table", testid },
    h("thead", {}, h("tr", {}, headers.map((t) => h("th", { text: t })))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c instanceof Node ? c : String(c ?? "")))))));
}

export function render(root, api) {
  const list = h("div", { class: "data-list", testid: "data-list" });
  const detail = h("div", { class: "data-detail", testid: "data-detail" });
  const input = h("input", { type: "search", placeholder: "检索数据集、列、同义词…", testid: "data-search" });
  const status = h("p", { class: "muted", testid: "data-status" });
  let disposed = false;

  async function load(q) {
    status.textContent = "加载中…";
    try {
      const rows = await api.get(`${BASE}/datasets${q ? `?q=${enc(q)}` : ""}`);
      if (disposed) return;
      list.replaceChildren(...rows.map((d) => h("div", { class: "data-card", testid: "data-card" },
        h("a", { href: "#", testid: `open-${d.id}`, onclick: (e) => { e.preventDefault(); open(d.id); } },
          h("strong", { text: d.title })),
        h("div", { class: "muted", text: `${d.id} · ${d.owner_name || d.owner_department || ""} · ${d.rows} 行 · 更新 ${d.cadence}` }),
        gradeBadge(d),
        h("span", { class: "muted", text: ` 质量 ${(d.quality_score ?? 0).toFixed(3)}` }),
        d.matched_columns?.length ? h("div", { class: "muted", text: `匹配列：${d.matched_columns.join("、")}` }) : null)));
      status.textContent = rows.length ? `${rows.length} 个数据集` : "没有匹配的数据集";
    } catch (err) {
      status.textContent = `无法加载目录：${err.message || err}`;
    }
  }

  async function open(id) {
    detail.replaceChildren(h("p", { class: "muted", text: "加载中…" }));
    let d;
    try {
      d = await api.get(`${BASE}/datasets/${enc(id)}`);
    } catch (err) {
      detail.replaceChildren(h("p", { class: "error", text: `无法打开 ${id}：${err.message || err}` }));
      return;
    }
    if (disposed) return;
    const cols = table(["列", "类型", "含义", "单位", "级别", "个人信息"], d.columns.map((c) => [
      c.name, c.type, c.title || c.meaning, c.unit || "", c.sensitivity_level,
      c.pii ? `${PII[c.pii]}（${c.pii_kind || ""}）` : ""]), "data-columns");
    const checks = table(["检查", "列", "结果", "不合格行", "说明"], d.quality.checks.map((c) => [
      c.name, c.columns.join(", "), STATUS[c.status] || c.status, c.failing, c.detail]), "data-quality");
    const lineage = h("ul", { testid: "data-lineage" }, d.lineage.map((s) => h("li", {
      text: `v${s.version} ${s.step} ← ${s.inputs.join(", ") || "—"}（${s.actor}，${s.at}）` })));
    const sample = d.sample.allowed
      ? table(d.sample.columns, d.sample.rows, "data-sample")
      : h("p", { class: "muted", testid: "data-sample-refused", text: `样例行不可见：${d.sample.reason}` });
    detail.replaceChildren(
      h("h2", { testid: "data-title", text: d.title }),
      h("p", {}, gradeBadge(d), ` ${d.category} · 责任部门 ${d.owner_name || d.owner_department || "—"} · v${d.version} · ${d.rows} 行 · 质量 ${d.quality.score.toFixed(3)}`),
      h("p", { class: "muted", text: d.description }),
      h("h3", { text: "列" }), cols,
      h("h3", { text: "质量检查" }), checks,
      h("h3", { text: "血缘" }), lineage,
      d.derived.length ? h("p", { class: "muted", text: `派生数据集：${d.derived.join("、")}` }) : null,
      h("h3", { text: "样例行" }), sample);
  }

  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => load(input.value.trim()), 250);
  });
  root.append(h("section", { class: "data-page" }, h("h1", { text: "数据目录" }), input, status, list, detail));
  load("");
  return () => { disposed = true; clearTimeout(timer); };
}
