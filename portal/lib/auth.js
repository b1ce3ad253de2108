// Sign-in for the deployed portal: the OAuth 2.0 authorization code flow with PKCE (RFC 7636,
// method S256) against the identity provider named in /portal/config.json. Without that file,
// or without its `oidc` section, nobody signs in and no call sends credentials: the local
// runner acts for its one tenant.
//
// Everything lives in sessionStorage, so it ends with the browser tab: the PKCE verifier and
// the `state` between the redirect and the callback, then the token and its expiry. The token
// goes only into `Authorization` headers, never into a URL, localStorage or the console.

const SESSION_KEY = 'deptoken.auth.session';
const PENDING_KEY = 'deptoken.auth.pending';
const STORAGE_KEYS = [SESSION_KEY, PENDING_KEY];

const TOKEN_KINDS = ['access_token', 'id_token'];

/** A token counts as expired this long before its `exp`, so that no call arrives just after. */
const EXPIRY_MARGIN_MS = 30 * 1000;

/**
 * A 401 for a token younger than this is not answered with a new sign-in, because the
 * identity provider would hand out an equally rejected token at once, in a loop. The view
 * shows the API's error instead.
 */
const FRESH_TOKEN_MS = 60 * 1000;

let settings = null;
let discovered = null;
/** The redirect to the sign-in page under way, shared by API calls that run in parallel. */
let redirecting = null;

// A page restored from the back-forward cache never left, so it may start a new sign-in.
window.addEventListener('pageshow', (event) => {
  if (event.persisted) {
    redirecting = null;
  }
});

/** A failed sign-in; `detail` is a short technical reason (an OAuth error code or similar). */
export class SignInError extends Error {
  constructor(detail) {
    super(`sign-in failed: ${detail}`);
    this.detail = detail;
  }
}

/**
 * Loads /portal/config.json. A 404 or a file without `oidc` leaves the sign-in off. Throws
 * when the file cannot be read or its `oidc` section is invalid.
 */
export async function loadConfig() {
  const response = await fetch('/portal/config.json', { headers: { Accept: 'application/json' }, cache: 'no-cache' });
  if (response.status === 404) {
    return;
  }
  if (!response.ok) {
    throw new Error(`GET /portal/config.json returned ${response.status}`);
  }
  const config = await response.json();
  if (config?.oidc) {
    settings = checkedSettings(config.oidc);
  }
}

function checkedSettings(oidc) {
  const text = (value) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : null);
  const checked = {
    issuer: text(oidc.issuer),
    authorizationEndpoint: text(oidc.authorization_endpoint),
    tokenEndpoint: text(oidc.token_endpoint),
    endSessionEndpoint: text(oidc.end_session_endpoint),
    endSessionRedirectParameter: text(oidc.end_session_redirect_parameter) ?? 'post_logout_redirect_uri',
    clientId: text(oidc.client_id),
    scope: text(oidc.scope),
    redirectUri: text(oidc.redirect_uri) ?? `${location.origin}/`,
    token: text(oidc.token) ?? 'access_token',
  };
  if (!checked.clientId || !checked.scope) {
    throw new Error('config.json: oidc.client_id and oidc.scope are required');
  }
  if (!checked.issuer && !(checked.authorizationEndpoint && checked.tokenEndpoint)) {
    throw new Error('config.json: oidc needs issuer or both authorization_endpoint and token_endpoint');
  }
  if (!TOKEN_KINDS.includes(checked.token)) {
    throw new Error(`config.json: oidc.token must be one of ${TOKEN_KINDS.join(', ')}`);
  }
  for (const url of [checked.issuer, checked.authorizationEndpoint, checked.tokenEndpoint, checked.endSessionEndpoint, checked.redirectUri]) {
    if (url !== null) {
      new URL(url); // Throws TypeError for a URL that is not absolute.
    }
  }
  return checked;
}

/** Tells whether the portal signs users in (config.json has an `oidc` section). */
export function signInEnabled() {
  return settings !== null;
}

/** Returns the authorization and token endpoints, from the configuration or from discovery. */
async function endpoints() {
  if (settings.authorizationEndpoint && settings.tokenEndpoint) {
    return { authorization: settings.authorizationEndpoint, token: settings.tokenEndpoint };
  }
  if (!discovered) {
    const url = `${settings.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    let response;
    try {
      response = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'omit' });
    } catch {
      throw new SignInError('discovery_unreachable');
    }
    const document = response.ok ? await response.json().catch(() => null) : null;
    if (!document?.authorization_endpoint || !document?.token_endpoint) {
      throw new SignInError(`discovery_failed_http_${response.status}`);
    }
    discovered = document;
  }
  return {
    authorization: settings.authorizationEndpoint ?? discovered.authorization_endpoint,
    token: settings.tokenEndpoint ?? discovered.token_endpoint,
  };
}

function base64Url(bytes) {
  let binary = '';
  for (const byte of bytes) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomText(byteCount) {
  return base64Url(crypto.getRandomValues(new Uint8Array(byteCount)));
}

async function challengeOf(verifier) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

function readJson(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key) ?? 'null');
  } catch {
    return null;
  }
}

/**
 * Sends the browser to the identity provider's sign-in page. Resolves once the navigation has
 * started; the page unloads soon after. Throws SignInError when discovery fails. Parallel
 * calls share one redirect, so that one `state` and one verifier are pending.
 */
export function signIn() {
  redirecting ??= redirectToSignIn().catch((error) => {
    redirecting = null;
    throw error;
  });
  return redirecting;
}

async function redirectToSignIn() {
  const { authorization } = await endpoints();
  // 32 random bytes give a 43-character verifier, the minimum length RFC 7636 allows.
  const verifier = randomText(32);
  const state = randomText(16);
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ state, verifier, returnPath: location.pathname }));

  const url = new URL(authorization);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', settings.clientId);
  url.searchParams.set('redirect_uri', settings.redirectUri);
  url.searchParams.set('scope', settings.scope);
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', await challengeOf(verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  location.assign(url.href);
}

/** Tells whether this page load is the identity provider's redirect back with a code or an error. */
export function isCallback() {
  if (!settings) {
    return false;
  }
  const params = new URLSearchParams(location.search);
  const callbackPath = new URL(settings.redirectUri, location.origin).pathname;
  return location.pathname === callbackPath && params.has('state') && (params.has('code') || params.has('error'));
}

/**
 * Completes the sign-in on the callback: checks `state`, exchanges the code for tokens at the
 * token endpoint, and keeps the configured token. The code and state leave the address bar
 * first, whatever happens next. Throws SignInError.
 */
export async function completeSignIn() {
  const params = new URLSearchParams(location.search);
  const pending = readJson(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  const returnPath = typeof pending?.returnPath === 'string' && pending.returnPath.startsWith('/') ? pending.returnPath : '/';
  history.replaceState(null, '', returnPath);

  if (!pending?.state || params.get('state') !== pending.state) {
    throw new SignInError('state_mismatch');
  }
  if (params.has('error')) {
    throw new SignInError(params.get('error'));
  }

  const { token: tokenEndpoint } = await endpoints();
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code: params.get('code'),
    redirect_uri: settings.redirectUri,
    client_id: settings.clientId,
    code_verifier: pending.verifier,
  });
  let response;
  try {
    response = await fetch(tokenEndpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body,
      credentials: 'omit',
    });
  } catch {
    throw new SignInError('token_endpoint_unreachable');
  }
  const answer = await response.json().catch(() => null);
  if (!response.ok) {
    throw new SignInError(typeof answer?.error === 'string' ? answer.error : `token_endpoint_http_${response.status}`);
  }
  const token = answer?.[settings.token];
  if (typeof token !== 'string' || token === '') {
    throw new SignInError(`no_${settings.token}`);
  }
  storeSession(token, answer.expires_in);
}

/**
 * Keeps the token with its expiry: the earlier of the JWT's `exp` and `expires_in` (which
 * describes the access token), or none when neither is known.
 */
function storeSession(token, expiresIn) {
  const now = Date.now();
  const candidates = [];
  const exp = jwtExpiry(token);
  if (exp !== null) {
    candidates.push(exp * 1000);
  }
  if (settings.token === 'access_token' && Number.isFinite(expiresIn) && expiresIn > 0) {
    candidates.push(now + expiresIn * 1000);
  }
  const expiresAt = candidates.length ? Math.min(...candidates) : null;
  sessionStorage.setItem(SESSION_KEY, JSON.stringify({ token, expiresAt, receivedAt: now }));
}

/** Reads `exp` of a JWT without verifying it; the API verifies every token it receives. */
function jwtExpiry(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const exp = JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, '='))).exp;
    return Number.isFinite(exp) ? exp : null;
  } catch {
    return null;
  }
}

/** Returns the token when one is held and unexpired, or null. */
export function currentToken() {
  const session = readJson(SESSION_KEY);
  if (typeof session?.token !== 'string') {
    return null;
  }
  if (session.expiresAt !== null && Date.now() >= session.expiresAt - EXPIRY_MARGIN_MS) {
    return null;
  }
  return session.token;
}

/** Returns `{Authorization}` with the held token, or no header. */
export function authorizationHeader() {
  const token = currentToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/**
 * Answers a 401 of the API: drops the token, and signs in again unless the token was fresh.
 * Returns true when the browser is on its way to the sign-in page.
 */
export async function signInAgainAfterRejection() {
  const session = readJson(SESSION_KEY);
  if (session && Date.now() - session.receivedAt < FRESH_TOKEN_MS) {
    return false;
  }
  sessionStorage.removeItem(SESSION_KEY);
  await signIn();
  return true;
}

/**
 * Forgets the session. Sends the browser to the identity provider's end-session endpoint when
 * the configuration names one (returns true then), so that its own session ends as well.
 */
export function signOut() {
  for (const key of STORAGE_KEYS) {
    sessionStorage.removeItem(key);
  }
  if (!settings.endSessionEndpoint) {
    return false;
  }

  const url = new URL(settings.endSessionEndpoint);
  if (!url.searchParams.has('client_id')) {
    url.searchParams.set('client_id', settings.clientId);
  }
  if (!url.searchParams.has(settings.endSessionRedirectParameter)) {
    url.searchParams.set(settings.endSessionRedirectParameter, settings.redirectUri);
  }
  location.assign(url.href);
  return true;
}
