// The door in the browser, on the built-in simulated lock: Access Control >
// Local (labels, an error next to its field, Save), Unlock on the main page
// with the lock's state changing live (no reload) and back, the simulator's
// door forced open raising an alarm at once, and Log Management > Unlock
// and Alarm listing it all, filtered, with Export Data; Auto Snapshot
// (unlock) on Local Setting > Basic and the record's link to the JPEG. Then a room's card
// issued through the countdown with a simulated swipe, set lost (refused),
// and the keypad's access password opening the door.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  startLoggedIn,
  hydrated,
  shot,
  unexpectedErrors,
  waitFieldError,
} from '../lib/harness.mjs';
import {
  eventually,
  expectAbsent,
  expectEnabled,
  expectText,
  expectValue,
  expectVisible,
  textsOf,
} from '../lib/wait.mjs';

/**
 * Clicks Unlock on the main page and waits for the device's answer, then
 * for the page to say so. First the door panel must show the lock closed
 * (its state is loaded, then followed by long poll): the last opening and
 * its Unlock Responding Interval are over, so the click is not refused as
 * too soon. A refusal or an error fails with the device's own answer
 * instead of a bare timeout on the message.
 */
async function unlock(page) {
  await expectText(page, '#lock-state', 'Locked');
  await expectEnabled(page, '#unlock');
  const [answer] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/unlock'),
    page.click('#unlock'),
  ]);
  const body = await answer.text();
  assert.equal(answer.status(), 200, `the unlock answered ${answer.status()}: ${body}`);
  assert.ok(JSON.parse(body).refused == null, `the unlock was refused: ${body}`);
  await expectText(page, '#unlock-message', 'Unlocked.');
}

describe('Door and lock', { timeout: 120000 }, () => {
  let env;
  before(async () => {
    env = await startLoggedIn();
  });
  after(async () => {
    await env?.close();
  });

  it('sets Access Control > Local', async () => {
    const { page, url } = env;
    await page.click('nav.sidenav a[href="/local/access"]');
    await page.waitForURL(`${url}/local/access`);
    await hydrated(page);
    for (const label of [
      'Unlock Responding Interval (s)',
      'Unlock Period (s)',
      'Door Sensor Check Time (s)',
      'Enable',
      'Door Contact Type',
      'First Unlock Command',
    ]) {
      // The form renders once its values are loaded (a client-side navigation).
      await expectVisible(page, `#access-form label:text-is("${label}")`, { message: label });
    }
    await expectValue(page, '#unlock-period', '5');
    await page.fill('#unlock-period', '0');
    await page.click('#access-form button[type="submit"]');
    assert.match(await waitFieldError(page, 'unlock-period'), /1 to 600 seconds/);
    await page.fill('#unlock-period', '2');
    await page.fill('#unlock-interval', '1');
    await page.click('#access-form button[type="submit"]');
    await page.waitForSelector('#access-form .form-message.ok');
    await shot(page, 'access-control');
  });

  it('unlocks from the main page and shows the lock live', async () => {
    const { page, url } = env;
    await page.goto(`${url}/`);
    await hydrated(page);
    await expectText(page, '#lock-state', 'Locked');
    await expectText(page, '#door-state', 'Closed');
    await expectVisible(page, '#simulator', { message: 'the simulator is marked as such' });
    await expectText(page, '#simulator h3', /simulated door/);
    await unlock(page);
    await page.waitForFunction(() => document.querySelector('#lock-state')?.textContent === 'Open');
    await expectText(page, '#last-unlock', /Remote by admin/);
    await shot(page, 'door-open');
    // Back to Locked after the 2 s Unlock Period, with no reload.
    await page.waitForFunction(
      () => document.querySelector('#lock-state')?.textContent === 'Locked',
      null,
      { timeout: 10000 },
    );
    // The door opened while locked: forced, shown at once.
    await page.click('#sim-open');
    await page.waitForSelector('#door-alarms li:has-text("Door forced open")');
    await expectText(page, '#door-state', 'Open');
    await shot(page, 'door-forced');
    await page.click('#sim-close');
    await page.waitForFunction(() => document.querySelector('#door-state')?.textContent === 'Closed');
    // The exit button opens.
    await page.click('#sim-exit');
    await page.waitForFunction(() => /Button by Exit button/.test(document.querySelector('#last-unlock')?.textContent ?? ''));
  });

  it('lists every attempt and alarm in Log Management', async () => {
    const { page, url } = env;
    await page.click('nav.sidenav a[href="/log/unlock"]');
    await page.waitForURL(`${url}/log/unlock`);
    await hydrated(page);
    await eventually('the Button and the Remote opening listed', async () =>
      assert.deepEqual(await textsOf(page, '#unlock-log tbody tr td:nth-child(3)'), ['Button', 'Remote']),
    );
    await page.waitForFunction(() => document.querySelector('#unlock-keep')?.value === '10000');
    for (const label of ['Unlock Method', 'Result', 'Records Kept']) {
      await expectVisible(page, `label:text-is("${label}")`, { message: label });
    }
    await page.selectOption('#unlock-method', 'remote');
    await page.waitForFunction(() => document.querySelectorAll('#unlock-log tbody tr').length === 1);
    await expectText(page, '#unlock-log tbody tr', /Remote\s*admin/);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('#unlock-export'),
    ]);
    assert.equal(download.suggestedFilename(), 'unlock-log.csv');
    const path = join(tmpdir(), `unlock-${process.pid}.csv`);
    await download.saveAs(path);
    const csv = readFileSync(path, 'utf8').trim().split('\r\n');
    assert.equal(csv[0], 'No.,Time,Unlock Method,User,Source,Result,Reason,Snapshot');
    assert.equal(csv.length, 2, csv.join('\n'));
    assert.match(csv[1], /,Remote,admin,127\.0\.0\.1,Opened,,$/);
    await page.selectOption('#unlock-method', '');
    await page.waitForFunction(() => document.querySelectorAll('#unlock-log tbody tr').length === 2);
    await shot(page, 'unlock-log');

    await page.click('nav.sidenav a[href="/log/alarm"]');
    await page.waitForURL(`${url}/log/alarm`);
    await expectText(page, '#alarm-log tbody tr', /Door forced open/);
    await shot(page, 'alarm-log');
    assert.equal(unexpectedErrors(env.errors).length, 0, unexpectedErrors(env.errors).join('\n'));
  });

  it('saves a snapshot of each unlock with Auto Snapshot (unlock)', async () => {
    const { page, url } = env;
    await page.click('nav.sidenav a[href="/local/basic"]');
    await page.waitForURL(`${url}/local/basic`);
    await hydrated(page);
    for (const label of ['Storage Point', 'Auto Snapshot (unlock)']) {
      // The form renders once its values are loaded (a client-side navigation).
      await expectVisible(page, `#basic-form label:text-is("${label}")`, { message: label });
    }
    await page.fill('#storage-point', 'sd');
    await page.click('#basic-form button[type="submit"]');
    assert.match(await waitFieldError(page, 'storage-point'), /absolute folder path/);
    await page.fill('#storage-point', '');
    await page.check('#auto-snapshot-unlock');
    await page.click('#basic-form button[type="submit"]');
    await page.waitForSelector('#basic-form .form-message.ok');
    await shot(page, 'basic-snapshot');

    await page.goto(`${url}/`);
    await hydrated(page);
    await unlock(page);
    await page.goto(`${url}/log/unlock`);
    await hydrated(page);
    // Taken just after the opening: Refresh until the link is there.
    const link = page.locator('#unlock-log tbody tr:first-child a.snapshot-link');
    await eventually(
      'the newest record links its snapshot',
      async () => {
        await page.click('#unlock-refresh');
        await link.waitFor({ timeout: 1000 });
      },
      { timeout: 15000 },
    );
    const href = await link.getAttribute('href');
    assert.match(href, /^\/storage\/unlock-\d+-\d+\.jpg$/);
    const res = await page.request.get(`${url}${href}`);
    assert.equal(res.status(), 200);
    assert.equal(res.headers()['content-type'], 'image/jpeg');
    const jpeg = await res.body();
    assert.equal(jpeg[0], 0xff);
    assert.equal(jpeg[1], 0xd8);
    await shot(page, 'unlock-log-snapshot');
  });

  it('issues a card through the countdown and opens with it', async () => {
    const { page, url } = env;
    await page.click('nav.sidenav a[href="/household/room"]');
    await page.waitForURL(`${url}/household/room`);
    await hydrated(page);
    await page.click('#room-add');
    await page.fill('#room-no', '9901');
    await page.click('#room-save');
    await page.waitForSelector('#room-passwords');
    await page.click('tr[data-room="9901"] button:text-is("Modify")');
    await page.click('#room-issue-card');
    await page.waitForURL(`${url}/household/cards/9901`);
    await hydrated(page);
    await page.waitForSelector('p.muted:has-text("No cards yet")');
    await page.click('#issue-card');
    await page.waitForSelector('#countdown:has-text("Swipe the card on the VTO")');
    // The simulated swipe, from another tab on the main page.
    const door = await page.context().newPage();
    await door.goto(`${url}/`);
    await hydrated(door);
    await door.fill('#sim-card', '00ab12');
    await door.click('#sim-card-form button[type="submit"]');
    // The countdown page sees the card and asks for its name.
    await expectText(page, '#issue-number', '00AB12');
    await page.click('#card-name-save');
    assert.match(await waitFieldError(page, 'card-name'), /Enter a name/);
    await page.fill('#card-name', 'Ben');
    await shot(page, 'issue-card-dialog');
    await page.click('#card-name-save');
    await page.waitForSelector('#captured li:has-text("Ben")');
    await shot(page, 'issue-card-countdown');
    await page.click('#confirm-send-card');
    await expectAbsent(page, '#countdown', '#card-list tr[data-card="00AB12"]');
    // Set it lost: refused at the door.
    await page.click('tr[data-card="00AB12"] button:text-is("Set lost")');
    await page.waitForSelector('tr[data-card="00AB12"] button:text-is("Lost: resume")');
    await page.fill('#access-password', '2468');
    await page.click('#access-password-form button[type="submit"]');
    await page.waitForSelector('#access-password-state:has-text("Set:")');
    await shot(page, 'cards');
    await door.fill('#sim-card', '00AB12');
    await door.click('#sim-card-form button[type="submit"]');
    await door.waitForFunction(() => /Card by 9901 Ben \(card 00AB12\).*Refused \(Lost card\)/.test(document.querySelector('#last-unlock')?.textContent ?? ''));
    // The keypad opens with the room's access password.
    await door.fill('#sim-room', '9901');
    await door.fill('#sim-password', '2468');
    await door.click('#sim-keypad-form button[type="submit"]');
    await door.waitForFunction(() => /Password by 9901 .*Opened/.test(document.querySelector('#last-unlock')?.textContent ?? ''));
    await expectText(door, '#lock-state', 'Open');
    await shot(door, 'door-simulator-inputs');
    await door.close();
    // The empty name's 422 is expected: its error shows next to the field.
    const errors = unexpectedErrors(env.errors, [422]);
    assert.equal(errors.length, 0, errors.join('\n'));
  });
});
