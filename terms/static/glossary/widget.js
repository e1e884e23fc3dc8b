/*
 * Glossary widget: explains glossary terms inside any page.
 *
 *   <script src="https://glossary.example/static/glossary/widget.js"
 *           data-glossary-api="https://glossary.example/api/v1/"
 *           data-glossary-scope="main" defer></script>
 *
 * Options (data attributes on the script tag):
 *   data-glossary-api     base URL of the glossary API (default: /api/v1/ on the
 *                         script's own origin)
 *   data-glossary-scope   CSS selector of the elements to scan (default: body)
 *   data-glossary-status  statuses to match, comma-separated (default: approved)
 *
 * The scope's HTML is sent to POST {api}annotate/ with "format": "html", so the
 * server finds terms in the prose only (never in code, pre, kbd, links,
 * abbreviations, definitions or attributes); the first occurrence of each term
 * outside headings becomes a link to its page, with a tooltip (term, status,
 * short definition, link) on hover and on keyboard focus. Text from the API is
 * only ever set as text, never parsed as HTML. Scripts, styles, form fields,
 * hidden elements and those marked data-glossary-skip are not sent at all.
 * No dependencies.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var data = (script && script.dataset) || {};
  var scriptOrigin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var api = data.glossaryApi || scriptOrigin + "/api/v1/";
  if (api.charAt(api.length - 1) !== "/") { api += "/"; }
  var scope = data.glossaryScope || "body";
  var statuses = (data.glossaryStatus || "").split(",").map(function (s) { return s.trim(); }).filter(Boolean);
  var tooltip = null;
  var hideTimer = null;

  // Elements whose content is never sent: the page's own code, forms and
  // hidden parts. Others go as they are, and the server's HTML mode keeps terms
  // out of code, links, abbreviations, definitions and attributes.
  var OMIT = { SCRIPT: 1, STYLE: 1, NOSCRIPT: 1, TEMPLATE: 1, TEXTAREA: 1, INPUT: 1,
               SELECT: 1, OPTION: 1, BUTTON: 1, SVG: 1, IFRAME: 1, OBJECT: 1 };
  var HEADING = /^H[1-6]$/;

  function escaped(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  // The HTML of root's content as the widget sends it, with where each text
  // node's escaped text starts in it (UTF-16 offsets, as JavaScript counts).
  function serialize(root, out) {
    for (var node = root.firstChild; node; node = node.nextSibling) {
      if (node.nodeType === 3) {
        var text = node.nodeValue;
        out.pieces.push({ node: node, start: out.html.length, raw: text, sent: escaped(text),
                          heading: out.heading > 0 });
        out.html += out.pieces[out.pieces.length - 1].sent;
      } else if (node.nodeType === 1) {
        var name = node.nodeName.toUpperCase();
        if (OMIT[name] || node.hidden || node.hasAttribute("data-glossary-skip") ||
            node.classList.contains("glossary-term") || node.id === "glossary-tooltip") {
          continue;
        }
        var tag = name.toLowerCase();
        var heading = HEADING.test(name);
        out.html += "<" + tag + ">";
        if (heading) { out.heading += 1; }
        serialize(node, out);
        if (heading) { out.heading -= 1; }
        out.html += "</" + tag + ">";
      }
    }
    return out;
  }

  // The offset in a text node's own text of an offset in its escaped text.
  function rawOffset(piece, sentOffset) {
    if (piece.sent.length === piece.raw.length) { return sentOffset; }
    var sent = 0;
    for (var i = 0; i < piece.raw.length; i++) {
      if (sent >= sentOffset) { return i; }
      sent += escaped(piece.raw.charAt(i)).length;
    }
    return piece.raw.length;
  }

  // The API counts offsets in code points (Python); JavaScript strings count
  // UTF-16 units. unitAt[i] is the UTF-16 offset of code point i.
  function codePointOffsets(text) {
    var unitAt = [];
    var unit = 0;
    for (var ch of text) { unitAt.push(unit); unit += ch.length; }
    unitAt.push(unit);
    return unitAt;
  }

  function ensureStyles() {
    if (document.getElementById("glossary-widget-style")) { return; }
    // A stylesheet beside this script, not an inline <style>: pages with a
    // Content-Security-Policy then only need to allow the glossary's origin.
    var link = document.createElement("link");
    link.id = "glossary-widget-style";
    link.rel = "stylesheet";
    link.href = script && script.src
      ? new URL("widget.css", new URL(script.src, location.href)).href
      : scriptOrigin + "/static/glossary/widget.css";
    document.head.appendChild(link);
  }

  function ensureTooltip() {
    if (tooltip) { return tooltip; }
    tooltip = document.createElement("div");
    tooltip.id = "glossary-tooltip";
    tooltip.setAttribute("role", "tooltip");
    tooltip.hidden = true;
    tooltip.addEventListener("mouseenter", function () { clearTimeout(hideTimer); });
    tooltip.addEventListener("mouseleave", scheduleHide);
    document.body.appendChild(tooltip);
    return tooltip;
  }

  function show(target, info) {
    clearTimeout(hideTimer);
    var box = ensureTooltip();
    box.textContent = "";
    var title = document.createElement("strong");
    title.className = "glossary-name";
    title.textContent = info.term;
    var badge = document.createElement("span");
    badge.className = "glossary-status";
    badge.textContent = info.status;
    var definition = document.createElement("p");
    definition.className = "glossary-definition";
    definition.textContent = info.short_def;
    var more = document.createElement("a");
    more.href = info.page;
    more.textContent = "Read the full entry";
    box.append(title, badge, definition, more);
    box.hidden = false;
    var rect = target.getBoundingClientRect();
    var left = Math.max(8, Math.min(rect.left + window.scrollX, window.scrollX + document.documentElement.clientWidth - box.offsetWidth - 8));
    box.style.left = left + "px";
    box.style.top = rect.bottom + window.scrollY + 6 + "px";
  }

  function scheduleHide() {
    clearTimeout(hideTimer);
    hideTimer = setTimeout(function () { if (tooltip) { tooltip.hidden = true; } }, 200);
  }

  function markSpan(node, start, end, slug, info) {
    var middle = node.splitText(start);
    middle.splitText(end - start);
    var link = document.createElement("a");
    link.className = "glossary-term";
    link.href = info.page;
    link.setAttribute("data-glossary-slug", slug);
    link.setAttribute("aria-describedby", "glossary-tooltip");
    link.textContent = middle.nodeValue;
    middle.parentNode.replaceChild(link, middle);
    link.addEventListener("mouseenter", function () { show(link, info); });
    link.addEventListener("focus", function () { show(link, info); });
    link.addEventListener("mouseleave", scheduleHide);
    link.addEventListener("blur", scheduleHide);
  }

  function annotate(result, pieces, html) {
    var unitAt = codePointOffsets(html);
    var seen = {};
    var chosen = [];
    result.spans.forEach(function (span) {
      if (seen[span.slug] || !result.terms[span.slug]) { return; }
      var start = unitAt[span.start], end = unitAt[span.end];
      for (var i = 0; i < pieces.length; i++) {
        var piece = pieces[i];
        if (start >= piece.start && end <= piece.start + piece.sent.length) {
          if (piece.heading) { return; }  // headings are never marked
          seen[span.slug] = true;
          chosen.push({ piece: piece, start: rawOffset(piece, start - piece.start),
                        end: rawOffset(piece, end - piece.start), slug: span.slug });
          return;
        }
      }
    });
    // Later spans first, so splitting a text node keeps earlier offsets valid.
    chosen.sort(function (a, b) { return b.piece.start - a.piece.start || b.start - a.start; });
    if (chosen.length) { ensureStyles(); ensureTooltip(); }
    chosen.forEach(function (c) { markSpan(c.piece.node, c.start, c.end, c.slug, result.terms[c.slug]); });
    document.dispatchEvent(new CustomEvent("glossary:annotated", { detail: { marked: chosen.length } }));
  }

  function run() {
    var out = { html: "", pieces: [], heading: 0 };
    document.querySelectorAll(scope).forEach(function (root) {
      if (out.html) { out.html += "\n"; }
      serialize(root, out);
    });
    if (!out.pieces.some(function (piece) { return piece.raw.trim(); })) { return; }
    var body = { text: out.html, format: "html" };
    if (statuses.length) { body.status = statuses; }
    fetch(api + "annotate/", {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      // The header lets the glossary count the widget's reads apart.
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-Glossary-Client": "widget" },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (!response.ok) { throw new Error("glossary annotate failed: " + response.status); }
      return response.json();
    }).then(function (result) {
      annotate(result, out.pieces, out.html);
    }).catch(function (error) {
      document.dispatchEvent(new CustomEvent("glossary:error", { detail: { message: String(error) } }));
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && tooltip) { tooltip.hidden = true; }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
