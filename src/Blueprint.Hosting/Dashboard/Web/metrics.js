// The Metrics section: live charts from the telemetry module's query API (GET /api/metrics/names and
// /api/metrics/query), refreshed every few seconds while the section is shown. A chart whose metric the node does not
// have yet says "no data yet"; without the telemetry module the section says how to enable it.
import { h, getJson, formatNumber, colorFor, telemetryNotice } from './dom.js';
import { lineChart, lastValue } from './charts.js';

/**
 * The charts: a metric by exact name (or the first name matching a pattern); the aggregation asked for (a counter is
 * always drawn as a rate); the labels to split series by.
 */
const charts = [
  { id: 'http-rate', title: 'HTTP requests per second', names: ['http.server.request.duration'], agg: 'rate' },
  { id: 'http-p99', title: 'HTTP p99 latency', names: ['http.server.request.duration'], agg: 'p99' },
  { id: 'kv-ops', title: 'KV commands per second', names: ['blueprint.kv.commands'], agg: 'rate', group: '' },
  { id: 'raft-term', title: 'Raft term', names: ['blueprint.raft.term'], agg: 'max', group: 'group' },
  { id: 'raft-role', title: 'Raft role (2 leader, 1 candidate, 0 follower)', names: ['blueprint.raft.role'], agg: 'last', group: 'group' },
  { id: 'raft-leader', title: 'Raft leader id', names: ['blueprint.raft.leader'], agg: 'last', group: 'group' },
  { id: 'log-lag', title: 'Log consumer lag', names: ['blueprint.log.consumer.lag'], agg: 'max', group: 'group,topic' },
  { id: 'ratelimit', title: 'Rate-limit decisions per second', names: ['blueprint.ratelimit.decisions'], agg: 'rate', group: 'outcome' },
  { id: 'spans', title: 'Trace ingest, spans per second', names: ['blueprint.telemetry.spans.received', 'blueprint.telemetry.spans.dropped'], agg: 'rate' },
];

const aggregationsByKind = {
  counter: ['rate'],
  updowncounter: ['last', 'avg', 'min', 'max'],
  gauge: ['last', 'avg', 'min', 'max'],
  histogram: ['rate', 'p50', 'p95', 'p99', 'avg'],
};

let timer = null;
let catalog = null; // name → { name, unit, kind, description }
let busy = false;
let wired = false;

export async function show() {
  wire();
  const status = document.getElementById('metrics-status');
  const notice = await telemetryNotice();
  if (notice) {
    say(status, notice);
    document.getElementById('charts').replaceChildren();
    document.querySelector('#metrics .explore').hidden = true;
    return;
  }
  if (!catalog) {
    try {
      const listing = await getJson('/api/metrics/names');
      catalog = new Map(listing.names.map(metric => [metric.name, metric]));
    } catch (error) {
      say(status, error.status === 404
        ? 'The telemetry module runs, but this node has no metrics query API (/api/metrics/names answered 404): charts appear once it does.'
        : `Metrics could not be read: ${error.message}`);
      document.querySelector('#metrics .explore').hidden = true;
      return;
    }
    status.hidden = true;
    fillExplore();
  }
  await refresh();
  schedule();
}

export function hide() {
  clearInterval(timer);
  timer = null;
}

function wire() {
  if (wired) return;
  wired = true;
  document.getElementById('metrics-range').addEventListener('change', () => refresh());
  document.getElementById('metrics-live').addEventListener('change', schedule);
  document.getElementById('explore-name').addEventListener('change', () => { fillAggregations(); refreshExplore(timeWindow()); });
  document.getElementById('explore-agg').addEventListener('change', () => refreshExplore(timeWindow()));
  document.getElementById('metrics-controls').addEventListener('submit', event => event.preventDefault());
  document.getElementById('explore-form').addEventListener('submit', event => event.preventDefault());
}

function schedule() {
  clearInterval(timer);
  timer = document.getElementById('metrics-live').checked && catalog ? setInterval(refresh, 5000) : null;
}

function say(element, text) {
  element.textContent = text;
  element.hidden = false;
}

/** The window shown: [from, to] in Unix ms and a step that gives about 60 points. */
function timeWindow() {
  const seconds = Number(document.getElementById('metrics-range').value);
  const to = Date.now();
  return { from: to - seconds * 1000, to, step: Math.max(5, Math.round(seconds / 60)) };
}

async function refresh() {
  if (busy || !catalog) return;
  busy = true;
  try {
    const range = timeWindow();
    const container = document.getElementById('charts');
    const figures = await Promise.all(charts.map(chart => drawChart(chart, range)));
    container.replaceChildren(...figures);
    await refreshExplore(range);
  } finally {
    busy = false;
  }
}

function resolve(chart) {
  if (chart.names) return chart.names.filter(name => catalog.has(name)).map(name => catalog.get(name));
  const found = [...catalog.keys()].sort().find(name => chart.match.test(name));
  return found ? [catalog.get(found)] : [];
}

/** The aggregation to ask for: the chart's, unless the metric's kind does not support it. */
function aggregationFor(metric, wanted) {
  const supported = aggregationsByKind[metric.kind] ?? ['last'];
  return supported.includes(wanted) ? wanted : supported[0];
}

async function query(metric, agg, group, range) {
  const parameters = new URLSearchParams({
    name: metric.name, from: String(Math.round(range.from)), to: String(Math.round(range.to)), step: String(range.step), agg, group: group ?? '',
  });
  return getJson(`/api/metrics/query?${parameters}`);
}

function formatterFor(metric, agg) {
  if (agg === 'rate') return value => formatNumber(value);
  if (metric.unit === 's') return value => `${formatNumber(value * 1000)} ms`;
  if (metric.unit === 'ms') return value => `${formatNumber(value)} ms`;
  if (metric.unit === 'By') return value => `${formatNumber(value)}B`;
  return value => formatNumber(value);
}

function seriesLabel(metric, labels, multiple) {
  const values = Object.entries(labels ?? {}).map(([key, value]) => `${key}=${value}`).join(', ');
  const short = multiple ? metric.name.split('.').pop() : '';
  return [short, values].filter(Boolean).join(' ') || metric.name;
}

async function drawChart(chart, range) {
  const metrics = resolve(chart);
  let series = [];
  let format = formatNumber;
  let failure = null;
  for (const metric of metrics) {
    const agg = aggregationFor(metric, chart.agg);
    format = formatterFor(metric, agg);
    try {
      const result = await query(metric, agg, chart.group, range);
      series.push(...result.series.map(one => ({ label: seriesLabel(metric, one.labels, metrics.length > 1), points: one.points })));
    } catch (error) {
      failure = error.message;
    }
  }
  series = series.filter(one => one.points.length > 0);
  return figure(chart.id, chart.title, metrics.map(metric => metric.name).join(', ') || 'not reported by this node yet', series, range, format, failure);
}

function figure(id, title, subtitle, series, range, format, failure) {
  const latest = series.length === 1 ? lastValue(series[0].points) : null;
  const labels = series.map(one => one.label);
  return h('figure', { class: 'chart', id: `chart-${id}`, dataset: { chart: id } },
    h('figcaption', {}, h('span', {}, title), h('span', { class: 'value' }, latest === null ? '' : format(latest))),
    h('p', { class: 'metric-name' }, failure ? `${subtitle} — ${failure}` : subtitle),
    lineChart({ series, from: range.from, to: range.to, format, title }),
    series.length > 1
      ? h('ul', { class: 'chart-legend' }, series.map(one =>
        h('li', {}, h('span', { class: 'swatch', style: { background: colorFor(one.label, labels) }, 'aria-hidden': 'true' }), `${one.label}: ${format(lastValue(one.points))}`)))
      : null);
}

function fillExplore() {
  const select = document.getElementById('explore-name');
  const names = [...catalog.keys()].sort();
  select.replaceChildren(...names.map(name => h('option', { value: name }, name)));
  const preferred = names.find(name => name.startsWith('blueprint.')) ?? names[0];
  if (preferred) select.value = preferred;
  document.querySelector('#metrics .explore').hidden = names.length === 0;
  fillAggregations();
}

function fillAggregations() {
  const metric = catalog.get(document.getElementById('explore-name').value);
  const select = document.getElementById('explore-agg');
  select.replaceChildren(...(aggregationsByKind[metric?.kind] ?? ['last']).map(agg => h('option', { value: agg }, agg)));
}

async function refreshExplore(range) {
  const metric = catalog?.get(document.getElementById('explore-name').value);
  if (!metric) return;
  const agg = document.getElementById('explore-agg').value || aggregationFor(metric, 'rate');
  const format = formatterFor(metric, agg);
  let series = [];
  let failure = null;
  try {
    const result = await query(metric, agg, '', range);
    series = result.series.map(one => ({ label: seriesLabel(metric, one.labels, false), points: one.points }));
  } catch (error) {
    failure = error.message;
  }
  const subtitle = `${metric.description || metric.name} (${metric.kind}${metric.unit ? `, ${metric.unit}` : ''})`;
  document.getElementById('explore-chart').replaceChildren(figure('explore', `${metric.name}: ${agg}`, subtitle, series, range, format, failure));
}
