import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { tokenizer } from 'acorn';
import { LANGUAGES, pickLanguage, translator } from './messages.js';

const read = (name) => readFileSync(new URL(name, import.meta.url), 'utf8');
const catalogues = Object.fromEntries(LANGUAGES.map((lang) => [lang, JSON.parse(read(`./messages/${lang}.json`))]));
const placeholders = (message) => new Set([...JSON.stringify(message).matchAll(/\{(\w+)\}/g)].map((m) => m[1]));

test('every message is in every language, with the same placeholders and the plural forms each needs', () => {
  const [first, ...others] = LANGUAGES;
  for (const lang of others) {
    assert.deepEqual(Object.keys(catalogues[lang]).sort(), Object.keys(catalogues[first]).sort(), `${lang} and ${first} name different messages`);
  }
  for (const lang of LANGUAGES) {
    const forms = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
    for (const [key, message] of Object.entries(catalogues[lang])) {
      assert.deepEqual(placeholders(message), placeholders(catalogues[first][key]), `${lang} ${key}: placeholders`);
      if (typeof message === 'object') {
        for (const form of forms) assert.equal(typeof message[form], 'string', `${lang} ${key}: no "${form}" form`);
      } else {
        assert.equal(typeof message, 'string', `${lang} ${key}`);
        assert.notEqual(message.trim(), '', `${lang} ${key} is empty`);
      }
    }
  }
});

test('translator fills placeholders and picks plural forms', () => {
  const missing = [];
  const t = translator(catalogues.uk, 'uk', (key) => missing.push(key));
  assert.equal(t('strikes.count', { count: 1, n: '1' }), '1 удар');
  assert.equal(t('strikes.count', { count: 3, n: '3' }), '3 удари');
  assert.equal(t('strikes.count', { count: 11, n: '11' }), '11 ударів');
  assert.equal(t('strikes.upTo', { time: 'X' }), 'До X');
  assert.equal(t('no.such.key'), 'no.such.key');
  assert.deepEqual(missing, ['no.such.key']);
  const en = translator(catalogues.en, 'en', () => {});
  assert.equal(en('strikes.count', { count: 1, n: '1' }), '1 strike');
  assert.equal(en('strikes.count', { count: 2, n: '2' }), '2 strikes');
});

test('pickLanguage keeps the choice made, else follows the browser, else English', () => {
  assert.equal(pickLanguage('uk', ['en-US']), 'uk');
  assert.equal(pickLanguage(null, ['de-DE', 'uk-UA', 'en']), 'uk');
  assert.equal(pickLanguage('fr', ['en-GB']), 'en');
  assert.equal(pickLanguage(null, ['ru-RU']), 'en');
  assert.equal(pickLanguage(null, []), 'en');
});

// The map's modules, without their tests.
const modules = readdirSync(new URL('.', import.meta.url)).filter((f) => f.endsWith('.js') && !f.endsWith('.test.js'));

// literals are the strings and the text of template literals in a module.
function literals(source) {
  const out = [];
  for (const token of tokenizer(source, { ecmaVersion: 'latest', sourceType: 'module' })) {
    if (token.type.label === 'string' || token.type.label === 'template') out.push(String(token.value));
  }
  return out;
}

// prose is text written for people: words with a space between them, and a
// capital or a sentence's punctuation, which class names, selectors, keys
// and protocol words never have.
const prose = (s) => /[A-Za-zА-Яа-яІіЇїЄєҐґ’]{2,} [A-Za-zА-Яа-яІіЇїЄєҐґ]{2,}/.test(s.replace(/\$\{[^}]*\}/g, '')) && /[A-ZА-ЯІЇЄҐ][a-zа-яіїєґ]|[.:;…’!?]/.test(s.replace(/\$\{[^}]*\}/g, ''));

test('no text of the map is written in its code rather than the catalogue', () => {
  const found = [];
  // CSS selectors name attributes in brackets; no message does.
  const selector = (s) => /\[[\w-]+(=[^\]]*)?\]/.test(s);
  for (const file of modules) {
    for (const s of literals(read(`./${file}`))) if (prose(s) && !selector(s)) found.push(`${file}: ${s}`);
  }
  assert.deepEqual(found, []);
});

test('every text of the page comes from the catalogue', () => {
  const html = read('../index.html').replace(/<script[\s\S]*?<\/script>/g, '');
  // Text between tags, but in elements that take theirs from data-i18n,
  // keyboard examples (coordinates), languages named in their own, and the
  // product's name.
  const stripped = html
    .replace(/<(\w+)\b[^>]*\bdata-i18n="[^"]*"[^>]*>[^<]*<\/\1>/g, '')
    .replace(/<(kbd|option)\b[^>]*>[^<]*<\/\1>/g, '')
    .replace(/<h1>protectmap<\/h1>/, '');
  const texts = [...stripped.matchAll(/>([^<]+)</g)].map((m) => m[1].trim()).filter((s) => /[A-Za-zА-Яа-я]{2,}/.test(s));
  assert.deepEqual(texts, []);
  for (const m of html.matchAll(/\b(aria-label|title|placeholder|alt)="([^"]*)"/g)) assert.fail(`${m[1]}="${m[2]}" is not from the catalogue`);
});

test('every message the map asks for is in the catalogue', () => {
  const keys = new Set(Object.keys(catalogues.en));
  const asked = [];
  for (const file of modules) asked.push(...[...read(`./${file}`).matchAll(/\bt\('([\w.]+)'/g)].map((m) => m[1]));
  const html = read('../index.html');
  asked.push(...[...html.matchAll(/data-i18n="([\w.]+)"/g)].map((m) => m[1]));
  asked.push(...[...html.matchAll(/data-i18n-attr="([^"]+)"/g)].flatMap((m) => m[1].split(';').map((p) => p.split(':')[1])));
  assert.deepEqual(asked.filter((k) => !keys.has(k)), []);
  assert.ok(asked.length > 100, `only ${asked.length} messages found: the scan is broken`);
});
