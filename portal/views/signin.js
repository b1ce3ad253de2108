// The screens around the sign-in: on the way to the identity provider, after a failed
// sign-in, after sign-out, and for an invalid /portal/config.json. Each offers what to do next.

import { errorBlock, h, statusBlock } from '../lib/dom.js';
import { t } from '../lib/i18n.js';

/** Shows that the browser is on its way to the identity provider's sign-in page. */
export function renderSigningIn(view) {
  view.append(
    h('h1', { tabindex: '-1' }, t('auth.title')),
    statusBlock(t('auth.signing_in'), 'progress'),
  );
}

/** Shows why the sign-in failed (`detail`, a short technical reason) and a sign-in button. */
export function renderSignInFailed(view, detail, onSignIn) {
  const failure = { message: t('auth.failed'), action: t('auth.failed_action') };
  view.append(
    h('h1', { tabindex: '-1' }, t('auth.title')),
    errorBlock(failure, t('app.what_to_do')),
    h('p', { className: 'help' }, t('auth.failed_detail', { detail })),
    h('button', { type: 'button', onclick: onSignIn }, t('auth.sign_in')),
  );
}

/** Shows that the user signed out, with a button to sign in again. */
export function renderSignedOut(view, onSignIn) {
  view.append(
    h('h1', { tabindex: '-1' }, t('auth.title')),
    statusBlock(t('auth.signed_out')),
    h('button', { type: 'button', onclick: onSignIn }, t('auth.sign_in')),
  );
}

/** Shows that /portal/config.json could not be used. */
export function renderConfigInvalid(view) {
  view.append(
    h('h1', { tabindex: '-1' }, t('auth.title')),
    errorBlock({ message: t('auth.config_invalid'), action: t('auth.config_invalid_action') }, t('app.what_to_do')),
  );
}
