// Small, dependency-free SVG charts for the results: line charts (a value against connections, log axis)
// and horizontal bar charts (one value per system). Plain SVG 1.1 that GitHub renders inline.

export interface Series {
  name: string;
  points: { x: number; y: number | null }[];
}

export interface Panel {
  title: string;
  yLabel: string;
  xLabel?: string;
  series: Series[];
  /** Log scale on x (connections 1 → 1,000). */
  logX?: boolean;
}

export interface BarPanel {
  title: string;
  unit: string;
  bars: { name: string; value: number | null }[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const FONT = 'font-family="Helvetica,Arial,sans-serif"';

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Human numbers for ticks and labels: 1,234 · 12.3 · 0.45. */
export function formatNumber(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1).replace(/\.0$/, '');
  if (abs >= 1) return value.toFixed(2).replace(/\.?0+$/, '');
  return value.toPrecision(2);
}

/** 0 to a round number above `max`, with about 5 ticks. */
function niceTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough)!;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= min * 0.999 && v <= max * 1.001) ticks.push(v);
    }
  }
  return ticks;
}

const PANEL_W = 460;
const PANEL_H = 300;
const MARGIN = { left: 70, right: 20, top: 36, bottom: 46 };

function linePanel(panel: Panel, offsetX: number): string {
  const xs = panel.series.flatMap((s) => s.points.map((p) => p.x)).filter((x) => x > 0);
  const ys = panel.series.flatMap((s) => s.points.map((p) => p.y)).filter((y): y is number => y !== null && Number.isFinite(y));
  const xMin = Math.min(...xs, 1);
  const xMax = Math.max(...xs, 2);
  const yTicks = niceTicks(Math.max(...ys, 0));
  const yMax = yTicks[yTicks.length - 1]!;
  const w = PANEL_W - MARGIN.left - MARGIN.right;
  const h = PANEL_H - MARGIN.top - MARGIN.bottom;
  const logX = panel.logX ?? true;
  const sx = (x: number) => MARGIN.left + (logX
    ? (xMax === xMin ? 0 : (Math.log(x) - Math.log(xMin)) / (Math.log(xMax) - Math.log(xMin))) * w
    : ((x - xMin) / (xMax - xMin || 1)) * w);
  const sy = (y: number) => MARGIN.top + h - (y / (yMax || 1)) * h;
  const out: string[] = [`<g transform="translate(${offsetX},0)">`];
  out.push(`<text x="${PANEL_W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold" ${FONT}>${escapeXml(panel.title)}</text>`);
  for (const t of yTicks) {
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + w}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11" ${FONT}>${formatNumber(t)}</text>`);
  }
  const xTicks = logX ? logTicks(xMin, xMax) : niceTicks(xMax);
  for (const t of xTicks) {
    out.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${MARGIN.top}" y2="${MARGIN.top + h}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${sx(t)}" y="${MARGIN.top + h + 16}" text-anchor="middle" font-size="11" ${FONT}>${formatNumber(t)}</text>`);
  }
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  out.push(`<text x="${MARGIN.left + w / 2}" y="${PANEL_H - 8}" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(panel.xLabel ?? 'connections')}</text>`);
  out.push(`<text transform="translate(16,${MARGIN.top + h / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(panel.yLabel)}</text>`);
  panel.series.forEach((series, i) => {
    const color = COLORS[i % COLORS.length]!;
    const pts = series.points.filter((p): p is { x: number; y: number } => p.y !== null && Number.isFinite(p.y) && p.x > 0).sort((a, b) => a.x - b.x);
    if (pts.length > 1) {
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}"/>`);
    }
    for (const p of pts) {
      out.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${color}"><title>${escapeXml(`${series.name}: ${formatNumber(p.y)} at ${p.x}`)}</title></circle>`);
    }
  });
  out.push('</g>');
  return out.join('\n');
}

function legend(names: string[], y: number, width: number): string {
  const out: string[] = [];
  let x = MARGIN.left;
  let row = 0;
  names.forEach((name, i) => {
    const itemWidth = 24 + name.length * 6.5 + 18;
    if (x + itemWidth > width && x > MARGIN.left) { x = MARGIN.left; row++; }
    const yy = y + row * 18;
    out.push(`<rect x="${x}" y="${yy - 9}" width="16" height="4" fill="${COLORS[i % COLORS.length]}"/>`);
    out.push(`<text x="${x + 22}" y="${yy - 3}" font-size="12" ${FONT}>${escapeXml(name)}</text>`);
    x += itemWidth;
  });
  return out.join('\n');
}

/** Panels side by side (e.g. req/s and p99 against connections) with one legend under them. */
export function lineChartSvg(title: string, panels: Panel[], footnote?: string): string {
  const names = [...new Set(panels.flatMap((p) => p.series.map((s) => s.name)))];
  // Same colour for the same series name in every panel.
  const ordered = panels.map((p) => ({ ...p, series: names.map((n) => p.series.find((s) => s.name === n) ?? { name: n, points: [] }) }));
  const width = PANEL_W * panels.length;
  const legendRows = Math.ceil(names.length / 3);
  const height = 30 + PANEL_H + 12 + legendRows * 18 + (footnote ? 20 : 0);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold" ${FONT}>${escapeXml(title)}</text>`,
    `<g transform="translate(0,26)">`,
    ...ordered.map((panel, i) => linePanel(panel, i * PANEL_W)),
    '</g>',
    legend(names, 26 + PANEL_H + 20, width),
  ];
  if (footnote) out.push(`<text x="${MARGIN.left}" y="${height - 6}" font-size="11" fill="#555" ${FONT}>${escapeXml(footnote)}</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Horizontal bar panels (e.g. texts/s and p99 per system), one row per system, stacked vertically. */
export function barChartSvg(title: string, panels: BarPanel[], footnote?: string): string {
  const labelWidth = 250;
  const barArea = 400;
  const rowH = 24;
  const width = labelWidth + barArea + 130;
  const out: string[] = [];
  let y = 30;
  for (const panel of panels) {
    y += 22;
    out.push(`<text x="10" y="${y}" font-size="14" font-weight="bold" ${FONT}>${escapeXml(panel.title)}</text>`);
    y += 8;
    const max = Math.max(...panel.bars.map((b) => b.value ?? 0), 0);
    panel.bars.forEach((bar, i) => {
      const yy = y + i * rowH;
      out.push(`<text x="${labelWidth - 8}" y="${yy + 15}" text-anchor="end" font-size="12" ${FONT}>${escapeXml(bar.name)}</text>`);
      if (bar.value === null || !Number.isFinite(bar.value)) {
        out.push(`<text x="${labelWidth + 4}" y="${yy + 15}" font-size="12" fill="#777" ${FONT}>not measured</text>`);
        return;
      }
      const len = max > 0 ? (bar.value / max) * barArea : 0;
      out.push(`<rect x="${labelWidth}" y="${yy + 3}" width="${len.toFixed(1)}" height="${rowH - 8}" fill="${COLORS[i % COLORS.length]}"/>`);
      out.push(`<text x="${labelWidth + len + 5}" y="${yy + 15}" font-size="12" ${FONT}>${escapeXml(`${formatNumber(bar.value)} ${panel.unit}`)}</text>`);
    });
    y += panel.bars.length * rowH + 6;
  }
  const height = y + (footnote ? 24 : 8);
  const head = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold" ${FONT}>${escapeXml(title)}</text>`,
  ];
  if (footnote) out.push(`<text x="10" y="${height - 8}" font-size="11" fill="#555" ${FONT}>${escapeXml(footnote)}</text>`);
  return `${[...head, ...out, '</svg>'].join('\n')}\n`;
}
