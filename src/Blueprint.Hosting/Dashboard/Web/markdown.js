// A small markdown renderer for lab reports: headings, paragraphs, lists, pipe tables, fenced code, and inline code,
// bold, italics, links and images. A markdown library would do more, but the page takes nothing from a CDN and has no build
// step, and lab reports use only these. It builds DOM nodes and sets every piece of text as text, so a report can
// never inject markup; links keep only http(s), relative and fragment targets, and an image is shown only where the
// caller's resolver gives it an address (a lab report's plot).
import { h } from './dom.js';

/**
 * Renders markdown into an array of block elements. image(target, alt) gives the address of an image the text refers
 * to, or null to show its alt text instead.
 */
export function renderMarkdown(markdown, { image = () => null } = {}) {
  const inline = text => inlineWith(text, image);
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  const blocks = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === '') {
      i++;
      continue;
    }
    const fence = line.match(/^\s*(```|~~~)(.*)$/);
    if (fence) {
      const code = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) code.push(lines[i++]);
      i++;
      const language = fence[2].trim();
      blocks.push(h('pre', {}, h('code', language ? { class: `language-${language}` } : {}, code.join('\n'))));
      continue;
    }
    const heading = line.match(/^(#{1,6})\s+(.*?)\s*#*\s*$/);
    if (heading) {
      blocks.push(h(`h${heading[1].length}`, {}, inline(heading[2])));
      i++;
      continue;
    }
    if (isTableRow(line) && i + 1 < lines.length && /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/.test(lines[i + 1])) {
      const header = cells(line);
      const alignments = cells(lines[i + 1]).map(cell => (cell.endsWith(':') ? (cell.startsWith(':') ? 'center' : 'right') : null));
      i += 2;
      const body = [];
      while (i < lines.length && isTableRow(lines[i])) body.push(cells(lines[i++]));
      const cell = (tag, text, column) => h(tag, alignments[column] ? { style: { textAlign: alignments[column] } } : {}, inline(text));
      blocks.push(h('table', {},
        h('thead', {}, h('tr', {}, header.map((text, column) => cell('th', text, column)))),
        h('tbody', {}, body.map(row => h('tr', {}, header.map((_, column) => cell('td', row[column] ?? '', column)))))));
      continue;
    }
    const item = line.match(/^\s*([-*+]|\d+[.)])\s+(.*)$/);
    if (item) {
      const ordered = /\d/.test(item[1]);
      const items = [];
      while (i < lines.length) {
        const next = lines[i].match(/^\s*([-*+]|\d+[.)])\s+(.*)$/);
        if (next && /\d/.test(next[1]) === ordered) {
          items.push(next[2]);
        } else if (lines[i].trim() !== '' && /^\s{2,}/.test(lines[i]) && items.length) {
          items[items.length - 1] += ` ${lines[i].trim()}`;
        } else {
          break;
        }
        i++;
      }
      blocks.push(h(ordered ? 'ol' : 'ul', {}, items.map(text => h('li', {}, inline(text)))));
      continue;
    }
    if (/^\s*>/.test(line)) {
      const quoted = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) quoted.push(lines[i++].replace(/^\s*>\s?/, ''));
      blocks.push(h('blockquote', {}, renderMarkdown(quoted.join('\n'), { image })));
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      blocks.push(h('hr'));
      i++;
      continue;
    }
    const paragraph = [];
    while (i < lines.length && lines[i].trim() !== '' && !/^(#{1,6}\s|\s*```|\s*~~~|\s*([-*+]|\d+[.)])\s)/.test(lines[i]) && !isTableRow(lines[i])) {
      paragraph.push(lines[i++].trim());
    }
    if (paragraph.length === 0) paragraph.push(lines[i++].trim()); // a lone table-like line without its separator
    blocks.push(h('p', {}, inline(paragraph.join(' '))));
  }
  return blocks;
}

function isTableRow(line) {
  return /^\s*\|.*\|\s*$/.test(line);
}

function cells(line) {
  const trimmed = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  const result = [];
  let current = '';
  for (let i = 0; i < trimmed.length; i++) {
    if (trimmed[i] === '\\' && trimmed[i + 1] === '|') {
      current += '|';
      i++;
    } else if (trimmed[i] === '|') {
      result.push(current.trim());
      current = '';
    } else {
      current += trimmed[i];
    }
  }
  result.push(current.trim());
  return result;
}

/** Inline markdown: `code`, **bold**, *italic* or _italic_, ![alt](image), [text](url). Everything else is text. */
function inlineWith(text, image) {
  const inline = part => inlineWith(part, image);
  const nodes = [];
  const pattern = /!\[([^\]]*)\]\(([^)\s]+)\)|`([^`]+)`|\*\*(.+?)\*\*|(?<![\w*])\*(?!\s)(.+?)\*(?!\w)|(?<!\w)_(?!\s)(.+?)_(?!\w)|\[([^\]]+)\]\(([^)\s]+)\)/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) nodes.push(text.slice(last, match.index));
    if (match[1] !== undefined) {
      const source = image(match[2], match[1]);
      nodes.push(source ? h('img', { src: source, alt: match[1] }) : match[1]);
    } else if (match[3] !== undefined) nodes.push(h('code', {}, match[3]));
    else if (match[4] !== undefined) nodes.push(h('strong', {}, inline(match[4])));
    else if (match[5] !== undefined) nodes.push(h('em', {}, inline(match[5])));
    else if (match[6] !== undefined) nodes.push(h('em', {}, inline(match[6])));
    else nodes.push(link(match[7], match[8], inline));
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}

function link(text, target, inline) {
  const safe = /^(https?:\/\/|\/|#|\.{0,2}\/|[\w.-]+(\/|$|#))/i.test(target) && !/^\s*(javascript|data|vbscript):/i.test(target);
  if (!safe) return text;
  const external = /^https?:\/\//i.test(target);
  return h('a', external ? { href: target, rel: 'noopener noreferrer' } : { href: target }, inline(text));
}
