// 数字资产 page: the city's asset index with lineage, applying for an asset, the owner's inbox
// (approve / reject), the applicant's credential (shown once), the chargeback and the projects.
//
// Safety: every server string reaches the DOM as text (the h() builder never parses HTML).

import { h } from "../lib/dom.js";
import { cell, locked, table } from "../lib/tables.js";

const KINDS = { application: "应用", dataset: "数据", service: "服务", component: "组件", model: "模型", cloud: "云资源" };
const STATUS = { pending: "待审批", approved: "已批准", rejected: "已驳回", revoked: "已收回" };
const RELATIONS = { uses: "使用", derived_from: "派生自", hosted_on: "部署于" };

export function render(root, api) {
  const summary = h("p", { class: "muted", testid: "assets-summary" });
  const kind = h("select", { testid: "assets-kind", "aria-label": "资产类型 kind" },
    h("option", { value: "", text: "全部类型 all kinds" }),
    Object.entries(KINDS).map(([k, v]) => h("option", { value: k, text: v })));
  const list = h("div");
  const detail = h("div", { testid: "asset-detail" });
  const inbox = h("div");
  const mine = h("div");
  const charges = h("div");
  const projects = h("div");
  root.append(h("div", { class: "assets-page", testid: "assets-page" },
    h("h1", { text: "数字资产 Digital assets" }), summary,
    h("section", { class: "card" }, h("h2", { text: "资产目录 Index" }), kind, list, detail),
    h("section", { class: "card" }, h("h2", { text: "待我审批 Waiting on my department" }), inbox),
    h("section", { class: "card" }, h("h2", { text: "本部门的申请 My department's applications" }), mine),
    h("section", { class: "card" }, h("h2", { text: "计量与费用分摊（最近 30 天）Chargeback" }), charges),
    h("section", { class: "card" }, h("h2", { text: "数字化项目 Projects" }), projects)));

  async function showAsset(id) {
    let a;
    try {
      a = await api.get(`/api/v1/assets/${encodeURIComponent(id)}`);
    } catch (err) {
      api.toast(err);
      return;
    }
    const links = [
      ...a.lineage.upstream.map((l) => h("li", { testid: "asset-upstream", text: `→ ${RELATIONS[l.relation] || l.relation} ${l.name}（${l.id}）` })),
      ...a.lineage.downstream.map((l) => h("li", { testid: "asset-downstream", text: `← ${l.name}（${l.id}）${RELATIONS[l.relation] || l.relation}本资产` })),
    ];
    const purpose = h("input", { type: "text", maxlength: "500", testid: "asset-purpose", placeholder: "用途 purpose",
      "aria-label": "用途 purpose" });
    const quota = h("input", { type: "number", min: "1", testid: "asset-quota", placeholder: "每月配额 quota",
      "aria-label": "每月配额 quota" });
    const apply = h("button", { class: "btn btn-primary btn-small", testid: "asset-apply", text: "申请使用 apply" });
    apply.addEventListener("click", async () => {
      apply.disabled = true;
      try {
        const done = await api.post("/api/v1/assets/applications",
          { asset_id: a.id, purpose: purpose.value, quota: quota.value ? Number(quota.value) : null });
        api.toast(`已提交申请 ${done.id}`, { kind: "info", timeout: 5000 });
        await loadApplications();
      } catch (err) {
        api.toast(err);
      } finally {
        apply.disabled = false;
      }
    });
    detail.replaceChildren(h("article", { class: "card", testid: "asset-card", "data-id": a.id },
      h("h3", { text: `${a.name}（${KINDS[a.kind]}）` }),
      h("p", { class: "muted", text: `${a.id} · 所有部门 ${a.owner_name} · ${a.status}` }),
      a.description ? h("p", { text: a.description }) : null,
      h("ul", { testid: "asset-lineage" }, links.length ? links : [h("li", { class: "muted", text: "无血缘记录 no lineage" })]),
      h("div", {}, purpose, quota, apply)));
  }

  async function loadAssets() {
    try {
      const [s, rows] = await Promise.all([api.get("/api/v1/assets/summary"),
        api.get(`/api/v1/assets${kind.value ? `?kind=${encodeURIComponent(kind.value)}` : ""}`)]);
      summary.textContent = `共 ${s.total} 项：` + Object.entries(s.by_kind).map(([k, n]) => `${KINDS[k]} ${n}`).join("，");
      list.replaceChildren(table(["资产", "类型", "所有部门", "状态"], rows.map((r) => h("tr", { testid: "asset-row", "data-id": r.id },
        cell(h("a", { href: "#/assets", text: r.name, onclick: (e) => { e.preventDefault(); showAsset(r.id); } })),
        cell(KINDS[r.kind]), cell(r.owner_name), cell(r.status))), "assets-table"));
    } catch (err) {
      summary.textContent = "";
      list.replaceChildren(locked(err, "assets-locked"));
    }
  }

  function appRow(r, actions) {
    return h("tr", { testid: "application-row", "data-id": r.id, "data-status": r.status },
      cell(r.asset_name), cell(r.department_name), cell(r.purpose), cell(r.quota == null ? "—" : String(r.quota)),
      cell(h("span", { testid: "application-status", text: STATUS[r.status] || r.status })), cell(...actions));
  }

  async function act(path, body, buttons) {
    for (const b of buttons) b.disabled = true;
    try {
      const done = await api.post(path, body);
      if (done.key) {
        credential.textContent = `密钥（只显示一次）${done.key}`;
      }
      await loadApplications();
    } catch (err) {
      api.toast(err);
      for (const b of buttons) b.disabled = false;
    }
  }

  const credential = h("p", { testid: "asset-credential", class: "muted" });

  async function loadApplications() {
    let waiting, ours;
    try {
      [waiting, ours] = await Promise.all([api.get("/api/v1/assets/applications?view=inbox"),
        api.get("/api/v1/assets/applications?view=mine")]);
    } catch (err) {
      inbox.replaceChildren(locked(err));
      mine.replaceChildren();
      return;
    }
    const heads = ["资产", "申请部门", "用途", "配额", "状态", ""];
    inbox.replaceChildren(waiting.length ? table(heads, waiting.map((r) => {
      if (r.status !== "pending") return appRow(r, []);
      const approve = h("button", { class: "btn btn-primary btn-small", testid: "application-approve", text: "批准" });
      const reject = h("button", { class: "btn btn-small", testid: "application-reject", text: "驳回" });
      const path = `/api/v1/assets/applications/${encodeURIComponent(r.id)}`;
      approve.addEventListener("click", () => act(`${path}/approve`, { reason: "" }, [approve, reject]));
      reject.addEventListener("click", () => act(`${path}/reject`, { reason: "" }, [approve, reject]));
      return appRow(r, [approve, reject]);
    }), "assets-inbox") : h("p", { class: "muted", text: "暂无 nothing waiting" }));
    mine.replaceChildren(credential, ours.length ? table(heads, ours.map((r) => {
      if (r.status !== "approved" || r.grant.collected || r.grant.type === "manual") {
        return appRow(r, [h("span", { class: "muted", text: r.grant.type === "manual" ? "平台外开通" : (r.grant.prefix || "") })]);
      }
      const take = h("button", { class: "btn btn-small", testid: "application-credential", text: "领取密钥" });
      take.addEventListener("click", () => act(`/api/v1/assets/applications/${encodeURIComponent(r.id)}/credential`, {}, [take]));
      return appRow(r, [take]);
    }), "assets-mine") : h("p", { class: "muted", text: "暂无 none" }));
  }

  async function loadCharges() {
    try {
      const c = await api.get("/api/v1/assets/chargeback?days=30");
      charges.replaceChildren(h("p", { testid: "chargeback-total", text: `合计 ${c.total_yuan} 元` }),
        table(["部门", "资产", "调用", "token", "计费依据", "金额（元）"], c.departments.flatMap((d) => d.lines.map((l) =>
          h("tr", { testid: "chargeback-line" }, cell(d.department_name), cell(l.asset_name), cell(String(l.requests)),
            cell(String(l.tokens)), cell(l.basis), cell(l.amount_yuan.toFixed(2))))), "chargeback"));
    } catch (err) {
      charges.replaceChildren(locked(err));
    }
  }

  async function loadProjects() {
    try {
      const rows = await api.get("/api/v1/assets/projects");
      projects.replaceChildren(rows.length ? table(["项目", "建设部门", "阶段", "文档", "产出资产"], rows.map((p) =>
        h("tr", { testid: "project-row", "data-id": p.id }, cell(p.name), cell(p.department_name),
          cell(h("span", { testid: "project-stage", text: p.stage_name })), cell(String(p.documents.length)),
          cell(p.assets.join("，") || "—"))), "projects") : h("p", { class: "muted", text: "暂无项目 none" }));
    } catch (err) {
      projects.replaceChildren(locked(err));
    }
  }

  kind.addEventListener("change", loadAssets);
  const load = () => { detail.replaceChildren(); loadAssets(); loadApplications(); loadCharges(); loadProjects(); };
  load();
  window.addEventListener("aicity:identity", load);
  return () => window.removeEventListener("aicity:identity", load);
}
