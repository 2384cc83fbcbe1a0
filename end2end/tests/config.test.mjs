// Config manager (manual ch. 3 item 4) on the main page: Device Info export
// to a file and import from one; a bad file changes nothing.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLoggedIn, hydrated, shot, unexpectedErrors, STRONG } from '../lib/harness.mjs';

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
    assert.equal((await page.textContent('#vto-no')).trim(), '8456');
  });

  it('a bad file is refused with the field named and changes nothing', async () => {
    const { page, url } = env;
    const bad = { ...exported, basic: { ...exported.basic, vto_no: '8001x' } };
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify(bad));
    await page.setInputFiles('#import-file', path);
    await page.click('#import-form button[type=submit]');
    await page.waitForSelector('#import-form .form-message.error');
    const m = await page.textContent('#import-form .form-message.error');
    assert.match(m, /Not imported, nothing changed\. basic\.vto_no: 1 to 6 digits/);
    await shot(page, 'config-manager-bad-file');
    await page.goto(`${url}/`);
    await hydrated(page);
    assert.equal((await page.textContent('#vto-no')).trim(), '8456');
    assert.deepEqual(unexpectedErrors(env.errors, [422]), []);
  });
});
