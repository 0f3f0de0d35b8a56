// 语料与模型 page (operators and admins): for the mode router or the events classifier (a switch), the corpus
// review queue (collect, accept with a label, reject, freeze a version) and the model's versions with their
// gate figures (retrain from the newest corpus version of the kind, roll back); and knowledge operations (usage per knowledge base, superseded texts still
// cited, overdue reviews, questions with no good passage).
//
// Safety: every server string reaches the DOM as text (the h() builder never parses HTML).

import { h } from "../lib/dom.js";
import { cell, table, locked } from "../lib/tables.js";

const STATUS = { queued: "排队", running: "训练中", refused: "未通过", failed: "失败", active: "运行中", retired: "已退役",
  rolled_back: "已回滚" };
const num = (v) => (v == null ? "—" : String(v));
// router figures carry mode_accuracy, the events classifier's accuracy
const acc = (side, part) => {
  const found = side && side[part] ? (side[part].mode_accuracy ?? side[part].accuracy) : null;
  return found == null ? "—" : found.toFixed(4);
};
// what each corpus kind labels, where its labels come from, and the model it retrains
const KINDS = {
  modes: { title: "模式路由 mode router", model: "router", labels: "/api/v1/ops/corpus/modes", label: "mode",
    predicted: "predicted_mode", hint: "👍 的问题带着助理当时理解的模式，👎 的没有标注：接受前请选择正确的模式。个人信息已脱敏。" },
  events: { title: "事件分类 events classifier", model: "events", labels: "/api/v1/events/categories", label: "category",
    predicted: "predicted_category", hint: "工作人员纠正事件类别后，该事件的描述带着正确类别进入这里；接受前可改正类别。个人信息已脱敏。" },
};


class CorpusView {
  constructor(api, onVersion) {
    this.api = api;
    this.onVersion = onVersion;
    this.kind = "modes";
    this.labels = {};
    this.body = h("div");
    this.summary = h("p", { class: "muted", testid: "corpus-summary", role: "status" });
    this.hint = h("p", { class: "muted", text: KINDS.modes.hint });
    this.view = h("section", { class: "card", testid: "centre-corpus" },
      h("h2", { text: "语料审核 Corpus review" }),
      this.hint,
      h("div", { style: "display:flex;gap:8px;margin-bottom:8px" },
        h("button", { class: "btn btn-small", testid: "corpus-collect", text: "收集评价 collect", onclick: () => this.collect() }),
        h("button", { class: "btn btn-small", testid: "corpus-freeze", text: "冻结为新版本 freeze", onclick: () => this.freeze() })),
      this.summary, this.body);
  }

  async collect() {
    try {
      const found = await this.api.post(`/api/v1/ops/corpus/collect?days=30&kind=${this.kind}`, {});
      this.api.toast(`新增 ${found.added} 条待审核语料`, { kind: "info", timeout: 4000 });
    } catch (err) {
      this.api.toast(err);
    }
    await this.load();
  }

  async freeze() {
    try {
      const v = await this.api.post(`/api/v1/ops/corpus/versions?kind=${this.kind}`, {});
      this.api.toast(`语料版本 ${v.version}：${v.size} 条`, { kind: "info", timeout: 4000 });
      this.onVersion();
    } catch (err) {
      this.api.toast(err);
    }
  }

  async review(item, verb, select) {
    const body = verb === "accept" && select.value ? { [KINDS[this.kind].label]: select.value } : {};
    try {
      await this.api.post(`/api/v1/ops/corpus/items/${encodeURIComponent(item.id)}/${verb}`, body);
    } catch (err) {
      this.api.toast(err);
    }
    await this.load();
  }

  row(item) {
    const spec = KINDS[this.kind];
    const select = h("select", { testid: "corpus-mode", "aria-label": "正确的标注" },
      h("option", { value: "", text: "（选择标注）" }),
      this.labels[this.kind].map((m) => h("option", { value: m.id, text: `${m.name} ${m.id}`,
        selected: m.id === item[spec.label] })));
    return h("tr", { testid: "corpus-item", "data-id": item.id },
      cell(item.source === "feedback" ? (item.note.startsWith("up") ? "👍" : "👎") : "纠正"),
      cell(item.text), cell(h("code", { text: item[spec.predicted] || "—" })), cell(select),
      cell(item.note),
      cell(h("button", { class: "btn btn-small", testid: "corpus-accept", text: "接受",
        onclick: () => this.review(item, "accept", select) }), " ",
      h("button", { class: "btn btn-small", testid: "corpus-reject", text: "拒绝",
        onclick: () => this.review(item, "reject", select) })));
  }

  async load() {
    let items;
    try {
      if (!this.labels[this.kind]) this.labels[this.kind] = await this.api.get(KINDS[this.kind].labels);
      items = await this.api.get(`/api/v1/ops/corpus/items?status=pending&kind=${this.kind}`);
    } catch (err) {
      this.summary.textContent = "";
      this.body.replaceChildren(locked(err, "centre-locked", "需要运营人员或管理员身份 an operator or admin key is required"));
      return false;
    }
    this.hint.textContent = KINDS[this.kind].hint;
    this.summary.textContent = `待审核 ${items.length} 条`;
    const heads = this.kind === "events" ? ["来源", "事件描述", "原类别", "正确类别", "备注", ""]
      : ["来源", "请求", "助理理解", "正确模式", "备注", ""];
    this.body.replaceChildren(items.length
      ? table(heads, items.map((i) => this.row(i)), "corpus-queue")
      : h("p", { class: "muted", testid: "corpus-empty", text: "没有待审核的语料 nothing to review" }));
    return true;
  }
}

class ModelsView {
  constructor(api) {
    this.api = api;
    this.kind = "modes";
    this.body = h("div");
    this.versions = h("p", { class: "muted", testid: "models-corpus" });
    this.title = h("h2", { text: `${KINDS.modes.title} 的版本 versions` });
    this.view = h("section", { class: "card", testid: "centre-models" },
      this.title,
      h("p", { class: "muted", text: "再训练用开发集把关：不低于现用模型才上线；评测集数字只记录。" }),
      h("div", { style: "display:flex;gap:8px;margin-bottom:8px" },
        h("button", { class: "btn btn-small", testid: "models-retrain", text: "用最新语料版本再训练 retrain",
          onclick: () => this.retrain() }),
        h("button", { class: "btn btn-small", testid: "models-rollback", text: "回滚 roll back",
          onclick: () => this.rollback() })),
      this.versions, this.body);
  }

  async retrain() {
    try {
      const corpus = await this.api.get(`/api/v1/ops/corpus/versions?kind=${this.kind}`);
      if (!corpus.length) throw new Error("还没有语料版本，请先冻结 freeze a corpus version first");
      const v = await this.api.post(`/api/v1/ops/models/${KINDS[this.kind].model}/retrain`,
        { corpus_version: corpus[0].version });
      this.api.toast(`v${v.version} 已排队`, { kind: "info", timeout: 4000 });
    } catch (err) {
      this.api.toast(err);
    }
    await this.load();
  }

  async rollback() {
    try {
      const done = await this.api.post(`/api/v1/ops/models/${KINDS[this.kind].model}/rollback`, {});
      this.api.toast(`已回滚 v${done.rolled_back}，现用 ${done.active ? `v${done.active}` : "内置模型"}`,
        { kind: "info", timeout: 5000 });
    } catch (err) {
      this.api.toast(err);
    }
    await this.load();
  }

  async load() {
    let reg;
    let corpus;
    try {
      [reg, corpus] = await Promise.all([this.api.get(`/api/v1/ops/models/${KINDS[this.kind].model}`),
        this.api.get(`/api/v1/ops/corpus/versions?kind=${this.kind}`)]);
    } catch (err) {
      this.body.replaceChildren(locked(err, "centre-locked", "需要运营人员或管理员身份 an operator or admin key is required"));
      return;
    }
    this.title.textContent = `${KINDS[this.kind].title} 的版本 versions`;
    this.versions.textContent = `运行中：${reg.active ? `v${reg.active}` : "内置模型 built-in"}；语料版本 ` +
      (corpus.length ? corpus.map((c) => `${c.version}（${c.size} 条）`).join("、") : "暂无");
    const rows = reg.versions.map((v) => h("tr", { testid: "models-version", "data-status": v.status },
      cell(`v${v.version}`), cell(STATUS[v.status] || v.status), cell(num(v.corpus_version)),
      cell(`${acc(v.before, "dev")} → ${acc(v.after, "dev")}`), cell(`${acc(v.before, "eval")} → ${acc(v.after, "eval")}`),
      cell(v.decision || v.error)));
    this.body.replaceChildren(rows.length
      ? table(["版本", "状态", "语料", "开发集 前→后", "评测集 前→后", "决定"], rows, "models-table")
      : h("p", { class: "muted", testid: "models-empty", text: "尚未再训练 no round yet" }));
  }
}

class KnowledgeView {
  constructor(api) {
    this.api = api;
    this.body = h("div");
    this.view = h("section", { class: "card", testid: "centre-knowledge" },
      h("h2", { text: "知识运营 Knowledge operations（最近 30 天）" }), this.body);
  }

  async load() {
    let data;
    try {
      data = await this.api.get("/api/v1/ops/knowledge?days=30");
    } catch (err) {
      this.body.replaceChildren(locked(err, "centre-locked", "需要运营人员或管理员身份 an operator or admin key is required"));
      return;
    }
    const usage = data.usage.map((u) => h("tr", { testid: "knowledge-kb", "data-kb": u.kb },
      cell(u.name), cell(u.level), cell(num(u.documents)), cell(num(u.citations)), cell(num(u.cited_documents)),
      cell(u.top.map((t) => `${t.doc}（${t.citations}）`).join("、"))));
    const superseded = data.freshness.superseded_cited.map((d) => h("li", { testid: "knowledge-superseded",
      text: `《${d.title}》→ ${d.superseded_by || "—"}：事项 ${d.catalog.length} 处，回答 ${d.answers} 次` }));
    const gaps = data.coverage.clusters.slice(0, 10).map((g) => h("li", { testid: "knowledge-gap",
      text: `${g.label}（${g.size}）：${g.examples.slice(0, 2).join(" | ")}` }));
    this.body.replaceChildren(
      h("p", { class: "muted", testid: "knowledge-summary",
        text: `${data.documents} 份文档，${data.answers} 次回答；逾期未审核 ${data.freshness.overdue.length} 份；` +
          `覆盖缺口 ${data.coverage.questions} 个问题` }),
      table(["知识库", "级别", "文档", "被引段落", "被引文档", "最常引用"], usage, "knowledge-usage"),
      h("h3", { text: "仍被引用的已替代法规" }),
      superseded.length ? h("ul", {}, superseded) : h("p", { class: "muted", text: "无 none" }),
      h("h3", { text: "没有好段落的问题 Questions with no good passage" }),
      gaps.length ? h("ul", {}, gaps) : h("p", { class: "muted", testid: "knowledge-gaps-empty", text: "无 none" }));
  }
}

export function render(root, api) {
  const models = new ModelsView(api);
  const corpus = new CorpusView(api, () => models.load());
  const knowledge = new KnowledgeView(api);
  const kind = h("select", { testid: "centre-kind", "aria-label": "语料与模型的类型",
    onchange: () => { corpus.kind = models.kind = kind.value; corpus.load(); models.load(); } },
    Object.entries(KINDS).map(([id, spec]) => h("option", { value: id, text: spec.title })));
  root.append(h("div", { class: "ops-centre-page", testid: "centre-page" },
    h("h1", { text: "语料与模型 Corpus, models and knowledge" }),
    h("label", {}, "类型 kind ", kind), corpus.view, models.view, knowledge.view));
  const load = () => { corpus.load(); models.load(); knowledge.load(); };
  load();
  window.addEventListener("aicity:identity", load);
  return () => window.removeEventListener("aicity:identity", load);
}
