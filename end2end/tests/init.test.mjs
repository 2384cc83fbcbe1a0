// Device initialization through the UI (manual ch. 1): password rules as
// you type, confirmation, the optional email, success, then login.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startAll,
  hydrated,
  shot,
  rawHtml,
  expectPath,
  expectFieldError,
  waitFieldError,
  unexpectedErrors,
  STRONG,
} from '../lib/harness.mjs';
import {
  eventually,
  expectAbsent,
  expectAttribute,
  expectChecked,
  expectEnabled,
  expectText,
  expectValue,
  expectVisible,
} from '../lib/wait.mjs';

const NEXT = '#init-password button[type=submit]';

/** The password checklist as [label, passed] pairs. */
function checklist(page) {
  return page.$$eval('#init-password ul.rules li', (lis) =>
    lis.map((li) => [li.textContent.replace(/^\s*[\u2713\u2022]\s*/, '').trim(), li.classList.contains('ok')]),
  );
}

/** Waits until the checklist item whose label starts with `label` has state `ok`. */
async function waitRule(page, label, ok) {
  await page.waitForFunction(
    ([label, ok]) =>
      [...document.querySelectorAll('#init-password ul.rules li')].some(
        (li) => li.textContent.includes(label) && li.classList.contains(ok ? 'ok' : 'bad'),
      ),
    [label, ok],
  );
}

describe('device initialization', { timeout: 90000 }, () => {
  let env;
  before(async () => {
    env = await startAll();
  });
  after(async () => {
    await env?.close();
  });

  it('sends a fresh device to /init, with Next disabled until hydration', async () => {
    const { page, url } = env;

    // Server side: every page leads to /init on a fresh device.
    const home = await rawHtml(url, '/');
    assert.ok([302, 303, 307].includes(home.status), `GET / gave ${home.status}`);
    assert.equal(home.location, '/init');
    const login = await rawHtml(url, '/login');
    assert.equal(login.location, '/init', 'the login page also leads to /init before initialization');

    // The server-rendered form: Next is disabled, nothing hydrated yet.
    const init = await rawHtml(url, '/init');
    assert.equal(init.status, 200);
    const form = init.html.match(/<form[^>]*id="init-password"[\s\S]*?<\/form>/);
    assert.ok(form, 'the SSR HTML has the password form');
    const button = form[0].match(/<button[^>]*type="submit"[^>]*>/);
    assert.ok(button, 'the SSR password form has a submit button');
    assert.match(button[0], /\sdisabled(?:[\s=>])/, `Next must be disabled before hydration: ${button[0]}`);
    assert.doesNotMatch(init.html, /data-hydrated/);

    // In the browser: redirected, hydrated, and Next enabled.
    await page.goto(`${url}/`);
    await expectPath(page, '/init');
    await hydrated(page);
    await expectEnabled(page, NEXT, true, { message: 'Next is enabled after hydration' });
    await expectValue(page, '#username', 'admin');
    await expectAttribute(page, '#username', 'readonly', '');
  });

  it('shows the broken password rule as you type', async () => {
    const { page } = env;

    // Empty: length and kinds not met, nothing shown as an error yet.
    await eventually('the checklist of an empty password', async () =>
      assert.deepEqual(await checklist(page), [
        ['8 to 128 characters', false],
        ['Two kinds of: upper case, lower case, digits, symbols', false],
        ['Not the user name, nor the user name reversed', true],
        ['No 3 consecutive characters (123, abc, cba)', true],
        ['No 3 identical characters in a row (111, aaa)', true],
      ]),
    );
    await expectFieldError(page, 'password', '');

    await page.fill('#password', 'aaa');
    await waitRule(page, 'No 3 identical', false);
    assert.match(await waitFieldError(page, 'password'), /8 characters/);

    await page.fill('#password', 'abc123');
    // Only the wasm updates the checklist: this is the proof of hydration.
    await waitRule(page, 'Two kinds', true);
    await waitRule(page, 'No 3 identical', true);
    await eventually('the checklist of abc123', async () =>
      assert.deepEqual(await checklist(page), [
        ['8 to 128 characters', false],
        ['Two kinds of: upper case, lower case, digits, symbols', true],
        ['Not the user name, nor the user name reversed', true],
        ['No 3 consecutive characters (123, abc, cba)', false],
        ['No 3 identical characters in a row (111, aaa)', true],
      ]),
    );
    await expectFieldError(page, 'password', 'At least 8 characters');
    await expectAttribute(page, '#password', 'aria-invalid', 'true');
    await shot(page, 'init-weak-password');

    // Long enough now: the next broken rule is the sequence, named with what was found.
    await page.fill('#password', 'Xabc123yz');
    await waitRule(page, '8 to 128', true);
    await expectFieldError(page, 'password', /No 3 consecutive characters.*\u201cabc\u201d/);

    // The user name, in any case.
    await page.fill('#password', 'myAdmin#42');
    await waitRule(page, 'Not the user name', false);
    await expectFieldError(page, 'password', /user name/);
    await expectFieldError(page, 'password', /admin/);

    // Next with a weak password stays on the password step (checked in
    // the page: no request to wait for).
    await page.click(NEXT);
    await expectAbsent(page, '#init-email', '#init-password');
  });

  it('checks the confirmation, then goes on to the email step', async () => {
    const { page } = env;
    await page.fill('#password', STRONG);
    await waitRule(page, 'Not the user name', true);
    await eventually('all rules met by a strong password', async () =>
      assert.ok((await checklist(page)).every(([, ok]) => ok)),
    );
    await expectFieldError(page, 'password', '');
    await expectAttribute(page, '#password', 'aria-invalid', 'false');

    await page.fill('#confirm', `${STRONG}!`);
    assert.equal(await waitFieldError(page, 'confirm'), 'The passwords do not match');
    await page.click(NEXT);
    await expectAbsent(page, '#init-email', '#init-password', { message: 'no email step while they differ' });

    await page.fill('#confirm', STRONG);
    await page.waitForFunction(() => document.querySelector('#confirm-error').textContent.trim() === '');
    await page.click(NEXT);
    await expectAbsent(page, '#init-password', '#init-email');
    await expectText(page, 'ol.steps li.current', 'Email', {
      message: 'the step indicator shows the email step',
    });
  });

  it('validates the optional email and finishes', async () => {
    const { page, url } = env;
    await expectChecked(page, '#use-email', false);
    await expectAbsent(page, '#email', '#init-email', { message: 'no address field until Email is checked' });
    await page.check('#use-email');
    await page.waitForSelector('#email');

    await page.fill('#email', 'owner@example');
    assert.match(await waitFieldError(page, 'email'), /needs a dot/);
    await page.fill('#email', 'owner');
    assert.match(await waitFieldError(page, 'email'), /name@example\.com/);
    await shot(page, 'init-email-step');
    await page.click('#init-email button[type=submit]');
    // Refused in the page, the error still shown.
    await expectFieldError(page, 'email', /name@example\.com/);
    assert.equal(await page.isVisible('#init-ok'), false, 'no success with an invalid address');

    await page.fill('#email', 'owner@example.com');
    await page.waitForFunction(() => document.querySelector('#email-error').textContent.trim() === '');
    await page.click('#init-email button[type=submit]');
    await page.waitForSelector('#init-ok');
    await expectText(page, '.form-message.ok', /Initialization succeeded/);
    await shot(page, 'init-done');

    await page.click('#init-ok');
    await page.waitForURL(`${url}/login`);
    await hydrated(page);
    await expectVisible(page, '#login');
  });

  it('does not offer /init again once initialized', async () => {
    const { page, url } = env;
    await page.goto(`${url}/init`);
    await expectPath(page, '/login');
    const raw = await rawHtml(url, '/init');
    assert.ok([302, 303, 307].includes(raw.status), `GET /init gave ${raw.status}`);
    assert.equal(raw.location, '/login');
  });

  it('logged no unexpected console errors', () => {
    assert.deepEqual(unexpectedErrors(env.errors), []);
  });
});
