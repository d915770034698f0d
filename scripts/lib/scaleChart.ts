/**
 * The gas scale chart of docs/performance.md: gas against positions held, both axes logarithmic,
 * our measured curves as lines, the peers' published figures as filled squares and issue 19's
 * targets as hollow circles, each coloured as the check it compares with.
 *
 * Hand-written: a static, dependency-free SVG of a few lines and points is smaller than any
 * plotting library's runtime, and the demo report draws its charts the same way
 * (`scripts/lib/demo.ts`, `lineChart`).
 */

/** A measured curve: [positions, gas] points, ascending in positions. */
export type Curve = readonly (readonly [number, number])[];

/** A figure to show beside a curve: a peer's published one or a target. */
export interface Reference {
  /** The curve it compares with (a key of the curves). */
  curve: string;
  label: string;
  positions: number;
  gas: number;
}

const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** `1234567` → `1.2M`, `322000` → `322k`. */
export function formatGas(gas: number): string {
  if (gas >= 1e6) return `${(gas / 1e6).toFixed(gas >= 1e7 ? 0 : 1)}M`;
  if (gas >= 1e3) return `${(gas / 1e3).toFixed(0)}k`;
  return gas.toFixed(0);
}

/**
 * The chart as one SVG document. Throws on an empty curve or a reference to an unknown curve, so
 * a renamed bench row cannot silently drop a line.
 */
export function scaleChart(
  title: string,
  curves: Record<string, Curve>,
  peers: readonly Reference[],
  targets: readonly Reference[],
): string {
  const names = Object.keys(curves);
  for (const [name, curve] of Object.entries(curves)) {
    if (curve.length === 0) throw new Error(`the curve "${name}" has no points`);
  }
  for (const ref of [...peers, ...targets]) {
    if (!names.includes(ref.curve)) throw new Error(`"${ref.label}" refers to an unknown curve "${ref.curve}"`);
  }
  const color = (curve: string) => COLORS[names.indexOf(curve) % COLORS.length]!;
  const W = 820;
  const legendRows = Math.ceil(names.length / 2) + 1;
  const H = 420 + legendRows * 18;
  const m = { l: 64, r: 24, t: 36, b: 56 + legendRows * 18 };
  const xs = [
    ...Object.values(curves).flatMap((c) => c.map(([n]) => n)),
    ...[...peers, ...targets].map((r) => r.positions),
  ];
  const ys = [
    ...Object.values(curves).flatMap((c) => c.map(([, g]) => g)),
    ...[...peers, ...targets].map((r) => r.gas),
  ];
  const x0 = Math.log2(Math.min(...xs));
  const x1 = Math.max(x0 + 1, Math.log2(Math.max(...xs)));
  const y0 = Math.floor(Math.log10(Math.min(...ys)));
  const y1 = Math.ceil(Math.log10(Math.max(...ys)));
  const px = (n: number) => m.l + ((Math.log2(n) - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (g: number) => H - m.b - ((Math.log10(g) - y0) / (y1 - y0)) * (H - m.t - m.b);
  const f = (v: number) => v.toFixed(1);

  const parts: string[] = [];
  for (let e = y0; e <= y1; e++) {
    for (const k of e === y1 ? [1] : [1, 2, 5]) {
      const g = k * 10 ** e;
      parts.push(
        `<line x1="${m.l}" x2="${W - m.r}" y1="${f(py(g))}" y2="${f(py(g))}" stroke="${k === 1 ? "#d1d5db" : "#f3f4f6"}"/>`,
        `<text x="${m.l - 6}" y="${f(py(g) + 4)}" text-anchor="end">${formatGas(g)}</text>`,
      );
    }
  }
  for (const n of [...new Set(xs)].sort((a, b) => a - b)) {
    parts.push(
      `<line x1="${f(px(n))}" x2="${f(px(n))}" y1="${m.t}" y2="${H - m.b}" stroke="#f3f4f6"/>`,
      `<text x="${f(px(n))}" y="${H - m.b + 16}" text-anchor="middle">${n}</text>`,
    );
  }
  parts.push(
    `<text x="${(m.l + W - m.r) / 2}" y="${H - m.b + 34}" text-anchor="middle">positions held</text>`,
    `<text x="${m.l}" y="22" font-size="13" font-weight="bold">${escape(title)}</text>`,
  );
  for (const [name, curve] of Object.entries(curves)) {
    const d = curve.map(([n, g], i) => `${i === 0 ? "M" : "L"}${f(px(n))},${f(py(g))}`).join("");
    parts.push(`<path d="${d}" fill="none" stroke="${color(name)}" stroke-width="2"/>`);
    for (const [n, g] of curve) parts.push(`<circle cx="${f(px(n))}" cy="${f(py(g))}" r="2.5" fill="${color(name)}"/>`);
  }
  for (const peer of peers) {
    const [x, y] = [px(peer.positions), py(peer.gas)];
    // Labels right of the marker, or left of it in the right third so they stay inside.
    const left = x > m.l + ((W - m.l - m.r) * 2) / 3;
    parts.push(
      `<rect x="${f(x - 5)}" y="${f(y - 5)}" width="10" height="10" fill="${color(peer.curve)}" opacity="0.75"/>`,
      `<text x="${f(left ? x - 9 : x + 9)}" y="${f(y + 4)}" text-anchor="${left ? "end" : "start"}" ` +
        `fill="${color(peer.curve)}">${escape(peer.label)} ${formatGas(peer.gas)}</text>`,
    );
  }
  for (const target of targets) {
    const [x, y] = [px(target.positions), py(target.gas)];
    parts.push(
      `<circle cx="${f(x)}" cy="${f(y)}" r="6" fill="none" stroke="${color(target.curve)}" stroke-width="2"/>`,
    );
  }
  // The legend under the axis: the curves in two columns, then the two marker kinds.
  const top = H - m.b + 56;
  const column = (W - m.l - m.r) / 2;
  names.forEach((name, i) => {
    const [lx, y] = [m.l + (i % 2) * column, top + Math.floor(i / 2) * 18];
    parts.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${y}" y2="${y}" stroke="${color(name)}" stroke-width="2"/>`,
      `<text x="${lx + 24}" y="${y + 4}">${escape(name)}</text>`,
    );
  });
  const [lx, ly] = [m.l, top + (legendRows - 1) * 18];
  parts.push(
    `<rect x="${lx + 4}" y="${ly - 5}" width="10" height="10" fill="#6b7280" opacity="0.75"/>`,
    `<text x="${lx + 24}" y="${ly + 4}">a peer's figure (issue 19)</text>`,
    `<circle cx="${lx + column + 9}" cy="${ly}" r="6" fill="none" stroke="#6b7280" stroke-width="2"/>`,
    `<text x="${lx + column + 24}" y="${ly + 4}">issue 19's target</text>`,
  );
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" ` +
    `font-size="11" font-family="sans-serif"><rect width="${W}" height="${H}" fill="#fff"/>${parts.join("")}</svg>\n`
  );
}
