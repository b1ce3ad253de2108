// The registration screen of one DEP server: the current token, the three renewal steps
// (certificate, Apple Business Manager, upload), check and key rotation, and the history.

import { api, saveBlob } from '../lib/api.js';
import { signInEnabled } from '../lib/auth.js';
import { append, confirmDialog, errorBlock, h, replace, statusBlock } from '../lib/dom.js';
import { formatDate, formatDateTime, statusText, t } from '../lib/i18n.js';
import { expiryCell, statusCell } from './dashboard.js';

const ABM_URL = 'https://business.apple.com/';

export async function renderServer(view, [name], { flash }) {
  const summary = h('div', { 'aria-busy': 'true' }, h('p', { role: 'status' }, t('app.loading')));
  view.append(
    h('p', { className: 'breadcrumb' }, h('a', { href: '/', 'data-link': true }, `← ${t('server.back')}`)),
    h('h1', { tabindex: '-1' }, t('server.title')),
    summary,
  );

  let server;
  try {
    server = await api.getServer(name);
  } catch (error) {
    summary.removeAttribute('aria-busy');
    replace(summary, errorBlock(error, t('app.what_to_do'), t('app.load_failed')));
    return;
  }
  summary.removeAttribute('aria-busy');

  const page = {
    name, server, summary,
    history: h('div', {}),
    flash: flash ? statusBlock(flash) : null,
    simulatorBox: h('div', {}),
  };
  showSummary(page);
  append(view, [
    page.flash,
    steps(page),
    checkSection(page),
    h('section', { 'aria-labelledby': 'history-title' },
      h('h2', { id: 'history-title' }, t('history.title')),
      page.history),
  ]);
  await Promise.all([refreshHistory(page), showSimulatorStep(page)]);
}

function showSummary(page) {
  const { server } = page;
  const account = server.account ?? {};
  const rows = [
    ['dashboard.status', statusCell(server)],
    ['dashboard.expiry', expiryCell(server)],
    ['dashboard.account', account.admin_id],
    ['dashboard.note', server.note],
    ['dashboard.abm_server', account.server_name],
    ['dashboard.org', account.org_name],
    ['server.last_checked', server.last_checked_at && formatDateTime(server.last_checked_at)],
    ['server.uploaded', server.uploaded_at && formatDateTime(server.uploaded_at)],
  ];
  replace(page.summary,
    h('p', { className: 'subtitle' }, `${server.display_name} (${server.name})`),
    h('section', { className: 'card', 'aria-labelledby': 'current-title' },
      h('h2', { id: 'current-title' }, t('server.current')),
      h('dl', { className: 'summary' }, rows.map(([key, value]) => [
        h('dt', {}, t(key)),
        h('dd', {}, value && value.length !== 0 ? value : h('span', { className: 'not-set' }, t('app.not_set'))),
      ])),
    ),
  );
}

function steps(page) {
  return h('section', { 'aria-labelledby': 'steps-title' },
    h('h2', { id: 'steps-title' }, t('server.steps')),
    h('ol', { className: 'steps' },
      h('li', {},
        h('h3', {}, t('step1.title')),
        h('p', {}, t('step1.text')),
        certificateLink(page)),
      h('li', {},
        h('h3', {}, t('step2.title')),
        h('p', {},
          h('a', { href: ABM_URL, target: '_blank', rel: 'noopener noreferrer' },
            t('step2.link'), ' ', h('span', { className: 'secondary-inline' }, t('app.new_tab')))),
        h('ol', { className: 'abm-steps' },
          ['step2.abm_sign_in', 'step2.abm_preferences', 'step2.abm_server', 'step2.abm_certificate', 'step2.abm_download']
            .map((key) => h('li', {}, t(key)))),
        h('p', { className: 'notice notice-warning' },
          h('span', { className: 'icon', 'aria-hidden': 'true' }, '⚠ '), t('step2.warning')),
        page.simulatorBox),
      h('li', {},
        h('h3', {}, t('step3.title')),
        uploadForm(page)),
    ),
  );
}

/**
 * Builds the certificate download: a plain link, which with sign-in fetches the file with the
 * bearer token instead, because a followed link cannot send it.
 */
function certificateLink(page) {
  const result = h('div', { className: 'form-result', tabindex: '-1' });
  const link = h('a', { className: 'button-link', href: api.certificateUrl(page.name), download: `${page.name}.pem` }, t('step1.link'));
  link.addEventListener('click', async (event) => {
    if (!signInEnabled()) {
      return;
    }
    event.preventDefault();
    replace(result);
    try {
      await api.saveCertificate(page.name);
    } catch (error) {
      replace(result, errorBlock(error, t('app.what_to_do'), t('app.load_failed')));
      result.focus();
    }
  });
  return [link, result];
}

/**
 * Shows, only when the local runner runs the DEP simulator, a button that downloads a token
 * file from the simulator in place of Apple Business Manager.
 */
async function showSimulatorStep(page) {
  if (!(await api.simulatorAvailable().catch(() => false))) {
    return;
  }
  const result = h('div', { className: 'form-result', tabindex: '-1' });
  const button = h('button', { type: 'button', className: 'secondary' }, t('step2.sim_button'));
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const serverName = page.server.account?.server_name ?? page.server.display_name;
      const file = await api.issueSimulatorToken(page.name, serverName);
      const fileName = `${page.name}_smime.p7m`;
      saveBlob(file, fileName);
      replace(result, statusBlock(t('step2.sim_done', { file: fileName })));
    } catch (error) {
      console.error(error);
      replace(result, errorBlock({ message: t('step2.sim_failed'), action: '' }, t('app.what_to_do')));
    } finally {
      button.disabled = false;
      result.focus();
    }
  });

  replace(page.simulatorBox, h('section', { className: 'notice notice-progress simulator', 'aria-labelledby': 'simulator-title' },
    h('h4', { id: 'simulator-title' }, t('step2.sim_title')),
    h('p', {}, t('step2.sim_text')),
    button,
    result,
  ));
}

function uploadForm(page) {
  const fileInput = h('input', { id: 'token-file', name: 'file', type: 'file', accept: '.p7m', 'aria-describedby': 'token-file-help' });
  const noteInput = h('input', {
    id: 'token-note', name: 'note', type: 'text', maxlength: '500', autocomplete: 'off',
    'aria-describedby': 'token-note-help', value: page.server.note ?? '',
  });
  const submit = h('button', { type: 'submit' }, t('step3.submit'));
  const progress = h('p', { className: 'progress', role: 'status', 'aria-live': 'polite' });
  const result = h('div', { id: 'upload-result', className: 'form-result', tabindex: '-1' });

  const form = h('form', { 'aria-labelledby': 'upload-title' },
    h('span', { id: 'upload-title', hidden: true }, t('step3.title')),
    h('div', { className: 'field' },
      h('label', { for: 'token-file' }, t('step3.file')),
      fileInput,
      h('p', { id: 'token-file-help', className: 'help' }, t('step3.file_help'))),
    h('div', { className: 'field' },
      h('label', { for: 'token-note' }, t('step3.note')),
      noteInput,
      h('p', { id: 'token-note-help', className: 'help' }, t('step3.note_help'))),
    submit,
    progress,
    result,
  );

  async function save(confirmServerChange) {
    const file = fileInput.files[0];
    const note = noteInput.value.trim();
    form.setAttribute('aria-busy', 'true');
    submit.disabled = true;
    progress.textContent = t('step3.busy');
    replace(result);
    try {
      if (file) {
        page.server = await api.uploadToken(page.name, file, note, confirmServerChange);
        fileInput.value = '';
        page.flash?.remove();
        replace(result, statusBlock(t('step3.saved', {
          date: formatDate(page.server.expires_at),
          days: page.server.days_remaining,
        })));
        await refreshHistory(page);
      } else if (note && note !== (page.server.note ?? '')) {
        page.server = await api.setNote(page.name, note);
        replace(result, statusBlock(t('step3.note_saved')));
      } else {
        replace(result, errorBlock({ message: t('step3.no_file') }, t('app.what_to_do')));
      }
      showSummary(page);
    } catch (error) {
      replace(result, errorBlock(error, t('app.what_to_do'), t('step3.failed')),
        error.code === 'server_mismatch' ? confirmChange() : null);
    } finally {
      form.removeAttribute('aria-busy');
      submit.disabled = false;
      progress.textContent = '';
      result.focus();
    }
  }

  function confirmChange() {
    return h('div', { className: 'confirm-change' },
      h('button', { type: 'button', className: 'secondary', 'aria-describedby': 'confirm-change-help', onclick: () => save(true) },
        t('step3.confirm_change')),
      h('p', { id: 'confirm-change-help', className: 'help' }, t('step3.confirm_change_help')));
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    save(false);
  });
  return form;
}

function checkSection(page) {
  const result = h('div', { className: 'form-result', tabindex: '-1' });
  const checkButton = h('button', { type: 'button', 'aria-describedby': 'check-help' }, t('check.button'));
  const rotateButton = h('button', { type: 'button', className: 'secondary', 'aria-describedby': 'rotate-help' }, t('rotate.button'));

  async function run(button, busyKey, action) {
    button.disabled = true;
    result.setAttribute('aria-busy', 'true');
    replace(result, statusBlock(t(busyKey), 'progress'));
    try {
      replace(result, statusBlock(await action()));
    } catch (error) {
      replace(result, errorBlock(error, t('app.what_to_do')));
    } finally {
      button.disabled = false;
      result.removeAttribute('aria-busy');
      result.focus();
    }
  }

  checkButton.addEventListener('click', () => run(checkButton, 'check.busy', async () => {
    page.server = await api.check(page.name);
    showSummary(page);
    return t('check.done', { status: statusText(page.server.status).label });
  }));

  rotateButton.addEventListener('click', async () => {
    const confirmed = await confirmDialog({
      title: t('rotate.dialog_title'),
      text: t('rotate.dialog_text'),
      confirmLabel: t('rotate.confirm'),
      cancelLabel: t('app.cancel'),
    });
    if (confirmed) {
      await run(rotateButton, 'rotate.busy', async () => {
        await api.rotateKey(page.name);
        return t('rotate.done');
      });
    }
  });

  return h('section', { className: 'card', 'aria-labelledby': 'check-title' },
    h('h2', { id: 'check-title' }, t('check.title')),
    h('div', { className: 'action-row' }, checkButton, h('p', { id: 'check-help', className: 'help' }, t('check.help'))),
    h('div', { className: 'action-row' }, rotateButton, h('p', { id: 'rotate-help', className: 'help' }, t('rotate.help'))),
    result,
  );
}

async function refreshHistory(page) {
  let uploads;
  try {
    ({ uploads } = await api.history(page.name));
  } catch (error) {
    replace(page.history, errorBlock(error, t('app.what_to_do'), t('app.load_failed')));
    return;
  }
  if (uploads.length === 0) {
    replace(page.history, h('p', {}, t('history.empty')));
    return;
  }

  const columns = ['history.uploaded_at', 'history.uploaded_by', 'dashboard.expiry', 'dashboard.abm_server', 'dashboard.account', 'dashboard.note'];
  replace(page.history, h('div', { className: 'table-wrap' },
    h('table', { className: 'history' },
      h('caption', { className: 'visually-hidden' }, t('history.title')),
      h('thead', {}, h('tr', {}, columns.map((key) => h('th', { scope: 'col' }, t(key))))),
      h('tbody', {}, uploads.map((upload) => h('tr', {},
        h('td', {}, formatDateTime(upload.uploaded_at)),
        h('td', {}, upload.uploaded_by),
        h('td', {}, formatDate(upload.expires_at)),
        h('td', {}, upload.server_name),
        h('td', {}, upload.admin_id ?? ''),
        h('td', {}, upload.note ?? ''),
      ))),
    ),
  ));
}
