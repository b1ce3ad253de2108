// The tenant's notification settings on the recipients screen (`/v1/settings`): the language
// of the notification emails and SMS, and the time zone in which expiry dates and days left
// are counted in notifications, in the API and on the dashboard.

import { api } from '../lib/api.js';
import { errorBlock, h, replace, statusBlock } from '../lib/dom.js';
import { errorText, setTimeZone, t } from '../lib/i18n.js';

/**
 * The zones offered, Japan first. A stored zone outside this list is offered too. Every name
 * is a canonical IANA name, which the API checks against chrono-tz's copy of the database.
 */
const TIME_ZONES = [
  'Asia/Tokyo',
  'Asia/Seoul',
  'Asia/Shanghai',
  'Asia/Hong_Kong',
  'Asia/Taipei',
  'Asia/Manila',
  'Asia/Singapore',
  'Asia/Bangkok',
  'Asia/Ho_Chi_Minh',
  'Asia/Jakarta',
  'Asia/Kolkata',
  'Asia/Dubai',
  'Australia/Sydney',
  'Pacific/Auckland',
  'Pacific/Honolulu',
  'America/Los_Angeles',
  'America/Denver',
  'America/Chicago',
  'America/New_York',
  'America/Sao_Paulo',
  'Europe/London',
  'Europe/Paris',
  'Europe/Berlin',
  'UTC',
];

/** The notification languages with the key of each one's name, written in that language. */
const LANGUAGES = [
  { value: 'ja', key: 'settings.language_ja' },
  { value: 'en', key: 'settings.language_en' },
];

/** The request fields of `PUT /v1/settings` and the id of the control that sets each. */
const FIELD_CONTROLS = {
  notification_language: 'settings-language',
  time_zone: 'settings-time-zone',
};

/** Loads the settings into `container` as a form, or shows why they could not be loaded. */
export async function renderSettings(container) {
  const body = h('div', { 'aria-busy': 'true' }, h('p', { role: 'status' }, t('app.loading')));
  replace(container, h('section', { className: 'card', 'aria-labelledby': 'settings-title' },
    h('h2', { id: 'settings-title' }, t('settings.title')),
    h('p', {}, t('settings.intro')),
    body,
  ));

  let settings;
  try {
    settings = await api.getSettings();
  } catch (error) {
    body.removeAttribute('aria-busy');
    replace(body, errorBlock(error, t('app.what_to_do'), t('app.load_failed')));
    return;
  }
  body.removeAttribute('aria-busy');
  replace(body, settingsForm(settings));
}

function languageName(value) {
  const language = LANGUAGES.find((candidate) => candidate.value === value);
  return language ? t(language.key) : value;
}

/** Returns the zones to offer: the list, with `stored` after Asia/Tokyo when it is not in it. */
function zoneChoices(stored) {
  if (!stored || TIME_ZONES.includes(stored)) {
    return TIME_ZONES;
  }
  return [TIME_ZONES[0], stored, ...TIME_ZONES.slice(1)];
}

/**
 * Returns the request field an `invalid_request` error names, or null. The error body names
 * the field only in its message, so the message is compared with the catalogue's template
 * filled with each field. Both are in the language on screen, because every call sends it.
 */
function invalidField(error) {
  if (error.code !== 'invalid_request') {
    return null;
  }
  const template = errorText('invalid_request')?.message ?? '';
  return Object.keys(FIELD_CONTROLS).find((field) => template.replace('{field}', field) === error.message) ?? null;
}

/** Builds one labelled `<select>` with its hint and a place for its error. */
function selectField(id, label, help, options) {
  const select = h('select', { id, 'aria-describedby': `${id}-help` }, options);
  const error = h('div', { id: `${id}-error` });
  const field = h('div', { className: 'field' },
    h('label', { for: id }, label),
    select,
    h('p', { id: `${id}-help`, className: 'help' }, help),
    error);
  return { field, select, error };
}

/** Shows `apiError` below the field's control, or removes the error shown there when it is null. */
function setFieldError({ select, error: place }, apiError) {
  if (apiError) {
    replace(place, errorBlock(apiError, t('app.what_to_do')));
    select.setAttribute('aria-invalid', 'true');
    select.setAttribute('aria-describedby', `${select.id}-help ${place.id}`);
  } else {
    replace(place);
    select.removeAttribute('aria-invalid');
    select.setAttribute('aria-describedby', `${select.id}-help`);
  }
}

function settingsForm(settings) {
  const language = selectField('settings-language', t('settings.language'), t('settings.language_help'),
    LANGUAGES.map(({ value, key }) => h('option', { value, lang: value }, t(key))));
  const zone = selectField('settings-time-zone', t('settings.time_zone'), t('settings.time_zone_help'),
    zoneChoices(settings.time_zone).map((name) => h('option', { value: name }, name)));
  language.select.value = settings.notification_language;
  zone.select.value = settings.time_zone;
  const fields = { notification_language: language, time_zone: zone };

  const submit = h('button', { type: 'submit' }, t('settings.submit'));
  const readOnlyNotice = h('div', { id: 'settings-read-only' });
  const result = h('div', { id: 'settings-result', className: 'form-result', tabindex: '-1' });
  const form = h('form', { 'aria-labelledby': 'settings-title' },
    readOnlyNotice,
    language.field,
    zone.field,
    submit,
    result,
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    setFieldError(language, null);
    setFieldError(zone, null);
    form.setAttribute('aria-busy', 'true');
    submit.disabled = true;
    replace(result, statusBlock(t('settings.busy'), 'progress'));

    let focusTarget = result;
    let readOnly = false;
    try {
      const saved = await api.putSettings(language.select.value, zone.select.value);
      setTimeZone(saved.time_zone);
      replace(result, statusBlock(t('settings.saved', {
        language: languageName(saved.notification_language),
        zone: saved.time_zone,
      })));
    } catch (error) {
      const field = invalidField(error);
      if (field) {
        replace(result);
        setFieldError(fields[field], error);
        focusTarget = fields[field].select;
      } else if (error.status === 403) {
        readOnly = true;
        showReadOnly(readOnlyNotice, [language.select, zone.select, submit]);
        replace(result, errorBlock(error, t('app.what_to_do'), t('settings.failed')));
      } else {
        replace(result, errorBlock(error, t('app.what_to_do'), t('settings.failed')));
      }
    } finally {
      form.removeAttribute('aria-busy');
      submit.disabled = readOnly;
      focusTarget.focus();
    }
  });
  return form;
}

/** Disables `controls` and explains that only an administrator can change the settings. */
function showReadOnly(notice, controls) {
  replace(notice, h('div', { className: 'notice notice-warning' }, h('p', {}, t('settings.read_only'))));
  for (const control of controls) {
    control.disabled = true;
    control.classList.add('read-only');
    control.setAttribute('aria-describedby', `${control.getAttribute('aria-describedby') ?? ''} settings-read-only`.trim());
  }
}
