// Table helpers shared by the console pages (ops, assets, infrastructure): a cell, a table with
// headings, and the note shown where a section needs a staff key. Text only, built with h().

import { h } from "./dom.js";

export function cell(...children) {
  return h("td", { style: "padding:4px 8px;border-bottom:1px solid var(--border);vertical-align:top" }, ...children);
}

export function table(headings, rows, testid) {
  return h("table", { testid, style: "border-collapse:collapse;width:100%;font-size:14px" },
    h("thead", {}, h("tr", {}, headings.map((t) => h("th", { text: t, style: "text-align:left;padding:4px 8px" })))),
    h("tbody", {}, rows));
}

/** The note for a section the caller may not see (401/403: `needed` says whose key it takes), or the error's message. */
export function locked(err, testid, needed = "需要工作人员身份 a staff key is required") {
  const denied = err.status === 401 || err.status === 403;
  return h("p", { class: "muted", testid, text: denied ? needed : String(err.message || err) });
}
