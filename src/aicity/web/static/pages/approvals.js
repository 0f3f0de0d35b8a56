// 审批 approval queue: requests to run a skill that acts on the city (an `actuate` skill asked
// for in a conversation), pending and recently decided. A second authorised person approves
// (the skill then runs, as the requester) or rejects, with a note; a refusal from the server
// (the requester deciding their own request: 403 approval-same-person; already decided: 409)
// is shown as the problem toast. Decided requests show who decided, the note and the result.
// A request for the devices of one district needs two approvers (neither the requester): its
// progress (需要 2 人审批，已批 1 人) and who approved so far are shown; the first approval leaves it
// pending, and the same approver twice is refused (403 approval-same-approver).
//
// Safety: every server string reaches the DOM as text (the h() builder never parses HTML).

import { h } from "../lib/dom.js";

const STATUS = {
  pending: "待审批", approved: "已批准并执行", failed: "已批准，执行失败", rejected: "已驳回", expired: "已过期",
};

function when(iso) {
  return iso ? new Date(iso).toLocaleString("zh-CN") : "—";
}

function field(label, value, testid) {
  return [h("dt", { text: label }), h("dd", { text: value, testid })];
}

/** What running the skill gave: its error, or the titles and text of its sections. */
function result(row) {
  const r = row.result;
  if (!r) return null;
  const parts = r.error ? [h("p", { class: "approval-error", text: `错误 error: ${r.error}` })]
    : (r.sections || []).map((s) => h("p", {}, h("strong", { text: s.title }), " ", s.body));
  return h("div", { class: "approval-result", testid: "approval-result" },
    parts.length ? parts : h("p", { class: "muted", text: "已执行，无返回内容 done, nothing returned" }));
}

export function render(root, api) {
  const pending = h("div", { class: "approval-list", testid: "approvals-pending" });
  const recent = h("div", { class: "approval-list", testid: "approvals-recent" });
  const summary = h("p", { class: "muted", testid: "approvals-summary", role: "status" });
  root.append(h("div", { class: "approvals", testid: "approvals" },
    h("div", { class: "approvals-head" },
      h("h1", { text: "审批 Approvals" }),
      h("button", { class: "btn btn-small", testid: "approvals-refresh", text: "刷新 refresh", onclick: () => load() })),
    h("p", { class: "muted", text: "作用于城市设施的操作（如关闭燃气阀门）须经申请人以外的有权限人员批准后才会执行；每一步都记入审计账本。" }),
    summary,
    h("section", { class: "card" }, h("h2", { text: "待审批 Pending" }), pending),
    h("section", { class: "card" }, h("h2", { text: "最近处理 Recent" }), recent)));

  async function decide(row, verb, note, buttons) {
    for (const b of buttons) b.disabled = true;
    try {
      const done = await api.post(`/api/v1/approvals/${encodeURIComponent(row.id)}/${verb}`, { note: note.value });
      api.toast(`${done.id}：${STATUS[done.status] || done.status}`, { kind: "info", timeout: 5000 });
      await load();
    } catch (err) {
      api.toast(err);
      if (err.status === 409) await load();
      else for (const b of buttons) b.disabled = false;
    }
  }

  function card(row) {
    const facts = h("dl", { class: "approval-facts" },
      field("申请人", `${row.requester}${row.department ? ` · ${row.department}` : ""}`, "approval-requester"),
      field("事由", row.reason, "approval-reason"),
      field("提交时间", when(row.created_at)),
      field("有效期至", when(row.expires_at)));
    if (row.approvals_needed > 1 || (row.approved_by || []).length) {
      facts.append(...field("审批进度", row.progress, "approval-progress"));
      for (const a of row.approved_by || []) {
        facts.append(...field("已批准", `${a.actor}（${when(a.at)}）${a.note ? `：${a.note}` : ""}`));
      }
    }
    if (row.params && Object.keys(row.params).length) {
      facts.append(...field("参数", Object.entries(row.params).map(([k, v]) => `${k}=${v}`).join("，")));
    }
    if (row.status !== "pending") {
      facts.append(...field("处理人", row.decided_by ? `${row.decided_by}（${when(row.decided_at)}）` : "—",
        "approval-decided-by"));
      if (row.note) facts.append(...field("意见", row.note, "approval-note-text"));
    }
    const el = h("article", { class: "approval", testid: "approval", "data-id": row.id, "data-status": row.status },
      h("header", { class: "approval-title" },
        h("strong", { text: `${row.agent}.${row.skill}` }),
        h("span", { class: `tag approval-status status-${row.status}`, testid: "approval-status",
          text: STATUS[row.status] || row.status }),
        h("code", { class: "muted", text: row.id })),
      facts, row.status === "pending" ? null : result(row));
    if (row.status === "pending") {
      const note = h("input", { type: "text", maxlength: "2000", testid: "approval-note",
        placeholder: "审批意见或驳回理由 note", "aria-label": "审批意见 note" });
      const approve = h("button", { class: "btn btn-primary btn-small", testid: "approval-approve", text: "批准并执行 approve" });
      const reject = h("button", { class: "btn btn-small", testid: "approval-reject", text: "驳回 reject" });
      approve.addEventListener("click", () => decide(row, "approve", note, [approve, reject]));
      reject.addEventListener("click", () => decide(row, "reject", note, [approve, reject]));
      el.append(h("div", { class: "approval-actions" }, note, approve, reject));
    }
    return el;
  }

  let seq = 0;
  async function load() {
    const mine = ++seq;
    let rows;
    try {
      rows = await api.get("/api/v1/approvals?limit=100");
    } catch (err) {
      if (mine !== seq) return;
      const locked = err.status === 401 || err.status === 403;
      summary.textContent = locked ? "查看审批需要工作人员身份 staff key or login required" : String(err.message || err);
      pending.replaceChildren();
      recent.replaceChildren();
      if (!locked) api.toast(err);
      return;
    }
    if (mine !== seq) return;
    const open = rows.filter((r) => r.status === "pending");
    const closed = rows.filter((r) => r.status !== "pending");
    summary.textContent = `待审批 ${open.length} 件，最近处理 ${closed.length} 件`;
    pending.replaceChildren(...(open.length ? open.map(card) : [h("p", { class: "muted", text: "暂无待审批 nothing pending" })]));
    recent.replaceChildren(...(closed.length ? closed.map(card) : [h("p", { class: "muted", text: "暂无记录 none yet" })]));
  }

  load();
  window.addEventListener("aicity:identity", load);
  return () => window.removeEventListener("aicity:identity", load);
}
