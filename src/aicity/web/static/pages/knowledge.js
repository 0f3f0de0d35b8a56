// 知识中心 knowledge-center page: the knowledge bases the caller may read (global / department /
// personal), keyword search with exact quotes, answers with clickable citations, each base's
// documents, a structure viewer (headings tree + chunks with their locators), and — where the
// caller may manage a base — upload (XMLHttpRequest, with a real progress bar) and delete.
//
// Safety: every server string reaches the DOM as text (textContent / text nodes); the only
// HTML assigned is the output of renderMarkdown, which escapes its whole input first.

import { h } from "../lib/dom.js";
import { renderMarkdown } from "../lib/markdown.js";

const BASE = "/api/v1/kb";
const LEVELS = { global: "全局", department: "部门", personal: "个人" };
const KINDS = { law: "法规", generic: "文档" };
const ACCEPT = ".md,.markdown,.txt,.html,.htm,.pdf,.docx,.xlsx";
const SEARCH_TOP_K = 10;
const ASK_TOP_K = 3;

/** Remembered across page switches: the selected knowledge base. */
const memory = { kb: null };

const enc = encodeURIComponent;
const docPath = (kb, key) => `${BASE}/bases/${enc(kb)}/documents/${enc(key)}`;

/** `text` as nodes, the query's terms wrapped in <mark> (text nodes only, no markup parsed). */
function highlighted(text, query) {
  const s = String(text ?? "");
  const terms = [...new Set(String(query || "").split(/[\s,，。；;、]+/).filter((t) => t.length >= 2))]
    .sort((a, b) => b.length - a.length);
  if (!terms.length) return [s];
  const out = [];
  let i = 0;
  while (i < s.length) {
    let best = -1;
    let term = "";
    for (const t of terms) {
      const at = s.indexOf(t, i);
      if (at >= 0 && (best < 0 || at < best)) {
        best = at;
        term = t;
      }
    }
    if (best < 0) break;
    if (best > i) out.push(s.slice(i, best));
    out.push(h("mark", { text: term }));
    i = best + term.length;
  }
  if (i < s.length) out.push(s.slice(i));
  return out;
}

function statusBadge(status, supersededBy) {
  if (!status || status === "in_force") return null;
  const text = status === "superseded" ? "已被替代" : status;
  return h("span", {
    class: "kb-badge kb-badge-warn", testid: "status-badge",
    title: supersededBy ? `已被《${supersededBy}》替代 superseded` : "已被替代 superseded", text,
  });
}

function levelBadge(level) {
  return h("span", { class: `kb-badge kb-level kb-level-${String(level).replace(/[^\w-]/g, "")}`, text: LEVELS[level] || level });
}

function empty(text) {
  return h("p", { class: "kb-empty muted", text });
}

// --- the page -----------------------------------------------------------------------------

export function render(root, api) {
  const page = new KnowledgePage(api);
  root.append(page.view);
  page.loadBases();
  const onIdentity = () => page.identityChanged();
  window.addEventListener("aicity:identity", onIdentity);
  return () => {
    window.removeEventListener("aicity:identity", onIdentity);
    page.dispose();
  };
}

class KnowledgePage {
  constructor(api) {
    this.api = api;
    this.bases = [];
    this.docs = [];
    this.current = null; // the selected knowledge base {id, name, level, department, manage}
    this.openDoc = null; // {kb, key} shown in the viewer
    this.seq = { bases: 0, docs: 0, viewer: 0, query: 0 };
    this.xhr = null;
    this.disposed = false;
    this.build();
  }

  dispose() {
    this.disposed = true;
    this.xhr?.abort();
  }

  // --- layout -----------------------------------------------------------------------------

  build() {
    this.kbList = h("ul", { class: "kb-list", testid: "kb-list", "aria-label": "知识库 Knowledge bases" });
    const side = h("aside", { class: "kb-side" },
      h("h2", { class: "kb-side-title" }, "知识库 ", h("small", { text: "Knowledge bases" })),
      this.kbList,
      h("p", { class: "kb-side-hint muted small", text: "只列出当前身份可读的知识库。Only bases you may read are listed." }));

    this.input = h("input", {
      type: "search", class: "kb-search-input", testid: "kb-search-input", maxlength: 2000,
      placeholder: "输入关键词或问题，如：仅销售预包装食品 备案", "aria-label": "检索词 Search terms",
    });
    this.scope = h("select", { class: "kb-scope", testid: "kb-scope", "aria-label": "检索范围 Scope" },
      h("option", { value: "all", text: "全部可读知识库" }),
      h("option", { value: "current", text: "仅当前知识库" }));
    this.searchBtn = h("button", { type: "submit", class: "btn btn-primary", testid: "kb-search-button" }, "检索 Search");
    this.askBtn = h("button", { type: "button", class: "btn", testid: "kb-ask-button", onclick: () => this.ask() }, "问答 Ask");
    const form = h("form", { class: "kb-search", role: "search", onsubmit: (e) => { e.preventDefault(); this.search(); } },
      this.input, this.scope, this.searchBtn, this.askBtn);

    this.results = h("section", { class: "kb-results", testid: "kb-results", hidden: true, "aria-live": "polite" });

    this.docFilter = h("input", {
      type: "search", class: "kb-doc-filter", testid: "doc-filter", placeholder: "筛选文件 Filter",
      "aria-label": "筛选文件 Filter documents", oninput: () => this.renderDocs(),
    });
    this.docCount = h("span", { class: "muted small" });
    this.upload = h("div", { class: "kb-upload-slot" });
    this.docList = h("ul", { class: "kb-doc-list", testid: "doc-list", "aria-label": "文件 Documents" });
    const docs = h("section", { class: "kb-docs", "aria-label": "文件列表 Documents" },
      h("div", { class: "kb-panel-head" }, h("h2", { text: "文件 Documents" }), this.docCount),
      this.upload, this.docFilter, this.docList);

    this.viewer = h("section", { class: "kb-viewer", testid: "doc-viewer", "aria-label": "文件内容 Document", tabindex: "-1" },
      this.viewerPlaceholder());

    this.title = h("span", { class: "kb-current muted" });
    this.view = h("section", { class: "kb", "aria-label": "知识中心 Knowledge center" },
      side,
      h("div", { class: "kb-main" },
        h("div", { class: "kb-toolbar" },
          h("h1", {}, "知识中心 ", h("small", { text: "Knowledge center" })), this.title),
        form, this.results,
        h("div", { class: "kb-body" }, docs, this.viewer)));
  }

  viewerPlaceholder() {
    return h("div", { class: "kb-viewer-empty" },
      h("p", { text: "选择左侧的文件，按章、节、条浏览原文。" }),
      h("p", { class: "muted small", text: "Pick a document to browse it by its structure." }));
  }

  setBusy(busy) {
    this.searchBtn.disabled = busy;
    this.askBtn.disabled = busy;
    this.view.classList.toggle("is-busy", busy);
  }

  // --- knowledge bases --------------------------------------------------------------------

  async loadBases() {
    const seq = ++this.seq.bases;
    this.kbList.replaceChildren(h("li", { class: "kb-empty muted", text: "加载中… Loading" }));
    let bases;
    try {
      bases = await this.api.get(`${BASE}/bases`);
    } catch (err) {
      if (seq !== this.seq.bases || this.disposed) return;
      this.kbList.replaceChildren(h("li", { class: "kb-empty error", text: "无法加载知识库 could not load" }));
      this.api.toast(err);
      return;
    }
    if (seq !== this.seq.bases || this.disposed) return;
    this.bases = Array.isArray(bases) ? bases : [];
    const depts = await this.api.departments();
    if (seq !== this.seq.bases || this.disposed) return;
    this.kbList.replaceChildren(...this.bases.map((kb) => {
      const dept = kb.department ? depts[kb.department]?.name || kb.department : "";
      return h("li", {},
        h("button", {
          type: "button", class: "kb-item", testid: "kb-item", "data-kb": kb.id, "data-level": kb.level,
          "data-manage": kb.manage ? "true" : "false", onclick: () => this.selectKb(kb.id),
        },
        h("span", { class: "kb-item-name", text: kb.name || kb.id }),
        h("span", { class: "kb-item-meta" }, levelBadge(kb.level),
          dept ? h("span", { class: "muted small", text: dept }) : null,
          kb.manage ? h("span", { class: "kb-manage small", title: "可管理 you may manage this base", text: "可管理" }) : null)));
    }));
    if (!this.bases.length) this.kbList.replaceChildren(h("li", { class: "kb-empty muted", text: "没有可读的知识库" }));
    const keep = this.bases.find((b) => b.id === (this.current?.id || memory.kb));
    this.selectKb((keep || this.bases[0])?.id, { force: true });
  }

  identityChanged() {
    // what the caller may read may have changed: drop results, reload the bases
    this.xhr?.abort();
    this.results.hidden = true;
    this.results.replaceChildren();
    this.current = null;
    this.loadBases();
  }

  selectKb(id, { force = false, keepViewer = false } = {}) {
    const kb = this.bases.find((b) => b.id === id) || null;
    if (!force && kb && this.current?.id === kb.id) return Promise.resolve();
    this.current = kb;
    if (kb) memory.kb = kb.id;
    for (const btn of this.kbList.querySelectorAll(".kb-item")) {
      const on = kb && btn.dataset.kb === kb.id;
      btn.classList.toggle("is-current", !!on);
      if (on) btn.setAttribute("aria-current", "true");
      else btn.removeAttribute("aria-current");
    }
    this.title.textContent = kb ? `当前知识库：${kb.name || kb.id}` : "";
    this.scope.options[1].textContent = kb ? `仅当前：${kb.name || kb.id}` : "仅当前知识库";
    this.renderUpload();
    if (!keepViewer) {
      this.openDoc = null;
      this.viewer.replaceChildren(this.viewerPlaceholder());
    }
    return this.loadDocs();
  }

  // --- documents ----------------------------------------------------------------------------

  async loadDocs() {
    const seq = ++this.seq.docs;
    const kb = this.current;
    if (!kb) {
      this.docs = [];
      this.docList.replaceChildren(empty("请选择知识库"));
      this.docCount.textContent = "";
      return;
    }
    this.docList.replaceChildren(empty("加载中… Loading"));
    try {
      const docs = await this.api.get(`${BASE}/bases/${enc(kb.id)}/documents`);
      if (seq !== this.seq.docs || this.disposed) return;
      this.docs = Array.isArray(docs) ? docs : [];
    } catch (err) {
      if (seq !== this.seq.docs || this.disposed) return;
      this.docs = [];
      this.docList.replaceChildren(empty("无法加载文件列表"));
      this.api.toast(err);
      return;
    }
    this.renderDocs();
  }

  renderDocs() {
    const kb = this.current;
    const q = this.docFilter.value.trim();
    const shown = q ? this.docs.filter((d) => `${d.title} ${d.key} ${d.authority || ""}`.includes(q)) : this.docs;
    this.docCount.textContent = q ? `${shown.length} / ${this.docs.length}` : `${this.docs.length} 份`;
    if (!shown.length) {
      this.docList.replaceChildren(empty(this.docs.length ? "没有匹配的文件" : "该知识库暂无文件 No documents yet"));
      return;
    }
    this.docList.replaceChildren(...shown.map((d) => {
      const open = this.openDoc && this.openDoc.kb === d.kb && this.openDoc.key === d.key;
      const meta = [KINDS[d.kind] || d.kind, d.date, d.authority].filter(Boolean).join(" · ");
      return h("li", { class: `kb-doc${open ? " is-open" : ""}`, testid: "doc-item", "data-key": d.key, "data-status": d.status },
        h("button", { type: "button", class: "kb-doc-open", title: d.source || d.key, onclick: () => this.showDoc(d.kb, d.key) },
          h("span", { class: "kb-doc-title" }, h("span", { text: d.title || d.key }), statusBadge(d.status, d.superseded_by)),
          h("span", { class: "kb-doc-meta muted small" }, meta,
            d.superseded_by ? h("span", { class: "kb-superseded-by", text: ` → 《${d.superseded_by}》` }) : null)),
        kb?.manage ? h("button", {
          type: "button", class: "kb-doc-delete", testid: "doc-delete", title: `删除《${d.title || d.key}》 Delete`,
          "aria-label": `删除 ${d.title || d.key}`, text: "删除", onclick: () => this.deleteDoc(d),
        }) : null);
    }));
  }

  markOpen() {
    for (const li of this.docList.querySelectorAll(".kb-doc")) {
      li.classList.toggle("is-open", !!this.openDoc && li.dataset.key === this.openDoc.key && this.current?.id === this.openDoc.kb);
    }
  }

  // --- the document viewer ----------------------------------------------------------------

  /** Show a document by its structure; `locator` scrolls to (and flashes) that chunk. */
  async showDoc(kbId, key, locator = null) {
    const seq = ++this.seq.viewer;
    this.openDoc = { kb: kbId, key };
    this.markOpen();
    this.docList.querySelector(".kb-doc.is-open")?.scrollIntoView({ block: "nearest" });
    this.viewer.replaceChildren(empty("加载中… Loading"));
    let doc;
    try {
      doc = await this.api.get(docPath(kbId, key));
    } catch (err) {
      if (seq !== this.seq.viewer || this.disposed) return;
      this.viewer.replaceChildren(empty("无法加载文件 could not load the document"));
      this.api.toast(err);
      return;
    }
    if (seq !== this.seq.viewer || this.disposed) return;
    this.viewer.replaceChildren(this.docEl(doc, kbId));
    this.viewer.dataset.key = doc.key;
    this.viewer.scrollTop = 0;
    if (locator) this.flashChunk(locator);
    else this.viewer.scrollIntoView({ block: "nearest" }); // narrow screens: the viewer is below the list
  }

  flashChunk(locator) {
    const chunks = [...this.viewer.querySelectorAll("[data-testid=doc-chunk]")];
    const target = chunks.find((c) => c.dataset.locator === locator) ||
      chunks.find((c) => c.dataset.locator.startsWith(locator) || locator.startsWith(c.dataset.locator));
    if (!target) return;
    for (const el of this.viewer.querySelectorAll(".is-target")) el.classList.remove("is-target");
    void target.offsetWidth; // restart the flash
    target.classList.add("is-target");
    target.scrollIntoView({ block: "center" });
  }

  docEl(doc, kbId) {
    const chunks = Array.isArray(doc.chunks) ? doc.chunks : [];
    const meta = this.docs.find((d) => d.kb === kbId && d.key === doc.key) || {};
    const head = h("header", { class: "kb-doc-head" },
      h("h2", { class: "kb-doc-name" }, h("span", { text: doc.title || doc.key }), statusBadge(doc.status, meta.superseded_by)),
      h("div", { class: "muted small" },
        [KINDS[doc.kind] || doc.kind, meta.date, meta.authority, `${chunks.length} 段 chunks`, meta.source]
          .filter(Boolean).join(" · ")),
      meta.superseded_by ? h("div", { class: "kb-note-warn small", text: `本文件已被《${meta.superseded_by}》替代，仅供参考。` }) : null);

    // the headings tree: chunks grouped under their (nested) headings, in document order
    const outline = h("ul", { class: "kb-outline-list" });
    const body = h("div", { class: "kb-doc-body" });
    const stack = []; // [{heading, section, list}]
    let ids = 0;
    for (const c of chunks) {
      const heads = Array.isArray(c.headings) ? c.headings.map(String) : [];
      let common = 0;
      while (common < stack.length && common < heads.length && stack[common].heading === heads[common]) common++;
      stack.length = common;
      for (let level = common; level < heads.length; level++) {
        const id = `kb-sec-${++ids}`;
        const section = h("section", { class: `kb-sec kb-sec-${Math.min(level, 3)}`, testid: "doc-section", id },
          h(`h${Math.min(3 + level, 6)}`, { class: "kb-sec-title", testid: "doc-heading", text: heads[level] }));
        const item = h("li", {},
          h("a", {
            href: "#", class: "kb-outline-link", testid: "doc-outline-item", text: heads[level],
            onclick: (e) => {
              e.preventDefault();
              section.scrollIntoView({ block: "start" });
            },
          }));
        const sub = h("ul", {});
        item.append(sub);
        (level === 0 ? body : stack[level - 1].section).append(section);
        (level === 0 ? outline : stack[level - 1].list).append(item);
        stack.push({ heading: heads[level], section, list: sub });
      }
      const chunk = h("article", { class: "kb-chunk", testid: "doc-chunk", "data-locator": c.locator || "" },
        h("div", { class: "kb-chunk-loc", testid: "doc-chunk-locator", text: c.locator || "" }),
        h("div", { class: "kb-chunk-text", text: c.text || "" }));
      (stack.length ? stack[stack.length - 1].section : body).append(chunk);
    }
    for (const ul of outline.querySelectorAll("ul")) if (!ul.children.length) ul.remove();

    const preamble = Array.isArray(doc.preamble) && doc.preamble.length
      ? h("div", { class: "kb-preamble", testid: "doc-preamble" }, doc.preamble.map((p) => h("p", { text: String(p) })))
      : null;
    const parts = [head];
    if (outline.children.length) {
      parts.push(h("details", { class: "kb-outline", testid: "doc-outline", open: true },
        h("summary", { text: "目录 Outline" }), outline));
    }
    if (preamble) parts.push(preamble);
    parts.push(chunks.length ? body : empty("该文件没有可显示的内容"));
    return h("article", { class: "kb-doc-view" }, parts);
  }

  // --- search and ask -----------------------------------------------------------------------

  query() {
    const q = this.input.value.trim();
    if (!q) {
      this.input.focus();
      this.input.classList.remove("shake");
      void this.input.offsetWidth;
      this.input.classList.add("shake");
      return null;
    }
    return q;
  }

  scopeKb() {
    return this.scope.value === "current" && this.current ? this.current.id : null;
  }

  kbName(id) {
    const kb = this.bases.find((b) => b.id === id);
    return kb ? kb.name || kb.id : id;
  }

  resultsHead(title, sub) {
    return h("div", { class: "kb-results-head" },
      h("strong", { text: title }), h("span", { class: "muted small", text: sub }),
      h("button", {
        type: "button", class: "toast-close", "aria-label": "关闭 Close", title: "关闭 Close", text: "×",
        onclick: () => {
          this.results.hidden = true;
          this.results.replaceChildren();
        },
      }));
  }

  async search() {
    const q = this.query();
    if (!q) return;
    const seq = ++this.seq.query;
    const kb = this.scopeKb();
    const params = new URLSearchParams({ q, top_k: String(SEARCH_TOP_K) });
    if (kb) params.set("kb", kb);
    this.setBusy(true);
    try {
      const res = await this.api.get(`${BASE}/search?${params}`);
      if (seq !== this.seq.query || this.disposed) return;
      const hits = Array.isArray(res?.hits) ? res.hits : [];
      const list = h("ol", { class: "kb-hits" }, hits.map((hit) => this.hitEl(hit, q)));
      this.results.dataset.mode = "search";
      this.results.replaceChildren(
        this.resultsHead("检索结果 Results", `“${q}” · ${hits.length} 条${kb ? ` · ${this.kbName(kb)}` : ""}`),
        hits.length ? list : empty("没有找到相关内容 No matches."));
      this.results.hidden = false;
    } catch (err) {
      if (seq === this.seq.query) this.api.toast(err);
    } finally {
      if (seq === this.seq.query) this.setBusy(false);
    }
  }

  hitEl(hit, q) {
    const superseded = hit.status === "superseded";
    return h("li", { class: `kb-hit${superseded ? " is-superseded" : ""}`, testid: "kb-hit", "data-status": hit.status || "", "data-kb": hit.kb },
      h("div", { class: "kb-hit-head" },
        h("button", {
          type: "button", class: "kb-hit-doc", testid: "kb-hit-open", title: "在文件中查看 Show in the document",
          onclick: () => this.reveal(hit.kb, hit.doc_key, hit.locator),
        }, h("span", { class: "kb-hit-title", testid: "kb-hit-title", text: `《${hit.doc || hit.doc_key}》` }),
        h("span", { class: "kb-hit-loc", testid: "kb-hit-locator", text: hit.locator || "" })),
        superseded ? h("span", { class: "kb-badge kb-badge-warn", testid: "status-badge", text: "已被替代 仅供参考" }) : null,
        h("span", { class: "kb-hit-kb muted small", text: this.kbName(hit.kb) }),
        typeof hit.score === "number" ? h("span", { class: "kb-hit-score muted small", title: "相关度 score", text: hit.score.toFixed(3) }) : null),
      h("blockquote", { class: "kb-hit-text", testid: "kb-hit-text" }, highlighted(hit.text, q)));
  }

  async ask() {
    const q = this.query();
    if (!q) return;
    const seq = ++this.seq.query;
    const kb = this.scopeKb();
    const body = { q, top_k: ASK_TOP_K };
    if (kb) body.kb = kb;
    this.setBusy(true);
    try {
      const res = await this.api.post(`${BASE}/ask`, body);
      if (seq !== this.seq.query || this.disposed) return;
      this.results.dataset.mode = "ask";
      this.results.replaceChildren(
        this.resultsHead("问答 Answer", `“${q}”${kb ? ` · ${this.kbName(kb)}` : ""}`),
        this.answerEl(res || {}));
      this.results.hidden = false;
    } catch (err) {
      if (seq === this.seq.query) this.api.toast(err);
    } finally {
      if (seq === this.seq.query) this.setBusy(false);
    }
  }

  answerEl(res) {
    const citations = Array.isArray(res.citations) ? res.citations : [];
    const marker = (n) => (n >= 1 && n <= citations.length
      ? `<sup class="cite-ref"><a href="#" role="button" data-testid="citation-marker" data-cite="${n}" title="查看引用 ${n}">[${n}]</a></sup>`
      : `<sup class="cite-ref">[${n}]</sup>`);
    const md = h("div", { class: "md kb-answer-text" });
    md.innerHTML = renderMarkdown(String(res.answer || ""), { marker, stripFootnotes: true, headingOffset: 2 }); // escaped by renderMarkdown
    const list = h("ol", { class: "kb-citations" }, citations.map((c, i) => {
      const n = i + 1;
      const superseded = c.status === "superseded";
      return h("li", { class: `kb-citation${superseded ? " is-superseded" : ""}`, testid: "kb-citation", "data-n": n, tabindex: "-1" },
        h("div", { class: "kb-hit-head" },
          h("span", { class: "cite-n", text: `[${n}]` }),
          h("button", {
            type: "button", class: "kb-hit-doc", testid: "kb-citation-open", title: "在文件中查看 Show in the document",
            onclick: () => this.reveal(c.kb, c.doc_key, c.locator),
          }, h("span", { class: "kb-hit-title", text: `《${c.doc || c.doc_key}》` }), h("span", { class: "kb-hit-loc", text: c.locator || "" })),
          superseded ? h("span", { class: "kb-badge kb-badge-warn", testid: "status-badge", text: "已被替代 仅供参考" }) : null,
          c.kb ? h("span", { class: "kb-hit-kb muted small", text: this.kbName(c.kb) }) : null),
        h("blockquote", { class: "kb-hit-text", testid: "kb-citation-text", text: c.text || "" }));
    }));
    md.addEventListener("click", (e) => {
      const link = e.target.closest("[data-cite]");
      if (!link) return;
      e.preventDefault();
      const item = list.querySelector(`[data-n="${link.dataset.cite}"]`);
      if (!item) return;
      for (const el of list.querySelectorAll(".is-target")) el.classList.remove("is-target");
      void item.offsetWidth;
      item.classList.add("is-target");
      item.scrollIntoView({ block: "nearest" });
      item.focus({ preventScroll: true });
    });
    return h("div", { class: "kb-answer", testid: "kb-answer" }, md,
      citations.length ? h("div", { class: "kb-citations-head small muted", text: `§ 引用依据 Citations (${citations.length}) · 点击查看原文` }) : null,
      citations.length ? list : null);
  }

  /** Open a hit's or citation's document (switching to its base) at its locator. */
  async reveal(kbId, key, locator) {
    if (!kbId || !key) return;
    if (this.current?.id !== kbId && this.bases.some((b) => b.id === kbId)) {
      await this.selectKb(kbId, { keepViewer: true });
    }
    await this.showDoc(kbId, key, locator);
    this.viewer.focus({ preventScroll: true });
  }

  // --- manage: upload and delete ----------------------------------------------------------

  renderUpload() {
    const kb = this.current;
    if (!kb || !kb.manage) {
      this.upload.replaceChildren();
      return;
    }
    const file = h("input", { type: "file", class: "kb-file", testid: "upload-input", accept: ACCEPT, "aria-label": "选择文件 Choose a file" });
    const field = (label, input) => h("label", { class: "kb-field" }, h("span", { class: "field-label", text: label }), input);
    const title = h("input", { type: "text", name: "title", testid: "upload-title", maxlength: 300, placeholder: "默认取文件标题" });
    const authority = h("input", { type: "text", name: "authority", testid: "upload-authority", maxlength: 200 });
    const date = h("input", { type: "date", name: "date", testid: "upload-date" });
    const status = h("select", { name: "status", testid: "upload-status" },
      h("option", { value: "in_force", text: "现行有效 in force" }), h("option", { value: "superseded", text: "已被替代 superseded" }));
    const supersededBy = h("input", { type: "text", name: "superseded_by", testid: "upload-superseded-by", maxlength: 200, placeholder: "替代它的文件 key" });
    const button = h("button", { type: "submit", class: "btn btn-primary btn-small", testid: "upload-button" }, "上传 Upload");
    const progress = h("progress", { class: "kb-progress", testid: "upload-progress", max: 100, value: 0, hidden: true, "aria-label": "上传进度 Upload progress" });
    const label = h("span", { class: "kb-progress-label small muted", testid: "upload-status-text", "aria-live": "polite" });
    const form = h("form", {
      class: "kb-upload", testid: "upload-form",
      onsubmit: (e) => {
        e.preventDefault();
        this.send(form, { file, title, authority, date, status, supersededBy, button, progress, label });
      },
    },
    file,
    h("details", { class: "kb-upload-meta" }, h("summary", { class: "small", text: "可选信息 Optional metadata" }),
      h("div", { class: "kb-upload-grid" },
        field("标题 Title", title), field("发布机关 Authority", authority), field("日期 Date", date),
        field("状态 Status", status), field("被替代为 Superseded by", supersededBy))),
    h("div", { class: "kb-upload-row" }, button, h("div", { class: "kb-progress-row" }, progress, label)));
    this.upload.replaceChildren(form);
  }

  send(form, f) {
    const kb = this.current;
    const chosen = f.file.files && f.file.files[0];
    if (!kb) return;
    if (!chosen) {
      this.api.toast("请先选择文件 Choose a file first");
      f.file.focus();
      return;
    }
    if (this.xhr) return; // one upload at a time
    const data = new FormData();
    data.append("file", chosen, chosen.name);
    for (const [name, input] of [["title", f.title], ["authority", f.authority], ["date", f.date], ["superseded_by", f.supersededBy]]) {
      const v = input.value.trim();
      if (v) data.append(name, v);
    }
    data.append("status", f.status.value);

    const xhr = new XMLHttpRequest();
    this.xhr = xhr;
    xhr.open("POST", `${BASE}/bases/${enc(kb.id)}/documents`);
    const headers = this.api.headers();
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.responseType = "text";
    f.progress.hidden = false;
    f.progress.value = 0;
    f.progress.dataset.state = "uploading";
    f.label.textContent = `上传中 0% · ${chosen.name}`;
    f.button.disabled = true;
    form.classList.add("is-uploading");
    xhr.upload.onprogress = (e) => {
      if (!e.lengthComputable) {
        f.progress.removeAttribute("value"); // indeterminate
        return;
      }
      const pct = Math.round((e.loaded / e.total) * 100);
      f.progress.value = pct;
      f.label.textContent = `上传中 ${pct}% · ${chosen.name}`;
    };
    xhr.upload.onload = () => {
      f.progress.value = 100;
      f.label.textContent = `已上传，正在解析… Processing ${chosen.name}`;
    };
    const finish = () => {
      if (this.xhr === xhr) this.xhr = null;
      f.button.disabled = false;
      form.classList.remove("is-uploading");
    };
    xhr.onload = () => {
      finish();
      let body = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300 && body && typeof body === "object") {
        f.progress.value = 100;
        f.progress.dataset.state = "done";
        const what = body.changed ? "已入库 Ingested" : "未变化 Unchanged（内容与已有文件相同）";
        f.label.textContent = `${body.changed ? "已入库" : "未变化"}：《${body.title || body.key}》`;
        this.api.toast(`${what}：《${body.title || body.key}》→ ${this.kbName(body.kb || kb.id)}`, { kind: "info", timeout: 5000 });
        f.file.value = "";
        if (this.current?.id === kb.id) {
          this.loadDocs().then(() => this.showDoc(kb.id, body.key));
        }
        return;
      }
      f.progress.dataset.state = "error";
      f.label.textContent = "上传失败 Upload failed";
      if (!body || typeof body !== "object") {
        body = { title: `上传失败 HTTP ${xhr.status}`, detail: xhr.statusText || "", status: xhr.status };
      }
      this.api.toast(new this.api.ApiError(body, xhr.status));
    };
    xhr.onerror = () => {
      finish();
      f.progress.dataset.state = "error";
      f.label.textContent = "上传失败 Upload failed";
      this.api.toast(new Error("网络错误，上传未完成 Network error: the upload did not complete"));
    };
    xhr.onabort = () => {
      finish();
      f.progress.dataset.state = "aborted";
      f.label.textContent = "已取消 Cancelled";
    };
    xhr.send(data);
  }

  async deleteDoc(d) {
    const kb = this.current;
    if (!kb || !kb.manage) return;
    // eslint-disable-next-line no-alert
    if (!window.confirm(`确定删除《${d.title || d.key}》吗？此操作不可撤销。\nDelete this document?`)) return;
    try {
      const res = await fetch(docPath(d.kb || kb.id, d.key), { method: "DELETE", headers: this.api.headers() });
      if (!res.ok) {
        let body = null;
        try {
          body = await res.json();
        } catch {
          body = null;
        }
        throw new this.api.ApiError(body || { title: `删除失败 HTTP ${res.status}`, status: res.status }, res.status);
      }
    } catch (err) {
      this.api.toast(err);
      return;
    }
    if (this.openDoc && this.openDoc.kb === (d.kb || kb.id) && this.openDoc.key === d.key) {
      this.openDoc = null;
      ++this.seq.viewer;
      this.viewer.replaceChildren(this.viewerPlaceholder());
      delete this.viewer.dataset.key;
    }
    this.api.toast(`已删除 Deleted：《${d.title || d.key}》`, { kind: "info", timeout: 5000 });
    if (this.current?.id === kb.id) await this.loadDocs();
  }
}
