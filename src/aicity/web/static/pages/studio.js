// 智能体共创 studio page: the catalogue (search, categories, likes, favourites, ratings, usage) and
// the builder — start from a blank page or a template, pick knowledge bases and tools (with their risk
// levels), write examples, check, save versions, publish at a visibility or roll back to any version,
// try the draft in a side chat with its trace, and see where the super assistant routes requests.
//
// Safety: every server string reaches the DOM as text (h() builds text nodes only); answers go through
// renderMarkdown, which escapes before formatting.

import { h } from "../lib/dom.js";
import { renderMarkdown } from "../lib/markdown.js";

const BASE = "/api/v1/agents";
const enc = encodeURIComponent;
const lines = (text) => text.split("\n").map((s) => s.trim()).filter(Boolean);

export function render(root, api) {
  let options = { kbs: [], tools: [], modes: [], templates: [] };
  let current = null; // the agent being edited (its detail), null for a new one
  let sessionId = null;
  let disposed = false;

  const status = h("p", { class: "muted", testid: "studio-status" });
  const fail = (where, err) => {
    if (disposed) return;
    const fields = (err.body && err.body.errors) || [];
    status.replaceChildren(h("span", { class: "error", testid: "studio-error",
      text: `${where}：${err.message || err}${fields.length ? `（${fields.map((e) => (e.loc || []).join(".")).join("，")}）` : ""}` }));
  };
  const say = (text) => { status.textContent = text; };

  // ---- catalogue
  const search = h("input", { type: "search", placeholder: "搜索智能体", testid: "studio-search" });
  const category = h("select", { testid: "studio-category" }, h("option", { value: "", text: "全部分类" }));
  const mine = h("input", { type: "checkbox", testid: "studio-mine" });
  const list = h("div", { class: "studio-list", testid: "studio-list" });

  async function loadCatalogue() {
    const q = new URLSearchParams({ q: search.value, mine: mine.checked ? "true" : "false" });
    if (category.value) q.set("category", category.value);
    let c;
    try { c = await api.get(`${BASE}/catalogue?${q}`); } catch (err) { fail("智能体广场", err); return; }
    if (disposed) return;
    const chosen = category.value;
    category.replaceChildren(h("option", { value: "", text: "全部分类" }),
      ...c.categories.map((x) => h("option", { value: x, text: x })));
    category.value = chosen;
    list.replaceChildren(...(c.agents.length ? c.agents.map(card) : [h("p", { class: "muted", text: "还没有智能体" })]));
  }

  async function react(a, body) {
    try { await api.post(`${BASE}/definitions/${enc(a.id)}/reactions`, body); } catch (err) { fail("评价", err); return; }
    loadCatalogue();
  }

  function card(a) {
    const stars = h("span", { class: "studio-stars" }, [1, 2, 3, 4, 5].map((n) => h("button", { type: "button",
      class: "link", testid: "studio-rate", title: `${n} 星`, text: n <= (a.my_rating || 0) ? "★" : "☆",
      onclick: () => react(a, { rating: n }) })));
    return h("div", { class: "studio-card", testid: "studio-card", "data-id": a.id },
      h("strong", { text: `${a.icon} ${a.name}` }),
      h("span", { class: "muted", text: ` ${a.category} · ${a.status === "published" ? `v${a.published_version} 已发布` : "草稿"} · ${a.visibility}` }),
      h("p", { text: a.description }),
      h("span", { class: "muted", testid: "studio-stats",
        text: `使用 ${a.uses} · 赞 ${a.likes} · 收藏 ${a.favourites} · 评分 ${a.rating ?? "—"}（${a.ratings}）` }),
      h("div", { class: "studio-actions" },
        h("button", { type: "button", testid: "studio-like", text: a.liked ? "已赞" : "点赞",
          onclick: () => react(a, { liked: !a.liked }) }),
        h("button", { type: "button", testid: "studio-fav", text: a.favourite ? "已收藏" : "收藏",
          onclick: () => react(a, { favourite: !a.favourite }) }),
        stars,
        h("button", { type: "button", testid: "studio-open", text: "打开", onclick: () => open(a.id) })));
  }

  // ---- builder
  const f = {
    template: h("select", { testid: "studio-template" }),
    id: h("input", { testid: "studio-id", placeholder: "英文 id，如 garbage_sorting" }),
    name: h("input", { testid: "studio-name", placeholder: "名称" }),
    icon: h("input", { testid: "studio-icon", size: 3 }),
    category: h("input", { testid: "studio-cat", placeholder: "分类" }),
    description: h("textarea", { testid: "studio-description", rows: 2 }),
    instructions: h("textarea", { testid: "studio-instructions", rows: 2, placeholder: "给模型的说明（配置了模型时使用）" }),
    modes: h("select", { testid: "studio-modes" }),
    kbs: h("div", { class: "studio-checks", testid: "studio-kbs" }),
    docs: h("input", { testid: "studio-docs", placeholder: "只检索这些文件（用、分隔，可空）" }),
    tools: h("div", { class: "studio-checks", testid: "studio-tools" }),
    examples: h("textarea", { testid: "studio-examples", rows: 5, placeholder: "每行一个会被路由到它的请求" }),
    opening: h("textarea", { testid: "studio-opening", rows: 2, placeholder: "开场问题，每行一个" }),
    cues: h("input", { testid: "studio-cues", placeholder: "提示词（用、分隔）" }),
    workflow: h("textarea", { testid: "studio-workflow", rows: 4, placeholder: "工作流（JSON 数组，可空）" }),
  };
  const visibility = h("select", { testid: "studio-visibility" },
    ["personal", "department", "city"].map((v) => h("option", { value: v, text: { personal: "仅自己", department: "本部门", city: "全市" }[v] })));
  const versions = h("ul", { class: "studio-versions", testid: "studio-versions" });
  let extra = {}; // fields of the definition the form does not show (serves, department …)

  function checks(box, items, chosen, label) {
    box.replaceChildren(...items.map((it) => h("label", { class: "studio-check" },
      h("input", { type: "checkbox", value: it.id, checked: chosen.includes(it.id) }), ` ${label(it)}`)));
  }

  function fill(d) {
    extra = { ...d };
    f.id.value = d.id || ""; f.name.value = d.name || ""; f.icon.value = d.icon || "🤖";
    f.category.value = d.category || ""; f.description.value = d.description || "";
    f.instructions.value = d.instructions || "";
    f.modes.value = (d.modes || ["legal"])[0];
    const k = d.knowledge || {};
    checks(f.kbs, options.kbs, k.kbs || [], (kb) => `${kb.name}（${kb.level}）`);
    f.docs.value = (k.docs || []).join("、");
    checks(f.tools, options.tools, (d.tools || []).map((t) => t.id), (t) => `${t.name} ${t.id} [${t.risk}]`);
    f.examples.value = (d.examples || []).join("\n"); f.opening.value = (d.opening || []).join("\n");
    f.cues.value = (d.cues || []).join("、");
    f.workflow.value = d.workflow && d.workflow.length ? JSON.stringify(d.workflow, null, 1) : "";
  }

  function definition() {
    const picked = (box) => [...box.querySelectorAll("input:checked")].map((i) => i.value);
    const risk = Object.fromEntries(options.tools.map((t) => [t.id, t.risk]));
    const modes = [f.modes.value, ...(extra.modes || []).filter((m) => m !== f.modes.value)].slice(0, 3);
    let workflow = [];
    if (f.workflow.value.trim()) workflow = JSON.parse(f.workflow.value);
    return { ...extra, id: f.id.value.trim(), name: f.name.value.trim(), icon: f.icon.value.trim() || "🤖",
      category: f.category.value.trim() || "其他", description: f.description.value.trim(),
      instructions: f.instructions.value.trim(), modes,
      knowledge: { ...(extra.knowledge || {}), kbs: picked(f.kbs), docs: f.docs.value.split(/[、,，]/).map((s) => s.trim()).filter(Boolean) },
      tools: picked(f.tools).map((id) => ({ id, risk: risk[id] })), examples: lines(f.examples.value),
      opening: lines(f.opening.value), cues: f.cues.value.split(/[、,，]/).map((s) => s.trim()).filter(Boolean), workflow };
  }

  function showVersions(d) {
    versions.replaceChildren(...(d ? d.versions.map((v) => h("li", { testid: "studio-version" },
      `v${v.version} ${v.note || ""} ${v.version === d.published_version ? "（已发布）" : ""} `,
      v.version !== d.published_version ? h("button", { type: "button", class: "link", testid: "studio-rollback",
        text: d.published_version && v.version < d.published_version ? "回滚到此版" : "发布此版",
        onclick: () => publish(v.version) }) : null)) : []));
  }

  async function open(id) {
    try { current = await api.get(`${BASE}/definitions/${enc(id)}`); } catch (err) { fail("打开", err); return; }
    fill(current.definition);
    visibility.value = current.visibility;
    showVersions(current);
    sessionId = null;
    say(`正在编辑 ${current.name}（最新 v${current.latest_version}）`);
  }

  async function send(method, path, body) {
    const res = await fetch(path, { method, headers: api.headers({ "Content-Type": "application/json" }), body: JSON.stringify(body) });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) { const e = new Error(data.detail || res.statusText); e.body = data; throw e; }
    return data;
  }

  async function save() {
    let d;
    try { d = definition(); } catch (err) { fail("工作流不是合法的 JSON", err); return; }
    try {
      current = current && current.id === d.id
        ? await send("PUT", `${BASE}/definitions/${enc(d.id)}`, { definition: d, note: "控制台保存" })
        : await send("POST", `${BASE}/definitions`, { definition: d, note: "控制台新建" });
    } catch (err) { fail("保存", err); return; }
    showVersions(current);
    say(`已保存 v${current.latest_version}`);
    loadCatalogue();
  }

  async function publish(version) {
    if (!current) { say("请先保存"); return; }
    try {
      current = await api.post(`${BASE}/definitions/${enc(current.id)}/publish`, { version: version || null, visibility: visibility.value });
    } catch (err) { fail("发布", err); return; }
    showVersions(current);
    say(`已发布 v${current.published_version}（${current.visibility}）`);
    loadCatalogue();
  }

  async function validate() {
    try { await api.post(`${BASE}/definitions/validate`, { definition: definition() }); } catch (err) { fail("检查", err); return; }
    say("检查通过 ✓");
  }

  // ---- side chat and routing
  const chatInput = h("input", { testid: "studio-chat-input", placeholder: "试着问它一个问题" });
  const chatLog = h("div", { class: "studio-chat", testid: "studio-chat" });
  const routing = h("table", { class: "studio-routing", testid: "studio-routing" });

  async function tryIt() {
    const text = chatInput.value.trim();
    if (!text) return;
    let d;
    try { d = definition(); } catch (err) { fail("工作流不是合法的 JSON", err); return; }
    chatLog.append(h("p", { class: "studio-q", text }));
    chatInput.value = "";
    let r;
    try {
      r = await api.post(`${BASE}/definitions/${enc(d.id)}/test`, { text, definition: d, session_id: sessionId });
    } catch (err) { fail("试运行", err); return; }
    sessionId = r.session_id;
    const answer = h("div", { class: "studio-answer", testid: "studio-answer" });
    answer.innerHTML = renderMarkdown(r.clarification ? r.clarification.question : r.answer, { headingOffset: 2 }); // escaped by renderMarkdown
    const trace = h("ol", { class: "studio-trace", testid: "studio-trace" }, r.trace.map((s) => h("li", {
      text: [s.name, s.agent && `${s.agent}.${s.skill}`, s.decision, s.steps && `步骤 ${s.steps.join(" → ")}`,
        s.ms != null && `${Math.round(s.ms)} ms`].filter(Boolean).join(" · ") })));
    chatLog.append(answer, h("details", {}, h("summary", { text: `运行轨迹 ${r.trace_id}` }), trace));
  }

  async function checkRouting() {
    let rows;
    try { rows = await api.post(`${BASE}/definitions/${enc(f.id.value.trim())}/routing`, { definition: definition() }); } catch (err) { fail("路由检查", err); return; }
    routing.replaceChildren(h("tr", {}, ["请求", "模式", "去向", ""].map((t) => h("th", { text: t }))),
      ...rows.map((r) => h("tr", { testid: "studio-route" }, h("td", { text: r.text }), h("td", { text: r.mode || r.reply || "—" }),
        h("td", { text: r.skills.join("，") || "—" }), h("td", { text: r.here ? "✓ 到它" : "" }))));
  }

  function fromTemplate() {
    const t = options.templates.find((x) => x.id === f.template.value);
    if (!t) return;
    current = null;
    sessionId = null;
    fill(t.definition);
    showVersions(null);
    say(`来自模板「${t.name}」：请改 id 和名称后保存`);
  }

  const labelled = (label, el) => h("label", { class: "studio-field" }, h("span", { text: label }), el);
  root.replaceChildren(h("section", { class: "studio" },
    h("h2", { text: "智能体共创" }), status,
    h("div", { class: "studio-layout" },
      h("div", { class: "studio-col" },
        h("h3", { text: "智能体广场" }),
        h("div", { class: "studio-filters" }, search, category, h("label", {}, mine, " 我的")),
        list),
      h("div", { class: "studio-col" },
        h("h3", { text: "搭建" }),
        h("div", { class: "studio-filters" }, f.template,
          h("button", { type: "button", testid: "studio-new", text: "从模板新建", onclick: fromTemplate })),
        labelled("id", f.id), labelled("名称", f.name), labelled("图标", f.icon), labelled("分类", f.category),
        labelled("简介", f.description), labelled("说明（模型）", f.instructions), labelled("服务的模式", f.modes),
        labelled("知识库", f.kbs), labelled("文件", f.docs), labelled("工具（风险等级）", f.tools),
        labelled("示例请求", f.examples), labelled("开场问题", f.opening), labelled("提示词", f.cues),
        labelled("工作流", f.workflow),
        h("div", { class: "studio-actions" },
          h("button", { type: "button", testid: "studio-validate", text: "检查", onclick: validate }),
          h("button", { type: "button", testid: "studio-save", text: "保存新版本", onclick: save }),
          visibility,
          h("button", { type: "button", testid: "studio-publish", text: "发布", onclick: () => publish(null) })),
        h("h4", { text: "版本" }), versions),
      h("div", { class: "studio-col" },
        h("h3", { text: "试运行" }), chatLog,
        h("form", { class: "studio-filters", onsubmit: (e) => { e.preventDefault(); tryIt(); } }, chatInput,
          h("button", { type: "submit", testid: "studio-chat-send", text: "发送" })),
        h("h3", { text: "路由检查" }),
        h("button", { type: "button", testid: "studio-route-check", text: "示例请求会被路由到哪里", onclick: checkRouting }),
        routing))));

  search.addEventListener("input", () => loadCatalogue());
  category.addEventListener("change", () => loadCatalogue());
  mine.addEventListener("change", () => loadCatalogue());

  (async () => {
    try { options = await api.get(`${BASE}/studio/options`); } catch (err) { fail("需要 API key 才能搭建智能体", err); }
    if (disposed) return;
    f.modes.replaceChildren(...options.modes.map((m) => h("option", { value: m, text: m })));
    f.template.replaceChildren(...options.templates.map((t) => h("option", { value: t.id, text: `${t.icon} ${t.name}` })));
    if (options.templates.length) fromTemplate();
    loadCatalogue();
  })();
  return () => { disposed = true; };
}
