// End-to-end tests of the admin portal in headless Chromium against `deptoken serve
// --simulator`. They run in order against one fresh server (entry names are fixed, so that
// the screenshots read well). scripts/browser-test.sh starts the server and sets:
//   DEPTOKEN_URL      the local runner, such as http://127.0.0.1:40123
//   DEPTOKEN_SIM_URL  its in-process DEP simulator
//   SCREENSHOT_DIR    where the screenshots go (target/screenshots; docs/screenshots with UPDATE_SCREENSHOTS=1)

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

const BASE = requiredEnv('DEPTOKEN_URL');
const SIM = requiredEnv('DEPTOKEN_SIM_URL');
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? path.resolve('screenshots');
const DAY_MS = 24 * 60 * 60 * 1000;
const ALERT_RED = 'rgb(176, 0, 32)';

let context;
let userDataDir;
const consoleProblems = [];

function requiredEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the tests with scripts/browser-test.sh`);
  }
  return value;
}

before(async () => {
  userDataDir = await mkdtemp(path.join(tmpdir(), 'deptoken-chromium-'));
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  context = await chromium.launchPersistentContext(userDataDir, {
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
  if (userDataDir) {
    await rm(userDataDir, { recursive: true, force: true });
  }
});

// --- Helpers: the API and the simulator, called from Node ---

async function apiJson(method, apiPath, body, lang = 'ja') {
  const response = await fetch(`${BASE}${apiPath}`, {
    method,
    headers: { 'Content-Type': 'application/json', 'Accept-Language': lang },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function certificateOf(name) {
  const response = await fetch(`${BASE}/v1/servers/${name}/certificate`);
  assert.equal(response.status, 200, `certificate of ${name}`);
  return response.text();
}

/** Asks the simulator for a token file encrypted for `pem`, as ABM's download would be. */
async function issueToken(pem, { serverName, expiresAt, adminId = 'abm-admin@example.co.jp', orgName = 'Example 株式会社' }) {
  const query = new URLSearchParams({
    server_name: serverName,
    expires_at: expiresAt.toISOString(),
    admin_id: adminId,
    org_name: orgName,
  });
  const response = await fetch(`${SIM}/sim/tokens?${query}`, { method: 'POST', body: pem });
  assert.equal(response.status, 200, `simulator issued a token: ${await response.clone().text()}`);
  return { file: Buffer.from(await response.arrayBuffer()), consumerKey: response.headers.get('x-sim-consumer-key') };
}

/**
 * Creates an entry through the API and uploads a simulator token expiring at `expiresAt`.
 * Returns the token's consumer key, which the simulator's control API takes.
 */
async function entryWithToken(name, displayName, expiresAt) {
  const created = await apiJson('POST', '/v1/servers', { name, display_name: displayName });
  assert.equal(created.status, 201, `create ${name}`);
  const token = await issueToken(await certificateOf(name), { serverName: `MDM ${name}`, expiresAt });
  const upload = await fetch(`${BASE}/v1/servers/${name}/token`, { method: 'PUT', body: token.file });
  assert.equal(upload.status, 200, `upload to ${name}: ${await upload.text()}`);
  return token.consumerKey;
}

function japaneseDate(instant, timeZone = 'Asia/Tokyo') {
  return new Intl.DateTimeFormat('ja-JP', { timeZone, year: 'numeric', month: 'long', day: 'numeric' })
    .format(new Date(instant));
}

const DEFAULT_SETTINGS = { notification_language: 'ja', time_zone: 'Asia/Tokyo' };

/** Stores the default settings again, so that later tests and screenshots use Asia/Tokyo. */
async function restoreDefaultSettings() {
  const restored = await apiJson('PUT', '/v1/settings', DEFAULT_SETTINGS);
  assert.equal(restored.status, 200, JSON.stringify(restored.body));
}

// --- Helpers: the browser ---

/** Opens `portalPath` in a new page with the language set to `lang`. */
async function openPortal(portalPath, lang = 'ja') {
  const page = await context.newPage();
  page.on('console', (message) => {
    // Chromium logs every 4xx response as "Failed to load resource"; the tests cause those on purpose.
    const expectedHttpError = message.text().startsWith('Failed to load resource');
    if (message.type() === 'warning' || (message.type() === 'error' && !expectedHttpError)) {
      consoleProblems.push(`${portalPath}: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => consoleProblems.push(`${portalPath}: ${error.message}`));

  await page.goto(`${BASE}/`);
  await page.evaluate((chosen) => localStorage.setItem('deptoken.lang', chosen), lang);
  await page.goto(`${BASE}${portalPath}`);
  await page.locator('body[data-ready="true"]').waitFor();
  return page;
}

async function screenshot(page, file) {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, file), fullPage: true });
}

async function focusedDescription(page) {
  return page.evaluate(() => {
    const element = document.activeElement;
    return element.id || element.getAttribute('href') || element.textContent.trim();
  });
}

// --- Tests ---

test('renewal in the UI shows new expiry', async () => {
  const name = 'tokyo';
  const page = await openPortal('/');

  await page.getByLabel('名前（半角英数字）').fill(name);
  await page.getByLabel('表示名').fill('東京本社');
  await page.getByRole('button', { name: '追加' }).click();
  await page.getByRole('heading', { level: 1, name: 'DEPサーバートークン登録' }).waitFor();

  assert.equal(new URL(page.url()).pathname, `/servers/${name}`);
  assert.match(await page.locator('.notice-success').first().textContent(), /東京本社/);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: '公開鍵証明書 (.pem) をダウンロード' }).click(),
  ]);
  const pem = await readFile(await download.path(), 'utf8');

  assert.equal(download.suggestedFilename(), `${name}.pem`);
  assert.match(pem, /^-----BEGIN CERTIFICATE-----/);

  const expiresAt = new Date(Date.now() + 365 * DAY_MS);
  const { file: token } = await issueToken(pem, { serverName: 'MDM 東京', expiresAt });
  await page.getByLabel('サーバートークンファイル (.p7m)').setInputFiles({
    name: `${name}_smime.p7m`, mimeType: 'application/pkcs7-mime', buffer: token,
  });
  await page.getByLabel('備考（Apple アカウント）').fill('abm-admin@example.co.jp');

  // Hold the upload until the progress state has been checked.
  let release;
  const uploadGate = new Promise((resolve) => { release = resolve; });
  await page.route('**/v1/servers/*/token', async (route) => {
    await uploadGate;
    await route.continue();
  });
  await page.getByRole('button', { name: '保存' }).click();
  const form = page.locator('form:has(#token-file)');
  await page.locator('form[aria-busy="true"]:has(#token-file)').waitFor();

  assert.equal(await form.getByRole('button', { name: '保存' }).isDisabled(), true);
  assert.match(await form.locator('[aria-live="polite"]').textContent(), /確認しています/);

  release();
  const result = page.locator('#upload-result .notice-success');
  await result.waitFor();
  const stored = (await apiJson('GET', `/v1/servers/${name}`)).body;
  const resultText = await result.textContent();

  assert.equal(stored.status, 'ok');
  assert.match(japaneseDate(stored.expires_at), /^\d{4}年\d{1,2}月\d{1,2}日$/);
  assert.ok(resultText.includes(japaneseDate(stored.expires_at)), resultText);
  assert.ok(resultText.includes(`残り ${stored.days_remaining} 日`), resultText);
  assert.equal(await focusedDescription(page), 'upload-result');
  assert.equal(await form.getAttribute('aria-busy'), null);
  assert.equal(stored.note, 'abm-admin@example.co.jp');
  assert.equal(await page.locator('table.history tbody tr').count(), 1);
  assert.match(await page.locator('dl.summary').textContent(), /MDM 東京/);

  await page.unroute('**/v1/servers/*/token');
  await screenshot(page, 'registration-ja.png');
  await page.close();
});

test('bad file shows Japanese error, expiry unchanged', async () => {
  const name = 'osaka';
  await entryWithToken(name, '大阪支社', new Date(Date.now() + 200 * DAY_MS));
  const before = (await apiJson('GET', `/v1/servers/${name}`)).body;
  const catalogue = (await apiJson('GET', '/v1/messages?lang=ja')).body;
  const page = await openPortal(`/servers/${name}`);

  await page.getByLabel('サーバートークンファイル (.p7m)').setInputFiles({
    name: 'notes.p7m', mimeType: 'application/octet-stream', buffer: Buffer.from('this is not a server token\n'),
  });
  await page.getByRole('button', { name: '保存' }).click();
  const alert = page.locator('#upload-result [role="alert"]');
  await alert.waitFor();
  const alertText = await alert.textContent();
  const afterUpload = (await apiJson('GET', `/v1/servers/${name}`)).body;

  assert.ok(alertText.includes(catalogue.errors.not_a_token.message), alertText);
  assert.ok(alertText.includes(catalogue.errors.not_a_token.action), alertText);
  assert.ok(alertText.includes('対処方法'), alertText);
  assert.equal(await focusedDescription(page), 'upload-result');
  assert.equal(afterUpload.expires_at, before.expires_at);
  assert.equal(afterUpload.status, 'ok');
  await page.close();
});

test('entry 45 days from expiry is red and flagged', async () => {
  const soon = 'nagoya';
  const later = 'fukuoka';
  await entryWithToken(soon, '名古屋営業所', new Date(Date.now() + 45 * DAY_MS));
  await entryWithToken(later, '福岡営業所', new Date(Date.now() + 300 * DAY_MS));
  const page = await openPortal('/');

  const soonRow = page.locator(`tr[data-server="${soon}"]`);
  const laterRow = page.locator(`tr[data-server="${later}"]`);
  await soonRow.waitFor();
  const soonColour = await soonRow.locator('[data-expiry]').evaluate((element) => getComputedStyle(element).color);
  const laterColour = await laterRow.locator('[data-expiry]').evaluate((element) => getComputedStyle(element).color);
  const soonText = await soonRow.textContent();
  const banner = await page.locator('section.banner').textContent();

  assert.equal(soonColour, ALERT_RED);
  assert.notEqual(laterColour, ALERT_RED);
  assert.ok(soonText.includes('期限間近'), soonText);
  assert.ok(soonText.includes('⚠'), soonText);
  assert.match(soonText, /有効期限まで残り 4[45] 日/);
  assert.ok(soonText.includes('Example 株式会社'), soonText);
  assert.ok(soonText.includes('abm-admin@example.co.jp'), soonText);
  assert.ok(banner.includes('名古屋営業所'), banner);
  assert.ok(!banner.includes('福岡営業所'), banner);
  assert.ok(!(await laterRow.textContent()).includes('期限間近'));
  await page.close();
});

test('broken entries say what to do', async () => {
  const name = 'sapporo';
  const consumerKey = await entryWithToken(name, '札幌営業所', new Date(Date.now() + 300 * DAY_MS));
  const changed = await fetch(`${SIM}/sim/tokens/${consumerKey}/state`, {
    method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ state: 'terms_not_accepted' }),
  });
  assert.equal(changed.status, 200, await changed.text());
  const page = await openPortal(`/servers/${name}`);

  await page.getByRole('button', { name: '今すぐ確認' }).click();
  await page.getByText('確認しました。').waitFor();
  const summary = await page.locator('dl.summary').textContent();
  await page.goto(`${BASE}/`);
  await page.locator('body[data-ready="true"]').waitFor();
  const rowText = await page.locator(`tr[data-server="${name}"]`).textContent();

  assert.ok(summary.includes('利用規約への同意が必要'), summary);
  assert.ok(rowText.includes('利用規約に同意'), rowText);
  assert.ok((await page.locator('section.banner').textContent()).includes('札幌営業所'));
  await page.close();
});

test('server mismatch offers confirmation', async () => {
  const name = 'kobe';
  await entryWithToken(name, '神戸営業所', new Date(Date.now() + 300 * DAY_MS));
  const { file: otherServer } = await issueToken(await certificateOf(name), {
    serverName: `MDM other ${name}`, expiresAt: new Date(Date.now() + 360 * DAY_MS),
  });
  const page = await openPortal(`/servers/${name}`);

  await page.getByLabel('サーバートークンファイル (.p7m)').setInputFiles({
    name: 'other_smime.p7m', mimeType: 'application/pkcs7-mime', buffer: otherServer,
  });
  await page.getByRole('button', { name: '保存' }).click();
  const confirm = page.getByRole('button', { name: 'MDMサーバを切り替えて保存' });
  await confirm.waitFor();
  const alertText = await page.locator('#upload-result [role="alert"]').textContent();
  await confirm.click();
  await page.locator('#upload-result .notice-success').waitFor();
  const stored = (await apiJson('GET', `/v1/servers/${name}`)).body;

  assert.ok(alertText.includes(`MDM other ${name}`), alertText);
  assert.equal(stored.account.server_name, `MDM other ${name}`);
  await page.close();
});

test('key rotation asks for confirmation', async () => {
  const name = 'sendai';
  await entryWithToken(name, '仙台営業所', new Date(Date.now() + 300 * DAY_MS));
  const oldCertificate = await certificateOf(name);
  const page = await openPortal(`/servers/${name}`);

  await page.getByRole('button', { name: '鍵の更新' }).click();
  const dialog = page.getByRole('dialog', { name: '鍵を更新しますか？' });
  await dialog.waitFor();
  const dialogText = await dialog.textContent();
  await dialog.getByRole('button', { name: 'キャンセル' }).click();
  const afterCancel = await certificateOf(name);
  await page.getByRole('button', { name: '鍵の更新' }).click();
  await dialog.getByRole('button', { name: '鍵を更新する' }).click();
  await page.getByText('新しい公開鍵証明書を作成しました。').waitFor();
  const afterConfirm = await certificateOf(name);

  assert.ok(dialogText.includes('Apple Business Manager'), dialogText);
  assert.equal(afterCancel, oldCertificate);
  assert.notEqual(afterConfirm, oldCertificate);
  await page.close();
});

test('simulator step issues a usable token', async () => {
  const name = 'nara';
  const created = await apiJson('POST', '/v1/servers', { name, display_name: '奈良営業所' });
  assert.equal(created.status, 201);
  const page = await openPortal(`/servers/${name}`);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'シミュレーターでサーバートークンを発行' }).click(),
  ]);
  await page.getByLabel('サーバートークンファイル (.p7m)').setInputFiles(await download.path());
  await page.getByRole('button', { name: '保存' }).click();
  await page.locator('#upload-result .notice-success').waitFor();
  const stored = (await apiJson('GET', `/v1/servers/${name}`)).body;

  assert.equal(download.suggestedFilename(), `${name}_smime.p7m`);
  assert.equal(stored.status, 'ok');
  assert.equal(stored.account.server_name, '奈良営業所');
  await page.close();
});

test('English switch shows English labels', async () => {
  const name = 'yokohama';
  await entryWithToken(name, 'Yokohama office', new Date(Date.now() + 50 * DAY_MS));
  const page = await openPortal('/');
  await page.locator(`tr[data-server="${name}"]`).waitFor();
  await screenshot(page, 'dashboard-ja.png');

  await page.getByRole('button', { name: 'Switch to English' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();

  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  assert.equal(await page.evaluate(() => localStorage.getItem('deptoken.lang')), 'en');
  assert.equal(await page.locator('#lang-switch').getAttribute('lang'), 'ja');
  assert.equal(await page.locator('#lang-switch').textContent(), '日本語');
  assert.ok((await page.locator('table.servers thead').textContent()).includes('Expiry'));
  await screenshot(page, 'dashboard-en.png');

  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  await page.getByRole('link', { name: 'Yokohama office' }).first().click();
  await page.getByRole('heading', { level: 1, name: 'DEP server token registration' }).waitFor();
  await page.getByLabel('Server token file (.p7m)').setInputFiles({
    name: 'empty.p7m', mimeType: 'application/octet-stream', buffer: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'),
  });
  await page.getByRole('button', { name: 'Save' }).click();
  const alertText = await page.locator('#upload-result [role="alert"]').textContent();
  const english = (await apiJson('GET', '/v1/messages?lang=en')).body;

  assert.ok(alertText.includes('What to do:'), alertText);
  assert.ok(Object.values(english.errors).some((text) => alertText.includes(text.message)), alertText);
  await page.locator('#upload-result').evaluate((element) => element.blur());
  await screenshot(page, 'registration-en.png');

  await page.getByRole('button', { name: '日本語に切り替えます' }).click();
  await page.getByRole('heading', { level: 1, name: 'DEPサーバートークン登録' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'ja');
  await page.close();
});

test('keyboard focus order is logical', async () => {
  const name = 'kyoto';
  await entryWithToken(name, '京都営業所', new Date(Date.now() + 300 * DAY_MS));
  const page = await openPortal(`/servers/${name}`);

  const frame = [];
  for (let i = 0; i < 5; i += 1) {
    await page.keyboard.press('Tab');
    frame.push(await focusedDescription(page));
  }
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Enter');
  const afterSkip = await focusedDescription(page);

  const order = [];
  await page.locator('#token-file').focus();
  order.push(await focusedDescription(page));
  for (let i = 0; i < 2; i += 1) {
    await page.keyboard.press('Tab');
    order.push(await focusedDescription(page));
  }
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);

  assert.deepEqual(frame, ['#main', '/', '/', '/recipients', 'lang-switch']);
  assert.equal(afterSkip, 'main');
  assert.deepEqual(order, ['token-file', 'token-note', '保存']);
  assert.equal(outline, 'solid');
  await page.close();
});

test('settings focus order is logical', async () => {
  const page = await openPortal('/recipients');
  await page.locator('#settings-language').focus();

  const order = [await focusedDescription(page)];
  for (let i = 0; i < 2; i += 1) {
    await page.keyboard.press('Tab');
    order.push(await focusedDescription(page));
  }
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);

  assert.deepEqual(order, ['settings-language', 'settings-time-zone', '設定を保存']);
  assert.equal(outline, 'solid');
  await page.close();
});

/** Returns the lowest WCAG contrast ratio of text against its background among `selector`'s elements. */
async function lowestContrast(page, selector) {
  return page.evaluate((css) => {
    const parse = (colour) => (colour.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r, g, b]) => {
      const channel = (value) => {
        const c = value / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const backgroundOf = (element) => {
      for (let node = element; node; node = node.parentElement) {
        const rgba = parse(getComputedStyle(node).backgroundColor);
        if (rgba.length === 3 || rgba[3] > 0) {
          return rgba.slice(0, 3);
        }
      }
      return [255, 255, 255];
    };

    let lowest = Infinity;
    for (const element of document.querySelectorAll(css)) {
      const text = luminance(parse(getComputedStyle(element).color));
      const background = luminance(backgroundOf(element));
      const ratio = (Math.max(text, background) + 0.05) / (Math.min(text, background) + 0.05);
      lowest = Math.min(lowest, ratio);
    }
    return lowest;
  }, selector);
}

test('text contrast is at least 4.5:1', async () => {
  // Per screen: an element that shows once the screen has loaded, and the selectors to check.
  const screens = {
    '/': ['table', [
      'h1', '.intro', 'th', 'td', '.secondary-text', '.expiry', '.expiry-alert', '.status', '.status-action',
      '.banner h2', '.banner li', '.help', 'label', 'button', '.site-nav a', '.site-title a', '#lang-switch', 'tbody a',
    ]],
    '/servers/nara': ['table', [
      '.summary dt', '.summary dd', '.steps h3', '.steps p', '.abm-steps li', '.notice-warning', '.notice-progress p', '.status-ok',
      '.secondary-inline', '.button-link', 'button', 'button.secondary', '.help', '.not-set', 'table.history td',
    ]],
    '/recipients': ['#settings-time-zone', [
      'h1', '.intro', 'h2', '.card p', 'label', '.help', 'select', 'button',
    ]],
  };

  for (const [portalPath, [loaded, list]] of Object.entries(screens)) {
    const page = await openPortal(portalPath);
    await page.locator('h1').waitFor();
    await page.locator(loaded).first().waitFor();
    for (const selector of list) {
      const ratio = await lowestContrast(page, selector);

      assert.ok(Number.isFinite(ratio), `${portalPath} ${selector}: no element`);
      assert.ok(ratio >= 4.5, `${portalPath} ${selector}: ${ratio.toFixed(2)}:1`);
    }
    await page.close();
  }
});

test('recipients screen lists, adds and removes', async (t) => {
  const page = await openPortal('/recipients');
  await page.getByRole('heading', { level: 1, name: '通知先' }).waitFor();
  const probe = await apiJson('GET', '/v1/subscribers');

  if (probe.status === 404) {
    const alert = page.locator('[role="alert"]').first();
    await alert.waitFor();
    assert.ok((await alert.textContent()).includes(probe.body.error.message));
    await page.close();
    console.log('SKIPPED: GET /v1/subscribers returns 404, so adding and removing recipients cannot be tested yet');
    t.skip('GET /v1/subscribers returns 404');
    return;
  }

  await page.getByLabel('メールアドレスまたは電話番号').fill('ops@example.com');
  await page.getByRole('button', { name: '追加', exact: true }).click();
  await page.getByRole('cell', { name: 'ops@example.com' }).or(page.getByRole('rowheader', { name: 'ops@example.com' })).first().waitFor();
  await page.locator('#settings-time-zone').waitFor();
  await screenshot(page, 'recipients-ja.png');
  await page.getByRole('button', { name: '「ops@example.com」を削除' }).click();
  await page.getByRole('dialog').getByRole('button', { name: '削除' }).click();
  await page.getByText('通知先「ops@example.com」を削除しました。').waitFor();
  const listed = (await apiJson('GET', '/v1/subscribers')).body.subscribers;

  assert.ok(!listed.some((subscriber) => subscriber.endpoint === 'ops@example.com'));
  await page.close();
});

test('settings store language and zone', async (t) => {
  t.after(restoreDefaultSettings);
  const name = 'naha';
  // 03:00 UTC is noon in Tokyo and the evening of the day before in Los Angeles.
  const expiresAt = new Date(Date.now() + 200 * DAY_MS);
  expiresAt.setUTCHours(3, 0, 0, 0);
  await entryWithToken(name, '那覇営業所', expiresAt);
  const storedExpiry = (await apiJson('GET', `/v1/servers/${name}`)).body.expires_at;
  const tokyoDate = japaneseDate(storedExpiry);
  const losAngelesDate = japaneseDate(storedExpiry, 'America/Los_Angeles');
  assert.notEqual(tokyoDate, losAngelesDate, `${storedExpiry} falls on one day in both zones`);

  const page = await openPortal('/recipients');
  const language = page.getByLabel('通知の言語');
  const zone = page.getByLabel('タイムゾーン');
  await zone.waitFor();

  assert.equal(await language.inputValue(), 'ja');
  assert.equal(await zone.inputValue(), 'Asia/Tokyo');
  assert.equal(await zone.locator('option').first().getAttribute('value'), 'Asia/Tokyo');
  assert.match(await page.locator('#settings-language-help').textContent(), /表示言語/);

  await language.selectOption('en');
  await zone.selectOption('America/Los_Angeles');
  await page.getByRole('button', { name: '設定を保存' }).click();
  const result = page.locator('#settings-result .notice-success');
  await result.waitFor();
  const resultText = await result.textContent();
  const stored = (await apiJson('GET', '/v1/settings')).body;

  assert.ok(resultText.includes('通知の設定を保存しました'), resultText);
  assert.ok(resultText.includes('English'), resultText);
  assert.ok(resultText.includes('America/Los_Angeles'), resultText);
  assert.equal(await result.getAttribute('role'), 'status');
  assert.equal(await focusedDescription(page), 'settings-result');
  assert.equal(stored.notification_language, 'en');
  assert.equal(stored.time_zone, 'America/Los_Angeles');
  assert.ok(stored.version >= 1, JSON.stringify(stored));

  // The dashboard shows the new zone at once, without a reload, and after one.
  await page.locator('#site-nav a[href="/"]').click();
  const expiry = page.locator(`tr[data-server="${name}"] [data-expiry]`);
  await expiry.waitFor();
  const dateInSession = await expiry.textContent();
  await page.reload();
  await page.locator('body[data-ready="true"]').waitFor();
  const dateAfterReload = await expiry.textContent();

  assert.ok(dateInSession.includes(losAngelesDate), `${dateInSession}, expected ${losAngelesDate}`);
  assert.ok(dateAfterReload.includes(losAngelesDate), `${dateAfterReload}, expected ${losAngelesDate}`);

  await page.goto(`${BASE}/recipients`);
  await page.locator('body[data-ready="true"]').waitFor();

  assert.equal(await language.inputValue(), 'en');
  assert.equal(await zone.inputValue(), 'America/Los_Angeles');

  await language.selectOption('ja');
  await zone.selectOption('Asia/Tokyo');
  await page.getByRole('button', { name: '設定を保存' }).click();
  await result.waitFor();
  const restored = (await apiJson('GET', '/v1/settings')).body;
  await page.locator('#site-nav a[href="/"]').click();
  await expiry.waitFor();

  assert.equal(restored.notification_language, 'ja');
  assert.equal(restored.time_zone, 'Asia/Tokyo');
  assert.ok((await expiry.textContent()).includes(tokyoDate));
  await page.close();
});

test('settings error shows next to field', async () => {
  const before = (await apiJson('GET', '/v1/settings')).body;
  const catalogue = (await apiJson('GET', '/v1/messages?lang=ja')).body;
  const page = await openPortal('/recipients');
  const zone = page.getByLabel('タイムゾーン');
  await zone.waitFor();
  // The list offers only valid zones, so the request is changed on its way to the API.
  await page.route('**/v1/settings', async (route) => {
    if (route.request().method() !== 'PUT') {
      await route.continue();
      return;
    }
    const body = { ...route.request().postDataJSON(), time_zone: 'Mars/Olympus_Mons' };
    await route.continue({ postData: JSON.stringify(body) });
  });

  await page.getByRole('button', { name: '設定を保存' }).click();
  const fieldError = page.locator('#settings-time-zone-error [role="alert"]');
  await fieldError.waitFor();
  const errorText = await fieldError.textContent();
  const after = (await apiJson('GET', '/v1/settings')).body;

  assert.ok(errorText.includes(catalogue.errors.invalid_request.message.replace('{field}', 'time_zone')), errorText);
  assert.ok(errorText.includes('対処方法'), errorText);
  assert.equal(await zone.getAttribute('aria-invalid'), 'true');
  assert.match(await zone.getAttribute('aria-describedby'), /\bsettings-time-zone-error\b/);
  assert.equal(await focusedDescription(page), 'settings-time-zone');
  assert.equal(await page.locator('#settings-language-error').textContent(), '');
  assert.equal(await page.locator('#settings-result').textContent(), '');
  assert.deepEqual(after, before);

  await page.unroute('**/v1/settings');
  await page.getByRole('button', { name: '設定を保存' }).click();
  await page.locator('#settings-result .notice-success').waitFor();

  assert.equal(await zone.getAttribute('aria-invalid'), null);
  assert.equal(await page.locator('#settings-time-zone-error').textContent(), '');
  await page.close();
});

test('settings read-only after 403', async () => {
  const catalogue = (await apiJson('GET', '/v1/messages?lang=ja')).body;
  const forbidden = catalogue.errors.forbidden;
  const page = await openPortal('/recipients');
  await page.getByLabel('タイムゾーン').waitFor();
  // The local runner acts as an admin, so the route returns the API's 403 for a reader.
  await page.route('**/v1/settings', async (route) => {
    if (route.request().method() !== 'PUT') {
      await route.continue();
      return;
    }
    await route.fulfill({
      status: 403,
      contentType: 'application/json',
      body: JSON.stringify({ error: { code: 'forbidden', message: forbidden.message, action: forbidden.action } }),
    });
  });

  await page.getByRole('button', { name: '設定を保存' }).click();
  const notice = page.locator('#settings-read-only .notice-warning');
  await notice.waitFor();
  const alertText = await page.locator('#settings-result [role="alert"]').textContent();

  assert.ok((await notice.textContent()).includes('管理者だけ'));
  assert.ok(alertText.includes(forbidden.message), alertText);
  assert.ok(alertText.includes(forbidden.action), alertText);
  assert.equal(await page.getByLabel('通知の言語').isDisabled(), true);
  assert.equal(await page.getByLabel('タイムゾーン').isDisabled(), true);
  assert.equal(await page.getByRole('button', { name: '設定を保存' }).isDisabled(), true);
  assert.match(await page.getByLabel('タイムゾーン').getAttribute('aria-describedby'), /\bsettings-read-only\b/);
  assert.equal(await focusedDescription(page), 'settings-result');
  await page.close();
});

test('dates fall back to default zone', async (t) => {
  t.after(restoreDefaultSettings);
  const stored = await apiJson('PUT', '/v1/settings', { notification_language: 'ja', time_zone: 'America/Los_Angeles' });
  assert.equal(stored.status, 200, JSON.stringify(stored.body));
  const storedExpiry = (await apiJson('GET', '/v1/servers/naha')).body.expires_at;
  // Not openPortal: the portal logs a warning when /v1/settings fails, which is expected here.
  const page = await context.newPage();
  await page.route('**/v1/settings', (route) => route.fulfill({
    status: 503,
    contentType: 'application/json',
    body: JSON.stringify({ error: { code: 'service_busy', message: 'busy', action: 'retry' } }),
  }));

  await page.goto(`${BASE}/`);
  await page.evaluate(() => localStorage.setItem('deptoken.lang', 'ja'));
  await page.reload();
  await page.locator('body[data-ready="true"]').waitFor();
  const dateText = await page.locator('tr[data-server="naha"] [data-expiry]').textContent();

  assert.ok(dateText.includes(japaneseDate(storedExpiry)), `${dateText}, expected the Tokyo date`);
  await page.close();
});

test('pages log no missing text or error', () => {
  assert.deepEqual(consoleProblems, []);
});
