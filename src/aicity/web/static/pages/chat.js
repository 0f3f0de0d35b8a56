// 超级助理 chat page: ask over SSE (plan → steps → answer), render sections as safe Markdown
// with clickable citation markers, citations, departments, next actions, clarifications
// and the run's trace. The conversation survives switching pages (module state).

import { h } from "../lib/dom.js";
import { renderMarkdown } from "../lib/markdown.js";

const STREAM = "/api/v1/assistant/ask/stream";
const EXAMPLES = [
  "我想在自家小区楼下开个小便利店，需要办哪些手续？",
  "新生儿出生要办哪些事？",
  "食品安全法第三十五条怎么规定的？",
];
const MAX_CHARS = 8000; // the server decides; the counter only warns
const STATUS_TEXT = { in_force: "现行有效", repealed: "已废止", amended: "已修订", draft: "草案", expired: "已失效" };

const state = { view: null, api: null, sessionId: null, sessionToken: null, busy: false, turns: 0, controller: null };


const fmtMs = (ms) => (typeof ms === "number" ? (ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`) : "");
const pct = (x) => (typeof x === "number" ? `${Math.round(x * 100)}%` : "");

async function agentNames(api) {
  try {
    const agents = await api.cached("/api/v1/agents");
    const names = {};
    for (const a of agents) {
      names[a.id] = a.name;
      for (const s of a.skills || []) names[`${a.id}.${s.id}`] = s.name;
    }
    return names;
  } catch {
    return {};
  }
}

// --- the page -----------------------------------------------------------------------------

export function render(root, api) {
  state.api = api;
  if (!state.view) state.view = build();
  root.append(state.view);
  const onIdentity = () => {
    if (!state.sessionId) return;
    // a session belongs to one role: keep the history on screen, continue in a new session
    state.controller?.abort();
    state.sessionId = null;
    state.sessionToken = null;
    updateSession();
    setBusy(false);
    state.messages.append(h("div", { class: "divider", testid: "session-divider", role: "separator" },
      h("span", { text: `身份已更改为 ${api.role()}，以下为新会话 Identity changed: new session` })));
    scrollToBottom();
  };
  window.addEventListener("aicity:identity", onIdentity);
  state.view.querySelector("textarea").focus();
  return () => window.removeEventListener("aicity:identity", onIdentity);
}

function build() {
  const input = h("textarea", {
    testid: "chat-input", rows: 2, placeholder: "请输入您的问题… Ask about city services",
    "aria-label": "问题 Your question",
  });
  const counter = h("span", { class: "counter", "aria-live": "polite" });
  const send = h("button", { type: "submit", class: "btn btn-primary send", testid: "chat-send" }, "发送 Send");
  const form = h("form", { class: "composer", onsubmit: (e) => { e.preventDefault(); ask(); } },
    h("div", { class: "composer-box" }, input, send),
    h("div", { class: "composer-hint" }, h("span", { text: "Enter 发送 · Shift+Enter 换行" }), counter));
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      ask();
    }
  });
  const autosize = () => {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight + 2, 220)}px`;
    const n = input.value.length;
    counter.textContent = n > 1000 ? `${n} / ${MAX_CHARS}` : "";
    counter.classList.toggle("over", n > MAX_CHARS);
  };
  input.addEventListener("input", autosize);

  const messages = h("div", { class: "messages", testid: "message-list", "aria-live": "polite" }, welcome());
  const session = h("span", { class: "session", testid: "session-id", title: "会话 Session" });
  const view = h("section", { class: "chat", "aria-label": "超级助理 Super assistant" },
    h("div", { class: "chat-toolbar" },
      h("h1", {}, "超级助理 ", h("small", { text: "City super assistant" })),
      session,
      h("button", { type: "button", class: "btn btn-ghost", testid: "new-chat", onclick: () => newChat() },
        "＋ 新对话 New chat")),
    messages, form);
  Object.assign(state, { input, send, messages, session, autosize });
  return view;
}

function welcome() {
  return h("div", { class: "welcome" },
    h("h2", { text: "您好，我是城市超级助理" }),
    h("p", { text: "办事指南、政策法规、城市事件……一句话告诉我您要办什么，我会分派给相应的智能体，并给出有依据的答复。" }),
    h("p", { class: "muted", text: "Ask in Chinese or English. Answers cite the laws and rules they rely on." }),
    h("div", { class: "chips" }, EXAMPLES.map((q) =>
      h("button", { type: "button", class: "chip", testid: "example-chip", onclick: () => ask(q) }, q))));
}

function newChat() {
  state.controller?.abort();
  state.sessionId = null;
  state.sessionToken = null;
  state.busy = false;
  state.turns = 0;
  state.messages.replaceChildren(welcome());
  updateSession();
  setBusy(false);
  state.input.value = "";
  state.autosize();
  state.input.focus();
}

function updateSession() {
  state.session.textContent = state.sessionId ? `会话 ${state.sessionId.slice(-8)}` : "";
  state.session.title = state.sessionId ? `会话 Session ${state.sessionId}` : "";
  if (state.sessionId) state.session.dataset.session = state.sessionId;
  else delete state.session.dataset.session;
}

function setBusy(busy) {
  state.busy = busy;
  state.send.disabled = busy;
  state.send.textContent = busy ? "思考中… Thinking" : "发送 Send";
  state.view.classList.toggle("is-busy", busy);
}

function nearBottom() {
  const m = state.messages;
  return m.scrollHeight - m.scrollTop - m.clientHeight < 120;
}

function scrollToBottom() {
  state.messages.scrollTop = state.messages.scrollHeight;
}

// --- asking -------------------------------------------------------------------------------

/** Send `text` (default: the input box). `shown` replaces the user bubble's text. */
async function ask(text, { shown } = {}) {
  const fromInput = text == null;
  const question = fromInput ? state.input.value : text;
  if (state.busy) return false;
  if (!question || !question.trim()) {
    state.input.focus();
    state.input.classList.remove("shake");
    void state.input.offsetWidth; // restart the animation
    state.input.classList.add("shake");
    return false;
  }
  const api = state.api;
  if (fromInput) {
    state.input.value = "";
    state.autosize();
  }
  state.messages.querySelector(".welcome")?.remove();
  const turn = new Turn(api, shown ?? question, ++state.turns);
  state.messages.append(turn.userEl, turn.el);
  scrollToBottom();
  setBusy(true);
  const controller = new AbortController();
  state.controller = controller;
  const body = { text: question, role: api.role() };
  if (state.sessionId) body.session_id = state.sessionId;
  // a keyless session is continued (and its traces read) only with the token its first answer gave
  if (state.sessionToken) body.session_token = state.sessionToken;
  try {
    await api.stream(STREAM, body, (event, data) => turn.handle(event, data), { signal: controller.signal });
    if (!turn.done) turn.fail({ title: "连接中断 Stream ended", detail: "未收到答案 no answer was received" });
    return true;
  } catch (err) {
    if (controller.signal.aborted) {
      turn.fail({ title: "已取消 Cancelled", detail: "" });
      return false;
    }
    if (err instanceof api.ApiError && !turn.started) {
      // rejected before the stream began (validation, permissions): nothing was asked
      turn.remove();
      if (!state.messages.children.length) state.messages.append(welcome());
      if (!state.input.value) {
        state.input.value = question;
        state.autosize();
      }
    } else {
      turn.fail(err);
    }
    api.toast(err);
    return turn.started;
  } finally {
    if (state.controller === controller) {
      state.controller = null;
      setBusy(false);
    }
  }
}

class Turn {
  constructor(api, question, n) {
    this.api = api;
    this.n = n;
    this.started = false;
    this.done = false;
    this.userEl = h("div", { class: "msg msg-user", testid: "user-message" },
      h("div", { class: "bubble" }, question.length > 600 ? `${question.slice(0, 600)}… （共 ${question.length} 字）` : question));
    this.planList = h("ol", { class: "plan-steps" });
    this.planStatus = h("span", { class: "plan-status", text: "正在规划… Planning" });
    this.plan = h("details", { class: "plan", testid: "plan-panel", open: true },
      h("summary", {}, h("span", { class: "plan-title", text: "规划 Plan" }), this.planStatus), this.planList);
    this.body = h("div", { class: "turn-body" }, h("div", { class: "typing", "aria-label": "思考中" }, h("i"), h("i"), h("i")));
    this.el = h("article", { class: "msg msg-assistant", testid: "assistant-turn", "data-turn": n },
      h("div", { class: "avatar", "aria-hidden": "true", text: "AI" }),
      h("div", { class: "card" }, this.plan, this.body));
  }

  remove() {
    this.userEl.remove();
    this.el.remove();
  }

  handle(event, data) {
    const follow = nearBottom();
    if (event === "plan") this.onPlan(data);
    else if (event === "step") this.onStep(data);
    else if (event === "answer") this.onAnswer(data);
    else if (event === "error") this.fail(data, true);
    if (follow && event !== "answer") scrollToBottom();
  }

  onPlan(data) {
    this.started = true;
    if (data.session_id) {
      state.sessionId = data.session_id;
      updateSession();
    }
    this.traceId = data.trace_id;
    const tasks = data.subtasks || [];
    this.planStatus.textContent = `${tasks.length} 个子任务 sub-task${tasks.length === 1 ? "" : "s"} · ${data.planner || ""}`;
    this.planList.replaceChildren(...tasks.map((t) => this.stepEl(t)));
    agentNames(this.api).then((names) => {
      for (const li of this.planList.children) {
        const name = names[li.dataset.agent];
        const skill = names[`${li.dataset.agent}.${li.dataset.skill}`];
        if (name || skill) li.querySelector(".step-name").textContent = `${name || li.dataset.agent} · ${skill || li.dataset.skill}`;
      }
    });
  }

  stepEl(t) {
    const params = t.params && Object.keys(t.params).length
      ? Object.entries(t.params).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ") : "";
    return h("li", { class: "plan-step", testid: "plan-step", "data-state": "pending", "data-agent": t.agent, "data-skill": t.skill },
      h("span", { class: "step-icon", "aria-hidden": "true" }),
      h("span", { class: "step-main" },
        h("span", { class: "step-name", text: `${t.agent} · ${t.skill}` }),
        h("code", { class: "step-id", text: `${t.agent}.${t.skill}` }),
        params ? h("span", { class: "step-params", text: params }) : null,
        typeof t.confidence === "number" ? h("span", { class: "step-conf", title: "置信度 confidence", text: pct(t.confidence) }) : null),
      h("span", { class: "step-ms", testid: "plan-step-ms" }));
  }

  onStep(data) {
    this.started = true;
    const items = [...this.planList.children];
    let li = items.find((x) => x.dataset.state === "pending" && x.dataset.agent === data.agent && x.dataset.skill === data.skill);
    if (!li) {
      li = this.stepEl({ agent: data.agent, skill: data.skill });
      this.planList.append(li);
    }
    const ok = !data.status || data.status === "ok";
    li.dataset.state = ok ? "done" : "error";
    if (typeof data.ms === "number") li.dataset.ms = String(data.ms);
    li.querySelector(".step-ms").textContent = `${ok ? "✓" : `✗ ${data.status}`} ${fmtMs(data.ms)}`.trim();
    const done = items.filter((x) => x.dataset.state !== "pending").length;
    this.planStatus.textContent = `执行中 Running ${done}/${items.length}`;
  }

  onAnswer(a) {
    this.started = true;
    this.done = true;
    this.answer = a;
    if (a.session_id) {
      state.sessionId = a.session_id;
      updateSession();
    }
    this.traceId = a.trace_id || this.traceId;
    if (a.session_token) state.sessionToken = a.session_token;
    const steps = [...this.planList.children];
    const total = steps.reduce((sum, li) => sum + (Number(li.dataset.ms) || 0), 0);
    this.planStatus.textContent = `完成 Done · ${steps.length} 个子任务${total ? ` · ${fmtMs(total)}` : ""}`;
    for (const li of steps) if (li.dataset.state === "pending") li.dataset.state = "skipped";


    const citations = Array.isArray(a.citations) ? a.citations : [];
    const marker = (n) => (n >= 1 && n <= citations.length
      ? `<sup class="cite-ref"><a href="#" role="button" data-testid="citation-marker" data-cite="${n}" title="查看引用 ${n}">[${n}]</a></sup>`
      : `<sup class="cite-ref">[${n}]</sup>`);
    const answer = h("div", { class: "answer", testid: "answer" });
    const sections = Array.isArray(a.sections) ? a.sections : [];
    if (sections.length) {
      for (const s of sections) {
        const sec = h("section", { class: `answer-section kind-${String(s.kind || "info").replace(/[^\w-]/g, "")}` },
          s.title ? h("h3", { text: s.title }) : null);
        const body = h("div", { class: "md" });
        body.innerHTML = renderMarkdown(s.body || "", { marker, stripFootnotes: true, headingOffset: 1 }); // escaped by renderMarkdown
        sec.append(body);
        if (typeof s.chart_svg === "string" && s.chart_svg.startsWith("<svg")) { // an image: no script runs in it
          sec.append(h("img", { class: "answer-chart", testid: "answer-chart", alt: `${s.title || ""} 图表`,
            src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(s.chart_svg)}` }));
        }
        answer.append(sec);
      }
    } else if (!String(a.answer || "").trim()) {
      answer.append(h("p", { class: "muted", text: "（没有可显示的答复 No answer content.）" }));
    } else {
      const body = h("div", { class: "md" });
      body.innerHTML = renderMarkdown(a.answer || "", { marker, stripFootnotes: true, headingOffset: 1 }); // escaped by renderMarkdown
      answer.append(body);
    }
    answer.addEventListener("click", (e) => {
      const link = e.target.closest("[data-cite]");
      if (!link) return;
      e.preventDefault();
      this.showCitation(Number(link.dataset.cite));
    });

    const parts = [answer];
    if (a.clarification) parts.push(this.clarifyEl(a.clarification));
    if (a.event && typeof a.event === "object") parts.push(this.eventEl(a.event));
    const depts = Array.isArray(a.departments) ? a.departments : [];
    if (depts.length) parts.push(this.departmentsEl(depts));
    if (citations.length) parts.push(this.citationsEl(citations));
    const actions = Array.isArray(a.next_actions) ? a.next_actions : [];
    if (actions.length) parts.push(this.actionsEl(actions));
    parts.push(this.footerEl(a));
    this.body.replaceChildren(...parts);
    // show the question and the start of the answer rather than the answer's end
    const m = state.messages;
    m.scrollTop = Math.max(0, this.userEl.offsetTop - 8); // .messages is the offsetParent
  }

  fail(problem, fromStream = false) {
    this.done = true;
    const title = problem?.title || (problem instanceof Error ? "出错了 Error" : "出错了 Error");
    const detail = problem?.detail ?? (problem instanceof Error ? problem.message : "");
    for (const li of this.planList.children) if (li.dataset.state === "pending") li.dataset.state = "skipped";
    this.planStatus.textContent = "失败 Failed";
    this.body.replaceChildren(h("div", { class: "turn-error", role: "alert", testid: "turn-error" },
      h("strong", { text: title }), detail ? h("div", { text: detail }) : null));
    if (fromStream) this.api.toast(new this.api.ApiError(problem, problem?.status));
  }

  // --- parts of an answer ---------------------------------------------------------------

  citationsEl(citations) {
    const list = h("ol", { class: "citation-list" });
    citations.forEach((c, i) => {
      const n = i + 1;
      const status = c.status && c.status !== "in_force"
        ? h("span", { class: "cite-status warn", text: STATUS_TEXT[c.status] || c.status }) : null;
      list.append(h("li", { class: "citation", testid: "citation", id: `cite-${this.n}-${n}`, "data-n": n, tabindex: "-1" },
        h("div", { class: "cite-head" },
          h("span", { class: "cite-n", text: `[${n}]` }),
          h("span", { class: "cite-doc", text: `《${c.doc || c.doc_key || "?"}》` }),
          h("span", { class: "cite-loc", text: c.locator || "" }),
          status),
        h("blockquote", { class: "cite-text", testid: "citation-text", text: c.text || "" })));
    });
    this.citations = h("details", { class: "citations", testid: "citations" },
      h("summary", {}, `§ 引用依据 Citations (${citations.length})`), list);
    return this.citations;
  }

  showCitation(n) {
    if (!this.citations) return;
    const item = this.citations.querySelector(`[data-n="${n}"]`);
    if (!item) return;
    this.citations.open = true;
    for (const el of state.messages.querySelectorAll(".citation.is-target")) el.classList.remove("is-target");
    item.classList.remove("is-target");
    void item.offsetWidth; // restart the flash
    item.classList.add("is-target");
    item.scrollIntoView({ block: "center", behavior: "smooth" });
    item.focus({ preventScroll: true });
  }

  departmentsEl(ids) {
    const box = h("div", { class: "departments" }, h("span", { class: "label", text: "办理部门 Departments" }));
    const tags = ids.map((id) => {
      const tag = h("span", { class: "tag", testid: "department-tag", "data-id": id, text: id });
      box.append(tag);
      return tag;
    });
    this.api.departments().then((byId) => {
      for (const tag of tags) {
        const d = byId[tag.dataset.id];
        if (!d) continue;
        tag.textContent = d.name;
        tag.title = [d.name_en, (d.duties || []).join("、")].filter(Boolean).join(" — ");
      }
    });
    return box;
  }

  actionsEl(actions) {
    const box = h("div", { class: "next-actions" }, h("span", { class: "label", text: "接下来 Next" }));
    for (const act of actions) {
      const value = String(act.value ?? "");
      if (act.kind === "link") {
        const href = /^#\//.test(value) || /^\/(?!\/)/.test(value) ? value : null;
        if (href) box.append(h("a", { class: "btn btn-action", testid: "next-action", href, target: href.startsWith("#") ? null : "_blank" }, act.label));
        continue;
      }
      box.append(h("button", {
        type: "button", class: "btn btn-action", testid: "next-action", title: value,
        onclick: () => {
          const gap = value.indexOf("……");
          if (gap >= 0) {
            // a template the user completes ("我已经准备了……"): put it in the box, select the gap
            state.input.value = value;
            state.autosize();
            state.input.focus();
            state.input.setSelectionRange(gap, gap + 2);
          } else ask(value);
        },
      }, act.label));
    }
    return box;
  }

  /** A clarifying question. One slot: clicking an option sends its label. Several slots
   * (option values "slot=value", slot "a,b"): one choice per slot, sent together once every
   * slot has one (or earlier with the send button). */
  clarifyEl(c) {
    const opts = Array.isArray(c.options) ? c.options : [];
    const slotOf = (o) => (typeof o.value === "string" && o.value.includes("=") ? o.value.split("=")[0] : "");
    const groups = new Map();
    for (const o of opts) {
      const k = slotOf(o);
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(o);
    }
    const multi = groups.size > 1 && !groups.has("");
    const question = String(c.question || "请补充信息 Please tell me more");
    const parts = question.split(/\s*\d+[.、]\s*/);
    const titled = multi && parts.length - 1 === groups.size;
    const box = h("div", { class: "clarify", testid: "clarification" },
      h("div", { class: "clarify-q" }, h("span", { class: "clarify-icon", "aria-hidden": "true", text: "?" }),
        h("span", { text: titled ? parts[0] : question })));
    const buttons = [];
    const chosen = new Map();
    const lock = (locked) => {
      for (const b of buttons) b.disabled = locked;
      send.disabled = locked || !chosen.size;
    };
    const submit = () => {
      if (state.busy || !chosen.size) return;
      lock(true);
      const text = [...groups.keys()].filter((k) => chosen.has(k)).map((k) => chosen.get(k).label).join("，");
      ask(text).then((sent) => {
        if (!sent) lock(false); // rejected: let the user choose again
      });
    };
    const send = h("button", { type: "button", class: "btn btn-primary btn-small", testid: "clarify-send", disabled: true, onclick: submit },
      "发送所选 Send");
    let i = 0;
    for (const [slot, options] of groups) {
      const row = h("div", { class: "clarify-options", role: "group" });
      for (const o of options) {
        const btn = h("button", {
          type: "button", class: "btn btn-option", testid: "clarify-option", "data-value": o.value, "data-slot": slot,
          "aria-pressed": multi ? "false" : null,
          onclick: () => {
            if (state.busy) return;
            for (const b of row.querySelectorAll("button")) {
              b.classList.remove("chosen");
              if (multi) b.setAttribute("aria-pressed", "false");
            }
            btn.classList.add("chosen");
            if (multi) btn.setAttribute("aria-pressed", "true");
            chosen.set(slot, o);
            send.disabled = false;
            if (!multi || chosen.size === groups.size) submit();
          },
        }, o.label);
        buttons.push(btn);
        row.append(btn);
      }
      i += 1;
      box.append(multi
        ? h("div", { class: "clarify-group", testid: "clarify-group", "data-slot": slot },
          h("div", { class: "clarify-sub", text: `${i}. ${titled ? parts[i] : ""}` }), row)
        : row);
    }
    box.append(h("div", { class: "clarify-foot" },
      multi ? send : null,
      h("span", { class: "muted small", text: multi ? "每项选一个，选齐后自动发送；也可以直接在下方输入您的情况。" : "也可以直接在下方输入您的情况 Or type your answer below." })));
    return box;
  }

  eventEl(ev) {
    const rows = Object.entries(ev).filter(([, v]) => v != null && typeof v !== "object");
    return h("div", { class: "event-card", testid: "event" },
      h("strong", { text: "已登记事件 Event" }),
      h("dl", {}, rows.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: String(v) })])));
  }

  footerEl(a) {
    const panel = h("div", { class: "trace", testid: "trace-panel", hidden: true });
    const btn = h("button", {
      type: "button", class: "btn btn-link", testid: "trace-button", "aria-expanded": "false",
      onclick: () => this.toggleTrace(btn, panel),
    }, "运行轨迹 Trace ›");
    if (!this.traceId) btn.disabled = true;
    const meta = [a.planner && `planner: ${a.planner}`, (a.skills || []).map((s) => `${s.agent}.${s.skill}`).join(", ")]
      .filter(Boolean).join(" · ");
    return h("div", { class: "turn-footer" },
      h("div", { class: "footer-row" }, btn, h("span", { class: "muted small", text: meta })),
      this.traceId ? this.feedbackEl() : null, panel);
  }

  // 👍/👎 and a reason on the answer (POST /api/v1/assistant/feedback; a keyless asker sends its session token)
  feedbackEl() {
    const status = h("span", { class: "muted small", testid: "feedback-status", role: "status" });
    const reason = h("input", { type: "text", class: "input", maxlength: "500", testid: "feedback-reason",
      placeholder: "哪里不好？（可选）What was wrong? (optional)", "aria-label": "原因 reason" });
    const send = async (rating) => {
      for (const b of box.querySelectorAll("button")) b.disabled = true;
      try {
        await this.api.post("/api/v1/assistant/feedback", { trace_id: this.traceId, rating, reason: reason.value.trim() },
          { headers: state.sessionToken ? { "X-Session-Token": state.sessionToken } : {} });
        status.textContent = rating === "up" ? "谢谢！Thanks!" : "已记录，我们会改进 Noted, thank you.";
        form.hidden = true;
      } catch (err) {
        status.textContent = "未能提交 not sent";
        this.api.toast(err);
      } finally {
        for (const b of box.querySelectorAll("button")) b.disabled = false;
      }
    };
    const form = h("div", { class: "feedback-form", hidden: true },
      reason, h("button", { type: "button", class: "btn btn-small", testid: "feedback-send", text: "提交 Send",
        onclick: () => send("down") }));
    const box = h("div", { class: "feedback", testid: "feedback" },
      h("button", { type: "button", class: "btn btn-link", testid: "feedback-up", title: "有帮助 helpful",
        "aria-label": "有帮助 helpful", text: "👍", onclick: () => send("up") }),
      h("button", { type: "button", class: "btn btn-link", testid: "feedback-down", title: "没帮助 not helpful",
        "aria-label": "没帮助 not helpful", text: "👎", onclick: () => { form.hidden = false; reason.focus(); } }),
      form, status);
    return box;
  }

  async toggleTrace(btn, panel) {
    if (!panel.hidden) {
      panel.hidden = true;
      btn.setAttribute("aria-expanded", "false");
      return;
    }
    panel.hidden = false;
    btn.setAttribute("aria-expanded", "true");
    if (panel.dataset.loaded) return;
    panel.replaceChildren(h("span", { class: "muted small", text: "加载中… Loading" }));
    try {
      const t = await this.api.get(`/api/v1/traces/${encodeURIComponent(this.traceId)}`,
        { headers: state.sessionToken ? { "X-Session-Token": state.sessionToken } : {} });
      panel.dataset.loaded = "1";
      panel.replaceChildren(this.traceEl(t));
    } catch (err) {
      panel.replaceChildren(h("span", { class: "turn-error", text: err.message }));
      this.api.toast(err);
    }
  }

  traceEl(t) {
    const steps = Array.isArray(t.steps) ? t.steps : [];
    const max = Math.max(t.duration_ms || 0, ...steps.map((s) => s.ms || 0)) || 1;
    const rows = steps.map((s) => {
      let what = "";
      if (s.name === "plan") what = `${s.planner || ""} · ${(s.subtasks || []).length} 个子任务`;
      else if (s.agent || s.skill) what = `${s.agent}.${s.skill}${s.decision ? ` (${s.decision})` : ""}${s.error ? ` ✗ ${s.error}` : ""}`;
      else {
        what = Object.entries(s).filter(([k, v]) => !["name", "ms"].includes(k) && v != null && typeof v !== "object")
          .map(([k, v]) => `${k}=${v}`).join(" ");
      }
      const bar = h("span", { class: "bar" });
      bar.style.width = `${Math.max(2, Math.round(((s.ms || 0) / max) * 100))}%`;
      return h("tr", { class: "trace-step", testid: "trace-step", "data-name": s.name },
        h("td", { class: "trace-name" }, h("code", { text: s.name })),
        h("td", { class: "trace-what", text: what }),
        h("td", { class: "trace-ms", text: fmtMs(s.ms) }),
        h("td", { class: "trace-bar" }, bar));
    });
    return h("div", {},
      h("div", { class: "trace-head" },
        h("code", { text: t.id }),
        h("span", { text: `${t.kind || ""} · ${t.role || ""} · ${t.status || ""}` }),
        h("span", { text: `总耗时 ${fmtMs(t.duration_ms)}` })),
      h("table", { class: "trace-table" },
        h("thead", {}, h("tr", {}, h("th", { text: "步骤 Step" }), h("th", { text: "内容 Detail" }), h("th", { text: "耗时" }), h("th", {}))),
        h("tbody", {}, rows)));
  }
}
