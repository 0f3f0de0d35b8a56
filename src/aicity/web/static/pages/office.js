// 公文办理 office page: drafting (the text, the citations, the rendered pages and the DOCX download),
// 收文登记 (upload a DOCX/PDF or paste the text → the elements read and the suggested handling
// department), and the registers of documents received and sent, with search and status.
//
// Safety: every server string reaches the DOM as text (h() builds text nodes only); page previews and
// the DOCX are fetched with the caller's key and shown from blob: URLs.

import { h } from "../lib/dom.js";

const KINDS = ["通知", "请示", "报告", "函", "纪要", "意见", "通报", "批复", "决定", "通告", "公告", "决议", "命令（令）", "公报", "议案"];
const STATUS = {
  draft: "草稿", issued: "已印发", registered: "已登记", assigned: "已分办", handling: "办理中", done: "已办结", archived: "已归档",
};
const FIELDS = [
  ["kind", "文种"], ["issuer", "发文机关"], ["doc_number", "发文字号"], ["title", "标题"], ["recipients", "主送机关"],
  ["date", "成文日期"], ["classification", "密级"], ["urgency", "紧急程度"], ["signer", "签发人"], ["attachments", "附件"],
  ["cc", "抄送"], ["deadline", "办理时限"],
];
const MAX_PAGES = 8;

async function problemText(res) {
  try {
    const p = await res.json();
    return p.detail || p.title || `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

/** GET a binary with the caller's key; a blob: URL for it (the caller revokes it). */
async function blobUrl(api, path, signal) {
  const res = await fetch(path, { headers: api.headers({ Accept: "*/*" }), signal });
  if (!res.ok) {
    const err = new Error(await problemText(res));
    err.status = res.status;
    throw err;
  }
  return URL.createObjectURL(await res.blob());
}

function value(v) {
  if (Array.isArray(v)) return v.join("、");
  return v == null || v === "" ? "—" : String(v);
}

export function render(root, api) {
  let disposed = false;
  const urls = [];
  const keep = (u) => { urls.push(u); return u; };

  // --- drafting -------------------------------------------------------------------------------
  const request = h("textarea", { rows: "3", maxlength: "2000", testid: "office-request", class: "office-request",
    placeholder: "起草要求，如：起草一份关于开展燃气安全隐患排查整治的通知" });
  const kind = h("select", { testid: "office-kind" }, h("option", { value: "", text: "文种（自动）" }),
    KINDS.map((k) => h("option", { value: k, text: k })));
  const issuer = h("input", { type: "text", maxlength: "40", testid: "office-issuer", placeholder: "发文机关（部门 id，默认本部门）" });
  const draftOut = h("div", { class: "office-draft", testid: "office-draft-result" });
  const draftForm = h("form", { class: "office-form", onsubmit: (e) => { e.preventDefault(); draft(); } },
    request, h("div", { class: "office-row" }, kind, issuer,
      h("button", { type: "submit", testid: "office-draft-submit", text: "起草" })));

  async function previews(docId, box) {
    for (let n = 1; n <= MAX_PAGES && !disposed; n += 1) {
      let url;
      try {
        url = keep(await blobUrl(api, `/api/v1/office/documents/${encodeURIComponent(docId)}/pages/${n}.png`));
      } catch {
        break; // past the last page (or no renderer): stop
      }
      box.append(h("img", { class: "office-page", testid: "office-page", alt: `第${n}页`, src: url }));
    }
    if (!box.children.length) box.append(h("p", { class: "muted", text: "版式预览暂不可用" }));
  }

  async function download(docId, name, link) {
    try {
      const url = keep(await blobUrl(api, `/api/v1/office/documents/${encodeURIComponent(docId)}/docx`));
      link.href = url;
      link.download = name;
      link.click();
    } catch (err) {
      api.toast(err);
    }
  }

  function downloadLink(docId, name) {
    const link = h("a", { href: "#", class: "office-download", testid: "office-download", text: "下载 DOCX" });
    link.addEventListener("click", (e) => {
      if (link.getAttribute("href") !== "#") return; // the blob URL is set: let the browser download it
      e.preventDefault();
      download(docId, name, link);
    });
    return link;
  }

  async function draft() {
    const text = request.value.trim();
    if (!text) return;
    draftOut.replaceChildren(h("p", { class: "muted", text: "起草中…" }));
    let d;
    try {
      const body = { text };
      if (kind.value) body.kind = kind.value;
      if (issuer.value.trim()) body.issuer = issuer.value.trim();
      d = await api.post("/api/v1/office/drafts", body);
    } catch (err) {
      if (!disposed) draftOut.replaceChildren(h("p", { class: "error", testid: "office-draft-error", text: `无法起草：${err.message || err}` }));
      return;
    }
    if (disposed) return;
    const pages = h("div", { class: "office-pages", testid: "office-pages" });
    const cites = (d.citations || []).map((c, i) => h("li", {}, h("strong", { text: `[${i + 1}] 《${c.doc}》${c.locator || ""}` }),
      h("span", { text: ` ${c.text}` })));
    draftOut.replaceChildren(
      h("h3", { testid: "office-draft-title", text: `${d.title}（${d.doc_number || "未编号"}）` }),
      h("pre", { class: "office-text", testid: "office-draft-text", text: d.text }),
      cites.length ? h("div", {}, h("h4", { text: "依据" }), h("ol", { testid: "office-citations" }, cites)) : null,
      d.document_id ? downloadLink(d.document_id, `${d.doc_number || ""}${d.title}.docx`) : null,
      pages);
    if (d.document_id) previews(d.document_id, pages);
    loadList();
  }

  // --- 收文登记 --------------------------------------------------------------------------------
  const file = h("input", { type: "file", testid: "office-register-file", accept: ".docx,.pdf,.txt",
    "aria-label": "选择来文文件 Choose a file" });
  const pasted = h("textarea", { rows: "4", testid: "office-register-text", placeholder: "或粘贴来文全文" });
  const regOut = h("div", { class: "office-register", testid: "office-register-result" });
  const regForm = h("form", { class: "office-form", onsubmit: (e) => { e.preventDefault(); register(); } },
    h("div", { class: "office-row" }, file, h("button", { type: "submit", testid: "office-register-submit", text: "登记" })),
    pasted);

  async function register() {
    const form = new FormData();
    if (file.files && file.files[0]) form.append("file", file.files[0]);
    else if (pasted.value.trim()) form.append("text", pasted.value);
    else return;
    regOut.replaceChildren(h("p", { class: "muted", text: "登记中…" }));
    const res = await fetch("/api/v1/office/register", { method: "POST", headers: api.headers(), body: form });
    if (disposed) return;
    if (!res.ok) {
      regOut.replaceChildren(h("p", { class: "error", testid: "office-register-error", text: `无法登记：${await problemText(res)}` }));
      return;
    }
    const r = await res.json();
    const depts = await api.departments();
    const rows = FIELDS.map(([k, label]) => h("tr", {}, h("th", { text: label }),
      h("td", { testid: `office-field-${k}`, text: value(r[k]) })));
    const handlers = (r.suggested_departments || []).map((d) => depts[d]?.name || d);
    regOut.replaceChildren(
      h("p", { testid: "office-register-id", text: `已登记收文 ${r.id}` }),
      h("table", { class: "data-table" }, h("tbody", {}, rows)),
      h("p", { testid: "office-suggested", text: `建议承办部门：${handlers.length ? handlers.join("、") : "（未能判断，请人工分办）"}` }));
    file.value = "";
    pasted.value = "";
    loadList();
  }

  // --- the registers -----------------------------------------------------------------------------
  let direction = "in";
  const tabIn = h("button", { type: "button", testid: "office-tab-in", text: "收文", class: "office-tab is-active" });
  const tabOut = h("button", { type: "button", testid: "office-tab-out", text: "发文", class: "office-tab" });
  const search = h("input", { type: "search", testid: "office-search", placeholder: "搜索标题、文号、正文" });
  const statusFilter = h("select", { testid: "office-status-filter" }, h("option", { value: "", text: "全部状态" }),
    Object.entries(STATUS).map(([k, v]) => h("option", { value: k, text: v })));
  const list = h("div", { testid: "office-list" });
  let listController = null;

  async function setStatus(doc, status, select) {
    const res = await fetch(`/api/v1/office/documents/${encodeURIComponent(doc.id)}`, {
      method: "PATCH", headers: api.headers({ "Content-Type": "application/json" }), body: JSON.stringify({ status }),
    });
    if (!res.ok) {
      api.toast(await problemText(res));
      select.value = doc.status;
      return;
    }
    doc.status = status;
  }

  async function loadList() {
    listController?.abort();
    listController = new AbortController();
    const q = new URLSearchParams({ direction });
    if (search.value.trim()) q.set("q", search.value.trim());
    if (statusFilter.value) q.set("status", statusFilter.value);
    let docs;
    try {
      docs = await api.get(`/api/v1/office/documents?${q}`, { signal: listController.signal });
    } catch (err) {
      if (!disposed && err.name !== "AbortError") list.replaceChildren(h("p", { class: "error", testid: "office-list-error", text: `无法读取登记簿：${err.message || err}` }));
      return;
    }
    if (disposed) return;
    const items = Array.isArray(docs) ? docs : docs.documents || [];
    if (!items.length) {
      list.replaceChildren(h("p", { class: "muted", testid: "office-list-empty", text: "没有公文" }));
      return;
    }
    list.replaceChildren(h("table", { class: "data-table" },
      h("thead", {}, h("tr", {}, ["发文字号", "标题", "发文机关", "成文日期", "时限", "状态"].map((t) => h("th", { text: t })))),
      h("tbody", {}, items.map((d) => {
        const select = h("select", { testid: "office-row-status" },
          Object.entries(STATUS).map(([k, v]) => h("option", { value: k, text: v, selected: k === d.status })));
        select.addEventListener("change", () => setStatus(d, select.value, select));
        return h("tr", { testid: "office-row" }, h("td", { text: value(d.doc_number) }), h("td", { text: d.title }),
          h("td", { text: value(d.issuer) }), h("td", { text: value(d.date) }), h("td", { text: value(d.deadline) }),
          h("td", {}, select));
      }))));
  }

  function pick(dir) {
    direction = dir;
    tabIn.classList.toggle("is-active", dir === "in");
    tabOut.classList.toggle("is-active", dir === "out");
    loadList();
  }
  tabIn.addEventListener("click", () => pick("in"));
  tabOut.addEventListener("click", () => pick("out"));
  search.addEventListener("input", () => loadList());
  statusFilter.addEventListener("change", () => loadList());

  root.replaceChildren(
    h("h2", { text: "公文办理" }),
    h("section", { class: "card" }, h("h3", { text: "公文起草" }), draftForm, draftOut),
    h("section", { class: "card" }, h("h3", { text: "收文登记" }), regForm, regOut),
    h("section", { class: "card" }, h("h3", { text: "登记簿" }),
      h("div", { class: "office-row" }, tabIn, tabOut, search, statusFilter), list));
  loadList();

  return () => {
    disposed = true;
    listController?.abort();
    for (const u of urls) URL.revokeObjectURL(u);
  };
}
