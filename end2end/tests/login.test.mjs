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
  expectPath,
  powerMenu,
  unexpectedErrors,
  STRONG,
} from '../lib/harness.mjs';
import { eventually, expectEnabled, expectText, expectValue, textOf, textsOf } from '../lib/wait.mjs';

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
    await expectPath(page, '/login');
  });

  it('logs in as admin', async () => {
    const { page, url } = env;
    const raw = await rawHtml(url, '/login');
    const button = raw.html.match(/<form[^>]*id="login"[\s\S]*?<button[^>]*type="submit"[^>]*>/);
    assert.ok(button, 'the SSR login form has a submit button');
    assert.match(button[0], /\sdisabled(?:[\s=>])[^<]*$/, 'Login is disabled before hydration');

    await page.goto(`${url}/login`);
    await hydrated(page);
    await expectValue(page, '#username', 'admin');
    await expectEnabled(page, '#login button[type=submit]');
    await page.fill('#password', STRONG);
    await shot(page, 'login');
    await page.click('#login button[type=submit]');
    await page.waitForURL(`${url}/`);
    await hydrated(page);
  });

  it('shows the VTO and system information', async () => {
    const { page } = env;
    await page.getByRole('heading', { name: 'VTO Information' }).waitFor();
    await expectText(page, '#building-no', '01');
    await expectText(page, '#unit-no', '1');
    await expectText(page, '#device-type', 'Villa Station');
    await expectText(page, '#vto-no', '8001');
    await page.getByRole('heading', { name: 'System Information' }).waitFor();
    await eventually('a software version', async () =>
      assert.notEqual((await textOf(page, '#software-version')).trim(), ''),
    );
    await expectText(page, '#security-baseline', '1.2');
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
    const events = await eventually('the login and the initialization listed', async () => {
      const events = await textsOf(page, '#security-log tbody tr td:nth-child(2)');
      assert.ok(events.includes('Login'), `events: ${events}`);
      assert.ok(events.includes('Device initialized'), `events: ${events}`);
      return events;
    });
    // Newest first.
    assert.ok(events.indexOf('Login') < events.indexOf('Device initialized'), `events: ${events}`);
    const users = await textsOf(page, '#security-log tbody tr td:nth-child(3)');
    assert.ok(users.every((u) => u === 'admin'), `users: ${users}`);
    const ips = await textsOf(page, '#security-log tbody tr td:nth-child(4)');
    assert.ok(ips.every((ip) => ip === '127.0.0.1'), `ips: ${ips}`);
    await expectText(page, '.pager span', new RegExp(`^\\s*1 to ${events.length} of ${events.length}\\s*$`));
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
    await expectPath(page, '/login');
    await page.goto(`${url}/log/security`);
    await expectPath(page, '/login');
    const session = (await context.cookies(url)).find((c) => c.name === 'vto_session');
    assert.ok(!session || session.value === '', 'the session cookie is gone after logout');
  });

  it('logged no unexpected console errors', () => {
    assert.deepEqual(unexpectedErrors(env.errors), []);
  });
});
