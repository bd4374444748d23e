// Renders the view models of verdict-text.js into extension pages (popup,
// warning page, mail badge frame, .eml page). textContent only: verdicts
// carry strings from certificates and mails, which are never parsed as HTML.

import { mailView, say, siteView } from './verdict-text.js';
import { splitHost } from './domain.js';

export function el(doc, tag, attrs = {}, text = null) {
  const e = doc.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined) continue;
    if (k === 'className') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e.setAttribute(k, v);
  }
  if (text !== null) e.textContent = text;
  return e;
}

function rowsList(doc, t, rows) {
  const dl = el(doc, 'dl', { className: 'rows' });
  for (const r of rows) {
    dl.append(el(doc, 'dt', {}, t(r.label)));
    dl.append(el(doc, 'dd', {}, r.valueKey ? t(r.valueKey) : r.value));
  }
  return dl;
}

function reasonsList(doc, t, reasons, testid) {
  const ul = el(doc, 'ul', { className: 'reasons', 'data-testid': testid });
  for (const r of reasons) ul.append(el(doc, 'li', { 'data-code': r.code }, t(r.key)));
  return ul;
}

/** A host name with its registrable domain emphasised (`known`: the verdict's). */
export function hostLine(doc, host, known) {
  const [prefix, reg] = splitHost(host, known);
  const span = el(doc, 'span', { className: 'host', 'data-testid': 'host' });
  if (prefix) span.append(el(doc, 'span', { className: 'host-prefix' }, prefix));
  span.append(el(doc, 'strong', { className: 'host-registrable', 'data-testid': 'registrable' }, reg));
  return span;
}

/** Fills `box` with a site verdict entry ({verdict} or {error}). */
export function renderSite(doc, box, entry, t) {
  const m = siteView(entry);
  box.replaceChildren();
  box.dataset.tone = m.tone;
  box.dataset.level = m.level?.code ?? '';
  box.append(el(doc, 'p', { className: 'headline', 'data-testid': 'site-headline' }, say(t, m.headline)));
  if (m.level) box.append(el(doc, 'p', { className: 'level', 'data-testid': 'site-level' }, t(m.level.key)));
  if (m.rows.length > 0) box.append(rowsList(doc, t, m.rows));
  if (m.reasons.length > 0) box.append(reasonsList(doc, t, m.reasons, 'site-reasons'));
  if (m.error) box.append(el(doc, 'p', { className: 'detail' }, t('errorDetail', [m.error])));
  return m;
}

/** Fills `box` with a mail verdict (or {unreadable: true}). */
export function renderMail(doc, box, verdict, t, { links = true } = {}) {
  const m = mailView(verdict);
  box.replaceChildren();
  box.dataset.tone = m.tone;
  box.dataset.kind = m.kind;
  box.append(el(doc, 'p', { className: 'headline', 'data-testid': 'mail-headline' }, say(t, m.headline)));
  if (m.details.length > 0) box.append(rowsList(doc, t, m.details));
  if (m.reasons.length > 0) box.append(reasonsList(doc, t, m.reasons, 'mail-reasons'));
  if (links && m.links.length > 0) {
    const signed = m.links.filter((l) => l.signed);
    const unsigned = m.links.filter((l) => !l.signed);
    for (const [list, key, cls] of [
      [signed, 'linksSigned', 'links-signed'],
      [unsigned, 'linksUnsigned', 'links-unsigned'],
    ]) {
      if (list.length === 0) continue;
      const sec = el(doc, 'section', { className: cls, 'data-testid': cls });
      sec.append(el(doc, 'p', { className: 'links-title' }, t(key)));
      const ul = el(doc, 'ul');
      for (const l of list.slice(0, 50)) ul.append(el(doc, 'li', { className: 'url' }, l.url));
      sec.append(ul);
      box.append(sec);
    }
  }
  return m;
}
