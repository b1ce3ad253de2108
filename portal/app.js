// The admin portal: loads its configuration, the message catalogue and the tenant's time zone,
// signs the user in when the configuration asks for it, fills the page frame, and shows one of
// three views by path (a client-side router over the History API).

import { api } from './lib/api.js';
import * as auth from './lib/auth.js';
import { h, replace } from './lib/dom.js';
import { currentLanguage, loadCatalogue, savedLanguage, setTimeZone, t } from './lib/i18n.js';
import { renderDashboard } from './views/dashboard.js';
import { renderRecipients } from './views/recipients.js';
import { renderServer } from './views/server.js';
import { renderConfigInvalid, renderSignedOut, renderSignInFailed, renderSigningIn } from './views/signin.js';

const routes = [
  { pattern: /^\/$/, render: renderDashboard },
  { pattern: /^\/servers\/([^/]+)$/, render: renderServer },
  { pattern: /^\/recipients$/, render: renderRecipients },
];

const main = document.getElementById('main');
let shownPath = null;
/** A sign-in screen `(view) => void` shown in place of the routes, or null. */
let signInScreen = null;

/** Shows `path`, optionally with a message from the previous view (`flash`). */
export function navigate(path, flash) {
  history.pushState({ flash }, '', path);
  show({ moveFocus: true });
}

async function show({ moveFocus }) {
  const path = location.pathname;
  shownPath = path;
  const route = routes.find((candidate) => candidate.pattern.test(path)) ?? routes[0];
  const params = path.match(route.pattern)?.slice(1).map(decodeURIComponent) ?? [];
  markCurrentLink(path);
  document.getElementById('site-nav').hidden = signInScreen !== null;
  document.getElementById('sign-out').hidden = signInScreen !== null || !auth.signInEnabled();

  // Each view renders into its own container, so that a view still loading when the user
  // moves on writes into a detached element instead of the new page.
  const view = h('div', { className: 'view' });
  replace(main, view);
  const context = { navigate, flash: history.state?.flash };
  // A flash message is shown once: a reload or a return through the history omits it.
  history.replaceState({}, '');
  if (signInScreen) {
    signInScreen(view);
  } else {
    await route.render(view, params, context);
  }
  if (!main.contains(view)) {
    return;
  }

  const heading = view.querySelector('h1');
  document.title = heading ? `${heading.textContent} | ${t('app.title')}` : t('app.title');
  if (moveFocus && heading) {
    heading.focus();
  }
}

function markCurrentLink(path) {
  for (const link of document.querySelectorAll('#site-nav a')) {
    const current = link.getAttribute('href') === path;
    if (current) {
      link.setAttribute('aria-current', 'page');
    } else {
      link.removeAttribute('aria-current');
    }
  }
}

/** Fills every `data-text` element of the frame and the language switch. */
function fillFrame() {
  for (const element of document.querySelectorAll('[data-text]')) {
    element.textContent = t(element.dataset.text);
  }
  document.getElementById('site-nav').setAttribute('aria-label', t('app.nav'));

  const other = currentLanguage() === 'ja' ? 'en' : 'ja';
  const button = document.getElementById('lang-switch');
  button.textContent = t('app.lang_switch');
  button.lang = other;
  button.setAttribute('aria-label', t('app.lang_switch_label'));
}

async function switchLanguage() {
  const other = currentLanguage() === 'ja' ? 'en' : 'ja';
  await loadCatalogue(other);
  fillFrame();
  await show({ moveFocus: false });
}

/** Follows links marked `data-link` inside the portal without reloading the page. */
function interceptLinks(event) {
  const link = event.target.closest('a[data-link]');
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) {
    return;
  }
  event.preventDefault();
  navigate(link.getAttribute('href'));
}

/** Shows a sign-in screen in place of the routes until the next sign-in. */
async function showSignInScreen(screen) {
  signInScreen = screen;
  await show({ moveFocus: true });
}

/** Goes to the identity provider, or shows why that failed. */
async function startSignIn() {
  await showSignInScreen(renderSigningIn);
  try {
    await auth.signIn();
  } catch (error) {
    console.error(error.message);
    await showSignInScreen((view) => renderSignInFailed(view, error.detail ?? 'unexpected', startSignIn));
  }
}

function signOut() {
  if (!auth.signOut()) {
    showSignInScreen((view) => renderSignedOut(view, startSignIn));
  }
}

/**
 * Reads the configuration and, on the identity provider's redirect back, completes the
 * sign-in. Returns the problem to show: `{config: true}`, `{signIn: detail}`, or null.
 */
async function prepareSignIn() {
  try {
    await auth.loadConfig();
  } catch (error) {
    console.error(error.message);
    return { config: true };
  }
  if (!auth.isCallback()) {
    return null;
  }
  try {
    await auth.completeSignIn();
    return null;
  } catch (error) {
    console.error(error.message);
    return { signIn: error.detail ?? 'unexpected' };
  }
}

/**
 * Loads the tenant's time zone, in which dates are shown. When `GET /v1/settings` fails, dates
 * stay in the catalogue's zone, the deployment's default.
 */
async function loadTenantTimeZone() {
  try {
    const settings = await api.getSettings();
    if (!setTimeZone(settings.time_zone)) {
      console.warn(`this browser does not support the time zone ${settings.time_zone}, so dates are shown in the default time zone`);
    }
  } catch (error) {
    console.warn(`GET /v1/settings failed, so dates are shown in the default time zone: ${error.message}`);
  }
}

async function start() {
  const problem = await prepareSignIn();
  const mustSignIn = !problem && auth.signInEnabled() && !auth.currentToken();
  // Settings are per tenant and need a signed-in caller, unlike the catalogue, so they load
  // beside it only when no sign-in is pending.
  const timeZoneLoaded = problem || mustSignIn ? Promise.resolve() : loadTenantTimeZone();

  try {
    await loadCatalogue(savedLanguage());
  } catch (error) {
    console.error(error);
    if (mustSignIn) {
      // An API that guards the catalogue too still gets a signed-in user this way.
      await auth.signIn().catch((signInError) => console.error(signInError.message));
      return;
    }
    document.getElementById('boot-status').hidden = true;
    document.getElementById('boot-failed').hidden = false;
    return;
  }

  fillFrame();
  document.addEventListener('click', interceptLinks);
  document.getElementById('lang-switch').addEventListener('click', switchLanguage);
  document.getElementById('sign-out').addEventListener('click', signOut);
  window.addEventListener('popstate', () => {
    // A fragment link (the skip link) also fires popstate; it changes no view.
    if (location.pathname !== shownPath) {
      show({ moveFocus: true });
    }
  });

  if (problem?.config) {
    signInScreen = renderConfigInvalid;
  } else if (problem?.signIn) {
    signInScreen = (view) => renderSignInFailed(view, problem.signIn, startSignIn);
  } else if (mustSignIn) {
    await startSignIn();
    return;
  }
  await timeZoneLoaded;
  await show({ moveFocus: false });
  document.body.dataset.ready = 'true';
}

start();
