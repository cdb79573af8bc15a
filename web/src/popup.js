import { collectionTitle, featureName, kindName, lang, t } from './i18n.js';

// A site's popup: name in the reader's language and as written locally, kind, layer,
// source, every property, and links.
// Built from DOM nodes, never HTML strings, since the data is not ours.

/**
 * asText is Leaflet tooltip or popup content showing s as text: Leaflet
 * reads a string as HTML, and a site's name is not ours.
 */
export function asText(s) {
  return () => document.createTextNode(s);
}

/** itemPath is the API path of one site. */
export function itemPath(collection, id) {
  return `/collections/${encodeURIComponent(collection)}/items/${encodeURIComponent(id)}`;
}

/**
 * sitePopup builds the popup content for a GeoJSON feature of collection
 * (an {id, title} object). permalink is the map link that reopens the site;
 * onCheck, when given, adds a button that checks the location at the popup.
 */
export function sitePopup(feature, collection, { permalink, onCheck }) {
  const props = feature.properties ?? {};
  const root = el('div', 'site-popup');
  const name = featureName(props);
  root.append(el('h2', null, name ?? t('site.unnamed', { id: feature.id })));
  // The site's name in the map's other language, under the one shown.
  const local = otherName(props, name);
  if (local) {
    const p = el('p', 'name-local', local.name);
    p.lang = local.lang;
    root.append(p);
  }
  const meta = [text(kindName(props.kind)), collectionTitle(collection)].filter(Boolean).join(' · ');
  root.append(el('p', 'meta', meta));
  if (props.source !== undefined) {
    root.append(el('p', 'source', t('site.source', { source: text(props.source) })));
  }
  const table = el('table');
  const body = el('tbody');
  for (const [key, value] of Object.entries(props)) {
    const row = el('tr');
    row.append(el('th', null, key), el('td', null, text(value)));
    body.append(row);
  }
  table.append(body);
  const scroll = el('div', 'scroll');
  // A region that scrolls must take the keyboard's focus, or its rows
  // cannot be reached without a mouse.
  scroll.tabIndex = 0;
  scroll.append(table);
  root.append(scroll);

  const actions = el('p', 'actions');
  const link = el('a', null, t('site.link'));
  link.href = permalink;
  const api = el('a', null, t('site.geojson'));
  api.href = itemPath(collection.id, feature.id);
  api.type = 'application/geo+json';
  actions.append(link, api);
  if (onCheck) {
    const check = el('button', 'secondary', t('site.check'));
    check.type = 'button';
    check.addEventListener('click', onCheck);
    actions.append(check);
  }
  root.append(actions);
  return root;
}

/**
 * OTHER_NAMES are, for each language of the map, the properties holding a
 * site's name in the other, first found first: a Ukrainian page adds the
 * English name (else the one the data gives), an English page the
 * Ukrainian (else the Russian, as some sources write it).
 */
const OTHER_NAMES = {
  uk: [['name_en', 'en'], ['name', '']],
  en: [['name_uk', 'uk'], ['name_ru', 'ru']],
};

/** otherName is the site's name in the map's other language, when it has one that differs from the name shown. */
function otherName(props, shown) {
  for (const [key, language] of OTHER_NAMES[lang]) {
    const name = props[key];
    if (typeof name === 'string' && name !== '' && name !== shown) return { name, lang: language };
  }
  return null;
}

function text(value) {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** el makes an element of tag with a class and text content, each optional. */
export function el(tag, className, content) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (content !== undefined) e.textContent = content;
  return e;
}
