// Scenarios of signing in and out, in a real browser against the real lab AD.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortal, kinit } from './fixtures/portal.mjs';
import { launch } from './fixtures/browser.mjs';

let portal;
before(async () => { portal = await startPortal(); });
after(() => portal?.stop());

const rules = () => `MAP portal.example.test 127.0.0.1`;

test('sign_in_sso: alice is signed in without typing, sees her name and groups, and delegated a credential', async () => {
  const ctx = await launch({ sso: { ccache: kinit('alice'), delegate: true }, hostRules: rules() });
  try {
    const page = await ctx.newPage();
    const wasm = page.waitForResponse((r) => r.url().endsWith('/pkg/portal.wasm'));
    await page.goto(portal.url + '/');
    assert.equal(await page.textContent('#display-name'), 'alice');
    const groups = await page.textContent('#groups');
    assert.match(groups, /AMT Admins/);
    assert.match(groups, /AMT Approvers/);
    assert.match(await page.textContent('#delegation'), /Yes: ticket-granting ticket forwarded by your browser/);
    assert.match(await page.textContent('#principal'), /alice@EXAMPLE\.TEST/);
    assert.match(await page.textContent('#ticket-size'), /\d+ bytes \(\d+ as base64\) of 4096/);
    assert.match(await page.textContent('#clock-offset'), /[+-]\d+ s/);
    assert.equal((await wasm).status(), 200, 'the UI hydrates: its WebAssembly loads');
  } finally { await ctx.close(); }
});

test('sign_in_sso: frank sees that his ticket is too large for old AMT firmware', async () => {
  const ctx = await launch({ sso: { ccache: kinit('frank'), delegate: false }, hostRules: rules() });
  try {
    const page = await ctx.newPage();
    await page.goto(portal.url + '/');
    assert.equal(await page.textContent('#display-name'), 'frank');
    assert.match(await page.textContent('#ticket-size'), /Too large for AMT 2–5 devices/);
    assert.match(await page.textContent('#delegation'), /None.*did not delegate/s);
  } finally { await ctx.close(); }
});

test('sign_in_password: a browser without SSO gets the help page, then signs in with the form, then out', async () => {
  const ctx = await launch({ hostRules: rules() });
  try {
    const page = await ctx.newPage();
    const resp = await page.goto(portal.url + '/');
    assert.equal(resp.status(), 401);
    assert.equal(await page.getAttribute('#signin-problem', 'data-reason'), 'no_token');
    assert.match(await page.textContent('#sso-help'), /AuthServerAllowlist/);
    assert.match(await page.textContent('#sso-help'), /network\.negotiate-auth\.trusted-uris/);

    await page.fill('#username', 'bob');
    await page.fill('#password', 'wrong password');
    const bad = await Promise.all([page.waitForNavigation(), page.click('#password-submit')]);
    assert.equal(bad[0].status(), 401);
    assert.equal(await page.getAttribute('#signin-problem', 'data-reason'), 'bad_password');
    assert.equal(await page.inputValue('#username'), 'bob', 'the typed user name is kept');

    await page.fill('#password', portal.lab.LAB_PASSWORD);
    await Promise.all([page.waitForNavigation(), page.click('#password-submit')]);
    assert.equal(await page.textContent('#display-name'), 'bob');
    assert.match(await page.textContent('#groups'), /AMT Helpdesk/);
    assert.match(await page.textContent('#delegation'), /password sign-in/);

    await Promise.all([page.waitForNavigation(), page.click('#sign-out')]);
    assert.match(await page.textContent('#signed-out'), /You have signed out/);
    const again = await page.goto(portal.url + '/');
    assert.equal(again.status(), 401, 'after sign-out the session is gone');
  } finally { await ctx.close(); }
});
