// The course's attention view (anywidget ES module, plain JavaScript, no dependencies, no network).
// Data: model "spec" (JSON: blocks, tokens, labels) and three binary buffers: "logw" (float32 log-weights,
// per block layers × heads × queries × keys), "allowed" (uint8, per block queries × keys: 1 = may attend),
// "qk" (float32, per block: q then k, layers × heads × length × d_k; empty when unknown).
// Everything shown is computed here from those: softmax(logw / T) over the keys a row may see.

const VIRIDIS = ["#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c", "#22a884", "#44bf70",
  "#7ad151", "#bddf26", "#fde725"].map((h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)));
const MASKED = [221, 221, 221];

function colour(t) {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  return VIRIDIS[i].map((c, j) => Math.round(c + f * (VIRIDIS[i + 1][j] - c)));
}

function floats(view) {
  if (!view || !view.byteLength) return new Float32Array(0);
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
  return new Float32Array(bytes.buffer);
}

function uint8(view) {
  if (!view || !view.byteLength) return new Uint8Array(0);
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
}

function fmt(x, digits = 3) {
  if (!Number.isFinite(x)) return x > 0 ? "∞" : "−∞";
  return Number(x.toPrecision(digits)).toString();
}

function render({ model, el }) {
  const state = { block: 0, layer: 0, head: 0, qi: 0, kj: 0, temperature: 1, causal: false, padding: true,
    hover: null, locked: null };
  let spec, logw, allowed, qk, cache;

  function load() {
    spec = model.get("spec");
    logw = floats(model.get("logw"));
    allowed = uint8(model.get("allowed"));
    qk = floats(model.get("qk"));
    cache = new Map();
    const b = spec.blocks[state.block] ? state.block : 0;
    state.block = b;
    const blk = spec.blocks[b];
    state.layer = Math.min(state.layer, blk.layers - 1);
    state.head = Math.min(state.head, blk.heads - 1);
    state.qi = Math.min(state.qi, blk.nq - 1);
    state.kj = Math.min(state.kj, blk.nk - 1);
  }

  const L = () => spec.labels;

  // ---------------------------------------------------------------- maths (mirrors attention_view.py)
  function allowedOf(b) {
    const key = `a${b}|${state.causal}|${state.padding}`;
    if (cache.has(key)) return cache.get(key);
    const blk = spec.blocks[b];
    const ok = allowed.subarray(blk.allowed_offset, blk.allowed_offset + blk.nq * blk.nk).slice();
    for (let i = 0; i < blk.nq; i++) {
      for (let j = 0; j < blk.nk; j++) {
        if (state.causal && blk.offers_causal && j > i + blk.nk - blk.nq) ok[i * blk.nk + j] = 0;
        if (state.padding && blk.offers_padding && blk.keys[j] === spec.pad) ok[i * blk.nk + j] = 0;
      }
    }
    cache.set(key, ok);
    return ok;
  }

  function weightsOf(b, l, hd) {
    const key = `w${b}|${l}|${hd}|${state.causal}|${state.padding}|${state.temperature}`;
    if (cache.has(key)) return cache.get(key);
    const blk = spec.blocks[b];
    const { nq, nk } = blk;
    const start = blk.logw_offset + (l * blk.heads + hd) * nq * nk;
    const ok = allowedOf(b);
    const w = new Float32Array(nq * nk);
    const ent = new Float32Array(nq);
    const maxEnt = new Float32Array(nq);
    for (let i = 0; i < nq; i++) {
      let m = -Infinity, n = 0;
      for (let j = 0; j < nk; j++) {
        if (ok[i * nk + j] && logw[start + i * nk + j] > -1e29) m = Math.max(m, logw[start + i * nk + j] / state.temperature);
        if (ok[i * nk + j]) n++;
      }
      let s = 0;
      for (let j = 0; j < nk; j++) {
        const v = ok[i * nk + j] && m > -Infinity && logw[start + i * nk + j] > -1e29
          ? Math.exp(logw[start + i * nk + j] / state.temperature - m) : 0;
        w[i * nk + j] = v;
        s += v;
      }
      let e = 0;
      for (let j = 0; j < nk; j++) {
        if (s > 0) w[i * nk + j] /= s;
        const p = w[i * nk + j];
        if (p > 0) e -= p * Math.log(p);
      }
      ent[i] = e;
      maxEnt[i] = n > 0 ? Math.log(n) : 0;
    }
    const out = { w, ent, maxEnt, ok };
    cache.set(key, out);
    return out;
  }

  function vectors(b, l, hd, i, j) {
    const blk = spec.blocks[b];
    if (!blk.dk || !qk.length) return null;
    const { dk, nq, nk, heads, layers } = blk;
    const qStart = blk.qk_offset + ((l * heads + hd) * nq + i) * dk;
    const kStart = blk.qk_offset + layers * heads * nq * dk + ((l * heads + hd) * nk + j) * dk;
    return { q: qk.subarray(qStart, qStart + dk), k: qk.subarray(kStart, kStart + dk) };
  }

  // ---------------------------------------------------------------- highlight rule
  function active() { return state.locked || state.hover; }

  function lit(blk) {
    const a = active();
    if (!a) return null;
    return { row: blk.query_seq === a.seq ? a.i : -1, col: blk.key_seq === a.seq ? a.i : -1 };
  }

  // ---------------------------------------------------------------- DOM
  el.classList.add("cav");
  // keys pressed inside the view are the view's (arrows move along tokens), not JupyterLab's shortcuts
  const root = h("div", { class: "cav-root", "data-lm-suppress-shortcuts": "true" });
  el.append(root);
  // JupyterLab's notebook cancels arrow keys that bubble up to it (it moves between cells): keep them here
  root.addEventListener("keydown", (ev) => {
    if (/^(Arrow|Home$|End$|Page)/.test(ev.key)) ev.stopPropagation();
  });

  function paintThumb(canvas, b, l, hd) {
    const blk = spec.blocks[b];
    const { nq, nk } = blk;
    const { w, ok } = weightsOf(b, l, hd);
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(nk, nq);
    const hi = lit(blk);
    for (let i = 0; i < nq; i++) {
      for (let j = 0; j < nk; j++) {
        const c = ok[i * nk + j] ? colour(w[i * nk + j]) : MASKED;
        const dim = hi && (hi.row >= 0 || hi.col >= 0) && i !== hi.row && j !== hi.col;
        const p = 4 * (i * nk + j);
        for (let t = 0; t < 3; t++) img.data[p + t] = dim ? Math.round(c[t] * 0.3 + 255 * 0.7) : c[t];
        img.data[p + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
  }

  function paintBig() {
    const blk = spec.blocks[state.block];
    const { nq, nk } = blk;
    const cell = bigCell(blk);
    const canvas = root.querySelector(".cav-big canvas");
    if (!canvas) return;
    const ctx = canvas.getContext("2d");
    const { w, ok, ent, maxEnt } = weightsOf(state.block, state.layer, state.head);
    const hi = lit(blk);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    for (let i = 0; i < nq; i++) {
      for (let j = 0; j < nk; j++) {
        const x = j * cell, y = i * cell;
        if (ok[i * nk + j]) {
          const c = colour(w[i * nk + j]);
          const dim = hi && (hi.row >= 0 || hi.col >= 0) && i !== hi.row && j !== hi.col;
          ctx.fillStyle = dim ? `rgb(${c.map((v) => Math.round(v * 0.3 + 255 * 0.7)).join(",")})` : `rgb(${c.join(",")})`;
          ctx.fillRect(x, y, cell, cell);
        } else {
          ctx.fillStyle = "#eeeeee";
          ctx.fillRect(x, y, cell, cell);
          ctx.strokeStyle = "#9a9a9a";
          ctx.lineWidth = 1;
          ctx.beginPath();
          ctx.moveTo(x, y + cell);
          ctx.lineTo(x + cell, y);
          ctx.stroke();
        }
      }
    }
    if (hi) {
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 2;
      if (hi.row >= 0) ctx.strokeRect(1, hi.row * cell + 1, nk * cell - 2, cell - 2);
      if (hi.col >= 0) ctx.strokeRect(hi.col * cell + 1, 1, cell - 2, nq * cell - 2);
    }
    ctx.lineWidth = 2;
    ctx.strokeStyle = "#fff";
    ctx.strokeRect(state.kj * cell + 1, state.qi * cell + 1, cell - 2, cell - 2);
    ctx.strokeStyle = "#000";
    ctx.setLineDash([3, 2]);
    ctx.strokeRect(state.kj * cell + 1, state.qi * cell + 1, cell - 2, cell - 2);
    ctx.setLineDash([]);
    // entropy bars, with a tick at log(number of keys the row may see)
    const bars = root.querySelector(".cav-entropy");
    const top = Math.max(1e-9, ...maxEnt);
    bars.querySelectorAll(".cav-bar").forEach((bar, i) => {
      bar.querySelector(".cav-bar-fill").style.width = `${(100 * ent[i]) / top}%`;
      bar.querySelector(".cav-bar-max").style.left = `${(100 * maxEnt[i]) / top}%`;
      bar.title = maxEnt[i] > 0 ? `${fmt(ent[i])} / ${fmt(maxEnt[i])} ${L().nats}` : L().no_key;
    });
  }

  function bigCell(blk) {
    return Math.max(7, Math.min(24, Math.floor(320 / Math.max(blk.nq, blk.nk))));
  }

  function tokenText(t) { return t === "" ? "␣" : t; }

  function buildTokens() {
    const seqs = new Map();
    for (const blk of spec.blocks) {
      if (!seqs.has(blk.key_seq)) seqs.set(blk.key_seq, blk.keys);
      if (!seqs.has(blk.query_seq)) seqs.set(blk.query_seq, blk.queries);
    }
    const box = h("div", { class: "cav-tokens", role: "group", "aria-label": L().tokens_help, title: L().tokens_help });
    for (const [seq, toks] of seqs) {
      const row = h("div", { class: "cav-token-row" }, h("span", { class: "cav-seq", text: seqs.size > 1 ? (L()[seq] || seq) : "" }));
      toks.forEach((t, i) => {
        const b = h("button", { class: "cav-token", "data-seq": seq, "data-i": String(i), type: "button",
          "aria-pressed": "false", text: tokenText(t) });
        b.addEventListener("mouseenter", () => setHover({ seq, i }));
        b.addEventListener("mouseleave", () => setHover(null));
        b.addEventListener("focus", () => setHover({ seq, i }));
        b.addEventListener("blur", () => setHover(null));
        b.addEventListener("click", () => toggleLock({ seq, i }));
        b.addEventListener("keydown", (ev) => {
          const d = ev.key === "ArrowRight" ? 1 : ev.key === "ArrowLeft" ? -1 : 0;
          if (!d) return;
          ev.preventDefault();
          const next = row.querySelector(`.cav-token[data-i="${i + d}"]`);
          if (next) next.focus();
        });
        row.append(b);
      });
      box.append(row);
    }
    return box;
  }

  function buildGrid() {
    const grid = h("div", { class: "cav-grid" });
    spec.blocks.forEach((blk, b) => {
      const cols = blk.heads;
      const head = h("div", { class: "cav-block-title",
        text: `${blk.name} · ${L()["mask_" + blk.mask]} · ${blk.nq} ${L().query} × ${blk.nk} ${L().key}` });
      const table = h("div", { class: "cav-thumbs", role: "group", "aria-label": blk.name, style: `grid-template-columns: auto repeat(${cols}, auto)` });
      table.append(h("span"));
      for (let hd = 0; hd < cols; hd++) table.append(h("span", { class: "cav-axis", text: `${L().head} ${hd}` }));
      const size = Math.max(28, Math.min(64, Math.floor(480 / Math.max(cols, 1)) - 6));
      for (let l = 0; l < blk.layers; l++) {
        table.append(h("span", { class: "cav-axis", text: `${L().layer} ${blk.layer_names[l]}` }));
        for (let hd = 0; hd < cols; hd++) {
          const canvas = h("canvas", { width: String(blk.nk), height: String(blk.nq),
            style: `width:${size}px;height:${Math.round((size * blk.nq) / blk.nk)}px` });
          const t = h("div", { class: "cav-thumb", tabindex: "0", role: "button",
            "data-block": String(b), "data-layer": String(l), "data-head": String(hd),
            "aria-label": `${blk.name}, ${L().layer} ${blk.layer_names[l]}, ${L().head} ${hd}`,
            title: `${blk.name}, ${L().layer} ${blk.layer_names[l]}, ${L().head} ${hd}` }, canvas);
          t.addEventListener("click", () => select(b, l, hd));
          t.addEventListener("keydown", (ev) => {
            const moves = { ArrowRight: [0, 1], ArrowLeft: [0, -1], ArrowDown: [1, 0], ArrowUp: [-1, 0] };
            if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); select(b, l, hd); return; }
            if (!moves[ev.key]) return;
            ev.preventDefault();
            const [dl, dh] = moves[ev.key];
            const next = grid.querySelector(`.cav-thumb[data-block="${b}"][data-layer="${l + dl}"][data-head="${hd + dh}"]`);
            if (next) next.focus();
          });
          table.append(t);
        }
      }
      grid.append(h("div", { class: "cav-block" }, head, table));
    });
    return grid;
  }

  function buildBig() {
    const blk = spec.blocks[state.block];
    const cell = bigCell(blk);
    const canvas = h("canvas", { width: String(blk.nk * cell), height: String(blk.nq * cell), tabindex: "0",
      class: "cav-map", "aria-label": `${blk.name}, ${L().layer} ${blk.layer_names[state.layer]}, ${L().head} ${state.head}` });
    const cellAt = (ev) => {
      const r = canvas.getBoundingClientRect();
      const j = Math.floor(((ev.clientX - r.left) / r.width) * blk.nk), i = Math.floor(((ev.clientY - r.top) / r.height) * blk.nq);
      return i >= 0 && i < blk.nq && j >= 0 && j < blk.nk ? [i, j] : null;
    };
    canvas.addEventListener("click", (ev) => { const c = cellAt(ev); if (c) setCursor(c[0], c[1]); });
    canvas.addEventListener("mousemove", (ev) => { const c = cellAt(ev); if (c) status(c[0], c[1]); });
    canvas.addEventListener("keydown", (ev) => {
      const moves = { ArrowRight: [0, 1], ArrowLeft: [0, -1], ArrowDown: [1, 0], ArrowUp: [-1, 0] };
      if (!moves[ev.key]) return;
      ev.preventDefault();
      const [di, dj] = moves[ev.key];
      setCursor(Math.max(0, Math.min(blk.nq - 1, state.qi + di)), Math.max(0, Math.min(blk.nk - 1, state.kj + dj)));
    });
    const longest = Math.max(1, ...blk.keys.map((t) => tokenText(t).length));
    const keyLabels = h("div", { class: "cav-keys", style: `width:${blk.nk * cell}px;height:${Math.min(70, 10 + 7 * longest)}px` });
    blk.keys.forEach((t, j) => keyLabels.append(h("span", { class: "cav-label", style: `left:${j * cell}px;width:${cell}px`,
      "data-seq": blk.key_seq, "data-i": String(j), text: tokenText(t) })));
    const queryLabels = h("div", { class: "cav-queries" });
    blk.queries.forEach((t, i) => queryLabels.append(h("span", { class: "cav-label", style: `height:${cell}px;line-height:${cell}px`,
      "data-seq": blk.query_seq, "data-i": String(i), text: tokenText(t) })));
    for (const lab of [...keyLabels.children, ...queryLabels.children]) {
      const tok = { seq: lab.dataset.seq, i: Number(lab.dataset.i) };
      lab.addEventListener("mouseenter", () => setHover(tok));
      lab.addEventListener("mouseleave", () => setHover(null));
      lab.addEventListener("click", () => toggleLock(tok));
    }
    const entropy = h("div", { class: "cav-entropy", title: L().entropy });
    blk.queries.forEach(() => entropy.append(h("div", { class: "cav-bar", style: `height:${cell}px` },
      h("div", { class: "cav-bar-fill" }), h("div", { class: "cav-bar-max" }))));
    const title = h("div", { class: "cav-big-title",
      text: `${blk.name} · ${L().layer} ${blk.layer_names[state.layer]} · ${L().head} ${state.head} · ${L()["mask_" + blk.mask]}` });
    const body = h("div", { class: "cav-big-body" },
      h("div", { class: "cav-corner", text: `${L().query} ↓ ${L().key} →` }), keyLabels, h("div"),
      queryLabels, canvas, entropy);
    body.style.gridTemplateColumns = `auto ${blk.nk * cell}px 80px`;
    return h("div", { class: "cav-big", "data-block": String(state.block), "data-layer": String(state.layer),
      "data-head": String(state.head) }, title, body,
      h("div", { class: "cav-legend", text: `${L().rows}: ${L().queries} · ${L().columns}: ${L().keys} · ${L().masked}` }),
      h("div", { class: "cav-legend", text: L().entropy }));
  }

  function bars(values, scale) {
    const wrap = h("div", { class: "cav-vec" });
    const width = Math.max(3, Math.min(16, Math.floor(400 / Math.max(values.length, 1)) - 1));
    for (const v of values) {
      const b = h("span", { class: v >= 0 ? "cav-pos" : "cav-neg", title: fmt(v) });
      b.style.width = `${width}px`;
      b.style.height = `${Math.round((18 * Math.abs(v)) / scale)}px`;
      wrap.append(b);
    }
    return wrap;
  }

  function buildBreakdown() {
    const blk = spec.blocks[state.block];
    const box = h("div", { class: "cav-breakdown", "aria-live": "polite" });
    const i = state.qi, j = state.kj;
    box.append(h("div", { class: "cav-big-title",
      text: `${L().breakdown}: ${L().query} “${tokenText(blk.queries[i])}” (${i}) · ${L().key} “${tokenText(blk.keys[j])}” (${j})` }));
    const vec = vectors(state.block, state.layer, state.head, i, j);
    const { w, ok } = weightsOf(state.block, state.layer, state.head);
    if (!vec) {
      box.append(h("div", { class: "cav-note", text: `${L().weight} ${fmt(w[i * blk.nk + j])}. ${L().breakdown_missing}` }));
      return box;
    }
    const prod = vec.q.map((x, t) => x * vec.k[t]);
    const scale = Math.max(1e-9, ...vec.q.map(Math.abs), ...vec.k.map(Math.abs), ...prod.map(Math.abs));
    const dot = prod.reduce((a, b) => a + b, 0);
    const score = dot / Math.sqrt(blk.dk);
    // the row's scores from q and k (all keys), then the softmax over the allowed ones at this temperature
    let s = 0, m = -Infinity;
    const scores = blk.keys.map((_, jj) => {
      const v = vectors(state.block, state.layer, state.head, i, jj);
      return v.q.reduce((a, x, t) => a + x * v.k[t], 0) / Math.sqrt(blk.dk);
    });
    scores.forEach((v, jj) => { if (ok[i * blk.nk + jj]) m = Math.max(m, v / state.temperature); });
    scores.forEach((v, jj) => { if (ok[i * blk.nk + jj]) s += Math.exp(v / state.temperature - m); });
    const mine = ok[i * blk.nk + j] ? Math.exp(score / state.temperature - m) / s : 0;
    const rows = [["q", vec.q], ["k", vec.k], [L().product, prod]];
    for (const [name, values] of rows) box.append(h("div", { class: "cav-vec-row" }, h("span", { class: "cav-vec-name", text: name }), bars(values, scale)));
    const n = ok.subarray(i * blk.nk, (i + 1) * blk.nk).reduce((a, b) => a + b, 0);
    box.append(h("div", { class: "cav-formula",
      text: `${L().sum} = Σ (q ⊙ k) = ${fmt(dot, 4)}   ${L().scale} (√${blk.dk} = ${fmt(Math.sqrt(blk.dk), 4)}) → ` +
        `${fmt(score, 4)}${state.temperature !== 1 ? ` ÷ T (${fmt(state.temperature)})` : ""}   ` +
        (ok[i * blk.nk + j] ? `${L().softmax} (${n}): e^${fmt(score / state.temperature, 3)} / Σ = ${fmt(mine, 4)}`
          : L().masked) }));
    box.dataset.weight = String(mine);
    box.dataset.dot = String(dot);
    return box;
  }

  let statusLine;
  function status(i, j) {
    const blk = spec.blocks[state.block];
    const { w, ent, maxEnt } = weightsOf(state.block, state.layer, state.head);
    statusLine.textContent = `${L().query} “${tokenText(blk.queries[i])}” → ${L().key} “${tokenText(blk.keys[j])}”: ` +
      `${L().weight} ${fmt(w[i * blk.nk + j])} · ${L().entropy_short} ${fmt(ent[i])} / ${fmt(maxEnt[i])} ${L().nats}`;
  }

  function controls() {
    const box = h("div", { class: "cav-controls" });
    if (spec.sentence_box) {
      const input = h("input", { type: "text", class: "cav-sentence", value: model.get("sentence"), "aria-label": L().sentence, size: "48" });
      const commit = () => { model.set("sentence", input.value); model.save_changes(); };
      input.addEventListener("change", commit);
      input.addEventListener("keydown", (ev) => {  // Enter types the sentence in (and stays out of JupyterLab)
        if (ev.key !== "Enter") return;
        ev.preventDefault();
        ev.stopPropagation();
        commit();
      });
      box.append(h("label", {}, `${L().sentence} `, input));
    }
    const t = h("input", { type: "range", min: "-1", max: "1", step: "0.05", value: String(Math.log10(state.temperature)),
      class: "cav-temperature", "aria-label": L().temperature });
    const tv = h("span", { class: "cav-tvalue", text: fmt(state.temperature, 2) });
    t.addEventListener("input", () => {
      state.temperature = Math.pow(10, Number(t.value));
      tv.textContent = fmt(state.temperature, 2);
      refresh();
    });
    box.append(h("label", {}, `${L().temperature} `, t, tv));
    if (spec.blocks.some((b) => b.offers_causal)) {
      const c = h("input", { type: "checkbox", class: "cav-causal" });
      c.checked = state.causal;
      c.addEventListener("change", () => { state.causal = c.checked; refresh(); });
      box.append(h("label", {}, c, ` ${L().causal}`));
    }
    if (spec.blocks.some((b) => b.offers_padding)) {
      const c = h("input", { type: "checkbox", class: "cav-padding" });
      c.checked = state.padding;
      c.addEventListener("change", () => { state.padding = c.checked; refresh(); });
      box.append(h("label", {}, c, ` ${L().padding}`));
    }
    return box;
  }

  function sync() {
    const a = state.locked;
    model.set("selection", { block: state.block, layer: state.layer, head: state.head, query: state.qi, key: state.kj,
      locked: a ? `${a.seq}:${a.i}` : "" });
    model.save_changes();
  }

  function select(b, l, hd) {
    const changed = b !== state.block;
    state.block = b; state.layer = l; state.head = hd;
    if (changed) { state.qi = 0; state.kj = 0; }
    root.querySelectorAll(".cav-thumb").forEach((t) => t.classList.toggle("cav-selected",
      t.dataset.block === String(b) && t.dataset.layer === String(l) && t.dataset.head === String(hd)));
    root.querySelector(".cav-big").replaceWith(buildBig());
    root.querySelector(".cav-breakdown").replaceWith(buildBreakdown());
    paintBig();
    sync();
  }

  function setCursor(i, j) {
    state.qi = i; state.kj = j;
    paintBig();
    root.querySelector(".cav-breakdown").replaceWith(buildBreakdown());
    status(i, j);
    sync();
  }

  function setHover(tok) {
    state.hover = tok;
    highlight();
  }

  function toggleLock(tok) {
    const same = state.locked && state.locked.seq === tok.seq && state.locked.i === tok.i;
    state.locked = same ? null : tok;
    root.querySelectorAll(".cav-token").forEach((b) => b.setAttribute("aria-pressed",
      String(!!state.locked && b.dataset.seq === state.locked.seq && b.dataset.i === String(state.locked.i))));
    highlight();
    sync();
  }

  function highlight() {
    const a = active();
    root.dataset.active = a ? `${a.seq}:${a.i}` : "";
    root.querySelectorAll(".cav-token, .cav-label").forEach((e) => e.classList.toggle("cav-lit",
      !!a && e.dataset.seq === a.seq && e.dataset.i === String(a.i)));
    paintThumbs();
    paintBig();
  }

  function paintThumbs() {
    root.querySelectorAll(".cav-thumb").forEach((t) => paintThumb(t.querySelector("canvas"),
      Number(t.dataset.block), Number(t.dataset.layer), Number(t.dataset.head)));
  }

  function refresh() {
    cache = new Map();
    paintThumbs();
    paintBig();
    root.querySelector(".cav-breakdown").replaceWith(buildBreakdown());
    status(state.qi, state.kj);
  }

  function build() {
    const t0 = performance.now();
    load();
    root.replaceChildren();
    root.append(h("div", { class: "cav-title", text: spec.title }));
    if (spec.note) root.append(h("div", { class: "cav-note", text: spec.note }));
    for (const blk of spec.blocks) if (blk.note) root.append(h("div", { class: "cav-note", text: `${blk.name}: ${blk.note}` }));
    if (spec.error) root.append(h("div", { class: "cav-error", role: "alert", text: spec.error }));
    root.append(controls(), buildTokens(), h("div", { class: "cav-help", text: L().grid_help }));
    const main = h("div", { class: "cav-main" }, buildGrid(), h("div", { class: "cav-side" }, buildBig(), h("div", { class: "cav-breakdown" })));
    root.append(main);
    statusLine = h("div", { class: "cav-status", "aria-live": "polite" });
    root.append(statusLine);
    select(state.block, state.layer, state.head);
    paintThumbs();
    status(state.qi, state.kj);
    const ms = performance.now() - t0;
    root.dataset.drawMs = ms.toFixed(1);
    model.set("draw_ms", ms);
    model.save_changes();
  }

  build();
  const rebuild = () => build();
  const hide = () => hidePictures(el, model.get("pictures"));
  hide();
  model.on("change:spec", rebuild);
  model.on("change:pictures", hide);
  return () => { model.off("change:spec", rebuild); model.off("change:pictures", hide); };
}

export default { render };
