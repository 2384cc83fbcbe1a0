// Network Setting > Webhooks in the browser: Add with errors next to the
// fields first, Test shows the receiver's answer, an unlock is delivered
// and shown under Deliveries, a kept Secret cannot be pointed at another
// host, Delete after the question. The receiver is node's own HTTP server.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHmac } from 'node:crypto';
import { startLoggedIn, hydrated, shot, expectFieldError, unexpectedErrors } from '../lib/harness.mjs';
import { eventually, expectCount, expectText } from '../lib/wait.mjs';

const SECRET = 'hook-Secret-1';

/** A receiver on 127.0.0.1 that keeps every POST and answers 204. */
async function receiver() {
  const got = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      got.push({ path: req.url, headers: req.headers, body: body.toString(), raw: body });
      res.writeHead(204).end();
    });
  });
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  return { got, port: server.address().port, close: () => new Promise((res) => server.close(res)) };
}

describe('Network Setting > Webhooks', { timeout: 90000 }, () => {
  let env;
  let sink;
  before(async () => {
    sink = await receiver();
    env = await startLoggedIn();
  });
  after(async () => {
    await env?.close();
    await sink?.close();
  });

  it('adds a webhook, with errors next to the fields first', async () => {
    const { page, url } = env;
    await page.click('nav.sidenav a[href="/network/webhooks"]');
    await page.waitForURL(`${url}/network/webhooks`);
    await hydrated(page);
    await expectText(page, '#hook-empty', 'No webhooks yet: click Add.');
    await page.click('#hook-add');
    await page.fill('#hook-url', 'ftp://door.example/');
    for (const e of ['call', 'answer', 'unlock', 'alarm']) await page.uncheck(`#hook-event-${e}`);
    await page.click('#hook-form button[type=submit]');
    await expectFieldError(page, 'hook-url', 'Starts with http:// or https://');
    await expectFieldError(page, 'hook-events', 'Choose at least one event');
    await page.fill('#hook-url', `http://127.0.0.1:${sink.port}/api/webhook/door`);
    await page.check('#hook-event-unlock');
    await page.check('#hook-event-call');
    await expectFieldError(page, 'hook-url', '');
    await expectFieldError(page, 'hook-events', '');
    await page.fill('#hook-secret', SECRET);
    await shot(page, 'webhooks-add');
    await page.click('#hook-form button[type=submit]');
    await expectCount(page, '#hook-table tbody tr', 1);
    await expectText(page, '#hook-table tbody tr td:nth-child(2)', 'Call, Unlock');
    await expectText(page, '#hook-table tbody tr td:nth-child(4)', 'Set');
    assert.equal(sink.got.length, 0);
  });

  it('Test shows the answer; an unlock is delivered, signed, and shown', async () => {
    const { page, url } = env;
    await page.getByRole('button', { name: 'Test' }).click();
    await expectText(page, 'section[aria-labelledby=hooks-title] .form-message.ok', /: Delivered \(204\)\.$/);
    await expectCount(page, '#delivery-table tbody tr', 1);
    assert.equal(JSON.parse(sink.got[0].body).event, 'test');

    const r = await page.request.post(`${url}/api/unlock`, { data: {}, headers: { origin: url } });
    assert.equal(r.status(), 200);
    await eventually('the unlock delivered', () => assert.equal(sink.got.length, 2));
    const unlock = sink.got[1];
    const body = JSON.parse(unlock.body);
    assert.equal(body.event, 'unlock');
    assert.equal(body.method, 'api');
    assert.equal(body.who, 'admin');
    const want = `sha256=${createHmac('sha256', SECRET).update(unlock.raw).digest('hex')}`;
    assert.equal(unlock.headers['x-vto-signature'], want);
    await page.click('#deliveries-refresh');
    await expectCount(page, '#delivery-table tbody tr', 2);
    await expectText(page, '#delivery-table tbody tr:first-child td:nth-child(2)', 'Unlock');
    await expectText(page, '#delivery-table tbody tr:first-child td:nth-child(5)', 'Delivered (204)');
    await shot(page, 'webhooks');
  });

  it('a kept Secret cannot follow the URL to another host; Delete asks first', async () => {
    const { page } = env;
    await page.getByRole('button', { name: 'Modify' }).click();
    await expectText(page, '#hook-secret-state', "A secret is stored. Leave empty to keep it, unless you change the URL's host.");
    await page.fill('#hook-url', `http://127.0.0.2:${sink.port}/api/webhook/door`);
    await page.click('#hook-form button[type=submit]');
    await expectFieldError(page, 'hook-secret', /another host: enter the Secret again/);
    await shot(page, 'webhooks-secret-refused');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expectText(page, '#hook-table tbody tr td:first-child', `http://127.0.0.1:${sink.port}/api/webhook/door`);

    await page.getByRole('button', { name: 'Delete' }).click();
    await expectText(page, '#hook-delete-question', /Delete the webhook to http:\/\/127\.0\.0\.1/);
    await page.click('#hook-delete-confirm');
    await expectText(page, '#hook-empty', 'No webhooks yet: click Add.');
    // The deliveries stay for the record.
    await expectCount(page, '#delivery-table tbody tr', 2);
    assert.deepEqual(unexpectedErrors(env.errors, [422]), []);
  });
});
