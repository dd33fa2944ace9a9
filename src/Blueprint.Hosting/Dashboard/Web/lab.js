// The Lab section: the results `blueprint lab <name>` wrote (GET /api/lab), and one report (#/lab/<name>) rendered
// from its markdown with its plot.
import { h, getJson, formatDateTime } from './dom.js';
import { renderMarkdown } from './markdown.js';

export async function show({ item }) {
  const status = document.getElementById('lab-status');
  const list = document.getElementById('lab-results');
  const report = document.getElementById('lab-report');
  const listing = await getJson('/api/lab');
  if (listing.results.length === 0) {
    status.textContent = `No lab results in ${listing.directory}. Run an experiment (blueprint lab list, then blueprint lab <name>) ` +
      'from the directory the node runs in, or point Node:LabResultsDir at a results directory.';
    list.replaceChildren();
    report.replaceChildren();
    report.hidden = true;
    return;
  }
  report.hidden = false;
  status.textContent = `${listing.results.length} results in ${listing.directory}.`;
  const selected = listing.results.find(result => result.name === item)?.name ?? listing.results[0].name;
  list.replaceChildren(...listing.results.map(result => h('li', {},
    h('a', { href: `#/lab/${encodeURIComponent(result.name)}`, 'aria-current': result.name === selected ? 'page' : null, dataset: { lab: result.name } },
      result.title.replace(/^Lab:\s*/, ''),
      h('span', { class: 'verdict' }, verdict(result))))));
  if (item && item !== selected) {
    report.replaceChildren(h('p', { class: 'notice error' }, `There is no lab result "${item}".`));
    return;
  }
  await showReport(selected);
}

function verdict(result) {
  if (!result.claims) return formatDateTime(Date.parse(result.written));
  const { held, total } = result.claims;
  return `${held} of ${total} claim${total === 1 ? '' : 's'} hold${held === 1 ? 's' : ''}`;
}

async function showReport(name) {
  const report = document.getElementById('lab-report');
  const result = await getJson(`/api/lab/${encodeURIComponent(name)}`);
  const blocks = renderMarkdown(result.markdown);
  const meta = h('p', { class: 'muted' }, `${verdict(result.summary)} · written ${formatDateTime(Date.parse(result.summary.written))}`);
  const plot = result.plot
    ? h('figure', { class: 'plot' },
      h('img', { src: result.plot, alt: `Plot of the ${name} experiment's measurements`, loading: 'lazy' }),
      h('figcaption', { class: 'muted' }, `${name}.png`))
    : null;
  const headingAt = blocks.findIndex(block => block.tagName === 'H1');
  blocks.splice(headingAt + 1, 0, meta, plot);
  report.dataset.lab = name;
  report.replaceChildren(...blocks.filter(Boolean));
}
