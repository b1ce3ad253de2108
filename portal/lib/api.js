// Calls to the deptoken HTTP API on this origin. Every call sends `Accept-Language`, so that
// error messages come back in the language the portal shows. When the portal signs users in
// (lib/auth.js), every call also sends `Authorization: Bearer`. Without a valid token a call
// starts the sign-in and never settles, because the page is about to unload.

import { authorizationHeader, currentToken, signIn, signInAgainAfterRejection, signInEnabled } from './auth.js';
import { currentLanguage, errorText } from './i18n.js';

/** An error response of the API: `code`, `message` and `action` as the API rendered them. */
export class ApiError extends Error {
  constructor(status, code, message, action) {
    super(message);
    this.status = status;
    this.code = code;
    this.action = action;
  }
}

/**
 * Sends a request and returns the parsed JSON body (null for 204). `body` may be a plain
 * object (sent as JSON) or FormData (sent as multipart/form-data). Throws ApiError for an
 * error response.
 */
export async function request(method, path, body) {
  const headers = { 'Accept-Language': currentLanguage(), Accept: 'application/json' };
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }

  const response = await send(path, { method, headers, body: payload });
  if (response.status === 204) {
    return null;
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw errorOf(response, data);
  }
  return data;
}

/**
 * Builds the ApiError of an error response. API Gateway's own 401 has no deptoken error body,
 * so it gets the catalogue's text of `unauthorized`.
 */
function errorOf(response, data) {
  const error = data?.error ?? {};
  const code = error.code ?? (response.status === 401 ? 'unauthorized' : 'internal_error');
  const known = error.message ? null : errorText(code);
  return new ApiError(
    response.status,
    code,
    error.message ?? known?.message ?? `HTTP ${response.status}`,
    error.action ?? known?.action ?? '',
  );
}

/** A promise that never settles, for a call whose page is navigating to the sign-in. */
function whileLeaving() {
  return new Promise(() => {});
}

/**
 * Fetches `path` with the bearer token when the portal signs users in. Starts the sign-in
 * when no valid token is held, or when the API rejects a token that is not fresh.
 */
async function send(path, init) {
  if (!signInEnabled()) {
    return fetch(path, init);
  }
  if (!currentToken()) {
    await signIn();
    return whileLeaving();
  }

  const response = await fetch(path, { ...init, headers: { ...init.headers, ...authorizationHeader() } });
  if (response.status === 401 && (await signInAgainAfterRejection())) {
    return whileLeaving();
  }
  return response;
}

/** Returns the file name of a `Content-Disposition: attachment; filename="…"` header, or null. */
function fileNameOf(response) {
  const disposition = response.headers.get('Content-Disposition') ?? '';
  return disposition.match(/filename="([^"]+)"/)?.[1] ?? disposition.match(/filename=([^;\s]+)/)?.[1] ?? null;
}

/** Saves `blob` as a download named `fileName`. */
export function saveBlob(blob, fileName) {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = fileName;
  link.click();
  URL.revokeObjectURL(link.href);
}

export const api = {
  listServers: () => request('GET', '/v1/servers'),
  getServer: (name) => request('GET', `/v1/servers/${encodeURIComponent(name)}`),
  createServer: (name, displayName) => request('POST', '/v1/servers', { name, display_name: displayName }),
  setNote: (name, note) => request('PATCH', `/v1/servers/${encodeURIComponent(name)}`, { note }),
  history: (name) => request('GET', `/v1/servers/${encodeURIComponent(name)}/history`),
  check: (name) => request('POST', `/v1/servers/${encodeURIComponent(name)}/check`),
  rotateKey: (name) => request('POST', `/v1/servers/${encodeURIComponent(name)}/certificate/rotate`),
  certificateUrl: (name) => `/v1/servers/${encodeURIComponent(name)}/certificate`,

  /**
   * Downloads the entry's certificate with the bearer token and saves it under the file name
   * of the API's Content-Disposition. A plain link cannot send the token. Throws ApiError.
   */
  async saveCertificate(name) {
    const response = await send(api.certificateUrl(name), { headers: { 'Accept-Language': currentLanguage() } });
    if (!response.ok) {
      throw errorOf(response, await response.json().catch(() => null));
    }
    saveBlob(await response.blob(), fileNameOf(response) ?? `${name}.pem`);
  },

  /** Uploads a token file as multipart/form-data with `file`, `note` and, when confirmed, `confirm_server_change`. */
  uploadToken(name, file, note, confirmServerChange) {
    const form = new FormData();
    form.append('file', file, file.name);
    form.append('note', note);
    if (confirmServerChange) {
      form.append('confirm_server_change', 'true');
    }
    return request('PUT', `/v1/servers/${encodeURIComponent(name)}/token`, form);
  },

  /** Tells whether the local runner runs the DEP simulator (`deptoken serve --simulator`). */
  async simulatorAvailable() {
    const response = await fetch('/simulator', { headers: { Accept: 'application/json' } });
    return response.ok;
  },

  /**
   * Asks the simulator for a token file encrypted for the entry's certificate, as ABM's token
   * download would return it. Resolves to the file as a Blob.
   */
  async issueSimulatorToken(name, serverName) {
    const certificate = await send(api.certificateUrl(name), { headers: { 'Accept-Language': currentLanguage() } });
    if (!certificate.ok) {
      throw new Error(`GET certificate returned ${certificate.status}`);
    }
    const query = new URLSearchParams({ server_name: serverName });
    const response = await fetch(`/simulator/sim/tokens?${query}`, { method: 'POST', body: await certificate.text() });
    if (!response.ok) {
      throw new Error(`POST /simulator/sim/tokens returned ${response.status}: ${await response.text()}`);
    }
    return response.blob();
  },

  listSubscribers: () => request('GET', '/v1/subscribers'),
  addSubscriber: (protocol, endpoint) => request('POST', '/v1/subscribers', { protocol, endpoint }),
  removeSubscriber: (id) => request('DELETE', `/v1/subscribers/${encodeURIComponent(id)}`),

  getSettings: () => request('GET', '/v1/settings'),
  putSettings: (notificationLanguage, timeZone) =>
    request('PUT', '/v1/settings', { notification_language: notificationLanguage, time_zone: timeZone }),
};
