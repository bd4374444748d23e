// What the user reads, from the host's verdicts: pure view models that the
// pages render with textContent (render.js). Every text is a _locales key
// plus substitutions; nothing here touches the DOM or the browser.
//
// Site: siteView(verdict) -> {tone, badge: {text, color}, headline, level,
// rows, reasons}. Mail: mailView(verdict | {unreadable}) -> {kind, tone,
// headline, details, reasons, links}. A message that could not be read is
// its own kind ("could not read this message"), never "not signed".

export const COLORS = Object.freeze({ trusted: '#1a7f37', caution: '#6e7781', danger: '#b3261e', none: '#6e7781' });

export const LEVEL_KEYS = Object.freeze({
  qwac: 'levelQwac',
  ev: 'levelEv',
  ov: 'levelOv',
  iv: 'levelIv',
  dv: 'levelDv',
  unknown: 'levelUnknown',
  none: 'levelNone',
});

const BADGE_LEVEL = Object.freeze({ qwac: 'QWAC', ev: 'EV', ov: 'OV', iv: 'IV', dv: 'DV', unknown: '?', none: '' });

export const SITE_REASON_KEYS = Object.freeze({
  no_tls: 'sr_no_tls',
  untrusted_root: 'sr_untrusted_root',
  self_signed: 'sr_self_signed',
  expired: 'sr_expired',
  not_yet_valid: 'sr_not_yet_valid',
  hostname_mismatch: 'sr_hostname_mismatch',
  revoked: 'sr_revoked',
  chain_too_long: 'sr_chain_too_long',
  invalid_chain: 'sr_invalid_chain',
  distrusted_root: 'sr_distrusted_root',
  ev_policy_not_enabled_for_root: 'sr_ev_policy_not_enabled_for_root',
  no_policy: 'sr_no_policy',
  qc_statements_without_web_type: 'sr_qc_statements_without_web_type',
  qwac_not_on_eutl: 'sr_qwac_not_on_eutl',
  revocation_unknown: 'sr_revocation_unknown',
  enterprise_number_invalid: 'sr_enterprise_number_invalid',
  no_valid_scts: 'sr_no_valid_scts',
  weak_key: 'sr_weak_key',
});

export const MAIL_REASON_KEYS = Object.freeze({
  unsigned: 'mr_unsigned',
  unsupported: 'mr_unsupported',
  malformed_mime: 'mr_malformed_mime',
  unparseable: 'mr_malformed_mime',
  no_content: 'mr_malformed_mime',
  from_mismatch: 'mr_from_mismatch',
  several_from: 'mr_several_from',
  sender_differs: 'mr_sender_differs',
  address_not_certified: 'mr_address_not_certified',
  signer_untrusted: 'mr_signer_untrusted',
  invalid_at_signing: 'mr_invalid_at_signing',
  certificate_expired_since: 'mr_certificate_expired_since',
  revoked: 'mr_revoked',
  revoked_since: 'mr_revoked_since',
  revocation_unknown: 'mr_revocation_unknown',
  signing_time_differs: 'mr_signing_time_differs',
  partial_coverage: 'mr_partial_coverage',
  signature_in_attachment_only: 'mr_signature_in_attachment_only',
  unsigned_usually_signed: 'mr_unsigned_usually_signed',
  signer_changed: 'mr_signer_changed',
  no_signer: 'mr_broken',
  several_signers: 'mr_several_signers',
  econtent_and_detached: 'mr_broken',
  weak_digest: 'mr_weak',
  weak_signature: 'mr_weak',
  no_signed_attributes: 'mr_broken',
  bad_signed_attributes: 'mr_broken',
  digest_mismatch: 'mr_digest_mismatch',
  bad_signature: 'mr_bad_signature',
});

export const ERROR_KEYS = Object.freeze({
  bad_url: 'err_bad_url',
  blocked_address: 'err_blocked_address',
  dns_failed: 'err_dns_failed',
  connect_failed: 'err_connect_failed',
  tls_failed: 'err_tls_failed',
  timeout: 'err_timeout',
  request_timeout: 'err_timeout',
});

const str = (v) => (typeof v === 'string' && v.trim() !== '' ? v : null);

function reasonList(codes, table, fallback) {
  const out = [];
  const seen = new Set();
  for (const c of Array.isArray(codes) ? codes : []) {
    const key = table[c] ?? fallback;
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ key, code: c });
    }
  }
  return out;
}

/** The toolbar badge for a site verdict (text and colour), or an error. */
export function siteBadge(entry) {
  if (!entry) return { text: '', color: COLORS.none, title: 'badgeTitleNone' };
  if (entry.error) return { text: '?', color: COLORS.none, title: 'badgeTitleError' };
  const v = entry.verdict ?? entry;
  if (v.verdict === 'danger') return { text: '!', color: COLORS.danger, title: 'badgeTitleDanger' };
  const text = BADGE_LEVEL[v.level] ?? '?';
  return { text, color: v.verdict === 'trusted' ? COLORS.trusted : COLORS.caution, title: v.verdict === 'trusted' ? 'badgeTitleTrusted' : 'badgeTitleCaution' };
}

/**
 * @param {{verdict?: object, error?: {code: string, message: string}}} entry
 */
export function siteView(entry) {
  if (!entry || (!entry.verdict && !entry.error)) {
    return { tone: 'none', headline: { key: 'siteNotChecked', subs: [] }, level: null, rows: [], reasons: [], error: null };
  }
  if (entry.error) {
    const code = entry.error.code;
    return {
      tone: 'none',
      headline: { key: 'siteCouldNotCheck', subs: [] },
      level: null,
      rows: [],
      reasons: [{ key: ERROR_KEYS[code] ?? 'err_other', code }],
      error: str(entry.error.message),
    };
  }
  const v = entry.verdict;
  const host = str(v.host) ?? '';
  const id = v.identity && typeof v.identity === 'object' ? v.identity : {};
  const org = str(id.organization);
  const rows = [];
  let headline;
  if (v.verdict === 'danger' || v.valid === false) {
    headline = { key: 'siteDanger', subs: [host] };
  } else if (org !== null) {
    headline = { key: v.verdict === 'trusted' ? 'siteProvenTrusted' : 'siteProvenCaution', subs: [org] };
  } else if (v.level === 'iv') {
    const person = str([id.given_name, id.surname].filter(Boolean).join(' ')) ?? str(id.common_name);
    headline = person ? { key: 'siteProvenPerson', subs: [person] } : { key: 'siteNobodyProven', subs: [host] };
  } else {
    headline = { key: 'siteNobodyProven', subs: [host] };
  }
  if (v.verdict !== 'danger' && v.valid !== false) {
    if (org !== null) rows.push({ label: 'rowOrganization', value: org });
    const country = str(id.jurisdiction_country) ?? str(id.country);
    if (country !== null) rows.push({ label: 'rowCountry', value: country });
    if (str(id.enterprise_number) !== null) rows.push({ label: 'rowEnterprise', value: id.enterprise_number });
    else if (str(id.organization_identifier) !== null) rows.push({ label: 'rowOrgId', value: id.organization_identifier });
    const iss = v.issuer && typeof v.issuer === 'object' ? str(v.issuer.organization) ?? str(v.issuer.common_name) : null;
    if (iss !== null) rows.push({ label: 'rowIssuer', value: iss });
    if (str(v.not_after) !== null) rows.push({ label: 'rowValidUntil', value: v.not_after.slice(0, 10) });
    const rev = { good: 'revGood', revoked: 'revRevoked', unknown: 'revUnknown', not_checked: 'revNotChecked' }[v.revocation];
    if (rev) rows.push({ label: 'rowRevocation', valueKey: rev });
  }
  return {
    tone: v.verdict === 'trusted' ? 'trusted' : v.verdict === 'danger' ? 'danger' : 'caution',
    headline,
    level: { key: LEVEL_KEYS[v.level] ?? 'levelUnknown', code: v.level ?? 'unknown' },
    host,
    rows,
    reasons: reasonList(v.reasons, SITE_REASON_KEYS, 'sr_other'),
    error: null,
  };
}

/**
 * The badge beside a mail.
 * @param {object|null} v  a mail verdict, or {unreadable: true}
 */
export function mailView(v) {
  if (!v || v.unreadable || typeof v.signature !== 'string') {
    return { kind: 'unreadable', tone: 'none', headline: { key: 'mailUnreadable', subs: [] }, details: [], reasons: [], links: [] };
  }
  const reasons = Array.isArray(v.reasons) ? v.reasons : [];
  const signer = v.signer && typeof v.signer === 'object' ? v.signer : null;
  const name = str(signer?.name) ?? str(signer?.email) ?? str(v.from) ?? '?';
  const from = str(v.from) ?? '?';
  const tone = v.verdict === 'trusted' ? 'trusted' : v.verdict === 'danger' ? 'danger' : 'caution';
  let kind;
  let headline;
  if (v.signature === 'invalid') {
    kind = 'broken';
    headline = { key: 'mailBroken', subs: [] };
  } else if (v.signature === 'unsupported') {
    kind = 'unsupported';
    headline = { key: 'mailUnsupported', subs: [] };
  } else if (v.signature === 'none') {
    if (reasons.includes('unsigned_usually_signed')) {
      kind = 'usually';
      headline = { key: 'mailUsuallySigns', subs: [from] };
    } else {
      kind = 'unsigned';
      headline = { key: 'mailNotSigned', subs: [] };
    }
  } else if (reasons.includes('signer_changed')) {
    kind = 'changed';
    headline = { key: 'mailSignerChanged', subs: [name] };
  } else if (tone === 'danger') {
    kind = 'problem';
    headline = { key: 'mailSignedProblem', subs: [name] };
  } else if (signer?.kind === 'eid') {
    kind = 'eid';
    headline = { key: 'mailSignedEid', subs: [name] };
  } else if (signer?.kind === 'qualified') {
    kind = 'qualified';
    headline = { key: 'mailSignedQualified', subs: [name] };
  } else {
    kind = 'smime';
    headline = { key: 'mailSignedSmime', subs: [name] };
  }
  const details = [];
  if (signer && v.signature !== 'none') {
    if (signer.kind === 'eid') details.push({ label: 'rowCard', valueKey: signer.card === 'foreigner' ? 'cardForeigner' : 'cardCitizen' });
    if (str(signer.issuer) !== null) details.push({ label: 'rowIssuer', value: signer.issuer });
    if (str(signer.email) !== null) details.push({ label: 'rowCertAddress', value: signer.email });
  }
  if (str(v.from) !== null) details.push({ label: 'rowFrom', value: v.from });
  if (str(v.signing_time) !== null && v.signature === 'valid') details.push({ label: 'rowSigned', value: v.signing_time.replace('T', ' ').slice(0, 16) });
  const shown = reasons.filter((r) => r !== 'unsigned' || kind !== 'unsigned');
  const links = (Array.isArray(v.links) ? v.links : [])
    .filter((l) => l && typeof l.url === 'string')
    .map((l) => ({ url: l.url, signed: l.signed === true }));
  return {
    kind,
    tone: kind === 'unsigned' ? 'caution' : tone,
    headline,
    details,
    reasons: reasonList(shown, MAIL_REASON_KEYS, 'mr_other'),
    links,
    signerChanged: kind === 'changed' ? { from, cert: str(signer?.cert_sha256) } : null,
  };
}

/** The holder of the first Belgian eID card's signature certificate, never its serial numbers. */
export function cardHolder(result) {
  const tokens = Array.isArray(result?.tokens) ? result.tokens : [];
  const card = tokens.find((x) => x && x.belpic === true);
  if (!card) return null;
  const certs = Array.isArray(card.certificates) ? card.certificates : [];
  const sig = certs.find((c) => c && (c.label === 'Signature' || c.id === '03')) ?? null;
  const name = sig?.subject?.name;
  return typeof name === 'string' && name.trim() !== '' ? name : null;
}

/** Text of a {key, subs} with a translator t(key, subs). */
export function say(t, m) {
  return t(m.key, m.subs ?? []);
}
