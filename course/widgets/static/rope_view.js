// The course's RoPE view (anywidget ES module, plain JavaScript, no dependencies, no network).
// "rotated" holds float64 vectors computed in Python by the student's apply_rope:
// base × {q, k} × position × d. Every arrow and every score drawn here comes from them.

const NS = "http://www.w3.org/2000/svg";

function floats64(view) {
  if (!view || !view.byteLength) return new Float64Array(0);
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
  return new Float64Array(bytes.buffer);
}

function svg(tag, attrs = {}) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function fmt(x, digits = 6) { return Number(x).toFixed(digits); }

function render({ model, el }) {
  const spec = model.get("spec");
  const L = spec.labels;
  const table = floats64(model.get("rotated"));
  const { d, positions } = spec;
  const st = { m: 2, n: 5, i: 0, b: Math.max(0, spec.bases.indexOf(10000)), shift: 0 };
  const vec = (b, which, p) => table.subarray(((b * 2 + which) * positions + p) * d, ((b * 2 + which) * positions + p + 1) * d);
  const score = (b, m, n) => { const q = vec(b, 0, m), k = vec(b, 1, n); let s = 0; for (let t = 0; t < d; t++) s += q[t] * k[t]; return s; };

  el.classList.add("crv");
  const root = h("div", { class: "crv-root", "data-lm-suppress-shortcuts": "true" });  // arrows move the sliders
  el.append(root);
  // JupyterLab's notebook cancels arrow keys that bubble up to it (it moves between cells): keep them here
  root.addEventListener("keydown", (ev) => {
    if (/^(Arrow|Home$|End$|Page)/.test(ev.key)) ev.stopPropagation();
  });
  root.append(h("div", { class: "crv-title", text: L.title }));
  root.append(h("div", { class: spec.source === "fallback" ? "crv-note crv-fallback" : "crv-note", role: "status", text: spec.note }));
  const controls = h("div", { class: "crv-controls" });
  const sliders = {};
  const defs = [["m", 0, spec.max_pos], ["n", 0, spec.max_pos], ["i", 0, d / 2 - 1, "pair"], ["b", 0, spec.bases.length - 1, "base"],
    ["shift", 0, spec.max_shift]];
  for (const [key, lo, hi, label] of defs) {
    const input = h("input", { type: "range", min: String(lo), max: String(hi), step: "1", value: String(st[key]),
      class: `crv-${key}`, "aria-label": L[label || key] });
    const out = h("span", { class: "crv-value" });
    input.addEventListener("input", () => { st[key] = Number(input.value); draw(); });
    sliders[key] = { input, out };
    controls.append(h("label", {}, `${L[label || key]} `, input, out));
  }
  root.append(controls);
  const W = 300, H = 300, CW = 420;
  const left = svg("svg", { width: W, height: H, viewBox: `${-W / 2} ${-H / 2} ${W} ${H}`, class: "crv-pairs", role: "img" });
  const right = svg("svg", { width: CW, height: H, class: "crv-curve", role: "img" });
  root.append(h("div", { class: "crv-panels" }, left, right));
  const status = h("div", { class: "crv-status", "aria-live": "polite" });
  root.append(status);

  function arrow(parent, x, y, colour, dashed, scale) {
    const X = x * scale, Y = -y * scale;
    parent.append(svg("line", { x1: 0, y1: 0, x2: X, y2: Y, stroke: colour, "stroke-width": dashed ? 1.5 : 3,
      "stroke-dasharray": dashed ? "4 3" : "", "marker-end": `url(#crv-head-${colour.slice(1)})` }));
  }

  function draw() {
    const t0 = performance.now();
    const { m, n, i, b, shift } = st;
    sliders.m.out.textContent = String(m);
    sliders.n.out.textContent = String(n);
    sliders.i.out.textContent = `${i} (${L.angle.replace("{theta}", spec.thetas[b][i].toPrecision(3))})`;
    sliders.b.out.textContent = String(spec.bases[b]);
    sliders.shift.out.textContent = String(shift);
    const mm = m + shift, nn = n + shift;
    // left: one feature pair, before (position 0) and after the rotation
    left.replaceChildren();
    const defs = svg("defs");
    for (const c of ["#0072b2", "#d55e00"]) {
      const mk = svg("marker", { id: `crv-head-${c.slice(1)}`, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" });
      mk.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: c }));
      defs.append(mk);
    }
    left.append(defs);
    const q0 = vec(b, 0, 0), k0 = vec(b, 1, 0), rq = vec(b, 0, mm), rk = vec(b, 1, nn);
    const r = Math.max(Math.hypot(q0[2 * i], q0[2 * i + 1]), Math.hypot(k0[2 * i], k0[2 * i + 1]), 1e-9);
    const scale = (W / 2 - 20) / r;
    for (const [v, c] of [[q0, "#0072b2"], [k0, "#d55e00"]]) {
      left.append(svg("circle", { cx: 0, cy: 0, r: Math.hypot(v[2 * i], v[2 * i + 1]) * scale, fill: "none", stroke: c, "stroke-width": 0.5 }));
    }
    left.append(svg("line", { x1: -W / 2, y1: 0, x2: W / 2, y2: 0, stroke: "#ccc" }), svg("line", { x1: 0, y1: -H / 2, x2: 0, y2: H / 2, stroke: "#ccc" }));
    arrow(left, q0[2 * i], q0[2 * i + 1], "#0072b2", true, scale);
    arrow(left, k0[2 * i], k0[2 * i + 1], "#d55e00", true, scale);
    arrow(left, rq[2 * i], rq[2 * i + 1], "#0072b2", false, scale);
    arrow(left, rk[2 * i], rk[2 * i + 1], "#d55e00", false, scale);
    const lines = [L.legend_solid.replace("{m}", mm).replace("{n}", nn), L.legend_dashed];
    lines.forEach((text, t) => {
      const legend = svg("text", { x: -W / 2 + 6, y: H / 2 - 22 + 13 * t, class: "crv-legend" });
      legend.textContent = text;
      left.append(legend);
    });
    // right: the score against n − m, from positions a and a + o (a = max_pos + shift)
    right.replaceChildren();
    const a = spec.max_pos + shift;
    const offs = [], ys = [];
    for (let o = -spec.max_pos; o <= spec.max_pos; o++) { offs.push(o); ys.push(score(b, a, a + o)); }
    const lo = Math.min(...ys), hi = Math.max(...ys), pad = 0.08 * (hi - lo || 1);
    const px = (o) => 50 + ((o + spec.max_pos) / (2 * spec.max_pos)) * (CW - 70);
    const py = (y) => 20 + (1 - (y - lo + pad) / (hi - lo + 2 * pad)) * (H - 60);
    right.append(svg("polyline", { points: offs.map((o, t) => `${px(o)},${py(ys[t])}`).join(" "), fill: "none", stroke: "#009e73", "stroke-width": 1.5 }));
    right.append(svg("line", { x1: px(0), y1: 20, x2: px(0), y2: H - 40, stroke: "#ccc" }));
    const here = score(b, mm, nn);
    right.append(svg("circle", { cx: px(n - m), cy: py(here), r: 6, fill: "#d55e00", class: "crv-dot" }));
    for (const [x, y, text, anchor] of [[CW / 2, H - 12, L.offset, "middle"], [50, 14, L.score, "start"],
      [px(-spec.max_pos), H - 26, String(-spec.max_pos), "middle"], [px(spec.max_pos), H - 26, String(spec.max_pos), "middle"],
      [46, py(hi), hi.toFixed(2), "end"], [46, py(lo), lo.toFixed(2), "end"]]) {
      const e = svg("text", { x, y, "text-anchor": anchor, class: "crv-axis" });
      e.textContent = text;
      right.append(e);
    }
    const plain = score(b, m, n);
    status.textContent = L.status.replace("{m}", mm).replace("{n}", nn).replace("{score}", fmt(here)).replace("{m0}", m)
      .replace("{n0}", n).replace("{score0}", fmt(plain)).replace("{diff}", Math.abs(here - plain).toExponential(1));
    root.dataset.score = String(here);
    root.dataset.drawMs = (performance.now() - t0).toFixed(1);
    model.set("state", { ...st });
    model.save_changes();
  }
  draw();
  model.set("draw_ms", Number(root.dataset.drawMs));
  model.save_changes();
  const hide = () => hidePictures(el, model.get("pictures"));
  hide();
  model.on("change:pictures", hide);
  return () => model.off("change:pictures", hide);
}

export default { render };
