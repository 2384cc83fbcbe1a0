// Network Setting > Basic (manual 6.1): Save moves the web server and the
// page leads the browser to the new port; HTTPS with the device's own
// certificate, then an uploaded one (a wrong key is refused next to its
// field); Refresh and Default; an invalid port saves nothing.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startLoggedIn,
  hydrated,
  shot,
  waitFieldError,
  expectFieldError,
  freePort,
  STRONG,
  unexpectedErrors,
} from '../lib/harness.mjs';
import { expectChecked, expectText, expectValue } from '../lib/wait.mjs';

/** A self-signed certificate and key (openssl), and a key of another pair. */
function pems(dir) {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const other = join(dir, 'other.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '30', '-subj', '/CN=door.example',
    '-addext', 'subjectAltName=DNS:door.example,IP:127.0.0.1',
  ], { stdio: 'ignore' });
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', other], { stdio: 'ignore' });
  return { cert, key, other };
}

describe('Network Setting > Basic', { timeout: 120000 }, () => {
  let env;
  let dir;
  before(async () => {
    env = await startLoggedIn({ ignoreHTTPSErrors: true });
    dir = mkdtempSync(join(tmpdir(), 'vto-pem-'));
  });
  after(async () => {
    await env?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const SAVE = '#network-form button[type=submit]';
  let base;

  it('shows where it listens, the host addresses and every label', async () => {
    const { page, url } = env;
    base = url;
    await page.click('nav.sidenav a[href="/network/basic"]');
    await page.waitForURL(`${url}/network/basic`);
    // The form renders once its values are loaded.
    await expectValue(page, '#listen-address', '127.0.0.1');
    await expectValue(page, '#http-port', new URL(url).port);
    await expectChecked(page, '#https', false);
    await expectText(page, '#host-addresses', /127\.0\.0\.1 \(lo\)/);
    for (const [id, label] of [
      ['listen-address', 'IP Address'],
      ['http-port', 'HTTP Port'],
      ['https', 'Enable'],
      ['https-port', 'HTTPS Port'],
      ['certificate', 'Certificate'],
      ['private-key', 'Private Key'],
    ]) {
      await expectText(page, `label[for=${id}]`, label);
    }
    await shot(page, 'network-basic');
  });

  it('an invalid port shows its error and saves nothing; Default and Refresh', async () => {
    const { page } = env;
    await page.fill('#http-port', '70000');
    assert.match(await waitFieldError(page, 'http-port'), /1 to 65535/);
    await page.click(SAVE);
    await page.click('#network-default');
    await page.waitForFunction(() => document.querySelector('#http-port').value === '80');
    await expectValue(page, '#listen-address', '0.0.0.0');
    await page.click('#network-refresh');
    await page.waitForFunction(
      (p) => document.querySelector('#http-port').value === p,
      new URL(base).port,
    );
    await expectFieldError(page, 'http-port', '');
  });

  it('Save moves the web server and leads the browser there', async () => {
    const { page } = env;
    const port = await freePort();
    await page.fill('#http-port', String(port));
    await page.click(SAVE);
    await page.waitForURL(`http://127.0.0.1:${port}/network/basic`);
    await hydrated(page);
    await expectValue(page, '#http-port', String(port));
    base = `http://127.0.0.1:${port}`;
  });

  it('HTTPS: the device makes its certificate and the browser follows', async () => {
    const { page } = env;
    const port = await freePort();
    await page.check('#https');
    await page.fill('#https-port', String(port));
    await page.click(SAVE);
    const https = `https://127.0.0.1:${port}`;
    await page.waitForURL((u) => u.origin === https);
    await page.waitForLoadState('load');
    await hydrated(page);
    // Chromium keeps http:// and https:// cookies apart: it may ask to log
    // in. Which of the two pages it is, once one of them is there.
    await page.waitForSelector('#login, #network-form');
    if (await page.locator('#login').count()) {
      await page.fill('#password', STRONG);
      await page.click('#login button[type=submit]');
      await page.waitForURL(`${https}/`);
      await page.goto(`${https}/network/basic`);
      await hydrated(page);
    }
    await expectChecked(page, '#https');
    await expectText(page, '#certificate-kind', /Self-signed/);
    await expectText(page, '#certificate-names', /127\.0\.0\.1/);
    await shot(page, 'network-basic-https');
    // Plain HTTP now leads to HTTPS.
    await page.goto(`${base}/local/basic`);
    await page.waitForURL(`https://127.0.0.1:${port}/local/basic`);
    base = `https://127.0.0.1:${port}`;
  });

  it('an uploaded certificate is checked, then served', async () => {
    const { page } = env;
    const { cert, key, other } = pems(dir);
    await page.goto(`${base}/network/basic`);
    await hydrated(page);
    await page.setInputFiles('#certificate', cert);
    await page.setInputFiles('#private-key', other);
    await page.click('#certificate-upload');
    assert.match(await waitFieldError(page, 'private-key'), /does not belong to the certificate/);
    await shot(page, 'network-basic-bad-key');
    // Refused in the answer that showed the error: still the device's own.
    assert.match(await page.textContent('#certificate-kind'), /Self-signed/);
    await page.setInputFiles('#private-key', key);
    await page.click('#certificate-upload');
    await page.waitForFunction(
      () => /Uploaded/.test(document.querySelector('#certificate-kind')?.textContent ?? ''),
    );
    await expectText(page, '#certificate-names', /door\.example/);
    // The browser's next connection gets the uploaded certificate.
    const served = execFileSync('openssl', [
      's_client', '-connect', base.replace('https://', ''),
    ], { input: '', stdio: ['pipe', 'pipe', 'ignore'] }).toString();
    const want = readFileSync(cert, 'utf8').replace(/\s+/g, '');
    const got = (served.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/) ?? [''])[0];
    assert.equal(got.replace(/\s+/g, ''), want);
    assert.deepEqual(unexpectedErrors(env.errors, [422]), []);
  });
});
