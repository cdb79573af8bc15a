// The map's two languages, English and Ukrainian: every string it shows
// comes from the message catalogues in messages/, the language from the
// reader's choice (kept in localStorage), else the browser's languages.
// Choosing another language reloads the page, so every string, drawn or
// not yet, is in one language; the link keeps the view.
import en from './messages/en.json';
import uk from './messages/uk.json';
import { coordMessage as coordMessageWith, translator, pickLanguage } from './messages.js';
import * as coords from './coords.js';

/** STORAGE_KEY is where the reader's choice of language is kept. */
const STORAGE_KEY = 'protectmap.lang';

function storedLanguage() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage refused (a private window's settings, say)
  }
}

/** lang is the language of this page: 'en' or 'uk'. */
export const lang = pickLanguage(storedLanguage(), navigator.languages ?? [navigator.language]);

const catalogues = { en, uk };

/** t gives the message key in lang, its {name}s filled from params; a message with plural forms takes params.count. */
export const t = translator(catalogues[lang], lang, (key) => console.error(`no message ${key} in ${lang}`));

/** formatCount, formatMeters, formatInstant and formatBearing write for lang's readers (see coords.js). */
export const formatCount = coords.countFormat(lang);
export const formatMeters = (meters) => coords.formatMeters(meters, lang);
export const formatInstant = (datetime) => coords.formatInstant(datetime, lang);
const compass = { here: t('bearing.here'), points: t('bearing.points').split(' ') };
export const formatBearing = (deg) => coords.formatBearing(deg, compass);

/** coordMessage says in lang what a CoordError found wrong. */
export const coordMessage = (err) => coordMessageWith(t, err);

/**
 * localize fills the page's fixed text from the catalogue: an element with
 * data-i18n gets that message as its text, one with data-i18n-attr
 * ("aria-label:key;title:key") those attributes.
 */
export function localize(root = document) {
  document.documentElement.lang = lang;
  for (const e of root.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  for (const e of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of e.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      e.setAttribute(attr, t(key));
    }
  }
}

/** languageSwitch offers the languages in select, and keeps and applies the one chosen. */
export function languageSwitch(select) {
  select.value = lang;
  select.addEventListener('change', () => {
    try {
      localStorage.setItem(STORAGE_KEY, select.value);
    } catch {
      return; // nowhere to keep it: the page stays as it is
    }
    location.reload();
  });
}

/**
 * optional is the message key in lang when the catalogue has it, else
 * fallback: for names the catalogue may or may not know, such as the
 * server's collections and the data's kinds of site.
 */
function optional(key, fallback) {
  return typeof catalogues[lang][key] === 'string' ? t(key) : fallback;
}

/** collectionTitle is a collection's title in lang: the catalogue's collection.ID, else the server's title, else its id. */
export const collectionTitle = (collection) => optional(`collection.${collection.id}`, collection.title || collection.id);

/** kindName is a kind of site in lang: the catalogue's kind.KIND, else the kind as the data writes it. */
export const kindName = (kind) => (kind ? optional(`kind.${kind}`, kind) : kind);

/** formatPoint writes a point with lang's letters for the hemispheres (see coords.js). */
const hemispheres = { N: t('point.north'), S: t('point.south'), E: t('point.east'), W: t('point.west') };
export const formatPoint = (lat, lon, digits) => coords.formatPoint(lat, lon, digits, hemispheres);

/** featureName is a site's name in lang where its data has one (name_uk, name_en), else its name. */
export function featureName(props) {
  for (const key of [`name_${lang}`, 'name']) {
    if (typeof props?.[key] === 'string' && props[key] !== '') return props[key];
  }
  return null;
}
