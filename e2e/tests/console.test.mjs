// Scenarios of the serial console end to end: the real portal bridge, a simulated device's
// redirection listener and host, real SSO. alice watches amt1 at its login prompt, types, resets
// it into BIOS setup from the same screen and sees the setup screen drawn; erin (no Redirection
// realm) is refused with the reason; a second console on a busy device is refused; a dropped
// device connection ends the session with a message and nothing hangs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortal, kinit } from './fixtures/portal.mjs';
import { startFleet } from './fixtures/fleet.mjs';
import { launch } from './fixtures/browser.mjs';

let fleet, portal;
before(async () => {
  fleet = await startFleet(2);
  portal = await startPortal({ devicesCsv: fleet.csv, env: { PORTAL_POLL_MINUTES: '0' } });
});
after(() => { portal?.stop(); fleet?.stop(); });

const rules = 'MAP portal.example.test 127.0.0.1';
const screenText = (page) => page.$eval('#screen', (el) => el.innerText);
const waitScreen = (page, re, timeout = 15000) =>
  page.waitForFunction(([src, flags]) => new RegExp(src, flags).test(document.querySelector('#screen')?.innerText || ''), [re.source, re.flags], { timeout });

async function openConsole(user, n, { viaDevicePage = false } = {}) {
  const ctx = await launch({ sso: { ccache: kinit(user), delegate: true }, hostRules: rules });
  const page = await ctx.newPage();
  if (viaDevicePage) {
    await page.goto(`${portal.url}/devices/${n}`);
    await Promise.all([page.waitForURL(/\/devices\/\d+\/terminal$/), page.click('#open-console')]);
  } else {
    await page.goto(`${portal.url}/devices/${n}/terminal`);
  }
  return { ctx, page };
}

test('use_console: alice types at amt1\'s login prompt, resets it into BIOS setup from the same screen and sees setup', async () => {
  const { ctx, page } = await openConsole('alice', 1, { viaDevicePage: true });
  try {
    await page.waitForSelector('#console-status[data-phase="open"]', { timeout: 15000 });
    await waitScreen(page, /amt1 login:/);
    await page.click('#screen');
    await page.keyboard.type('alice');
    await page.keyboard.press('Enter');
    await waitScreen(page, /alice@amt1:~\$/);
    await page.keyboard.type('echo hello from the portal');
    await page.keyboard.press('Enter');
    await waitScreen(page, /^hello from the portal\s*$/m);

    await page.click('#action-bios-reset');
    assert.match(await page.textContent('#confirm-text'), /Reset to BIOS setup amt1\.example\.test\?/);
    await page.click('#confirm');
    await page.waitForSelector('#outcome');
    assert.match(await page.textContent('#outcome'), /Reset to BIOS setup done/);
    await waitScreen(page, /Aptio Setup Utility/, 20000);
    assert.match(await screenText(page), /Boot Mode\s+\[UEFI\]/);
    assert.ok(await page.$('#screen .row span.b4'), 'the setup screen is drawn white on blue, as the host sent it');

    // Keys reach the setup menu: Esc leaves it without saving and the host boots to its prompt.
    await page.click('#screen');
    await page.keyboard.press('Escape');
    await waitScreen(page, /Exit Discarding Changes/);
    await waitScreen(page, /amt1 login:\s*$/);
    const dev = await fleet.device(1);
    assert.ok(JSON.stringify(dev.audit_log).includes(portal.lab.LAB_SID_ALICE), 'the device saw alice');
  } finally { await ctx.close(); }
});

test('use_console: erin is refused for want of the Redirection realm; a second console on a busy device is refused', async () => {
  const erin = await openConsole('erin', 2);
  try {
    await erin.page.waitForSelector('#console-status[data-code="access_denied"]', { timeout: 15000 });
    assert.match(await erin.page.textContent('#console-status'), /Redirection realm/);
  } finally { await erin.ctx.close(); }

  const first = await openConsole('alice', 2);
  try {
    await first.page.waitForSelector('#console-status[data-phase="open"]', { timeout: 15000 });
    const second = await openConsole('bob', 2);
    try {
      await second.page.waitForSelector('#console-status[data-code="busy"]', { timeout: 15000 });
      assert.match(await second.page.textContent('#console-status'), /busy|another console|already/i);
    } finally { await second.ctx.close(); }
  } finally { await first.ctx.close(); }
});

test('use_console: a dropped device connection ends the session with a message, and nothing hangs', async () => {
  const { ctx, page } = await openConsole('alice', 1);
  try {
    await page.waitForSelector('#console-status[data-phase="open"]', { timeout: 15000 });
    const r = await fetch(`${fleet.control}/devices/1/sol-drop`, { method: 'POST' });
    assert.equal((await r.json()).was_open, true);
    await page.waitForSelector('#console-notice', { timeout: 15000 });
    assert.match(await page.textContent('#console-notice'), /amt1\.example\.test|connection|ended|lost/i);
    // A drop is worth a new attempt: the page reconnects by itself and the console is open again
    // (what the host then shows depends on where the first test left amt1, so it is not checked).
    await page.waitForSelector('#console-status[data-phase="open"]', { timeout: 20000 });
    assert.equal((await fleet.device(1)).sol_connected, true, 'the device has a SOL session again');
  } finally { await ctx.close(); }
});

test('use_console: with the redirection listener off, alice is told so and turns the console on from the page', async () => {
  const r = await fetch(`${fleet.control}/devices/2/state`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirection: { listener_enabled: false } }),
  });
  assert.ok(r.ok, `patch: HTTP ${r.status}`);
  const { ctx, page } = await openConsole('alice', 2);
  try {
    await page.waitForSelector('#console-status[data-code="listener_off"]', { timeout: 15000 });
    await page.click('#enable-console');
    await page.waitForSelector('#enable-outcome');
    assert.match(await page.textContent('#enable-outcome'), /amt2\.example\.test: turned on the redirection listener/);
    await page.waitForSelector('#console-status[data-phase="open"]', { timeout: 15000 });
    await waitScreen(page, /amt2 login:/);
  } finally { await ctx.close(); }
});

test('console_transcripts: alice keeps transcripts for amt2; her session is listed and its text shows what the console showed', async () => {
  const ctx = await launch({ sso: { ccache: kinit('alice'), delegate: true }, hostRules: rules });
  const page = await ctx.newPage();
  try {
    await page.goto(`${portal.url}/devices/2`);
    await page.waitForSelector('#transcript-toggle', { timeout: 15000 });
    assert.equal(await page.getAttribute('#transcript-policy', 'data-keep'), 'false');
    await page.click('#transcript-toggle');
    await page.waitForSelector('#transcript-policy[data-keep="true"]', { timeout: 15000 });

    await page.goto(`${portal.url}/devices/2/terminal`);
    await page.waitForSelector('#console-status[data-phase="open"]', { timeout: 15000 });
    assert.match(await page.textContent('#console-status'), /keeps a transcript/, 'the user is told the console is recorded');
    await waitScreen(page, /amt2 login:/);
    await page.click('#screen');
    await page.keyboard.type('alice');
    await page.keyboard.press('Enter');
    await waitScreen(page, /alice@amt2:~\$/);

    // Leaving the page closes the console; the transcript is then complete and listed.
    await page.goto(`${portal.url}/devices/2`);
    let ended = '';
    for (let i = 0; i < 20 && !/closed by the user/.test(ended); i++) {
      if (i) { await page.waitForTimeout(250); await page.reload(); }
      await page.waitForSelector('#transcript-list tbody tr', { timeout: 15000 });
      ended = await page.textContent('#transcript-list tbody tr');
    }
    assert.match(ended, /alice@EXAMPLE\.TEST/);
    assert.match(ended, /closed by the user/);
    const href = await page.$eval('#transcript-list tbody tr a', (a) => a.href);
    const text = await page.evaluate(async (u) => (await fetch(u)).text(), href);
    assert.match(text, /amt2 login: alice/);
    assert.match(text, /alice@amt2:~\$/);
    assert.ok(!text.includes('\u001b'), 'the text download has no escape sequences');
  } finally { await ctx.close(); }
});
