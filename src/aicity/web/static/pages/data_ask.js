// 一句话问数 ask page: a question box, the one-sentence answer, the table, the chart, the SQL that
// ran and the datasets it used (cited). The caller's key decides what may be asked.
//
// Safety: every server string reaches the DOM as text (h() builds text nodes only); the chart,
// an SVG the server writes with every text escaped, is shown as an <img> from a data: URL, where
// no script can run.

import { h } from "../lib/dom.js";

const STATUS = { answered: "已回答", refused: "不予提供", not_understood: "未能理解" };
const EXAMPLES = ["东湖区3月份有多少12345工单", "各区工单数量", "上半年积水类工单的平均办理时长",
  "PM2.5平均浓度最高的站点", "2025年GDP同比增长多少", "各区低保户数"];

function table(columns, rows) {
  return h("table", { class: "data-table", testid: "ask-table" },
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { text: c })))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((v) => h("td", { text: v == null ? "" : String(v) }))))));
}

export function render(root, api) {
  const input = h("input", { type: "text", maxlength: "500", placeholder: "用一句话问数据，如：东湖区3月份有多少工单",
    testid: "ask-input", class: "ask-input" });
  const button = h("button", { type: "submit", testid: "ask-submit", text: "提问" });
  const result = h("div", { class: "ask-result", testid: "ask-result" });
  let disposed = false;
  let controller = null;

  async function submit(question) {
    const q = question.trim();
    if (!q) return;
    controller?.abort();
    controller = new AbortController();
    result.replaceChildren(h("p", { class: "muted", text: "查询中…" }));
    let a;
    try {
      a = await api.post("/api/v1/data/ask", { question: q }, { signal: controller.signal });
    } catch (err) {
      if (!disposed && err.name !== "AbortError") {
        result.replaceChildren(h("p", { class: "error", testid: "ask-error", text: `无法回答：${err.message || err}` }));
      }
      return;
    }
    if (disposed) return;
    const parts = [
      h("p", { class: `ask-status ask-${a.status}`, testid: "ask-status", text: STATUS[a.status] || a.status }),
      h("p", { class: "ask-answer", testid: "ask-answer", text: a.answer }),
    ];
    if (a.alternative) parts.push(h("p", { class: "muted", testid: "ask-alternative", text: a.alternative }));
    if (a.chart_svg) {
      parts.push(h("img", { class: "ask-chart", testid: "ask-chart", alt: "图表 chart",
        src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(a.chart_svg)}` }));
    }
    if (a.rows?.length && a.columns?.length) parts.push(table(a.columns, a.rows));
    if (a.sql) parts.push(h("details", {}, h("summary", { text: "查询语句 SQL" }), h("pre", { testid: "ask-sql", text: a.sql })));
    if (a.datasets?.length) parts.push(h("p", { class: "muted", testid: "ask-datasets", text: `数据来源：${a.datasets.join("、")}` }));
    result.replaceChildren(...parts);
  }

  const form = h("form", { class: "ask-form", onsubmit: (e) => { e.preventDefault(); submit(input.value); } }, input, button);
  const examples = h("p", { class: "muted" }, "试试：", EXAMPLES.map((q) => h("a", {
    href: "#", class: "ask-example", onclick: (e) => { e.preventDefault(); input.value = q; submit(q); }, text: q }))
    .flatMap((a, i) => (i ? ["　", a] : [a])));
  root.append(h("section", { class: "ask-page" }, h("h1", { text: "一句话问数" }), form, examples, result));
  input.focus();
  return () => { disposed = true; controller?.abort(); };
}
