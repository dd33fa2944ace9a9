// Small helpers the dashboard's modules share: building elements (text is always set as text, never parsed as HTML),
// fetching JSON with errors that say what failed, and formatting numbers, durations and times.

/** Creates an element: attributes (event handlers as on*), then children (strings become text nodes). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  setAttributes(element, attributes);
  append(element, children);
  return element;
}

/** Creates an SVG element. */
export function s(tag, attributes = {}, ...children) {
  const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
  setAttributes(element, attributes);
  append(element, children);
  return element;
}

function setAttributes(element, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'style' && typeof value === 'object') {
      Object.assign(element.style, value); // through the CSSOM: the page's CSP allows no inline style attributes
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** A failed request: the HTTP status (0 when the node did not answer) and the reason the server gave. */
export class RequestError extends Error {
  constructor(url, status, reason) {
    super(status === 0 ? `${url}: the node did not answer (${reason})` : `${url}: ${status} ${reason}`);
    this.status = status;
    this.url = url;
  }
}

/** GETs JSON; throws a RequestError with the server's reason (problem+json detail or Jaeger's errors) on failure. */
export async function getJson(url, { allowStatus = [] } = {}) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: 'application/json' } });
  } catch (error) {
    throw new RequestError(url, 0, error.message);
  }
  if (!response.ok && !allowStatus.includes(response.status)) {
    let reason = response.statusText;
    try {
      const body = await response.json();
      reason = body.detail ?? body.errors?.[0]?.msg ?? body.title ?? reason;
    } catch {
      // not JSON: keep the status text
    }
    throw new RequestError(url, response.status, reason);
  }
  return response.json();
}

const integer = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });

/** A number with up to three significant digits and an SI suffix: 1.23k, 45.6M, 0.012. */
export function formatNumber(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e9) return `${trim(value / 1e9)}G`;
  if (magnitude >= 1e6) return `${trim(value / 1e6)}M`;
  if (magnitude >= 1e4) return `${trim(value / 1e3)}k`;
  if (magnitude >= 100) return integer.format(value);
  return trim(value);
}

function trim(value) {
  return Number(value.toPrecision(3)).toString();
}

/** A duration given in microseconds: 850µs, 12.3ms, 1.25s. */
export function formatMicros(micros) {
  if (micros < 1000) return `${Math.round(micros)}µs`;
  if (micros < 1_000_000) return `${trim(micros / 1000)}ms`;
  return `${trim(micros / 1_000_000)}s`;
}

/** A clock time (HH:MM:SS) for a Unix time in milliseconds. */
export function formatClock(ms) {
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

/** A date and time for a Unix time in milliseconds. */
export function formatDateTime(ms) {
  const date = new Date(ms);
  return `${date.toLocaleDateString('en-CA')} ${date.toLocaleTimeString('en-GB', { hour12: false })}`;
}

/** Colors that stay readable on white (4.5:1 or more), for services and series. */
const palette = ['#1d4ed8', '#c2410c', '#047857', '#7c3aed', '#be123c', '#0e7490', '#a16207', '#4d7c0f', '#9d174d', '#475569'];

/** The color of one of several names drawn together: by its place among them. */
export function colorFor(name, names) {
  const index = names.indexOf(name);
  return palette[(index < 0 ? 0 : index) % palette.length];
}

const serviceColors = new Map();

/** A service's color, the same in every view of the page: services get the palette's colors in the order first seen. */
export function serviceColor(service) {
  if (!serviceColors.has(service)) serviceColors.set(service, palette[serviceColors.size % palette.length]);
  return serviceColors.get(service);
}

let nodeDescription;

/** The node's description (GET /api/node), read once: the sections ask it which modules run. */
export function nodeInfo() {
  nodeDescription ??= getJson('/api/node');
  return nodeDescription;
}

/** Null when the telemetry module runs; otherwise what to tell the reader, with the command that enables it. */
export async function telemetryNotice() {
  const info = await nodeInfo();
  return info.modules.some(module => module.name === 'telemetry')
    ? null
    : 'The telemetry module is not enabled on this node, so there are no metrics or traces to show. ' +
      'Run the node with every module (the default), or add it: blueprint run --modules ' +
      [...info.modules.map(module => module.name), 'telemetry'].join(',') + '.';
}
