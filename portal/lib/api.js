// Calls to the deptoken HTTP API on this origin. Every call sends `Accept-Language`, so that
// error messages come back in the language the portal shows.
//
// NOTE: no call sends credentials, because the local runner needs none. Behind API Gateway's
// JWT authorizer every /v1 call (the catalogue too) needs a bearer token. This portal has no
// sign-in yet, so it cannot send one.

import { currentLanguage } from './i18n.js';

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

  const response = await fetch(path, { method, headers, body: payload });
  if (response.status === 204) {
    return null;
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data?.error ?? {};
    throw new ApiError(response.status, error.code ?? 'internal_error', error.message ?? `HTTP ${response.status}`, error.action ?? '');
  }
  return data;
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
    const certificate = await fetch(api.certificateUrl(name), { headers: { 'Accept-Language': currentLanguage() } });
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
};
