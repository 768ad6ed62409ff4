// Scenarios of the console page's browser side: the terminal draws what the portal's bridge
// sends, keys and toolbar buttons go out as the bytes a BIOS expects, the status line follows
// the bridge's events, and a dropped connection is reconnected with the reason kept on screen.
// The bridge (GET /devices/{id}/console) is played by Playwright's WebSocket routing, so these
// tests pin the page's side of the shared protocol (shared/src/console.rs) on their own; the
// page, sign-in and power panel are the real portal with a simulated device.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortal, kinit } from './fixtures/portal.mjs';
import { startFleet } from './fixtures/fleet.mjs';
import { launch } from './fixtures/browser.mjs';

let fleet, portal;
before(async () => {
  fleet = await startFleet(1);
  portal = await startPortal({ devicesCsv: fleet.csv });
});
after(() => { portal?.stop(); fleet?.stop(); });

const rules = 'MAP portal.example.test 127.0.0.1';
const status = (state, message) => JSON.stringify({ type: 'status', state, message });
const error = (code, message) => JSON.stringify({ type: 'error', code, message });

/** A BIOS setup screen as console redirection draws it: colours, positions, CP437 frame. */
function biosScreen() {
  const parts = ['\x1b[0m\x1b[37;44m\x1b[2J\x1b[?25l', '\x1b[1;20H\x1b[1;36mAptio Setup Utility',
    '\x1b[3;1H\x1b[0;37;44m'];
  const bytes = [Buffer.from(parts.join(''), 'latin1'), Buffer.from([0xc9, ...Array(78).fill(0xcd), 0xbb])];
  bytes.push(Buffer.from('\x1b[5;3HBoot Mode\x1b[5;30H[UEFI]\x1b[6;3H\x1b[1;37;46mSystem Date\x1b[0;37;44m', 'latin1'));
  return Buffer.concat(bytes);
}

/**
 * Signs alice in and opens amt1's console from its device page (or, with `direct`, by its
 * address: rendered on the server, then hydrated); `bridge` plays the portal.
 */
async function openConsole(bridge, { direct = false } = {}) {
  const ctx = await launch({ sso: { ccache: kinit('alice'), delegate: true }, hostRules: rules });
  await ctx.routeWebSocket(/\/devices\/\d+\/console$/, bridge);
  const page = await ctx.newPage();
  if (direct) {
    await page.goto(portal.url + '/devices/1/terminal');
    return { ctx, page };
  }
  await page.goto(portal.url + '/devices');
  await Promise.all([page.waitForURL(/\/devices\/\d+$/), page.click('#device-amt1')]);
  await Promise.all([page.waitForURL(/\/devices\/\d+\/terminal$/), page.click('#open-console')]);
  return { ctx, page };
}

const screenText = (page) => page.$eval('#screen', (el) => el.innerText);

test('use_console_terminal: alice sees a BIOS screen drawn, types, and the keys reach the bridge as bytes', async () => {
  const sockets = [];
  const received = [];
  const { ctx, page } = await openConsole((ws) => {
    sockets.push(ws);
    ws.onMessage((m) => received.push(Buffer.from(m)));
    ws.send(status('connecting', 'Connecting to amt1.example.test…'));
    ws.send(status('authenticating', 'Signing in to amt1.example.test as alice@EXAMPLE.TEST…'));
    ws.send(status('open', 'Serial-over-LAN open on amt1.example.test as alice@EXAMPLE.TEST.'));
    // Split inside an escape sequence and inside the frame, as serial data arrives.
    const screen = biosScreen();
    ws.send(screen.subarray(0, 50));
    ws.send(screen.subarray(50, 131));
    ws.send(screen.subarray(131));
  });
  try {
    await page.waitForFunction(() => document.querySelector('#console-status')?.dataset.phase === 'open');
    assert.match(await page.textContent('#console-message'), /Serial-over-LAN open on amt1\.example\.test as alice/);
    await page.waitForFunction(() => document.querySelector('#screen').innerText.includes('System Date'));
    const text = await screenText(page);
    assert.match(text, /Aptio Setup Utility/);
    assert.match(text, new RegExp(`╔${'═'.repeat(78)}╗`), 'CP437 frame drawn as box characters');
    assert.match(text, /Boot Mode\s+\[UEFI\]/);
    assert.equal(await page.$eval('#screen .row[data-row="5"] span.b6', (s) => s.textContent), 'System Date',
      'the highlighted item is drawn on cyan');
    assert.equal(await page.$eval('#screen .row[data-row="5"] span.b6', (s) => s.className), 'f15 b6 bo');

    // Keys go out only while the screen has focus.
    await page.keyboard.press('x');
    assert.equal(Buffer.concat(received).length, 0, 'no key before the screen has focus');
    await page.click('#screen');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.type('ab');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Backspace');
    await page.keyboard.press('F2');
    await page.keyboard.press('Control+c');
    await page.click('#key-f10');
    await page.click('#key-ctrl-alt-del');
    const want = Buffer.from('\x1b[Bab\r\x08\x1bOQ\x03\x1b[21~\x1bR\x1br\x1bR', 'latin1');
    for (let i = 0; i < 50 && Buffer.concat(received).length < want.length; i++) await page.waitForTimeout(20);
    assert.deepEqual(Buffer.concat(received), want);

    // Esc Esc gives the keyboard back to the page; the first Esc still reaches the device.
    await page.click('#screen');
    received.length = 0;
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'release-keyboard');
    for (let i = 0; i < 50 && received.length === 0; i++) await page.waitForTimeout(20);
    assert.deepEqual(Buffer.concat(received), Buffer.from([0x1b]));

    // The host writes; the screen follows, and an answer to a cursor query goes back.
    received.length = 0;
    sockets[0].send(Buffer.from('\x1b[0m\x1b[2J\x1b[Hamt1 login: \x1b[6n', 'latin1'));
    await page.waitForFunction(() => document.querySelector('#screen').innerText.startsWith('amt1 login:'));
    for (let i = 0; i < 50 && received.length === 0; i++) await page.waitForTimeout(20);
    assert.deepEqual(Buffer.concat(received), Buffer.from('\x1b[1;13R'));
    assert.equal(sockets.length, 1, 'one connection');
  } finally { await ctx.close(); }
});

test('use_console_terminal: a dropped connection is reconnected and the reason stays on screen; a refusal waits', async () => {
  let n = 0;
  const { ctx, page } = await openConsole((ws) => {
    n += 1;
    if (n === 1) {
      ws.send(status('open', 'Serial-over-LAN open on amt1.example.test.'));
      ws.send(Buffer.from('first session\r\n'));
      setTimeout(() => {
        ws.send(error('device_closed', 'The connection to amt1.example.test was lost (reset by peer). Reconnect to try again.'));
        ws.send(status('closed', 'The console is closed.'));
        ws.close({ code: 1000 });
      }, 300);
    } else if (n === 2) {
      ws.send(status('open', 'Serial-over-LAN open on amt1.example.test again.'));
      setTimeout(() => {
        ws.send(error('busy', 'Someone else has the console of amt1.example.test open; only one session at a time.'));
        ws.send(status('closed', 'The console is closed.'));
        ws.close({ code: 1000 });
      }, 300);
    }
  });
  try {
    await page.waitForFunction(() => document.querySelector('#console-status')?.dataset.phase === 'open');
    await page.waitForSelector('#console-notice');
    assert.match(await page.textContent('#console-notice'), /was lost \(reset by peer\)\. Reconnect to try again\. Reconnecting in 1 s \(attempt 1 of 5\)/);
    await page.waitForFunction(() => document.querySelector('#console-message')?.textContent.includes('again'));
    assert.match(await page.textContent('#console-notice'), /was lost/, 'the drop is still explained after reconnecting');
    // A refusal is not retried: the status says why and the user decides.
    await page.waitForFunction(() => document.querySelector('#console-status')?.dataset.code === 'busy');
    assert.equal(await page.getAttribute('#console-status', 'data-phase'), 'closed');
    assert.match(await page.textContent('#console-message'), /Someone else has the console of amt1\.example\.test open/);
    await page.waitForTimeout(2500);
    assert.equal(n, 2, 'no automatic attempt after a refusal');
    await page.click('#reconnect');
    await page.waitForFunction(() => document.querySelector('#console-status')?.dataset.phase !== 'closed');
    assert.equal(n, 3, 'Reconnect opens a new connection');
  } finally { await ctx.close(); }
});

test('use_console_terminal: opened by its address, the page is served whole and hydrates; power actions are on it', async () => {
  const { ctx, page } = await openConsole((ws) => {
    ws.send(status('open', 'Serial-over-LAN open.'));
    ws.send(Buffer.from('\x1b[1;1Hready'));
  }, { direct: true });
  try {
    await page.waitForFunction(() => document.querySelector('#screen').innerText.startsWith('ready'));
    assert.equal(await page.$$eval('#screen .row', (rows) => rows.length), 25, 'an 80x25 screen');
    assert.equal(await page.$$eval('.toolbar button', (b) => b.map((x) => x.textContent).join(' ')),
      'Esc Tab F1 F2 F3 F4 F5 F6 F7 F8 F9 F10 F11 F12 Ctrl-Alt-Del');
    await page.waitForSelector('#console-power #power-state');
    assert.match(await page.textContent('#console-power #power-state'), /On/);
    assert.match(await page.textContent('#console-device'), /amt1\.example\.test/);
    await page.click('#console-power #action-reset');
    assert.match(await page.textContent('#confirm-text'), /Reset amt1\.example\.test\?/);
    await page.click('#confirm');
    await page.waitForSelector('#outcome');
    assert.match(await page.textContent('#outcome'), /amt1\.example\.test: Reset done/);
  } finally { await ctx.close(); }
});
