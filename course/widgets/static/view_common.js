// What the course's views share (anywidget ES modules, plain JavaScript): prepended to each view's own module by
// course/widgets (``view_module``), so it is written once and each view still loads as one file.

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c) e.append(c);
  return e;
}

// The static picture shown just before a view (an output of its own, for exported notebooks and the feedback) is
// hidden where the view draws; it is known by the tail of its base64 text ("pictures"). The view's element joins
// the page after render() returns, so look for the output area until it is there.
function hidePictures(el, tails, tries = 30) {
  if (!tails || !tails.length) return;
  const area = el.isConnected ? el.closest(".jp-OutputArea") : null;
  if (!area) {
    if (tries > 0) setTimeout(() => hidePictures(el, tails, tries - 1), 100);
    return;
  }
  for (const img of area.querySelectorAll("img")) {
    const src = img.getAttribute("src") || "";
    if (!tails.some((t) => src.endsWith(t))) continue;
    const output = img.closest(".jp-OutputArea-child") || img;
    output.style.display = "none";
    output.dataset.coursePicture = "hidden";
  }
}
