// The Traces section, over Jaeger's query API (which the telemetry module serves): a search form, the traces found,
// the service dependency graph, and one trace (#/trace/<id>) as a waterfall whose rows open the span's details.
import { h, getJson, formatMicros, formatDateTime, serviceColor, telemetryNotice } from './dom.js';
import { dependencyGraph } from './charts.js';

let wired = false;
let servicesLoaded = false;

export async function show({ trace }) {
  wire();
  const status = document.getElementById('traces-status');
  const searchView = document.getElementById('traces-search-view');
  const traceView = document.getElementById('trace-view');
  const notice = await telemetryNotice();
  if (notice) {
    status.textContent = notice;
    status.hidden = false;
    searchView.hidden = true;
    traceView.hidden = true;
    return;
  }
  status.hidden = true;
  searchView.hidden = Boolean(trace);
  traceView.hidden = !trace;
  if (trace) {
    await showTrace(trace);
    return;
  }
  if (!servicesLoaded) await loadServices();
  await loadDependencies();
}

function wire() {
  if (wired) return;
  wired = true;
  document.getElementById('search-service').addEventListener('change', () => loadOperations().catch(fail));
  document.getElementById('search-lookback').addEventListener('change', () => loadDependencies().catch(fail));
  document.getElementById('trace-search').addEventListener('submit', event => {
    event.preventDefault();
    search().catch(fail);
  });
}

function fail(error) {
  const status = document.getElementById('traces-status');
  status.textContent = error.message;
  status.hidden = false;
}

async function loadServices() {
  const { data } = await getJson('/api/services');
  const select = document.getElementById('search-service');
  const services = [...(data ?? [])].sort();
  select.replaceChildren(...(services.length
    ? services.map(service => h('option', { value: service }, service))
    : [h('option', { value: '' }, 'no services yet')]));
  servicesLoaded = services.length > 0;
  await loadOperations();
}

async function loadOperations() {
  const service = document.getElementById('search-service').value;
  const select = document.getElementById('search-operation');
  const operations = service ? (await getJson(`/api/services/${encodeURIComponent(service)}/operations`)).data ?? [] : [];
  select.replaceChildren(h('option', { value: '' }, 'all operations'), ...[...operations].sort().map(operation => h('option', { value: operation }, operation)));
}

/** Tags typed as key=value pairs separated by spaces, as the JSON object Jaeger's tags parameter takes. */
function parseTags(text) {
  const tags = {};
  for (const pair of text.trim().split(/\s+/).filter(Boolean)) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new Error(`Tag "${pair}" is not key=value.`);
    tags[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return tags;
}

async function search() {
  if (!servicesLoaded) await loadServices();
  const form = document.getElementById('trace-search');
  const fields = new FormData(form);
  const summary = document.getElementById('results-summary');
  if (!fields.get('service')) {
    summary.textContent = 'No service has reported spans yet.';
    return;
  }
  let tags;
  try {
    tags = parseTags(String(fields.get('tags') ?? ''));
  } catch (error) {
    summary.textContent = error.message;
    return;
  }
  const parameters = new URLSearchParams({ service: fields.get('service'), lookback: fields.get('lookback'), limit: fields.get('limit') || '20' });
  if (fields.get('operation')) parameters.set('operation', fields.get('operation'));
  if (Object.keys(tags).length) parameters.set('tags', JSON.stringify(tags));
  for (const name of ['minDuration', 'maxDuration']) {
    const value = String(fields.get(name) ?? '').trim();
    if (value) parameters.set(name, value);
  }
  summary.textContent = 'Searching…';
  let found;
  try {
    found = await getJson(`/api/traces?${parameters}`);
  } catch (error) {
    summary.textContent = error.status === 400 ? `The search was refused: ${error.message.replace(/^.*?: 400 /, '')}` : error.message;
    document.getElementById('trace-results').replaceChildren();
    return;
  }
  const traces = (found.data ?? []).map(describe).sort((a, b) => b.start - a.start);
  summary.textContent = `${traces.length} trace${traces.length === 1 ? '' : 's'} found.`;
  const longest = Math.max(1, ...traces.map(trace => trace.duration));
  document.getElementById('trace-results').replaceChildren(...traces.map(trace => h('li', { dataset: { traceId: trace.id } },
    h('a', { href: `#/trace/${trace.id}` },
      h('span', { class: 'name' }, trace.name),
      h('span', { class: 'duration' }, formatMicros(trace.duration)),
      h('span', { class: 'meta' },
        `${trace.spans.length} span${trace.spans.length === 1 ? '' : 's'} · ${trace.services.join(', ')}${trace.errors ? ` · ${trace.errors} error${trace.errors === 1 ? '' : 's'}` : ''}`),
      h('span', { class: 'meta' }, formatDateTime(trace.start / 1000)),
      h('span', { class: 'bar', 'aria-hidden': 'true' }, h('span', { style: { width: `${(trace.duration / longest) * 100}%` } }))))));
  await loadDependencies();
}

/** A trace in Jaeger's model, with its root, name, time span, services and spans ordered as a tree. */
function describe(trace) {
  const spans = trace.spans ?? [];
  const ids = new Set(spans.map(span => span.spanID));
  const parentOf = span => span.references?.find(reference => reference.refType === 'CHILD_OF' && ids.has(reference.spanID))?.spanID ?? null;
  const serviceOf = span => trace.processes?.[span.processID]?.serviceName ?? span.processID;
  const start = Math.min(...spans.map(span => span.startTime));
  const end = Math.max(...spans.map(span => span.startTime + span.duration));
  const roots = spans.filter(span => parentOf(span) === null).sort((a, b) => a.startTime - b.startTime);
  const root = roots[0] ?? spans[0];
  const children = new Map();
  for (const span of spans) {
    const parent = parentOf(span);
    if (parent !== null) (children.get(parent) ?? children.set(parent, []).get(parent)).push(span);
  }
  const rows = [];
  const visit = (span, depth) => {
    rows.push({ span, depth, service: serviceOf(span) });
    for (const child of (children.get(span.spanID) ?? []).sort((a, b) => a.startTime - b.startTime)) visit(child, depth + 1);
  };
  for (const span of roots) visit(span, 0);
  const services = [...new Set(rows.map(row => row.service))];
  const errors = spans.filter(span => span.tags?.some(tag => tag.key === 'error' && (tag.value === true || tag.value === 'true'))).length;
  return {
    id: trace.traceID, spans, rows, services, errors, start, end, duration: end - start, processes: trace.processes ?? {},
    name: root ? `${serviceOf(root)}: ${root.operationName}` : trace.traceID,
  };
}

async function showTrace(id) {
  const title = document.getElementById('trace-title');
  const waterfall = document.getElementById('waterfall');
  title.textContent = `Trace ${id}`;
  document.getElementById('trace-meta').textContent = 'Loading…';
  waterfall.replaceChildren();
  let found;
  try {
    found = await getJson(`/api/traces/${encodeURIComponent(id)}`);
  } catch (error) {
    document.getElementById('trace-meta').textContent = error.status === 404 ? `No trace ${id} is stored (it may have expired).` : error.message;
    document.getElementById('trace-legend').replaceChildren();
    return;
  }
  const trace = describe(found.data[0]);
  title.textContent = trace.name;
  document.getElementById('trace-meta').textContent =
    `Trace ${trace.id} · ${formatMicros(trace.duration)} · ${trace.spans.length} spans · started ${formatDateTime(trace.start / 1000)}`;
  document.getElementById('trace-legend').replaceChildren(...trace.services.map(service =>
    h('li', {}, h('span', { class: 'swatch', style: { background: serviceColor(service) }, 'aria-hidden': 'true' }), service)));
  waterfall.replaceChildren(axis(trace), ...trace.rows.map(row => spanRow(trace, row)));
  title.focus?.();
}

function axis(trace) {
  const ticks = [0, 0.25, 0.5, 0.75, 1].map(fraction =>
    h('span', { style: { left: `${fraction * 100}%` } }, formatMicros(trace.duration * fraction)));
  return h('div', { class: 'wf-axis', 'aria-hidden': 'true' }, h('span', {}, 'Service: operation'), h('div', { class: 'ticks' }, ticks));
}

function spanRow(trace, { span, depth, service }) {
  const total = Math.max(1, trace.duration);
  const left = ((span.startTime - trace.start) / total) * 100;
  const width = Math.max(0.3, (span.duration / total) * 100);
  const color = serviceColor(service);
  const error = span.tags?.some(tag => tag.key === 'error' && (tag.value === true || tag.value === 'true'));
  const timeLabel = h('span', { class: 'wf-time' }, formatMicros(span.duration));
  // The duration sits right of the bar, or left of it when the bar ends near the right edge.
  Object.assign(timeLabel.style, left + width > 80 ? { right: `${100 - left}%` } : { left: `${left + width}%` });
  const detailId = `span-${span.spanID}`;
  const row = h('button', {
    type: 'button', class: `wf-row${error ? ' error' : ''}`, 'aria-expanded': 'false', 'aria-controls': detailId,
    dataset: { spanId: span.spanID, service, operation: span.operationName },
  },
  h('span', { class: 'wf-label', style: { paddingLeft: `${0.6 + depth * 1.1}rem` } },
    h('span', { class: 'svc', style: { color } }, service), ' ', span.operationName),
  h('span', { class: 'wf-track' },
    h('span', { class: 'wf-bar', style: { left: `${left}%`, width: `${width}%`, background: color } }),
    timeLabel));
  const detail = spanDetail(trace, span, service, detailId);
  row.addEventListener('click', () => {
    const open = row.getAttribute('aria-expanded') !== 'true';
    row.setAttribute('aria-expanded', String(open));
    detail.hidden = !open;
  });
  return h('div', { class: 'wf-span' }, row, detail);
}

function spanDetail(trace, span, service, id) {
  const table = rows => h('table', { class: 'compact' }, h('tbody', {}, rows.map(([key, value]) => h('tr', {}, h('td', {}, key), h('td', {}, value)))));
  const tagRows = tags => (tags ?? []).map(tag => [tag.key, String(tag.value)]);
  const process = trace.processes[span.processID] ?? { serviceName: service, tags: [] };
  const logs = span.logs ?? [];
  return h('div', { class: 'span-detail', id, hidden: true, role: 'region', 'aria-label': `${service}: ${span.operationName} details` },
    table([
      ['span id', span.spanID],
      ['start', `${formatMicros(span.startTime - trace.start)} after the trace started`],
      ['duration', formatMicros(span.duration)],
    ]),
    h('h4', {}, 'Tags'),
    (span.tags ?? []).length ? table(tagRows(span.tags)) : h('p', { class: 'muted' }, 'none'),
    h('h4', {}, `Process: ${process.serviceName}`),
    (process.tags ?? []).length ? table(tagRows(process.tags)) : h('p', { class: 'muted' }, 'no tags'),
    h('h4', {}, 'Logs'),
    logs.length
      ? logs.map(log => h('div', {}, h('p', {}, `at ${formatMicros(log.timestamp - trace.start)}`), table(tagRows(log.fields))))
      : h('p', { class: 'muted' }, 'none'));
}

const lookbackMs = { '5m': 300_000, '15m': 900_000, '1h': 3_600_000, '6h': 21_600_000, '24h': 86_400_000 };

async function loadDependencies() {
  const lookback = lookbackMs[document.getElementById('search-lookback').value] ?? 3_600_000;
  const { data } = await getJson(`/api/dependencies?endTs=${Date.now()}&lookback=${lookback}`);
  const links = data ?? [];
  const container = document.getElementById('dependency-graph');
  document.getElementById('deps-summary').textContent = links.length
    ? `Calls between services in the last ${document.getElementById('search-lookback').selectedOptions[0].textContent}.`
    : 'No calls between services in the lookback window yet.';
  container.replaceChildren(...(links.length ? [dependencyGraph(links)] : []));
}
