// Scenarios of the Digest admin mode: an administrator stores a device's admin account (sealed
// on the server) and powers the device with it, explicitly; the device sees its admin account,
// the portal records the person. Non-administrators never see it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPortal, kinit } from './fixtures/portal.mjs';
import { startFleet } from './fixtures/fleet.mjs';
import { launch } from './fixtures/browser.mjs';

let fleet, portal;
before(async () => {
  fleet = await startFleet(2);
  const key = join(mkdtempSync(join(tmpdir(), 'portal-key-')), 'secret.key');
  writeFileSync(key, randomBytes(32).toString('hex'));
  chmodSync(key, 0o600);
  portal = await startPortal({ devicesCsv: fleet.csv, env: { PORTAL_SECRET_KEY_FILE: key, PORTAL_POLL_MINUTES: '0' } });
});
after(() => { portal?.stop(); fleet?.stop(); });

const rules = 'MAP portal.example.test 127.0.0.1';

async function openDevice(user, n) {
  const ctx = await launch({ sso: { ccache: kinit(user), delegate: true }, hostRules: rules });
  const page = await ctx.newPage();
  await page.goto(`${portal.url}/devices/${n}`);
  await page.waitForSelector('#power-state, #device-refused');
  await page.waitForLoadState('networkidle');
  return { ctx, page };
}

test('admin_mode: alice stores amt1\'s Digest admin account and powers it off with it', async () => {
  const { ctx, page } = await openDevice('alice', 1);
  try {
    await page.waitForSelector('#admin-mode');
    assert.match(await page.textContent('#admin-account'), /No admin account is stored/);
    await page.fill('#admin-user', 'admin');
    await page.fill('#admin-password', 'Adm1n!AMT');
    await page.click('#admin-store');
    await page.waitForSelector('#admin-account-outcome');
    assert.match(await page.textContent('#admin-account-outcome'), /admin account admin of amt1\.example\.test is stored, sealed/);
    await page.waitForFunction(() => /Stored account: admin \(stored by alice@EXAMPLE\.TEST/.test(document.querySelector('#admin-account')?.textContent || ''));
    assert.equal(await page.inputValue('#admin-password'), '', 'the password field is cleared');

    await page.selectOption('#admin-action', 'off');
    await page.click('#admin-run');
    assert.match(await page.textContent('#admin-confirm-text'), /with the device's admin account, not as you\?/);
    await page.click('#admin-confirm');
    await page.waitForSelector('#admin-outcome');
    assert.match(await page.textContent('#admin-outcome'), /amt1\.example\.test: Power off done with the admin account admin/);
    const dev = await fleet.device(1);
    assert.equal(dev.power_state, 8);
    const log = JSON.stringify(dev.audit_log);
    assert.ok(log.includes('"admin"'), `the device's audit log names its admin account: ${log}`);
    assert.ok(!log.includes(portal.lab.LAB_SID_ALICE), 'in admin mode the device does not see alice');
  } finally { await ctx.close(); }
});

test('admin_mode: a wrong stored password is explained; bob (not an administrator) never sees admin mode', async () => {
  const { ctx, page } = await openDevice('alice', 2);
  try {
    await page.waitForSelector('#admin-mode');
    await page.fill('#admin-password', 'Wr0ng!Pass');
    await page.click('#admin-store');
    await page.waitForSelector('#admin-run');
    await page.click('#admin-run');
    await page.click('#admin-confirm');
    await page.waitForSelector('#admin-outcome');
    assert.equal(await page.getAttribute('#admin-outcome', 'data-code'), 'admin_account_refused');
    assert.match(await page.textContent('#admin-outcome'), /refused the stored admin account admin: its password was probably changed/);
  } finally { await ctx.close(); }
  const bob = await openDevice('bob', 1);
  try {
    assert.equal(await bob.page.$('#admin-mode'), null);
  } finally { await bob.ctx.close(); }
});
