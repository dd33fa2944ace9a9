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
  // The report refers to its plot by file name; the node serves it at the result's plot address.
  let placed = false;
  const rendered = renderMarkdown(result.markdown, {
    image: target => {
      if (!result.plot || target.replace(/^\.\//, '') !== `${name}.png`) return null;
      placed = true;
      return result.plot;
    },
  });
  // An image alone in its paragraph is a figure, captioned with its alt text.
  const blocks = rendered.map(block =>
    block.tagName === 'P' && block.childNodes.length === 1 && block.firstChild.tagName === 'IMG' ? plotFigure(block.firstChild, name) : block);
  const meta = h('p', { class: 'muted' }, `${verdict(result.summary)} · written ${formatDateTime(Date.parse(result.summary.written))}`);
  const headingAt = blocks.findIndex(block => block.tagName === 'H1');
  blocks.splice(headingAt + 1, 0, meta);
  if (result.plot && !placed) {
    // A plot the report does not place goes after its opening paragraph.
    const summaryAt = blocks.findIndex((block, index) => index > headingAt + 1 && block.tagName === 'P');
    blocks.splice(summaryAt < 0 ? headingAt + 2 : summaryAt + 1, 0,
      plotFigure(h('img', { src: result.plot, alt: `Plot of the ${name} experiment's measurements` }), name));
  }
  report.dataset.lab = name;
  report.replaceChildren(...blocks);
}

function plotFigure(image, name) {
  return h('figure', { class: 'plot' }, image, h('figcaption', { class: 'muted' }, image.alt || `${name}.png`));
}
