// The dashboard: every DEP server of the tenant with its expiry and status, a banner when any
// entry needs action, and the form that adds an entry.

import { api } from '../lib/api.js';
import { errorBlock, h, replace, statusBlock } from '../lib/dom.js';
import { errorText, formatDate, statusText, t } from '../lib/i18n.js';

/** Tells whether an entry is flagged: highlighted by the API (expiring or broken) or without a token. */
function needsAction(server) {
  return server.highlight || server.status === 'no_token';
}

export async function renderDashboard(view, _params, { navigate }) {
  const content = h('div', { 'aria-busy': 'true' }, h('p', { role: 'status' }, t('app.loading')));
  view.append(
    h('h1', { tabindex: '-1' }, t('dashboard.title')),
    h('p', { className: 'intro' }, t('dashboard.intro')),
    content,
    createForm(navigate),
  );

  let servers;
  try {
    ({ servers } = await api.listServers());
  } catch (error) {
    content.removeAttribute('aria-busy');
    replace(content, errorBlock(error, t('app.what_to_do'), t('app.load_failed')));
    return;
  }

  content.removeAttribute('aria-busy');
  replace(content, attentionBanner(servers.filter(needsAction)), serverTable(servers));
}

function attentionBanner(flagged) {
  if (flagged.length === 0) {
    return null;
  }
  return h('section', { className: 'banner', 'aria-labelledby': 'attention-title' },
    h('h2', { id: 'attention-title' },
      h('span', { className: 'icon', 'aria-hidden': 'true' }, '⚠ '),
      t('dashboard.attention', { count: flagged.length })),
    h('ul', {}, flagged.map((server) => h('li', {},
      h('a', { href: `/servers/${encodeURIComponent(server.name)}`, 'data-link': true }, server.display_name),
      `: ${statusText(server.status).label}`,
    ))),
  );
}

function serverTable(servers) {
  if (servers.length === 0) {
    return h('p', {}, t('dashboard.empty'));
  }
  const columns = ['dashboard.server', 'dashboard.org', 'dashboard.abm_server', 'dashboard.account', 'dashboard.expiry', 'dashboard.status'];
  return h('div', { className: 'table-wrap' },
    h('table', { className: 'servers' },
      h('caption', {}, t('dashboard.caption')),
      h('thead', {}, h('tr', {}, columns.map((key) => h('th', { scope: 'col' }, t(key))))),
      h('tbody', {}, servers.map(serverRow)),
    ),
  );
}

function serverRow(server) {
  const account = server.account ?? {};
  return h('tr', { 'data-server': server.name, className: needsAction(server) ? 'flagged' : null },
    h('th', { scope: 'row' },
      h('a', { href: `/servers/${encodeURIComponent(server.name)}`, 'data-link': true }, server.display_name),
      h('span', { className: 'secondary-text' }, server.name)),
    h('td', {}, account.org_name || notSet()),
    h('td', {}, account.server_name || notSet()),
    h('td', {},
      account.admin_id || notSet(),
      server.note ? h('span', { className: 'secondary-text' }, `${t('dashboard.note')}: ${server.note}`) : null),
    h('td', {}, expiryCell(server)),
    h('td', {}, statusCell(server)),
  );
}

/** Builds the expiry date (red with a warning icon when highlighted) and the days left. */
export function expiryCell(server) {
  if (!server.expires_at) {
    return notSet();
  }
  const date = h('span', { className: server.highlight ? 'expiry expiry-alert' : 'expiry', 'data-expiry': true },
    server.highlight ? h('span', { className: 'icon', 'aria-hidden': 'true' }, '⚠ ') : null,
    formatDate(server.expires_at));
  return [date, h('span', { className: 'secondary-text', 'data-days': true }, daysText(server.days_remaining))];
}

function daysText(days) {
  if (days === null || days === undefined) {
    return '';
  }
  if (days > 0) {
    return t('days.left', { days });
  }
  return days === 0 ? t('days.today') : t('days.overdue', { days: -days });
}

/** Builds the status label, Apple's verdict when the last check failed, and what to do. */
export function statusCell(server) {
  const status = statusText(server.status);
  const verdict = server.last_error ? errorText(server.last_error) : null;
  return [
    h('span', { className: `status status-${server.status}`, 'data-status': server.status },
      needsAction(server) ? h('span', { className: 'icon', 'aria-hidden': 'true' }, '⚠ ') : null,
      status.label),
    verdict && verdict.message ? h('span', { className: 'secondary-text' }, verdict.message) : null,
    status.action ? h('span', { className: 'status-action' }, status.action) : null,
  ];
}

function notSet() {
  return h('span', { className: 'not-set' }, t('app.not_set'));
}

function createForm(navigate) {
  const result = h('div', { className: 'form-result', tabindex: '-1' });
  const nameInput = h('input', {
    id: 'create-name', name: 'name', type: 'text', required: true, maxlength: '64', autocomplete: 'off',
    pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]*', 'aria-describedby': 'create-name-help', spellcheck: 'false',
  });
  const displayInput = h('input', {
    id: 'create-display-name', name: 'display_name', type: 'text', required: true, maxlength: '100',
    'aria-describedby': 'create-display-name-help',
  });
  const submit = h('button', { type: 'submit' }, t('create.submit'));

  const form = h('form', { className: 'card', 'aria-labelledby': 'create-title' },
    h('h2', { id: 'create-title' }, t('create.title')),
    h('div', { className: 'field' },
      h('label', { for: 'create-name' }, t('create.name')),
      nameInput,
      h('p', { id: 'create-name-help', className: 'help' }, t('create.name_help'))),
    h('div', { className: 'field' },
      h('label', { for: 'create-display-name' }, t('create.display_name')),
      displayInput,
      h('p', { id: 'create-display-name-help', className: 'help' }, t('create.display_name_help'))),
    submit,
    result,
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    form.setAttribute('aria-busy', 'true');
    submit.disabled = true;
    replace(result, statusBlock(t('create.busy'), 'progress'));
    try {
      const created = await api.createServer(nameInput.value.trim(), displayInput.value.trim());
      navigate(`/servers/${encodeURIComponent(created.name)}`, t('create.done', { name: created.display_name }));
    } catch (error) {
      replace(result, errorBlock(error, t('app.what_to_do')));
      result.focus();
    } finally {
      form.removeAttribute('aria-busy');
      submit.disabled = false;
    }
  });
  return form;
}
