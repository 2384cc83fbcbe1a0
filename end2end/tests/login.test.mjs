// Login, the main interface (manual ch. 3), the security log, the session
// cookie and logout.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startAll,
  hydrated,
  initialize,
  shot,
  rawHtml,
  pathOf,
  powerMenu,
  unexpectedErrors,
  STRONG,
} from '../lib/harness.mjs';

const text = async (page, sel) => ((await page.textContent(sel)) ?? '').trim();

describe('login and main interface', { timeout: 90000 }, () => {
  let env;
  before(async () => {
    env = await startAll();
    await initialize(env.page, env.url);
  });
  after(async () => {
    await env?.close();
  });

  it('keeps the main interface behind the login', async () => {
    const { page, url } = env;
    const raw = await rawHtml(url, '/');
    assert.ok([302, 303, 307].includes(raw.status), `GET / gave ${raw.status}`);
    assert.equal(raw.location, '/login');
    await page.goto(`${url}/`);
    assert.equal(pathOf(page), '/login');
  });

  it('logs in as admin', async () => {
    const { page, url } = env;
    const raw = await rawHtml(url, '/login');
    const button = raw.html.match(/<form[^>]*id="login"[\s\S]*?<button[^>]*type="submit"[^>]*>/);
    assert.ok(button, 'the SSR login form has a submit button');
    assert.match(button[0], /\sdisabled(?:[\s=>])[^<]*$/, 'Login is disabled before hydration');

    await page.goto(`${url}/login`);
    await hydrated(page);
    assert.equal(await page.inputValue('#username'), 'admin');
    assert.equal(await page.isEnabled('#login button[type=submit]'), true);
    await page.fill('#password', STRONG);
    await shot(page, 'login');
    await page.click('#login button[type=submit]');
    await page.waitForURL(`${url}/`);
    await hydrated(page);
  });

  it('shows the VTO and system information', async () => {
    const { page } = env;
    await page.getByRole('heading', { name: 'VTO Information' }).waitFor();
    assert.equal(await text(page, '#building-no'), '01');
    assert.equal(await text(page, '#unit-no'), '1');
    assert.equal(await text(page, '#device-type'), 'Villa Station');
    assert.equal(await text(page, '#vto-no'), '8001');
    assert.equal(await page.getByRole('heading', { name: 'System Information' }).isVisible(), true);
    assert.notEqual(await text(page, '#software-version'), '');
    assert.equal(await text(page, '#security-baseline'), '1.2');
    await shot(page, 'main');
  });

  it('keeps the session cookie away from scripts', async () => {
    const { page, context, url } = env;
    const cookies = await context.cookies(url);
    const session = cookies.find((c) => c.name === 'vto_session');
    assert.ok(session, `a vto_session cookie is set (have: ${cookies.map((c) => c.name).join(', ')})`);
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(session.path, '/');
    const visible = await page.evaluate(() => document.cookie);
    assert.doesNotMatch(visible, /vto_session/);
  });

  it('lists the login and the initialization in the security log', async () => {
    const { page, url } = env;
    // Log Management > Security (Local Setting has a Security page too).
    await page.click('nav.sidenav a[href="/log/security"]');
    await page.waitForURL(`${url}/log/security`);
    await page.waitForSelector('#security-log tbody tr');
    const events = await page.$$eval('#security-log tbody tr td:nth-child(2)', (tds) =>
      tds.map((td) => td.textContent.trim()),
    );
    assert.ok(events.includes('Login'), `events: ${events}`);
    assert.ok(events.includes('Device initialized'), `events: ${events}`);
    // Newest first.
    assert.ok(events.indexOf('Login') < events.indexOf('Device initialized'), `events: ${events}`);
    const users = await page.$$eval('#security-log tbody tr td:nth-child(3)', (tds) =>
      tds.map((td) => td.textContent.trim()),
    );
    assert.ok(users.every((u) => u === 'admin'), `users: ${users}`);
    const ips = await page.$$eval('#security-log tbody tr td:nth-child(4)', (tds) =>
      tds.map((td) => td.textContent.trim()),
    );
    assert.ok(ips.every((ip) => ip === '127.0.0.1'), `ips: ${ips}`);
    assert.match(await text(page, '.pager span'), new RegExp(`^1 to ${events.length} of ${events.length}$`));
    await shot(page, 'security-log');

    // The log page also works when loaded directly (server-rendered).
    await page.goto(`${url}/log/security`);
    await hydrated(page);
    await page.waitForSelector('#security-log tbody tr');
  });

  it('logs out through the power menu', async () => {
    const { page, context, url } = env;
    await powerMenu(page, 'Logout');
    await page.waitForURL(`${url}/login`);
    await hydrated(page);
    await page.goto(`${url}/`);
    assert.equal(pathOf(page), '/login');
    await page.goto(`${url}/log/security`);
    assert.equal(pathOf(page), '/login');
    const session = (await context.cookies(url)).find((c) => c.name === 'vto_session');
    assert.ok(!session || session.value === '', 'the session cookie is gone after logout');
  });

  it('logged no unexpected console errors', () => {
    assert.deepEqual(unexpectedErrors(env.errors), []);
  });
});
