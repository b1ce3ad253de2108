// End-to-end tests of the portal's sign-in in headless Chromium. The tests start their own
// stand-in OpenID provider (node http on 127.0.0.1, a random port) and a second
// `deptoken serve --simulator --portal-config FILE` that points the portal at it, on port 0
// with its own data folder, stopped by its pid at the end. scripts/browser-test.sh sets:
//   DEPTOKEN_BIN  the deptoken binary to start

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

const DEPTOKEN_BIN = requiredEnv('DEPTOKEN_BIN');
const CLIENT_ID = 'deptoken-portal';
const SCOPE = 'openid deptoken';

let context;
let workDir;
let runner;
let provider;
let BASE;
let catalogue;
const consoleWarnings = [];

function requiredEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the tests with scripts/browser-test.sh`);
  }
  return value;
}

// --- The stand-in OpenID provider ---

function base64Url(buffer) {
  return Buffer.from(buffer).toString('base64url');
}

/** Builds an unsigned JWT-shaped token; the local runner ignores it, the portal reads its `exp`. */
function fakeJwt(claims) {
  return [base64Url(JSON.stringify({ alg: 'none', typ: 'JWT' })), base64Url(JSON.stringify(claims)), base64Url(randomBytes(16))].join('.');
}

async function readBody(request) {
  const chunks = [];
  for await (const chunk of request) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Starts an authorization server with discovery, an authorization endpoint that redirects
 * straight back with a code (no login page), and a token endpoint that checks the client id,
 * the redirect URI, the code and the PKCE verifier against the S256 challenge.
 */
async function startProvider() {
  const state = {
    url: null,
    portalOrigin: null,
    forgeState: false,
    codes: new Map(),
    authorizeRequests: [],
    tokenRequests: [],
    issuedTokens: [],
  };

  const server = http.createServer(async (request, response) => {
    const url = new URL(request.url, state.url);
    const cors = { 'Access-Control-Allow-Origin': state.portalOrigin ?? 'null', Vary: 'Origin' };
    const json = (status, body) => {
      response.writeHead(status, { ...cors, 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      response.end(JSON.stringify(body));
    };

    if (request.method === 'OPTIONS') {
      response.writeHead(204, { ...cors, 'Access-Control-Allow-Methods': 'GET, POST', 'Access-Control-Allow-Headers': 'content-type' });
      response.end();
    } else if (request.method === 'GET' && url.pathname === '/.well-known/openid-configuration') {
      json(200, {
        issuer: state.url,
        authorization_endpoint: `${state.url}/authorize`,
        token_endpoint: `${state.url}/token`,
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
      });
    } else if (request.method === 'GET' && url.pathname === '/authorize') {
      const query = Object.fromEntries(url.searchParams);
      state.authorizeRequests.push(query);
      const expectedRedirect = `${state.portalOrigin}/`;
      if (query.response_type !== 'code' || query.client_id !== CLIENT_ID || query.redirect_uri !== expectedRedirect
        || query.scope !== SCOPE || query.code_challenge_method !== 'S256' || !query.code_challenge || !query.state) {
        json(400, { error: 'invalid_request' });
        return;
      }
      const code = base64Url(randomBytes(16));
      state.codes.set(code, { challenge: query.code_challenge, redirectUri: query.redirect_uri, clientId: query.client_id });
      const back = new URL(query.redirect_uri);
      back.searchParams.set('code', code);
      back.searchParams.set('state', state.forgeState ? 'forged-state' : query.state);
      response.writeHead(302, { Location: back.href });
      response.end();
    } else if (request.method === 'POST' && url.pathname === '/token') {
      const form = Object.fromEntries(new URLSearchParams(await readBody(request)));
      const record = { form, result: null };
      state.tokenRequests.push(record);
      const grant = state.codes.get(form.code);
      state.codes.delete(form.code);
      const verifierMatches = grant && typeof form.code_verifier === 'string'
        && base64Url(createHash('sha256').update(form.code_verifier).digest()) === grant.challenge;
      if (form.grant_type !== 'authorization_code' || !grant || form.client_id !== grant.clientId
        || form.redirect_uri !== grant.redirectUri || !verifierMatches) {
        record.result = 'invalid_grant';
        json(400, { error: 'invalid_grant' });
        return;
      }
      const exp = Math.floor(Date.now() / 1000) + 300;
      const accessToken = fakeJwt({ sub: 'alice', tenant_id: 'demo', client_id: CLIENT_ID, exp });
      record.result = 'issued';
      state.issuedTokens.push(accessToken);
      json(200, { access_token: accessToken, id_token: fakeJwt({ sub: 'alice', aud: CLIENT_ID, exp }), token_type: 'Bearer', expires_in: 300 });
    } else {
      json(404, { error: 'not_found' });
    }
  });

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${server.address().port}`;
  state.close = () => new Promise((resolve) => server.close(resolve));
  return state;
}

// --- The second local runner ---

/** Starts `deptoken serve` with `args` and resolves to the child and its API address. */
function startRunner(args) {
  const child = spawn(DEPTOKEN_BIN, ['serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`deptoken serve did not start within 30 s: ${stderr}`)), 30_000);
    child.on('exit', (code) => reject(new Error(`deptoken serve exited with ${code}: ${stderr}`)));
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const api = stdout.match(/^deptoken API: (\S+)$/m)?.[1];
      if (api) {
        clearTimeout(timer);
        resolve({ child, api });
      }
    });
  });
}

async function stopRunner(child) {
  if (child.exitCode !== null) {
    return;
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid, 'SIGTERM');
  await exited;
}

before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'deptoken-signin-'));
  provider = await startProvider();
  const configFile = path.join(workDir, 'config.json');
  await writeFile(configFile, JSON.stringify({ oidc: { issuer: provider.url, client_id: CLIENT_ID, scope: SCOPE } }));

  runner = await startRunner([
    '--simulator', '--simulator-addr', '127.0.0.1:0', '--addr', '127.0.0.1:0',
    '--data-dir', path.join(workDir, 'data'), '--portal-config', configFile,
  ]);
  BASE = runner.api;
  provider.portalOrigin = BASE;
  catalogue = await (await fetch(`${BASE}/v1/messages?lang=ja`)).json();

  context = await chromium.launchPersistentContext(path.join(workDir, 'chromium'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
});

after(async () => {
  await context?.close();
  if (runner) {
    await stopRunner(runner.child);
  }
  await provider?.close();
  if (workDir) {
    await rm(workDir, { recursive: true, force: true });
  }
});

// --- Helpers ---

/**
 * Opens a page that records every /v1 request with its Authorization header, and whether it
 * came after the identity provider's redirect back to the portal.
 */
async function newRecordedPage() {
  const page = await context.newPage();
  const requests = [];
  let afterCallback = false;
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (request.isNavigationRequest() && url.origin === BASE && url.searchParams.has('code')) {
      afterCallback = true;
    }
    if (url.origin === BASE && url.pathname.startsWith('/v1/')) {
      requests.push({ path: url.pathname, authorization: request.headers().authorization ?? null, afterCallback });
    }
  });
  page.on('console', (message) => {
    if (message.type() === 'warning') {
      consoleWarnings.push(message.text());
    }
  });
  return { page, requests };
}

async function signedInPage(portalPath = '/') {
  const recorded = await newRecordedPage();
  await recorded.page.goto(`${BASE}${portalPath}`);
  await recorded.page.locator('body[data-ready="true"]').waitFor();
  return recorded;
}

function lastToken() {
  return provider.issuedTokens.at(-1);
}

/** Polls `condition` every 50 ms for up to 10 s. */
async function waitUntil(condition, label) {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${label}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until the portal has exchanged a new code and rendered the page after the callback. */
async function waitForNewSignIn(page, tokenRequestsBefore) {
  await waitUntil(() => provider.tokenRequests.length > tokenRequestsBefore, 'a new token request');
  await page.locator('body[data-ready="true"]').waitFor();
}

// --- Tests ---

test('runner serves config and extends CSP', async () => {
  const page = await fetch(`${BASE}/`);
  const config = await fetch(`${BASE}/portal/config.json`);
  const body = await config.json();

  assert.match(page.headers.get('content-security-policy'), new RegExp(`connect-src 'self' ${provider.url};`));
  assert.equal(config.status, 200);
  assert.equal(body.oidc.issuer, provider.url);
});

test('sign-in round trip sends bearer token', async () => {
  const authorizeBefore = provider.authorizeRequests.length;
  const { page, requests } = await signedInPage('/recipients');
  await page.getByRole('heading', { level: 1, name: '通知先' }).waitFor();
  const token = lastToken();
  const url = new URL(page.url());
  const stored = await page.evaluate(() => ({
    session: JSON.parse(sessionStorage.getItem('deptoken.auth.session')),
    local: JSON.stringify(Object.entries(localStorage)),
  }));
  const afterSignIn = requests.filter((request) => request.afterCallback);
  const beforeSignIn = requests.filter((request) => !request.afterCallback);

  assert.equal(provider.authorizeRequests.length, authorizeBefore + 1);
  assert.equal(provider.tokenRequests.at(-1).result, 'issued');
  assert.equal(provider.tokenRequests.at(-1).form.client_id, CLIENT_ID);
  assert.equal(url.pathname, '/recipients');
  assert.equal(url.search, '');
  assert.ok(!page.url().includes(token), 'token in the address bar');
  assert.equal(stored.session.token, token);
  assert.ok(!stored.local.includes(token), 'token in localStorage');
  assert.ok(afterSignIn.some((request) => request.path === '/v1/subscribers'), JSON.stringify(requests));
  for (const request of afterSignIn) {
    assert.equal(request.authorization, `Bearer ${token}`, request.path);
  }
  assert.deepEqual(beforeSignIn.map((request) => request.path), ['/v1/messages']);
  assert.equal(await page.getByRole('button', { name: 'サインアウト' }).isVisible(), true);
  await page.close();
});

test('certificate download sends bearer token', async () => {
  const name = 'chiba';
  const created = await fetch(`${BASE}/v1/servers`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name, display_name: '千葉営業所' }),
  });
  assert.equal(created.status, 201);
  const { page, requests } = await signedInPage(`/servers/${name}`);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: '公開鍵証明書 (.pem) をダウンロード' }).click(),
  ]);
  const pem = await readFile(await download.path(), 'utf8');
  const certificateRequest = requests.find((request) => request.path === `/v1/servers/${name}/certificate`);

  assert.equal(download.suggestedFilename(), `${name}.pem`);
  assert.match(pem, /^-----BEGIN CERTIFICATE-----/);
  assert.equal(certificateRequest?.authorization, `Bearer ${lastToken()}`);
  await page.close();
});

test('wrong state shows sign-in failed', async () => {
  provider.forgeState = true;
  const tokenRequestsBefore = provider.tokenRequests.length;
  let page;
  try {
    ({ page } = await signedInPage('/'));
  } finally {
    provider.forgeState = false;
  }
  const alert = page.locator('[role="alert"]');
  await alert.waitFor();
  const alertText = await alert.textContent();
  const session = await page.evaluate(() => sessionStorage.getItem('deptoken.auth.session'));

  assert.ok(alertText.includes(catalogue.ui['auth.failed']), alertText);
  assert.ok(alertText.includes(catalogue.ui['auth.failed_action']), alertText);
  assert.ok((await page.locator('main').textContent()).includes('state_mismatch'));
  assert.equal(provider.tokenRequests.length, tokenRequestsBefore, 'the code was exchanged');
  assert.equal(new URL(page.url()).search, '');
  assert.equal(session, null);
  assert.equal(await page.getByRole('button', { name: 'サインイン' }).isVisible(), true);
  assert.equal(await page.getByRole('button', { name: 'サインアウト' }).isVisible(), false);
  await page.close();
});

test('expired token signs in again', async () => {
  const { page } = await signedInPage('/');
  const firstToken = lastToken();
  const authorizeBefore = provider.authorizeRequests.length;
  const tokenRequestsBefore = provider.tokenRequests.length;

  await page.evaluate(() => {
    const session = JSON.parse(sessionStorage.getItem('deptoken.auth.session'));
    sessionStorage.setItem('deptoken.auth.session', JSON.stringify({ ...session, expiresAt: Date.now() - 1000 }));
  });
  await page.getByRole('link', { name: '通知先' }).click();
  await waitForNewSignIn(page, tokenRequestsBefore);
  const stored = await page.evaluate(() => JSON.parse(sessionStorage.getItem('deptoken.auth.session')).token);

  assert.equal(provider.authorizeRequests.length, authorizeBefore + 1);
  assert.notEqual(lastToken(), firstToken);
  assert.equal(stored, lastToken());
  assert.equal(new URL(page.url()).pathname, '/recipients');
  await page.close();
});

test('API 401 signs in again', async () => {
  const { page } = await signedInPage('/');
  const authorizeBefore = provider.authorizeRequests.length;
  const tokenRequestsBefore = provider.tokenRequests.length;
  // A token older than a minute: a 401 for a fresh one is shown, not answered with a sign-in.
  await page.evaluate(() => {
    const session = JSON.parse(sessionStorage.getItem('deptoken.auth.session'));
    sessionStorage.setItem('deptoken.auth.session', JSON.stringify({ ...session, receivedAt: Date.now() - 120_000 }));
  });
  let rejected = 0;
  await page.route('**/v1/subscribers', async (route) => {
    if (rejected === 0) {
      rejected += 1;
      await route.fulfill({ status: 401, contentType: 'application/json', body: '{"message":"Unauthorized"}' });
    } else {
      await route.continue();
    }
  });

  await page.getByRole('link', { name: '通知先' }).click();
  await waitForNewSignIn(page, tokenRequestsBefore);

  assert.equal(rejected, 1);
  assert.equal(new URL(page.url()).pathname, '/recipients');
  assert.equal(provider.authorizeRequests.length, authorizeBefore + 1);
  await page.close();
});

test('sign-out clears session storage', async () => {
  const { page } = await signedInPage('/');

  await page.getByRole('button', { name: 'サインアウト' }).click();
  await page.getByText(catalogue.ui['auth.signed_out']).waitFor();
  const remaining = await page.evaluate(() => sessionStorage.length);

  assert.equal(remaining, 0);
  assert.equal(await page.getByRole('button', { name: 'サインイン' }).isVisible(), true);
  assert.equal(await page.getByRole('button', { name: 'サインアウト' }).isVisible(), false);
  await page.close();
});

test('sign-in pages log no missing text', () => {
  assert.deepEqual(consoleWarnings, []);
});
