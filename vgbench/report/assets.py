"""The report's stylesheet and script, written next to ``index.html`` (no CDN, no network).

The script reads ``window.VGB_REPORT`` (set by ``data.js``) and renders one page of expression cards
at a time: filters by outcome, by a model-pair outcome (``--compare``) and by a breakdown value,
sorting, paging; the state lives in the URL fragment (``#o=missed&s=iou_asc&p=2``) so a view can be
bookmarked. Untrusted text (sentences, ids) is inserted with ``textContent`` only.
"""

from __future__ import annotations

__all__ = ["CSS", "JS"]

CSS = """\
:root { --gt: rgb(0,213,255); --pred: rgb(255,122,0); --pts: rgb(255,230,0); --bad: #b3261e; --ok: #1b6e20; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       margin: 0 auto; max-width: 1500px; padding: 0 18px 40px; color: #1d1d1f; background: #fafafa; }
h1 { font-size: 22px; margin: 18px 0 4px; } h2 { font-size: 18px; margin: 26px 0 8px; border-bottom: 1px solid #ddd; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.sub { color: #555; margin: 0 0 10px; }
table { border-collapse: collapse; margin: 6px 0 12px; background: #fff; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { background: #f0f0f0; font-weight: 600; }
td.ci { color: #666; font-size: 12px; }
tr.default td:first-child { font-weight: 600; }
.pos { color: var(--ok); } .neg { color: var(--bad); }
.breakdowns { display: flex; flex-wrap: wrap; gap: 8px 28px; }
.breakdowns section { flex: 0 1 auto; max-width: 100%; }
.scroll { overflow-x: auto; max-width: 100%; }
table.facts td { white-space: normal; overflow-wrap: anywhere; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin: 8px 0; }
.legend span { display: inline-flex; align-items: center; gap: 6px; }
.sw { width: 22px; height: 12px; display: inline-block; border: 2px solid #000; }
.sw.gt { background: rgba(0,213,255,.45); border-color: var(--gt); }
.sw.pred { background: rgba(255,122,0,.45); border-color: var(--pred); }
.sw.pts { width: 10px; height: 10px; border-radius: 50%; background: var(--pts); border: 1px solid #000; }
.controls { display: flex; flex-wrap: wrap; gap: 10px 16px; align-items: center; padding: 8px 10px;
            background: #fff; border: 1px solid #ddd; position: sticky; top: 0; z-index: 2; }
.controls label { display: inline-flex; gap: 6px; align-items: center; }
.controls button { padding: 2px 10px; }
#gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(270px, 1fr)); gap: 12px; margin-top: 12px; }
.card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px; }
#gallery.compare { grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); }
.thumbs { display: flex; gap: 6px; }
.thumbs figure { margin: 0; flex: 1 1 0; min-width: 0; }
.thumbs img { width: 100%; height: auto; display: block; background: #eee; }
.thumbs figcaption { font-size: 12px; color: #444; }
.sent { margin: 6px 0 2px; font-weight: 600; }
.meta { margin: 0; color: #666; font-size: 12px; word-break: break-all; }
.out { margin: 2px 0 0; font-size: 13px; }
.tag { display: inline-block; padding: 0 6px; margin: 2px 3px 0 0; border-radius: 8px; font-size: 12px; background: #eee; }
.tag.bad { background: #fde2e0; color: var(--bad); } .tag.good { background: #e2f4e3; color: var(--ok); }
.empty { color: #666; padding: 20px; }
"""

JS = r"""(function () {
  "use strict";
  var D = window.VGB_REPORT;
  var GOOD = {correct: 1, nt_right: 1};
  var state = {o: "all", q: "all", g: "all", s: "order", p: 0};
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function option(select, value, label) {
    var o = document.createElement("option"); o.value = value; o.textContent = label; select.appendChild(o); return o;
  }
  function fmt(v) { return v === null || v === undefined ? "-" : (100 * v).toFixed(1); }
  function score(m) {
    if (m.iou !== null) return m.iou;
    if (m.biou !== null) return m.biou;
    return m.tags.indexOf("correct") >= 0 ? 1 : 0;
  }
  function readHash() {
    var h = window.location.hash.replace(/^#/, "");
    h.split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      if (i > 0) {
        var k = kv.slice(0, i), v = decodeURIComponent(kv.slice(i + 1));
        if (k in state) state[k] = k === "p" ? (parseInt(v, 10) || 0) : v;
      }
    });
  }
  function writeHash() {
    var parts = [];
    Object.keys(state).forEach(function (k) { parts.push(k + "=" + encodeURIComponent(state[k])); });
    history.replaceState(null, "", "#" + parts.join("&"));
  }
  function matches(c) {
    if (state.o !== "all" && c.a.tags.indexOf(state.o) < 0) return false;
    if (state.q !== "all" && c.pair !== state.q) return false;
    if (state.g !== "all") {
      var i = state.g.indexOf("=");
      if (c.g[state.g.slice(0, i)] !== state.g.slice(i + 1)) return false;
    }
    return true;
  }
  var SORTS = {
    order: function (a, b) { return a.k - b.k; },
    iou_asc: function (a, b) { return score(a.a) - score(b.a) || a.k - b.k; },
    iou_desc: function (a, b) { return score(b.a) - score(a.a) || a.k - b.k; },
    words_desc: function (a, b) { return b.nw - a.nw || a.k - b.k; },
    targets_desc: function (a, b) { return b.n - a.n || a.k - b.k; },
    diff_desc: function (a, b) { return (score(b.a) - score(b.b)) - (score(a.a) - score(a.b)) || a.k - b.k; },
    diff_asc: function (a, b) { return (score(a.a) - score(a.b)) - (score(b.a) - score(b.b)) || a.k - b.k; }
  };
  function outcomeLine(m) {
    var p = el("p", "out"), bits = [];
    if (m.iou !== null) bits.push("mask IoU " + fmt(m.iou));
    if (m.biou !== null) bits.push("box IoU " + fmt(m.biou));
    if (m.tp !== null) bits.push("TP " + m.tp + " FP " + m.fp + " FN " + m.fn);
    if (m.miss) bits.push("no prediction record");
    p.appendChild(document.createTextNode(bits.join(" \u00b7 ") + " "));
    m.tags.forEach(function (t) { p.appendChild(el("span", "tag " + (GOOD[t] ? "good" : "bad"), D.tags[t])); });
    return p;
  }
  function figure(m, label, c) {
    var f = el("figure"), img = document.createElement("img");
    img.loading = "lazy"; img.decoding = "async"; img.src = m.th; img.width = c.tw; img.height = c.thh;
    img.alt = label + ": " + c.id;
    f.appendChild(img); f.appendChild(el("figcaption", "", label)); return f;
  }
  function card(c) {
    var d = el("div", D.compare ? "card compare" : "card");
    d.dataset.id = c.id;
    var t = el("div", "thumbs");
    t.appendChild(figure(c.a, D.models[0], c));
    if (D.compare) t.appendChild(figure(c.b, D.models[1], c));
    d.appendChild(t);
    d.appendChild(el("p", "sent", "\u201c" + c.s + "\u201d"));
    d.appendChild(el("p", "meta", c.id + " \u00b7 " + c.g.target_type + " \u00b7 " + c.n + " target(s) \u00b7 " + c.g.category));
    if (D.compare) {
      var oa = outcomeLine(c.a); oa.insertBefore(el("b", "", D.models[0] + ": "), oa.firstChild); d.appendChild(oa);
      var ob = outcomeLine(c.b); ob.insertBefore(el("b", "", D.models[1] + ": "), ob.firstChild); d.appendChild(ob);
    } else {
      d.appendChild(outcomeLine(c.a));
    }
    return d;
  }
  function render() {
    var list = D.cards.filter(matches).sort(SORTS[state.s] || SORTS.order);
    var per = D.page_size, pages = Math.max(1, Math.ceil(list.length / per));
    if (state.p >= pages) state.p = pages - 1;
    if (state.p < 0) state.p = 0;
    var g = $("gallery"), frag = document.createDocumentFragment();
    if (D.compare) g.className = "compare";
    list.slice(state.p * per, (state.p + 1) * per).forEach(function (c) { frag.appendChild(card(c)); });
    g.replaceChildren(frag);
    if (!list.length) g.appendChild(el("p", "empty", "No expression matches these filters."));
    $("count").textContent = list.length + " of " + D.cards.length + " expressions";
    $("count").dataset.count = String(list.length);
    $("page").textContent = "page " + (state.p + 1) + " / " + pages;
    $("prev").disabled = state.p === 0; $("next").disabled = state.p >= pages - 1;
    ["o", "q", "g", "s"].forEach(function (k) { var s = $("f-" + k); if (s) s.value = state[k]; });
    writeHash();
  }
  function setup() {
    D.cards.forEach(function (c, k) { c.k = k; c.nw = c.s.split(/\s+/).filter(Boolean).length; });
    var so = $("f-o"); option(so, "all", "all outcomes");
    Object.keys(D.tags).forEach(function (t) { option(so, t, D.tags[t] + " (" + (D.tag_counts[t] || 0) + ")"); });
    var sq = $("f-q");
    if (sq) {
      option(sq, "all", "all");
      Object.keys(D.pairs).forEach(function (t) { option(sq, t, D.pairs[t] + " (" + (D.pair_counts[t] || 0) + ")"); });
    }
    var sg = $("f-g"); option(sg, "all", "all expressions");
    Object.keys(D.dims).forEach(function (dim) {
      var grp = document.createElement("optgroup"); grp.label = D.dims[dim];
      D.dim_values[dim].forEach(function (v) { option(grp, dim + "=" + v[0], v[0] + " (" + v[1] + ")"); });
      sg.appendChild(grp);
    });
    var ss = $("f-s");
    D.sorts.forEach(function (s) { option(ss, s[0], s[1]); });
    ["o", "q", "g", "s"].forEach(function (k) {
      var s = $("f-" + k);
      if (s) s.addEventListener("change", function () { state[k] = s.value; state.p = 0; render(); });
    });
    $("prev").addEventListener("click", function () { state.p -= 1; render(); });
    $("next").addEventListener("click", function () { state.p += 1; render(); });
    readHash();
    render();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup); else setup();
})();
"""
