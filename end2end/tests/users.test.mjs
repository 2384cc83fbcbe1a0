// Users with least privilege (the manual's cybersecurity appendix: "assign
// accounts and privileges reasonably", "check online users"): the admin
// adds an Operator, who sees only what the role may open; the admin sees
// both web sessions under Online Users and ends the Operator's, whose
// browser is then sent to the login page.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startLoggedIn,
  hydrated,
  shot,
  expectPath,
  expectFieldError,
  unexpectedErrors,
} from '../lib/harness.mjs';
import { eventually, expectCount, expectText, textsOf } from '../lib/wait.mjs';

const OP_PW = 'Gate-Keeper9';

describe('users and online users', { timeout: 120000 }, () => {
  let env;
  let other;
  before(async () => {
    env = await startLoggedIn();
  });
  after(async () => {
    await other?.close().catch(() => {});
    await env?.close();
  });

  it('adds an Operator, with errors next to the fields first', async () => {
    const { page, url } = env;
    await page.goto(`${url}/local/users`);
    await hydrated(page);
    await expectCount(page, '#users-table tbody tr', 1);
    await page.click('#user-add');
    await page.fill('#user-name', 'bad name');
    await page.fill('#user-password', 'short');
    await page.click('#user-save');
    await expectFieldError(page, 'user-name', 'Only letters, digits, _ - . and @');
    await expectFieldError(page, 'user-password', /At least 8 characters/);
    await page.fill('#user-name', 'admin');
    await expectFieldError(page, 'user-name', 'This user name is taken');
    await page.fill('#user-name', 'op');
    await page.fill('#user-password', OP_PW);
    await page.fill('#user-confirm', `${OP_PW}x`);
    await expectFieldError(page, 'user-confirm', 'The passwords do not match');
    await page.fill('#user-confirm', OP_PW);
    await page.selectOption('#user-role', 'Operator');
    await shot(page, 'users-add');
    await page.click('#user-save');
    await expectCount(page, '#users-table tbody tr', 2);
    await expectText(page, '#users-table tr[data-user="op"] .role', 'Operator');
    await shot(page, 'users-list');
  });

  it('lets the Operator see only what its role may open', async () => {
    const { browser, url } = env;
    other = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const op = await other.newPage();
    const errors = [];
    op.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await op.goto(`${url}/login`);
    await hydrated(op);
    await op.fill('#username', 'op');
    await op.fill('#password', OP_PW);
    await op.click('#login button[type=submit]');
    await op.waitForURL(`${url}/`);
    await hydrated(op);
    await op.getByRole('heading', { name: 'Door Camera' }).waitFor();
    const links = await textsOf(op, '.sidenav a');
    assert.deepEqual(links, ['Main Interface', 'Monitor', 'Call', 'Unlock', 'Alarm', 'Messages']);
    // Settings are neither in the menu nor on the main page.
    assert.equal(await op.locator('#power-menu').count(), 1);
    await op.click('#nav-toggle + label');
    await shot(op, 'users-operator-menu-phone');
    await op.goto(`${url}/local/basic`);
    await expectPath(op, '/', 'a settings page leads back to the main page');
    await op.goto(`${url}/log/unlock`);
    await expectPath(op, '/log/unlock');
    await hydrated(op);
    // Records Kept is a setting: not shown to an Operator. The menu comes
    // from the same `me` as the page's parts, so once it is there they are.
    await op.locator('.sidenav a', { hasText: 'Messages' }).waitFor({ state: 'attached' });
    await op.locator('#unlock-log-title, h1').first().waitFor();
    assert.equal(await op.locator('#unlock-keep').count(), 0);
    await shot(op, 'users-operator-unlock-log');
    assert.deepEqual(unexpectedErrors(errors), []);
  });

  it('lists both web sessions and ends the Operator\'s', async () => {
    const { page, url } = env;
    await page.goto(`${url}/local/online-users`);
    await hydrated(page);
    const rows = '#online-table tbody tr';
    await expectCount(page, rows, 2);
    const users = await textsOf(page, `${rows} td:first-child`);
    assert.ok(users.some((u) => u.startsWith('admin') && u.includes('this session')), users.join('|'));
    assert.ok(users.includes('op'), users.join('|'));
    // Not one's own session: it has no End.
    await expectCount(page, `${rows}.this-session button`, 0);
    await shot(page, 'online-users');
    const opRow = page.locator(rows).filter({ hasText: 'Operator' });
    await opRow.getByRole('button', { name: 'End' }).click();
    await expectText(page, '#online-end-question', /End the connection of op \(Web, /);
    await page.click('#online-end-confirm');
    await expectCount(page, rows, 1);
    await expectText(page, 'section[aria-labelledby=online-title] .form-message.ok', /Ended: op/);

    // The Operator's page learns it at its next request to the device
    // (the call status it follows: within about 20 s) and goes to login.
    const op = other.pages()[0];
    await op.waitForURL(`${url}/login`, { timeout: 40000 });
    await hydrated(op);
    await shot(op, 'users-operator-ended');
  });

  it('deletes the Operator after a confirmation', async () => {
    const { page, url } = env;
    await page.goto(`${url}/local/users`);
    await hydrated(page);
    await page.locator('#users-table tr[data-user="op"]').getByRole('button', { name: 'Delete' }).click();
    await expectText(page, '#user-delete-question', /Delete the account op\?/);
    await shot(page, 'users-delete-confirm');
    await page.click('#user-delete-confirm');
    await expectCount(page, '#users-table tbody tr', 1);
    await eventually('no Delete for admin', async () =>
      (await page.locator('#users-table button', { hasText: 'Delete' }).count()) === 0);
    // And on a phone.
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'users-phone');
    await page.goto(`${url}/local/online-users`);
    await hydrated(page);
    await shot(page, 'online-users-phone');
    await page.setViewportSize({ width: 1280, height: 820 });
  });
});
