// The dashboard's charts, drawn as SVG by hand: a time-series line chart and a service dependency graph. A charting
// library would be the usual choice, but the page loads nothing from a CDN and has no npm build step, and these two
// pictures need only a few dozen lines each.
import { s, formatNumber, formatClock, colorFor, serviceColor } from './dom.js';

const width = 400;
const height = 160;
const margin = { left: 50, right: 12, top: 10, bottom: 22 };

/**
 * A line chart of time series: series [{ label, points: [[unixMs, value|null], …] }] over [from, to] (Unix ms).
 * Null points break the line. With no value at all it says "no data yet". The SVG's label describes the latest values.
 */
export function lineChart({ series, from, to, format = formatNumber, title }) {
  const plotted = series.map(one => ({ ...one, points: one.points.filter(([t]) => t >= from && t <= to) }));
  const values = plotted.flatMap(one => one.points.map(([, v]) => v)).filter(v => v !== null && Number.isFinite(v));
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'line-chart' });
  if (values.length === 0) {
    svg.setAttribute('aria-label', `${title}: no data yet`);
    svg.dataset.empty = 'true';
    svg.append(s('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'empty' }, 'no data yet'));
    return svg;
  }

  const low = Math.min(0, ...values);
  const step = niceStep((Math.max(...values, 0) - low) / 4 || 1);
  const bottom = Math.floor(low / step) * step;
  const top = Math.max(bottom + step, Math.ceil(Math.max(...values, 0) / step) * step);
  const x = t => margin.left + ((t - from) / Math.max(1, to - from)) * (width - margin.left - margin.right);
  const y = v => height - margin.bottom - ((v - bottom) / (top - bottom || 1)) * (height - margin.top - margin.bottom);

  const grid = s('g', { class: 'grid' });
  const axis = s('g', { class: 'axis', 'aria-hidden': 'true' });
  for (let value = bottom; value <= top + step / 2; value += step) {
    grid.append(s('line', { x1: margin.left, x2: width - margin.right, y1: y(value), y2: y(value) }));
    axis.append(s('text', { x: margin.left - 6, y: y(value) + 4, 'text-anchor': 'end' }, format(value)));
  }
  for (let i = 0; i <= 3; i++) {
    const t = from + ((to - from) * i) / 3;
    const anchor = i === 0 ? 'start' : i === 3 ? 'end' : 'middle';
    axis.append(s('text', { x: x(t), y: height - 6, 'text-anchor': anchor }, formatClock(t)));
  }
  svg.append(grid, axis);

  const labels = plotted.map(one => one.label);
  for (const one of plotted) {
    const color = colorFor(one.label, labels);
    let d = '';
    let pen = false;
    let count = 0;
    for (const [t, v] of one.points) {
      if (v === null || !Number.isFinite(v)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
      count++;
    }
    if (count === 0) continue;
    const path = s('path', { d, class: 'series', stroke: color, dataset: { points: String(count), series: one.label } });
    svg.append(path);
    if (count === 1) {
      const [t, v] = one.points.find(([, value]) => value !== null && Number.isFinite(value));
      svg.append(s('circle', { cx: x(t), cy: y(v), r: 3, fill: color }));
    }
  }

  const latest = plotted.map(one => `${one.label || 'value'} ${format(lastValue(one.points))}`).join(', ');
  svg.setAttribute('aria-label', `${title}, latest: ${latest}`);
  return svg;
}

/** The last non-null value of points, or null. */
export function lastValue(points) {
  for (let i = points.length - 1; i >= 0; i--) {
    if (points[i][1] !== null && Number.isFinite(points[i][1])) return points[i][1];
  }
  return null;
}

/** A step of 1, 2 or 5 times a power of ten, at least rough: grid lines at round values. */
function niceStep(rough) {
  const power = 10 ** Math.floor(Math.log10(rough));
  for (const factor of [1, 2, 5, 10]) {
    if (rough <= factor * power) return factor * power;
  }
  return 10 * power;
}

/**
 * The service dependency graph: links [{ parent, child, callCount }] as boxes in columns by depth (callers left of
 * callees) and arrows labelled with call counts. A service calling itself gets a loop above its box.
 */
export function dependencyGraph(links) {
  const names = [...new Set(links.flatMap(link => [link.parent, link.child]))].sort();
  const depth = new Map(names.map(name => [name, 0]));
  // Longest path from a root, bounded by the number of services so a cycle cannot loop forever.
  for (let round = 0; round < names.length; round++) {
    for (const link of links) {
      if (link.parent !== link.child && depth.get(link.child) < depth.get(link.parent) + 1 && depth.get(link.parent) + 1 < names.length) {
        depth.set(link.child, depth.get(link.parent) + 1);
      }
    }
  }
  const columns = [];
  for (const name of names) (columns[depth.get(name)] ??= []).push(name);
  const boxWidth = Math.max(110, ...names.map(name => name.length * 8 + 24));
  const boxHeight = 34;
  const columnGap = 120;
  const rowGap = 36;
  const rows = Math.max(...columns.map(column => column?.length ?? 0));
  const graphWidth = columns.length * boxWidth + (columns.length - 1) * columnGap + 20;
  const graphHeight = rows * boxHeight + (rows - 1) * rowGap + 70;
  const position = new Map();
  columns.forEach((column, c) => column?.forEach((name, r) => {
    const offset = (graphHeight - 40 - (column.length * boxHeight + (column.length - 1) * rowGap)) / 2;
    position.set(name, { x: 10 + c * (boxWidth + columnGap), y: 40 + offset + r * (boxHeight + rowGap) });
  }));

  const svg = s('svg', {
    viewBox: `0 0 ${graphWidth} ${graphHeight}`, role: 'img', class: 'dependency-graph',
    'aria-label': `Service dependencies: ${links.map(link => `${link.parent} calls ${link.child} ${link.callCount} times`).join('; ')}`,
  });
  svg.append(s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
    s('path', { d: 'M0,0L10,5L0,10z', fill: '#64748b' }))));

  for (const link of links) {
    const from = position.get(link.parent);
    const to = position.get(link.child);
    let d;
    let labelX;
    let labelY;
    if (link.parent === link.child) {
      const cx = from.x + boxWidth / 2;
      d = `M${cx - 18},${from.y} C${cx - 40},${from.y - 38} ${cx + 40},${from.y - 38} ${cx + 18},${from.y}`;
      labelX = cx;
      labelY = from.y - 32;
    } else {
      const x1 = from.x + boxWidth;
      const y1 = from.y + boxHeight / 2;
      const x2 = to.x;
      const y2 = to.y + boxHeight / 2;
      const bend = Math.max(40, Math.abs(x2 - x1) / 2);
      d = `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`;
      // The count sits just before the arrowhead, where edges leaving one box have parted: on the side of the line
      // away from the curve (below an edge that comes down, above one that comes up or runs level).
      labelX = x2 - 12;
      labelY = y1 < y2 ? y2 + 18 : y2 - 8;
    }
    svg.append(s('g', { class: 'graph-edge', dataset: { parent: link.parent, child: link.child } },
      s('path', { d, 'marker-end': 'url(#arrow)' }),
      s('text', { x: labelX, y: labelY, 'text-anchor': link.parent === link.child ? 'middle' : 'end' }, `${formatNumber(link.callCount)} call${link.callCount === 1 ? '' : 's'}`)));
  }
  for (const name of names) {
    const { x, y } = position.get(name);
    const color = serviceColor(name);
    svg.append(s('g', { class: 'graph-node', dataset: { service: name } },
      s('rect', { x, y, width: boxWidth, height: boxHeight, rx: 6, stroke: color }),
      s('text', { x: x + boxWidth / 2, y: y + boxHeight / 2 + 4, 'text-anchor': 'middle' }, name)));
  }
  return svg;
}
