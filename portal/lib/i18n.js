// The message catalogue served by `GET /v1/messages`: UI strings, status labels and error
// texts in one language, plus the deployment's default time zone. Dates are formatted in the
// tenant's zone from `GET /v1/settings` once app.js has set it (setTimeZone), and in the
// catalogue's zone until then or when the settings could not be read. The catalogue needs no
// sign-in: on AWS `GET /v1/messages` is public, so that the sign-in screens have their texts.
// The bearer token goes along when one is held.

import { authorizationHeader } from './auth.js';

const STORAGE_KEY = 'deptoken.lang';
const LANGUAGES = ['ja', 'en'];

let catalogue = null;
/** The tenant's IANA time zone from `GET /v1/settings`, or null to use the catalogue's. */
let tenantTimeZone = null;

/** Returns the language chosen before (stored in localStorage), or Japanese. */
export function savedLanguage() {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    return LANGUAGES.includes(stored) ? stored : 'ja';
  } catch {
    return 'ja';
  }
}

/** Loads the catalogue of `lang`, remembers the choice and sets `<html lang>`. */
export async function loadCatalogue(lang) {
  const response = await fetch(`/v1/messages?lang=${lang}`, { headers: { 'Accept-Language': lang, ...authorizationHeader() } });
  if (!response.ok) {
    throw new Error(`GET /v1/messages returned ${response.status}`);
  }
  catalogue = await response.json();

  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // A browser that refuses storage still gets the language for this page view.
  }
  document.documentElement.lang = lang;
}

export function currentLanguage() {
  return catalogue ? catalogue.lang : 'ja';
}

/**
 * Returns the UI string `key` with `{name}` placeholders filled from `values`. A missing key
 * is logged and shown as the key itself, so that it is easy to spot.
 */
export function t(key, values = {}) {
  const text = catalogue?.ui?.[key];
  if (text === undefined) {
    console.warn(`missing UI text: ${key}`);
    return key;
  }
  return fill(text, values);
}

function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in values ? String(values[name]) : match));
}

/** Returns `{label, action}` of a token status (`ok`, `expiring`, …). */
export function statusText(status) {
  return catalogue?.statuses?.[status] ?? { label: status, action: '' };
}

/** Returns `{message, action}` of an error code, or null for an unknown code. */
export function errorText(code) {
  return catalogue?.errors?.[code] ?? null;
}

/**
 * Sets the tenant's time zone for every date formatted from now on. Returns false and keeps
 * the previous zone when this browser does not support `zone`.
 */
export function setTimeZone(zone) {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    return false;
  }
  tenantTimeZone = zone;
  return true;
}

/** Returns the zone dates are shown in: the tenant's, else the catalogue's default. */
export function timeZone() {
  return tenantTimeZone ?? catalogue?.time_zone ?? 'Asia/Tokyo';
}

/** Formats an RFC 3339 instant as a date in the tenant's zone: `2026年1月17日`. */
export function formatDate(instant) {
  return format(instant, { year: 'numeric', month: 'long', day: 'numeric' });
}

/**
 * Formats an RFC 3339 instant as date and time in the tenant's zone, with the zone's short
 * name (`JST`), because a time read as the admin's own local time can be hours off.
 */
export function formatDateTime(instant) {
  return format(instant, {
    year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
  });
}

function format(instant, options) {
  const locale = currentLanguage() === 'ja' ? 'ja-JP' : 'en-US';
  return new Intl.DateTimeFormat(locale, { ...options, timeZone: timeZone() }).format(new Date(instant));
}
