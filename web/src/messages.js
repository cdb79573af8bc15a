// Message catalogues as functions: pure, so node's test runner covers them.

/** LANGUAGES are the languages the map is written in, the first the default. */
export const LANGUAGES = ['en', 'uk'];

/** pickLanguage is the stored choice when it is one of LANGUAGES, else the first of the browser's that is, else English. */
export function pickLanguage(stored, browser) {
  if (LANGUAGES.includes(stored)) return stored;
  for (const tag of browser ?? []) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return LANGUAGES[0];
}

/**
 * translator gives t(key, params) over catalogue: the message with each
 * {name} replaced by params[name]. A message of plural forms ({one, few,
 * many, other}) is chosen by params.count with lang's plural rules. A key
 * the catalogue lacks is reported to missing and shown as itself.
 */
export function translator(catalogue, lang, missing) {
  const plurals = new Intl.PluralRules(lang);
  return (key, params = {}) => {
    let message = catalogue[key];
    if (message !== null && typeof message === 'object') message = message[plurals.select(params.count)] ?? message.other;
    if (typeof message !== 'string') {
      missing(key);
      return key;
    }
    return message.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  };
}

/** coordMessage says with t what a CoordError (coords.js) found wrong: its key and the keys among its params are messages under "coords.". */
export function coordMessage(t, err) {
  const params = { ...err.params };
  for (const name of ['axis', 'part']) if (params[name]) params[name] = t(`coords.${params[name]}`);
  return t(`coords.${err.key}`, params);
}
