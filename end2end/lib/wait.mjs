// Waiting for conditions, for the browser tests: after a navigation or an
// action the page may not show its result yet (a form loads its values
// after a client-side navigation, a button works only once hydrated, the
// device answers a moment later). So no test looks once or sleeps a fixed
// time: it waits, with a deadline, until the condition holds, and says
// what it last saw when it does not.

import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';

/** How long a condition may take unless a test says otherwise. */
export const TIMEOUT = 10000;
/** How often a condition is looked at again. */
const INTERVAL = 100;
/** How long one look may wait for an element (kept short: it is repeated). */
const LOOK = 1000;

/**
 * Runs `check` until it returns something other than `false` without
 * throwing (an assertion inside it failing means "not yet"), and returns
 * that. After `timeout` ms it throws, naming `what` and the last failure.
 */
export async function eventually(what, check, { timeout = TIMEOUT, interval = INTERVAL } = {}) {
  const until = Date.now() + timeout;
  let last;
  for (;;) {
    const lastTry = Date.now() >= until;
    try {
      const v = await check();
      if (v !== false) return v;
      last = 'the condition was false';
    } catch (e) {
      last = e;
    }
    if (lastTry) break;
    await delay(interval);
  }
  const why = last instanceof Error ? last.message : String(last);
  const err = new Error(`${what}: not within ${timeout} ms. Last: ${why}`);
  if (last instanceof Error) err.cause = last;
  throw err;
}

/**
 * Until `value()` has stayed the same for `quietMs` (e.g. a packet count
 * that stops rising); returns that value. Fails after `timeout` ms.
 */
export async function settled(what, value, quietMs, { timeout = TIMEOUT, interval = INTERVAL } = {}) {
  let last;
  let since = Date.now();
  return eventually(
    what,
    async () => {
      const v = JSON.stringify(await value());
      if (v !== last) {
        last = v;
        since = Date.now();
      }
      assert.ok(Date.now() - since >= quietMs, `still changing: ${v}`);
      return JSON.parse(v);
    },
    { timeout, interval },
  );
}

const first = (page, selector) => page.locator(selector).first();

/** The first match's text content now (throws while there is none). */
export async function textOf(page, selector) {
  return (await first(page, selector).textContent({ timeout: LOOK })) ?? '';
}

/** The texts of every match now, trimmed. */
export function textsOf(page, selector) {
  return page.$$eval(selector, (els) => els.map((e) => e.textContent.trim()));
}

function matches(got, want) {
  return want instanceof RegExp ? want.test(got) : got === want;
}

function show(want) {
  return want instanceof RegExp ? String(want) : JSON.stringify(want);
}

/**
 * Until the first element matching `selector` has the text `want`: a string
 * is compared with the trimmed text, a RegExp tested on the raw text.
 * Returns the text.
 */
export async function expectText(page, selector, want, { timeout, message } = {}) {
  let got;
  await eventually(
    message ?? `${selector} text ${show(want)}`,
    async () => {
      got = await textOf(page, selector);
      const t = want instanceof RegExp ? got : got.trim();
      assert.ok(matches(t, want), `text is ${JSON.stringify(got)}`);
    },
    { timeout },
  );
  return got;
}

/** Until the form field `selector` has the value `want` (string or RegExp). */
export async function expectValue(page, selector, want, { timeout, message } = {}) {
  await eventually(
    message ?? `${selector} value ${show(want)}`,
    async () => {
      const got = await first(page, selector).inputValue({ timeout: LOOK });
      assert.ok(matches(got, want), `value is ${JSON.stringify(got)}`);
    },
    { timeout },
  );
}

/** Until the checkbox `selector` is checked (or not, with `want` false). */
export async function expectChecked(page, selector, want = true, { timeout, message } = {}) {
  await eventually(
    message ?? `${selector} ${want ? 'checked' : 'not checked'}`,
    async () => {
      const got = await first(page, selector).isChecked({ timeout: LOOK });
      assert.equal(got, want, `checked is ${got}`);
    },
    { timeout },
  );
}

/** Until `selector`'s attribute `name` is `want` (null: absent). */
export async function expectAttribute(page, selector, name, want, { timeout, message } = {}) {
  await eventually(
    message ?? `${selector} [${name}] ${JSON.stringify(want)}`,
    async () => {
      const got = await first(page, selector).getAttribute(name, { timeout: LOOK });
      assert.equal(got, want, `${name} is ${JSON.stringify(got)}`);
    },
    { timeout },
  );
}

/** Until an element matching `selector` is visible. */
export async function expectVisible(page, selector, { timeout = TIMEOUT, message } = {}) {
  try {
    await first(page, selector).waitFor({ state: 'visible', timeout });
  } catch (e) {
    throw new Error(`${message ?? selector}: not visible within ${timeout} ms`, { cause: e });
  }
}

/** Until no element matching `selector` is visible (hidden or absent). */
export async function expectHidden(page, selector, { timeout = TIMEOUT, message } = {}) {
  try {
    await first(page, selector).waitFor({ state: 'hidden', timeout });
  } catch (e) {
    throw new Error(`${message ?? selector}: still visible after ${timeout} ms`, { cause: e });
  }
}

/** Until the button (or field) `selector` is enabled (`want` false: disabled). */
export async function expectEnabled(page, selector, want = true, { timeout, message } = {}) {
  await eventually(
    message ?? `${selector} ${want ? 'enabled' : 'disabled'}`,
    async () => {
      const got = await first(page, selector).isEnabled({ timeout: LOOK });
      assert.equal(got, want, `enabled is ${got}`);
    },
    { timeout },
  );
}

/** Until exactly `n` elements match `selector`. */
export async function expectCount(page, selector, n, { timeout, message } = {}) {
  await eventually(
    message ?? `${n} of ${selector}`,
    async () => {
      const got = await page.locator(selector).count();
      assert.equal(got, n, `${got} match`);
    },
    { timeout },
  );
}

/**
 * That `selector` is not shown: first waits until `rendered` (something
 * the same render shows) is visible, so that "not there" is not merely
 * "not rendered yet", then looks once.
 */
export async function expectAbsent(page, selector, rendered, { timeout, message } = {}) {
  await expectVisible(page, rendered, { timeout, message: `${rendered} (rendered before checking ${selector})` });
  assert.equal(await page.isVisible(selector), false, message ?? `${selector} is shown`);
}
