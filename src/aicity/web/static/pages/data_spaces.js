// 数据空间 data spaces: the spaces, their members and offers (with each offer's usage policy);
// the agreements of the caller's department. A consumer requests under an offer with a purpose;
// the provider agrees (the agreement is signed and recorded in the audit ledger) or refuses; the
// consumer runs aggregate-only queries (count / sum / mean by up to three dimensions) and sees
// noisy aggregates — never rows — and the budget left; both parties see every use.
//
// Safety: every server string reaches the DOM as text (the h() builder never parses HTML).

import { h } from "../lib/dom.js";

const BASE = "/api/v1/data/spaces";
const enc = encodeURIComponent;
const STATUS = { requested: "待提供方审批", agreed: "已签署生效", refused: "已拒绝" };

function when(iso) {
  return iso ? new Date(iso).toLocaleString("zh-CN") : "—";
}

/** A one-line summary of an ODRL policy: actions, purposes, budget, group size, quota, expiry. */
function policyText(policy) {
  const parts = [];
  for (const rule of policy.permission || []) {
    const c = Object.fromEntries((rule.constraint || []).map((x) => [x.leftOperand.replace(/^\w+:/, ""), x.rightOperand]));
    const bits = [`允许 ${rule.action}`];
    if (c.purpose) bits.push(`目的：${[].concat(c.purpose).join("、")}`);
    if (c.epsilonBudget != null) bits.push(`ε 预算 ${c.epsilonBudget}`);
    if (c.minGroupSize != null) bits.push(`最小分组 ${c.minGroupSize}`);
    if (c.count != null) bits.push(`限 ${c.count} 次`);
    if (c.dateTime) bits.push(`至 ${when(c.dateTime)}`);
    parts.push(bits.join("，"));
  }
  const banned = (policy.prohibition || []).map((p) => p.action);
  if (banned.length) parts.push(`禁止 ${banned.join("、")}`);
  return parts.join("；");
}

export function render(root, api) {
  const summary = h("p", { class: "muted", testid: "spaces-summary", role: "status" });
  const spaceList = h("div", { class: "approval-list", testid: "spaces-list" });
  const agreementList = h("div", { class: "approval-list", testid: "agreements-list" });
  root.append(h("div", { class: "approvals", testid: "data-spaces" },
    h("div", { class: "approvals-head" },
      h("h1", { text: "数据空间 Data spaces" }),
      h("button", { class: "btn btn-small", testid: "spaces-refresh", text: "刷新 refresh", onclick: () => load() })),
    h("p", { class: "muted", text: "可信数据空间：提供方按使用策略（ODRL）提供数据，使用方申请并经提供方签署后，只能得到加噪的聚合结果（差分隐私），小组被抑制，每次使用都记入审计账本。" }),
    summary,
    h("section", { class: "card" }, h("h2", { text: "数据空间与数据产品 Spaces and offers" }), spaceList),
    h("section", { class: "card" }, h("h2", { text: "本部门的协议 Agreements" }), agreementList)));

  let me = { department: null };

  async function act(work, buttons, done) {
    for (const b of buttons) b.disabled = true;
    try {
      const result = await work();
      if (done) api.toast(done(result), { kind: "info", timeout: 5000 });
      await load();
      return result;
    } catch (err) {
      api.toast(err);
      for (const b of buttons) b.disabled = false;
      return null;
    }
  }

  function offerRow(offer) {
    const el = h("div", { class: "space-offer", testid: "offer", "data-id": offer.id },
      h("strong", { text: `${offer.title}` }), " ",
      h("code", { class: "muted", text: `${offer.dataset_id} v${offer.dataset_version ?? "?"} · ${offer.provider}` }),
      h("p", { class: "muted", testid: "offer-policy", text: policyText(offer.policy) }));
    if (me.department && me.department !== offer.provider) {
      const purpose = h("input", { type: "text", maxlength: "200", testid: "offer-purpose", placeholder: "使用目的 purpose",
        "aria-label": "使用目的 purpose" });
      const ask = h("button", { class: "btn btn-small", testid: "offer-request", text: "申请使用 request" });
      ask.addEventListener("click", () => act(
        () => api.post(`${BASE}/offers/${enc(offer.id)}/requests`, { purpose: purpose.value }), [ask],
        (a) => `已提交申请 ${a.id}`));
      el.append(h("div", { class: "approval-actions" }, purpose, ask));
    }
    return el;
  }

  function spaceCard(space) {
    return h("article", { class: "approval", testid: "space", "data-id": space.id },
      h("header", { class: "approval-title" },
        h("strong", { text: space.name }), h("span", { class: "tag", text: space.kind_name }),
        h("code", { class: "muted", text: space.id })),
      h("p", { class: "muted", text: `运营方 ${space.operator}；成员：${space.members.join("、")}` }),
      space.offers.length ? space.offers.map(offerRow) : h("p", { class: "muted", text: "暂无数据产品 no offers" }));
  }

  function resultTable(release) {
    const dims = release.group_by.length ? release.group_by : ["全部"];
    const head = h("tr", {}, ...dims.map((d) => h("th", { text: d })), h("th", { text: release.metric }));
    const rows = release.groups.map((g) => h("tr", { testid: "release-row" },
      ...(release.group_by.length ? release.group_by.map((d) => h("td", { text: String(g.key[d]) })) : [h("td", { text: "全部" })]),
      h("td", { text: String(g.value) })));
    return h("div", { testid: "release" },
      h("table", { class: "table" }, h("thead", {}, head), h("tbody", {}, ...rows)),
      h("p", { class: "muted", text: `ε=${release.epsilon}，${release.mechanism}；抑制小组 ${release.suppressed} 个` }));
  }

  function queryForm(row, out) {
    const metric = h("select", { testid: "query-metric", "aria-label": "指标 metric" },
      ...["count", "sum", "mean"].map((m) => h("option", { value: m, text: m })));
    const column = h("input", { type: "text", testid: "query-column", placeholder: "列 column (sum/mean)", size: "16" });
    const bounds = h("input", { type: "text", testid: "query-bounds", placeholder: "上下界 0,6000", size: "10" });
    const groups = h("input", { type: "text", testid: "query-group-by", placeholder: "分组 district_id", size: "18",
      value: "district_id" });
    const eps = h("input", { type: "number", testid: "query-epsilon", step: "0.05", min: "0.01", value: "0.1",
      "aria-label": "ε" });
    const run = h("button", { class: "btn btn-primary btn-small", testid: "query-run", text: "聚合查询 query" });
    run.addEventListener("click", async () => {
      const body = { metric: metric.value, epsilon: Number(eps.value),
        group_by: groups.value.split(/[,，\s]+/).filter(Boolean) };
      if (metric.value !== "count") {
        const [lo, hi] = bounds.value.split(/[,，]/).map(Number);
        Object.assign(body, { column: column.value, lower: lo, upper: hi });
      }
      run.disabled = true;
      try {
        const answer = await api.post(`${BASE}/agreements/${enc(row.id)}/query`, body);
        out.replaceChildren(resultTable(answer.release),
          h("p", { testid: "query-left", text: `剩余预算 ε=${answer.epsilon_left ?? "∞"}` }));
      } catch (err) {
        out.replaceChildren(h("p", { class: "approval-error", testid: "query-refused", text: err.message || String(err) }));
        api.toast(err);
      }
      run.disabled = false;
    });
    return h("div", { class: "approval-actions" }, metric, column, bounds, groups, eps, run);
  }

  async function showUsage(row, out) {
    try {
      const usage = await api.get(`${BASE}/agreements/${enc(row.id)}/usage`);
      out.replaceChildren(h("table", { class: "table", testid: "usage" },
        h("thead", {}, h("tr", {}, ...["时间", "使用人", "目的", "结果", "ε", "原因"].map((t) => h("th", { text: t })))),
        h("tbody", {}, ...usage.uses.map((u) => h("tr", { testid: "usage-row", "data-outcome": u.outcome },
          h("td", { text: when(u.at) }), h("td", { text: u.actor }), h("td", { text: u.purpose }),
          h("td", { text: u.outcome === "released" ? "已发布" : "已拒绝" }), h("td", { text: String(u.epsilon) }),
          h("td", { text: u.reason }))))));
    } catch (err) {
      api.toast(err);
    }
  }

  function agreementCard(row) {
    const out = h("div", { testid: "agreement-output" });
    const el = h("article", { class: "approval", testid: "agreement", "data-id": row.id, "data-status": row.status },
      h("header", { class: "approval-title" },
        h("strong", { text: `${row.consumer} ← ${row.provider} · ${row.dataset_id}` }),
        h("span", { class: `tag approval-status status-${row.status}`, testid: "agreement-status",
          text: STATUS[row.status] || row.status }),
        h("code", { class: "muted", text: row.id })),
      h("p", { text: `目的：${row.purpose}；ε ${row.epsilon_spent}/${row.epsilon_budget ?? "∞"}（剩余 ` +
        `${row.epsilon_left ?? "∞"}）；查询 ${row.queries_used}/${row.query_quota ?? "∞"}；最小分组 ${row.min_group_size}`,
        testid: "agreement-budget" }),
      row.signature ? h("p", { class: "muted", text: `签名 Ed25519 ${row.signature.slice(0, 16)}…；审计账本第 ${row.audit_seq} 条` }) : null);
    if (row.status === "requested" && me.department === row.provider) {
      const reason = h("input", { type: "text", testid: "agreement-reason", placeholder: "拒绝理由 reason" });
      const ok = h("button", { class: "btn btn-primary btn-small", testid: "agreement-agree", text: "同意并签署 agree" });
      const no = h("button", { class: "btn btn-small", testid: "agreement-refuse", text: "拒绝 refuse" });
      ok.addEventListener("click", () => act(() => api.post(`${BASE}/agreements/${enc(row.id)}/agree`), [ok, no],
        (a) => `已签署 ${a.id}`));
      no.addEventListener("click", () => act(() => api.post(`${BASE}/agreements/${enc(row.id)}/refuse`,
        { reason: reason.value }), [ok, no], (a) => `已拒绝 ${a.id}`));
      el.append(h("div", { class: "approval-actions" }, reason, ok, no));
    }
    if (row.status === "agreed" && me.department === row.consumer) el.append(queryForm(row, out));
    if (row.status === "agreed") {
      el.append(h("button", { class: "btn btn-small", testid: "agreement-usage", text: "使用记录 usage",
        onclick: () => showUsage(row, out) }));
    }
    el.append(out);
    return el;
  }

  let seq = 0;
  async function load() {
    const mine = ++seq;
    let spaces, agreements;
    try {
      me = await api.get("/api/v1/me");
      [spaces, agreements] = await Promise.all([api.get(BASE), api.get(`${BASE}/agreements`)]);
    } catch (err) {
      if (mine !== seq) return;
      const locked = err.status === 401 || err.status === 403;
      summary.textContent = locked ? "数据空间需要部门工作人员身份 a department staff key is required" : String(err.message || err);
      spaceList.replaceChildren();
      agreementList.replaceChildren();
      if (!locked) api.toast(err);
      return;
    }
    if (mine !== seq) return;
    summary.textContent = `数据空间 ${spaces.length} 个；本部门（${me.department || "—"}）的协议 ${agreements.length} 份`;
    spaceList.replaceChildren(...(spaces.length ? spaces.map(spaceCard) : [h("p", { class: "muted", text: "暂无数据空间" })]));
    agreementList.replaceChildren(...(agreements.length ? agreements.map(agreementCard)
      : [h("p", { class: "muted", text: "暂无协议 none yet" })]));
  }

  load();
  window.addEventListener("aicity:identity", load);
  return () => window.removeEventListener("aicity:identity", load);
}
