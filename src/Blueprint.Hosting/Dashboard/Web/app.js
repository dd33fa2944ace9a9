// The dashboard's entry point: the hash router (#/node, #/metrics, #/traces, #/trace/<id>, #/lab, #/lab/<name>), the
// health badge, and the Node section drawn from GET /api/node and /readyz.
import { h, getJson, nodeInfo } from './dom.js';
import * as metrics from './metrics.js';
import * as traces from './traces.js';
import * as lab from './lab.js';

const sections = { node: { show: showNode }, metrics, traces, lab };
let current = null;

function route() {
  const [name = 'node', ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const section = name === 'trace' ? 'traces' : sections[name] ? name : 'node';
  const argument = name === 'trace' ? { trace: decodeURIComponent(rest.join('/')) } : { item: rest.length ? decodeURIComponent(rest.join('/')) : null };
  if (current && current !== section) sections[current].hide?.();
  for (const key of Object.keys(sections)) document.getElementById(key).hidden = key !== section;
  for (const link of document.querySelectorAll('nav.sections a')) {
    if (link.dataset.section === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const titles = { node: 'Node', metrics: 'Metrics', traces: 'Traces', lab: 'Lab' };
  document.title = `${titles[section]} · Blueprint node`;
  current = section;
  Promise.resolve(sections[section].show(argument)).catch(showError);
}

function showError(error) {
  const box = document.getElementById('error');
  box.textContent = error.message;
  box.hidden = false;
}

async function showNode() {
  const info = await nodeInfo();
  document.getElementById('node-summary').textContent =
    `Blueprint ${info.version} at ${info.http}: ${info.modules.length} module${info.modules.length === 1 ? '' : 's'} running. ` +
    'The system-design cheat sheet made real: every module speaks a protocol a production engine also speaks.';

  const links = document.getElementById('node-links');
  links.replaceChildren(...info.links.map(link => h('li', {}, h('a', { href: link.href }, link.name), ` — ${link.description}`)));
  for (const module of info.modules.filter(module => module.page)) {
    links.append(h('li', {}, h('a', { href: module.page }, `${module.name} page`), ` — ${module.page}`));
  }

  document.getElementById('modules').replaceChildren(...info.modules.map(moduleCard));
  document.querySelector('#listeners tbody').replaceChildren(...info.listeners.map(listener => h('tr', {},
    h('td', {}, listener.module), h('td', {}, listener.name), h('td', {}, h('code', {}, listener.address)),
    h('td', {}, listener.protocol), h('td', {}, h('code', {}, listener.setting)))));
  await refreshHealth();
}

function moduleCard(module) {
  return h('article', { class: 'card', 'aria-labelledby': `module-${module.name}`, dataset: { module: module.name } },
    h('header', {},
      h('h3', { id: `module-${module.name}` }, module.name),
      module.page ? h('a', { href: module.page }, `open ${module.page}`) : null),
    h('p', {}, module.description),
    module.endpoints.length
      ? h('dl', {}, module.endpoints.map(endpoint => [
        h('dt', {}, endpoint.name),
        h('dd', {}, h('code', {}, endpoint.address), endpoint.hint ? h('div', { class: 'hint' }, 'try ', h('code', {}, endpoint.hint)) : null),
      ]))
      : null,
    module.cheatSheetRows.length
      ? h('ul', { class: 'tags', 'aria-label': 'Cheat-sheet rows' }, module.cheatSheetRows.map(row => h('li', {}, row)))
      : null);
}

/** Reads /readyz (503 carries the same JSON) into the badge and the Node section's table. */
async function refreshHealth() {
  const badge = document.getElementById('health');
  try {
    const report = await getJson('/readyz', { allowStatus: [503] });
    badge.dataset.state = report.status;
    badge.textContent = `health: ${report.status.toLowerCase()}`;
    document.querySelector('#health-checks tbody').replaceChildren(...Object.entries(report.checks).map(([name, check]) => h('tr', {},
      h('td', {}, name), h('td', { class: `status-${check.status}` }, check.status), h('td', {}, check.description ?? ''))));
    if (Object.keys(report.checks).length === 0) {
      document.querySelector('#health-checks tbody').replaceChildren(h('tr', {}, h('td', { colspan: 3 }, 'No engine checks: every module is ready.')));
    }
  } catch (error) {
    badge.dataset.state = 'down';
    badge.textContent = error.status === 0 ? 'health: node unreachable' : `health: ${error.message}`;
  }
}

nodeInfo().then(info => { document.getElementById('version').textContent = info.version; }, showError);
window.addEventListener('hashchange', route);
route();
if (current !== 'node') refreshHealth(); // the Node section reads it as it draws
setInterval(refreshHealth, 10_000);
