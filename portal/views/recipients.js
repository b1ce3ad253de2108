// The notification recipients: the tenant's email addresses and phone numbers (SMS), and the
// tenant's notification settings (views/settings.js).

import { api } from '../lib/api.js';
import { confirmDialog, errorBlock, h, replace, statusBlock } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { renderSettings } from './settings.js';

const SUBSCRIPTION_STATUS_KEYS = {
  confirmed: 'recipients.confirmed',
  pending_confirmation: 'recipients.pending',
  pending: 'recipients.pending',
  unsubscribed: 'recipients.unsubscribed',
};

export async function renderRecipients(view) {
  const list = h('div', {});
  const result = h('div', { className: 'form-result', tabindex: '-1' });
  const settings = h('div', {});
  const page = { list, result };
  view.append(
    h('h1', { tabindex: '-1' }, t('recipients.title')),
    h('p', { className: 'intro' }, t('recipients.intro')),
    result,
    list,
    addForm(page),
    settings,
  );
  await Promise.all([refresh(page), renderSettings(settings)]);
}

async function refresh(page) {
  page.list.setAttribute('aria-busy', 'true');
  let subscribers;
  try {
    ({ subscribers } = await api.listSubscribers());
  } catch (error) {
    replace(page.list, errorBlock(error, t('app.what_to_do'), t('app.load_failed')));
    return;
  } finally {
    page.list.removeAttribute('aria-busy');
  }

  if (subscribers.length === 0) {
    replace(page.list, h('p', {}, t('recipients.empty')));
    return;
  }
  const columns = ['recipients.protocol', 'recipients.endpoint', 'recipients.status', 'recipients.actions'];
  replace(page.list, h('div', { className: 'table-wrap' },
    h('table', { className: 'recipients' },
      h('caption', {}, t('recipients.caption')),
      h('thead', {}, h('tr', {}, columns.map((key) => h('th', { scope: 'col' }, t(key))))),
      h('tbody', {}, subscribers.map((subscriber) => row(page, subscriber))),
    ),
  ));
}

function row(page, subscriber) {
  const statusKey = SUBSCRIPTION_STATUS_KEYS[subscriber.status];
  const remove = h('button', {
    type: 'button',
    className: 'secondary',
    'aria-label': t('recipients.remove_label', { endpoint: subscriber.endpoint }),
  }, t('recipients.remove'));
  remove.addEventListener('click', () => removeSubscriber(page, subscriber));

  return h('tr', { 'data-subscriber': subscriber.id },
    h('td', {}, subscriber.protocol === 'sms' ? t('recipients.sms') : t('recipients.email')),
    h('th', { scope: 'row' }, subscriber.endpoint),
    h('td', {}, statusKey ? t(statusKey) : subscriber.status ?? ''),
    h('td', {}, remove),
  );
}

async function removeSubscriber(page, subscriber) {
  const confirmed = await confirmDialog({
    title: t('recipients.remove_question', { endpoint: subscriber.endpoint }),
    confirmLabel: t('recipients.remove'),
    cancelLabel: t('app.cancel'),
  });
  if (!confirmed) {
    return;
  }
  try {
    await api.removeSubscriber(subscriber.id);
    replace(page.result, statusBlock(t('recipients.removed', { endpoint: subscriber.endpoint })));
    await refresh(page);
  } catch (error) {
    replace(page.result, errorBlock(error, t('app.what_to_do')));
  }
  page.result.focus();
}

/** Builds the form that adds an email address or a phone number (SMS). */
function addForm(page) {
  const protocol = h('select', { id: 'recipient-protocol', name: 'protocol' },
    h('option', { value: 'email' }, t('recipients.email')),
    h('option', { value: 'sms' }, t('recipients.sms')));
  const endpoint = h('input', {
    id: 'recipient-endpoint', name: 'endpoint', type: 'email', required: true, maxlength: '254',
    autocomplete: 'email', 'aria-describedby': 'recipient-endpoint-help',
  });
  protocol.addEventListener('change', () => {
    endpoint.type = protocol.value === 'sms' ? 'tel' : 'email';
    endpoint.autocomplete = protocol.value === 'sms' ? 'tel' : 'email';
  });
  const submit = h('button', { type: 'submit' }, t('recipients.add'));
  const result = h('div', { className: 'form-result', tabindex: '-1' });

  const form = h('form', { className: 'card', 'aria-labelledby': 'add-recipient-title' },
    h('h2', { id: 'add-recipient-title' }, t('recipients.add_title')),
    h('div', { className: 'field' },
      h('label', { for: 'recipient-protocol' }, t('recipients.protocol')),
      protocol),
    h('div', { className: 'field' },
      h('label', { for: 'recipient-endpoint' }, t('recipients.address')),
      endpoint,
      h('p', { id: 'recipient-endpoint-help', className: 'help' }, t('recipients.address_help'))),
    submit,
    result,
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    form.setAttribute('aria-busy', 'true');
    submit.disabled = true;
    replace(result, statusBlock(t('recipients.busy'), 'progress'));
    const address = endpoint.value.trim();
    try {
      await api.addSubscriber(protocol.value, address);
      replace(result, statusBlock(t('recipients.added', { endpoint: address })));
      endpoint.value = '';
      await refresh(page);
    } catch (error) {
      replace(result, errorBlock(error, t('app.what_to_do')));
    } finally {
      form.removeAttribute('aria-busy');
      submit.disabled = false;
      result.focus();
    }
  });
  return form;
}
