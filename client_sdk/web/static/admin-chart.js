// Small SVG charts for the operator console: a bar per bucket, or a line with dots. Drawn with
// DOM calls (no innerHTML, no library): the page's Content-Security-Policy allows no inline style
// and no script from elsewhere.

const SVG = "http://www.w3.org/2000/svg";
const W = 600;
const H = 180;
const PAD = { left: 44, right: 8, top: 10, bottom: 22 };

function el(name, attrs, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

// A round top for the axis: 1, 2, 5 × 10^n at or above `max`.
function niceMax(max) {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function frame(svg, points, top, unit) {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  for (const fraction of [0, 0.5, 1]) {
    const y = PAD.top + plotH * (1 - fraction);
    svg.append(el("line", { class: fraction ? "grid-line" : "axis", x1: PAD.left, x2: W - PAD.right, y1: y, y2: y }));
    const value = top * fraction;
    svg.append(el("text", { class: "label", x: PAD.left - 4, y: y + 3, "text-anchor": "end" }, `${+value.toFixed(2)}${unit}`));
  }
  if (points.length) {
    svg.append(el("text", { class: "label", x: PAD.left, y: H - 6 }, clock(points[0].at)));
    svg.append(el("text", { class: "label", x: W - PAD.right, y: H - 6, "text-anchor": "end" }, `${clock(points[points.length - 1].at)} (now)`));
  }
  return { plotW, plotH, x: (i) => PAD.left + (plotW * (i + 0.5)) / points.length, y: (v) => PAD.top + plotH * (1 - v / top) };
}

function fresh(container, label) {
  container.replaceChildren();
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img", "aria-label": label });
  container.append(svg);
  return svg;
}

// One bar per point: `value(point)`.
export function bars(container, points, value, { label, unit = "" }) {
  const svg = fresh(container, label);
  const top = niceMax(Math.max(0, ...points.map(value)));
  const f = frame(svg, points, top, unit);
  const width = Math.max(1, f.plotW / points.length - 1);
  points.forEach((point, i) => {
    const v = value(point);
    if (!v) return;
    const y = f.y(v);
    const bar = el("rect", { class: "bar", x: f.x(i) - width / 2, y, width, height: PAD.top + f.plotH - y });
    bar.append(el("title", {}, `${clock(point.at)}: ${+v.toFixed(3)}${unit}`));
    svg.append(bar);
  });
}

// A line through `line(point)` and a dot at `dot(point)`, where they are not null.
export function lineAndDots(container, points, line, dot, { label, lineName, dotName }) {
  const svg = fresh(container, label);
  const values = points.flatMap((p) => [line(p), dot(p)]).filter((v) => v !== null && v !== undefined);
  const top = niceMax(Math.max(0, ...values));
  const f = frame(svg, points, top, "");
  if (!values.length) {
    svg.append(el("text", { class: "empty", x: W / 2, y: H / 2, "text-anchor": "middle" }, "no resume in the last 15 minutes"));
    return;
  }
  const path = [];
  points.forEach((point, i) => {
    const v = line(point);
    if (v === null || v === undefined) return;
    path.push(`${path.length ? "L" : "M"}${f.x(i).toFixed(1)},${f.y(v).toFixed(1)}`);
    const most = dot(point);
    if (most !== null && most !== undefined) {
      const circle = el("circle", { class: "dot-max", cx: f.x(i), cy: f.y(most), r: 2.5 });
      circle.append(el("title", {}, `${clock(point.at)}: ${point.resumes} resumes, median ${v} ms, longest ${most} ms`));
      svg.append(circle);
    }
  });
  svg.append(el("path", { class: "line-p50", d: path.join(" ") }));
  svg.append(el("text", { class: "legend", x: W - PAD.right, y: PAD.top + 10, "text-anchor": "end" }, `— ${lineName}   ● ${dotName}`));
}
