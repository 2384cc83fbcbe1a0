// Config manager (manual ch. 3 item 4) on the main page: Device Info export
// to a file and import from one; a bad file changes nothing.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLoggedIn, hydrated, shot, unexpectedErrors, expectFieldError, STRONG } from '../lib/harness.mjs';
import { expectText } from '../lib/wait.mjs';

/** Adds room `no` on the Room page, then opens the main page (Config Manager). */
async function addRoomThenHome(page, url, no) {
  await page.goto(`${url}/household/room`);
  await hydrated(page);
  await page.click('#room-add');
  await page.fill('#room-no', no);
  await page.fill('#room-password', 'Door2026Bell');
  await page.click('#room-save');
  await page.waitForSelector(`#room-table tr[data-room="${no}"]`);
  await page.goto(`${url}/`);
  await hydrated(page);
}

describe('config manager: Device Info', { timeout: 90000 }, () => {
  let env;
  let exported;
  const dir = mkdtempSync(join(tmpdir(), 'vto-config-'));
  before(async () => {
    env = await startLoggedIn();
    env.context.setDefaultTimeout(10000);
  });
  after(async () => {
    await env?.close();
  });

  it('exports every setting as a file, without secrets', async () => {
    const { page } = env;
    await page.waitForSelector('#config-manager');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('#export-device-info'),
    ]);
    assert.equal(download.suggestedFilename(), 'vto-device-info.json');
    const path = join(dir, 'export.json');
    await download.saveAs(path);
    const text = readFileSync(path, 'utf8');
    exported = JSON.parse(text);
    assert.equal(exported.format, 'vto-device-info');
    assert.equal(exported.basic.vto_no, '8001');
    assert.ok(!text.includes(STRONG) && !text.includes('argon2'));
    await page.waitForSelector('#import-form .form-message.ok');
    await shot(page, 'config-manager');
  });

  it('imports a file: the main page shows its settings', async () => {
    const { page, url } = env;
    const changed = { ...exported, basic: { ...exported.basic, vto_no: '8456' } };
    const path = join(dir, 'changed.json');
    writeFileSync(path, JSON.stringify(changed));
    await page.setInputFiles('#import-file', path);
    await page.click('#import-form button[type=submit]');
    await page.waitForFunction(() =>
      /Imported/.test(document.querySelector('#import-form .form-message')?.textContent ?? ''),
    );
    await page.goto(`${url}/`);
    await hydrated(page);
    await expectText(page, '#vto-no', '8456');
  });

  it('a bad file is refused with the field named and changes nothing', async () => {
    const { page, url } = env;
    const bad = { ...exported, basic: { ...exported.basic, vto_no: '8001x' } };
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify(bad));
    await page.setInputFiles('#import-file', path);
    await page.click('#import-form button[type=submit]');
    await expectText(
      page,
      '#import-form .form-message.error',
      /Not imported, nothing changed\. basic\.vto_no: 1 to 6 digits/,
    );
    await shot(page, 'config-manager-bad-file');
    await page.goto(`${url}/`);
    await hydrated(page);
    // Loaded afresh after the refusal: what is shown is what is stored.
    await expectText(page, '#vto-no', '8456');
    assert.deepEqual(unexpectedErrors(env.errors, [422]), []);
  });

  it('User Info: exports the rooms without passwords, imports a changed list with new passwords shown once', async () => {
    const { page, url } = env;
    await addRoomThenHome(page, url, '9901');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('#export-user-info'),
    ]);
    assert.equal(download.suggestedFilename(), 'vto-user-info.json');
    const path = join(dir, 'users.json');
    await download.saveAs(path);
    const text = readFileSync(path, 'utf8');
    const users = JSON.parse(text);
    assert.equal(users.format, 'vto-user-info');
    assert.deepEqual(users.rooms.map((r) => r.room_no), ['9901']);
    assert.ok(!text.includes('Door2026Bell') && !/md5|sha256|digest/i.test(text), text);
    users.rooms.push({ ...users.rooms[0], room_no: '9902', first_name: 'Grace' });
    writeFileSync(path, JSON.stringify(users));
    await page.setInputFiles('#import-user-file', path);
    await page.click('#import-user-info');
    await expectText(page, '#import-user-form .form-message.ok', /Imported: 2 rooms, 0 VTO, 0 VTS/);
    // Only the new room got a password; 9901 keeps its own.
    await expectText(page, '#user-passwords-once', /^New Register Passwords, shown this once: 9902: [A-Za-z0-9]{16}$/);
    await shot(page, 'config-manager-user-info');
    await page.goto(`${url}/household/room`);
    await hydrated(page);
    await page.waitForSelector('#room-table tr[data-room="9902"]');
  });
});

describe('config manager: Backup and Restore', { timeout: 120000 }, () => {
  let env;
  let backupPath;
  const dir = mkdtempSync(join(tmpdir(), 'vto-backup-'));
  const PASSPHRASE = 'hall-closet-blue-42';
  before(async () => {
    env = await startLoggedIn();
    env.context.setDefaultTimeout(15000);
  });
  after(async () => {
    await env?.close();
  });

  it('checks the passphrase next to its field, then saves the sealed file', async () => {
    const { page } = env;
    await page.waitForSelector('#backup-form');
    await page.fill('#backup-password', STRONG);
    await page.fill('#backup-passphrase', 'short');
    await page.fill('#backup-confirm', 'other');
    await page.click('#make-backup');
    await expectFieldError(page, 'backup-passphrase', /At least 10 characters/);
    await expectFieldError(page, 'backup-confirm', 'The passphrases do not match');
    await shot(page, 'config-manager-backup-errors');
    await page.fill('#backup-passphrase', PASSPHRASE);
    await page.fill('#backup-confirm', PASSPHRASE);
    await page.fill('#backup-password', 'Wrong-Pass1');
    await page.click('#make-backup');
    await expectFieldError(page, 'backup-password', /password/i);
    await page.fill('#backup-password', STRONG);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#make-backup')]);
    assert.equal(download.suggestedFilename(), 'vto-backup.vtobak');
    backupPath = join(dir, 'vto-backup.vtobak');
    await download.saveAs(backupPath);
    const sealed = Buffer.from(readFileSync(backupPath, 'utf8'), 'base64');
    assert.equal(sealed.subarray(0, 6).toString(), 'VTOBAK');
    assert.ok(!sealed.includes(Buffer.from('admin')), 'nothing readable in the file');
    await expectText(page, '#backup-form .form-message.ok', /Backup saved as vto-backup\.vtobak/);
    await shot(page, 'config-manager-backup');
  });

  it('a wrong passphrase changes nothing; the right one restores and the page comes back', async () => {
    const { page, url } = env;
    // A room made after the backup.
    await addRoomThenHome(page, url, '9905');

    await page.setInputFiles('#restore-file', backupPath);
    await page.fill('#restore-passphrase', 'hall-closet-blue-43');
    await page.fill('#restore-password', STRONG);
    await page.click('#restore-backup');
    await expectFieldError(page, 'restore-passphrase', /wrong passphrase/i);
    await expectText(page, '#restore-form .form-message.error', 'Not restored, nothing changed.');
    await shot(page, 'config-manager-restore-wrong');

    await page.evaluate(() => (window.__beforeRestore = true));
    await page.fill('#restore-passphrase', PASSPHRASE);
    await page.click('#restore-backup');
    await expectText(page, '#restore-form .form-message.ok', /Restored/);
    // The page polls the device and reloads once it has restarted.
    await page.waitForFunction(
      () => window.__beforeRestore === undefined && document.documentElement.dataset.hydrated === 'true',
      null,
      { timeout: 30000 },
    );
    await page.goto(`${url}/household/room`);
    await hydrated(page);
    // The backup had no rooms: the room made after it is gone.
    await page.waitForSelector('#room-empty');
    await shot(page, 'config-manager-restored-rooms');
    // The page's polls while the device restarts find nobody: expected.
    const restarting = (e) => /ERR_EMPTY_RESPONSE|ERR_CONNECTION_(REFUSED|RESET)/.test(e);
    assert.deepEqual(unexpectedErrors(env.errors, [422]).filter((e) => !restarting(e)), []);
  });
});
