// A small, safe Markdown renderer for answers: headings, paragraphs, bold/italic/code,
// unordered and ordered (nested) lists, tables, block quotes, code fences, rules, links
// (http(s) and same-site only) and footnote markers [^n].
//
// Safety: the whole input is HTML-escaped FIRST; every tag in the output is produced by this
// module from the escaped text, so no markup from the user or the server can reach the DOM.

const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ESC[c]);
}

// --- inline -------------------------------------------------------------------------------

/** Inline Markdown over ALREADY ESCAPED text. */
function inline(text, opts) {
  const stash = [];
  const keep = (html) => `\u0000${stash.push(html) - 1}\u0000`;
  let s = text.replace(/\u0000/g, "");
  // code spans first: nothing inside them is Markdown
  s = s.replace(/`([^`]+)`/g, (_, code) => keep(`<code>${code}</code>`));
  // footnote markers [^n]
  s = s.replace(/\[\^(\d{1,4})\]/g, (_, n) => keep(opts.marker(Number(n))));
  // links [text](url): only http(s), site-absolute paths and in-page anchors
  s = s.replace(/\[([^\]\n]+)\]\(([^)\s]+)\)/g, (m, label, url) => {
    if (!/^(https?:\/\/|\/(?!\/)|#)/i.test(url)) return m;
    const ext = /^https?:/i.test(url) ? ' target="_blank" rel="noopener noreferrer"' : "";
    return keep(`<a href="${url}"${ext}>`) + label + keep("</a>");
  });
  s = s.replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, "<strong>$1</strong>");
  s = s.replace(/__(?=\S)([\s\S]*?\S)__/g, "<strong>$1</strong>");
  s = s.replace(/~~(?=\S)([\s\S]*?\S)~~/g, "<del>$1</del>");
  s = s.replace(/(^|[^*\w])\*(?=[^*\s])([^*\n]*?[^*\s])\*(?![*\w])/g, "$1<em>$2</em>");
  return s.replace(/\u0000(\d+)\u0000/g, (_, i) => stash[Number(i)]);
}

// --- blocks -------------------------------------------------------------------------------

const RE = {
  fence: /^\s*(```|~~~)/,
  heading: /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/,
  rule: /^\s{0,3}([-*_])(\s*\1){2,}\s*$/,
  item: /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/,
  quote: /^\s{0,3}&gt;\s?(.*)$/,
  footdef: /^\s{0,3}\[\^\d{1,4}\]:/,
  tableSep: /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/,
};

const indentOf = (line) => line.match(/^\s*/)[0].replace(/\t/g, "    ").length;

function splitRow(line) {
  let s = line.trim();
  if (s.startsWith("|")) s = s.slice(1);
  if (s.endsWith("|") && !s.endsWith("\\|")) s = s.slice(0, -1);
  const cells = [];
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\" && s[i + 1] === "|") {
      cur += "|";
      i++;
    } else if (s[i] === "|") {
      cells.push(cur.trim());
      cur = "";
    } else cur += s[i];
  }
  cells.push(cur.trim());
  return cells;
}

function isTableStart(lines, i) {
  return lines[i].includes("|") && i + 1 < lines.length && lines[i + 1].includes("-") &&
    lines[i + 1].includes("|") === lines[i].includes("|") && RE.tableSep.test(lines[i + 1]);
}

function table(lines, i, opts) {
  const head = splitRow(lines[i]);
  const align = splitRow(lines[i + 1]).map((c) =>
    c.startsWith(":") && c.endsWith(":") ? "center" : c.endsWith(":") ? "right" : c.startsWith(":") ? "left" : "");
  const cell = (tag, text, k) =>
    `<${tag}${align[k] ? ` style="text-align:${align[k]}"` : ""}>${inline(text, opts)}</${tag}>`;
  let html = `<div class="md-table"><table><thead><tr>${head.map((c, k) => cell("th", c, k)).join("")}</tr></thead><tbody>`;
  let j = i + 2;
  for (; j < lines.length && lines[j].trim() && lines[j].includes("|"); j++) {
    const row = splitRow(lines[j]);
    html += `<tr>${head.map((_, k) => cell("td", row[k] ?? "", k)).join("")}</tr>`;
  }
  return [`${html}</tbody></table></div>`, j];
}

function list(lines, i, opts) {
  const first = lines[i].match(RE.item);
  const base = indentOf(first[1]);
  const ordered = /\d/.test(first[2]);
  const items = [];
  let j = i;
  while (j < lines.length) {
    const line = lines[j];
    const m = line.match(RE.item);
    if (m && indentOf(m[1]) <= base + 1 && /\d/.test(m[2]) === ordered) {
      items.push({ text: [m[3]], sub: [] });
      j++;
      continue;
    }
    if (m && indentOf(m[1]) <= base + 1) break; // a list of the other kind starts
    const cur = items[items.length - 1];
    if (!line.trim()) {
      // a blank line continues the list only if more indented content or another item follows
      let k = j + 1;
      while (k < lines.length && !lines[k].trim()) k++;
      const next = lines[k];
      const nm = next && next.match(RE.item);
      if (next && (indentOf(next) > base + 1 || (nm && indentOf(nm[1]) <= base + 1 && /\d/.test(nm[2]) === ordered))) {
        if (cur.sub.length) cur.sub.push("");
        j = k;
        continue;
      }
      break;
    }
    if (indentOf(line) > base + 1) {
      cur.sub.push(line);
    } else if (!cur.sub.length && !RE.heading.test(line) && !RE.quote.test(line) && !RE.fence.test(line) &&
      !RE.footdef.test(line) && !RE.rule.test(line)) {
      cur.text.push(line.trim()); // lazy continuation of the item's text
    } else break;
    j++;
  }
  const start = ordered ? parseInt(first[2], 10) : 1;
  const tag = ordered ? "ol" : "ul";
  let html = `<${tag}${ordered && start !== 1 ? ` start="${start}"` : ""}>`;
  for (const it of items) {
    html += `<li>${inline(it.text.join("<br>"), opts)}`;
    if (it.sub.length) {
      const cut = Math.min(...it.sub.filter((l) => l.trim()).map(indentOf));
      html += blocks(it.sub.map((l) => l.replace(/\t/g, "    ").slice(cut)), opts);
    }
    html += "</li>";
  }
  return [`${html}</${tag}>`, j];
}

function blocks(lines, opts) {
  const out = [];
  let para = [];
  const flush = () => {
    if (para.length) out.push(`<p>${inline(para.join("<br>"), opts)}</p>`);
    para = [];
  };
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (!line.trim()) {
      flush();
      i++;
    } else if (RE.fence.test(line)) {
      flush();
      const fence = line.trim().slice(0, 3);
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence)) body.push(lines[i++]);
      i++;
      out.push(`<pre><code>${body.join("\n")}</code></pre>`);
    } else if (opts.stripFootnotes && RE.footdef.test(line)) {
      flush();
      i++;
      while (i < lines.length && lines[i].trim() && !RE.heading.test(lines[i])) i++; // multi-line definitions
    } else if ((m = line.match(RE.heading))) {
      flush();
      const level = Math.min(6, m[1].length + opts.headingOffset);
      out.push(`<h${level}>${inline(m[2], opts)}</h${level}>`);
      i++;
    } else if (RE.rule.test(line) && !para.length) {
      flush();
      out.push("<hr>");
      i++;
    } else if (RE.item.test(line)) {
      flush();
      const [html, next] = list(lines, i, opts);
      out.push(html);
      i = next;
    } else if (RE.quote.test(line)) {
      flush();
      const body = [];
      while (i < lines.length && (m = lines[i].match(RE.quote))) {
        body.push(m[1]);
        i++;
      }
      out.push(`<blockquote>${blocks(body, opts)}</blockquote>`);
    } else if (isTableStart(lines, i)) {
      flush();
      const [html, next] = table(lines, i, opts);
      out.push(html);
      i = next;
    } else {
      para.push(line.trim());
      i++;
    }
  }
  flush();
  return out.join("");
}

function defaultMarker(n) {
  return `<sup class="cite-ref">[${n}]</sup>`;
}

/**
 * Render Markdown to an HTML string that is safe to assign to innerHTML.
 * options.marker(n) → HTML for a footnote marker [^n] (n is a number; output is trusted);
 * options.headingOffset shifts heading levels (## → h3 with offset 1);
 * options.stripFootnotes drops footnote definitions ("[^1]: …", shown elsewhere).
 */
export function renderMarkdown(md, options = {}) {
  const opts = { marker: defaultMarker, headingOffset: 0, stripFootnotes: false, ...options };
  const lines = escapeHtml(md).replace(/\r\n?/g, "\n").split("\n");
  return blocks(lines, opts);
}
