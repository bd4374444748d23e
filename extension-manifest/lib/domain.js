// URL helpers shared by the service worker and the extension pages. Pure.
//
// siteKey(url): the "host:port" a site verdict is about (the host's `sites`
// request reduces URLs the same way), or null for anything but http(s).
// registrableDomain(host): the part of a host name a person should read
// ("example.com" in "login.example.com.evil.example"). The host names it in
// every site verdict (`registrable_domain`, from the full Public Suffix List),
// and splitHost prefers that answer; without one, a simplified public
// suffix rule: the last two labels, or three under the multi-label suffixes
// listed below; IP addresses and single labels are returned whole. It is used
// for display only (the warning page highlights it), never for a decision.

const MULTI_LABEL_SUFFIXES = new Set([
  'ac.uk', 'co.uk', 'gov.uk', 'ltd.uk', 'me.uk', 'net.uk', 'org.uk', 'plc.uk', 'sch.uk',
  'com.au', 'net.au', 'org.au', 'edu.au', 'gov.au', 'co.nz', 'org.nz', 'co.jp', 'ne.jp', 'or.jp',
  'com.br', 'com.cn', 'com.hk', 'com.mx', 'com.sg', 'com.tr', 'com.tw', 'co.in', 'co.il', 'co.kr',
  'co.za', 'com.ar', 'com.pl', 'gov.be', 'fgov.be', 'github.io', 'gitlab.io', 'blogspot.com',
  'herokuapp.com', 'azurewebsites.net', 'cloudfront.net', 'appspot.com', 'netlify.app',
  'vercel.app', 'pages.dev', 'workers.dev', 'web.app', 'firebaseapp.com', 'r2.dev',
]);

/** A URL object for http(s) URLs, else null. */
export function parseWebUrl(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
  if (u.hostname === '') return null;
  return u;
}

/** "host:port" with the scheme's default port filled in, or null. */
export function siteKey(url) {
  const u = parseWebUrl(url);
  if (u === null) return null;
  const port = u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  return `${hostOf(u)}:${port}`;
}

/** The host name without IPv6 brackets, lower case (URL already gives punycode). */
export function hostOf(u) {
  const h = u.hostname.toLowerCase();
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

function isIp(host) {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

/** See the file comment. */
export function registrableDomain(host) {
  const h = String(host ?? '').toLowerCase().replace(/\.$/, '');
  if (h === '' || isIp(h)) return h;
  const labels = h.split('.');
  if (labels.length <= 2) return h;
  const last2 = labels.slice(-2).join('.');
  const n = MULTI_LABEL_SUFFIXES.has(last2) ? 3 : 2;
  return labels.slice(-n).join('.');
}

/**
 * Splits a host into [prefix, registrable] for display ("login.", "example.com").
 * `known` is the host's own answer (the site verdict's `registrable_domain`,
 * from the full Public Suffix List); it is used when it is a suffix of the
 * host on a label boundary, else the simplified rule above.
 */
export function splitHost(host, known) {
  const h = String(host ?? '').toLowerCase();
  const k = typeof known === 'string' ? known.toLowerCase() : '';
  const reg = k !== '' && (h === k || h.endsWith(`.${k}`)) ? k : registrableDomain(h);
  return [h.slice(0, h.length - reg.length), reg];
}

/** True when an exception pattern ("example.com" covers its subdomains) matches host. */
export function exceptionMatches(pattern, host) {
  const p = String(pattern ?? '').toLowerCase().replace(/^\*\./, '').replace(/\.$/, '');
  const h = String(host ?? '').toLowerCase();
  if (p === '') return false;
  return h === p || h.endsWith(`.${p}`);
}

/** Normalises what a user typed as an exception: a host name, or null. */
export function parseException(text) {
  let s = String(text ?? '').trim().toLowerCase();
  if (s === '') return null;
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(s)) {
    const u = parseWebUrl(s);
    if (u === null) return null;
    s = hostOf(u);
  }
  s = s.replace(/^\*\./, '').replace(/\.$/, '');
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(s) && !isIp(s)) {
    try {
      s = new URL(`https://${s}/`).hostname; // IDN to punycode
    } catch {
      return null;
    }
    if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(s)) return null;
  }
  return s;
}

/** Normalises a webmail address the user typed to an origin ("https://mail.example.be"), or null. */
export function parseWebmailOrigin(text) {
  let s = String(text ?? '').trim();
  if (s === '') return null;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s) && !/^https?:\/\//i.test(s)) return null;
  if (!/^https?:\/\//i.test(s)) s = `https://${s}`;
  const u = parseWebUrl(s);
  if (u === null) return null;
  return u.origin;
}

/** A match pattern for an origin (ports are not part of match patterns). */
export function originPattern(origin) {
  const u = parseWebUrl(origin);
  if (u === null) return null;
  return `${u.protocol}//${hostOf(u).includes(':') ? `[${hostOf(u)}]` : hostOf(u)}/*`;
}
