// The device page as the signed-in user: inventory, event log, device audit log with AD names,
// rights shown before trying, boot to BIOS setup / PXE, clock sync; and the portal's own audit
// log with its CSV export. Real browser, real AD tickets, simulated AMT devices.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startPortal, kinit } from './fixtures/portal.mjs';
import { startFleet } from './fixtures/fleet.mjs';
import { launch } from './fixtures/browser.mjs';

let fleet, portal;
before(async () => {
  fleet = await startFleet(3);
  portal = await startPortal({ devicesCsv: fleet.csv });
});
after(() => { portal?.stop(); fleet?.stop(); });

const rules = 'MAP portal.example.test 127.0.0.1';

async function signedIn(user) {
  const ctx = await launch({ sso: { ccache: kinit(user), delegate: true }, hostRules: rules });
  return { ctx, page: await ctx.newPage() };
}

async function openDevice(page, name) {
  await page.goto(portal.url + '/devices');
  await Promise.all([page.waitForURL(/\/devices\/\d+$/), page.click(`#device-${name}`)]);
  await page.waitForSelector('#rights, #device-refused');
}

async function patch(n, body) {
  const r = await fetch(`${fleet.control}/devices/${n}/state`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal(r.status, 200, await r.text());
}

/** Runs a power action through the page, confirming it when asked. */
async function powerAction(page, id) {
  await page.click(`#action-${id}`);
  if (await page.$('#confirm')) await page.click('#confirm');
  await page.waitForSelector('#outcome');
  return page.textContent('#outcome');
}

test('device_details: alice sees inventory, the event log, and her earlier action in the device audit log under her AD name', async () => {
  const { ctx, page } = await signedIn('alice');
  try {
    await openDevice(page, 'amt1');
    assert.match(await powerAction(page, 'cycle'), /amt1\.example\.test: Power cycle done/);
    await page.reload();
    await page.waitForSelector('#audit-log');
    const sim = await fleet.device(1);
    assert.equal((await page.textContent('#inv-manufacturer')).trim(), sim.manufacturer);
    assert.equal((await page.textContent('#inv-model')).trim(), sim.model);
    assert.match(await page.textContent('#inv-serial'), /^SIM0+1$/);
    assert.match(await page.textContent('#inv-guid'), /^[0-9a-f]{8}-[0-9a-f]{4}-/);
    assert.equal((await page.textContent('#fw-version')).trim(), sim.amt_version);
    assert.match(await page.textContent('#provisioning'), /Post-provisioning/);
    assert.match(await page.textContent('#control-mode'), /Control Mode/);
    assert.equal((await page.textContent('#amt-hostname')).trim(), 'amt1');
    assert.ok((await page.$$('#inv-network tbody tr')).length >= 1, 'a network interface');
    // The power cycle booted the machine: the BIOS reported progress into the event log.
    const events = await page.$$eval('#event-log tbody tr', (rows) => rows.map((r) => r.textContent));
    assert.ok(events.some((e) => /System firmware progress/.test(e)), events.join('\n'));
    // The device's audit log names alice, resolved from her SID through the directory.
    const rows = await page.$$eval('#audit-log tbody tr', (rs) => rs.map((r) => ({
      event: r.children[1].textContent, by: r.children[2].textContent, sid: r.children[2].title,
    })));
    const mine = rows.filter((r) => r.sid === portal.lab.LAB_SID_ALICE);
    assert.ok(mine.length > 0, JSON.stringify(rows));
    assert.ok(mine.every((r) => r.by === 'alice'), JSON.stringify(mine));
    assert.ok(!rows.some((r) => r.by === portal.lab.LAB_SID_ALICE), 'no bare SID for alice');
    for (const id of ['remote-control', 'network-time', 'hardware-asset', 'event-log', 'audit-log']) {
      assert.equal(await page.getAttribute(`#right-${id}`, 'data-allowed'), 'yes', id);
    }
  } finally { await ctx.close(); }
});

test('device_details: erin (viewer) sees the inventory, but power and clock buttons are disabled with the reason', async () => {
  const { ctx, page } = await signedIn('erin');
  try {
    await openDevice(page, 'amt1');
    assert.equal((await page.textContent('#inv-manufacturer')).trim(), (await fleet.device(1)).manufacturer);
    assert.ok(await page.$('#event-log, #event-log-empty'), 'event log readable');
    assert.ok(await page.$('#audit-log'), 'audit log readable');
    assert.equal(await page.getAttribute('#right-remote-control', 'data-allowed'), 'no');
    assert.match(await page.textContent('#right-remote-control'), /not allowed: needs the Remote Control realm/);
    assert.equal(await page.getAttribute('#right-network-time', 'data-allowed'), 'no');
    assert.match(await page.textContent('#power-refused'),
      /amt1\.example\.test refused: none of your groups has the Remote Control realm on this device/);
    for (const id of ['on', 'off', 'cycle', 'reset', 'bios-reset', 'pxe-reset']) {
      assert.ok(await page.isDisabled(`#action-${id}`), id);
    }
    assert.match(await page.textContent('#power-reason'), /needs the Remote Control realm/);
    assert.ok(await page.isDisabled('#sync-clock'));
    assert.match(await page.textContent('#sync-reason'), /needs the Network Time realm/);
    assert.match(await page.textContent('#clock-refused'), /not allowed: needs the Network Time realm/);
  } finally { await ctx.close(); }
});

test('device_details: alice resets amt2 into BIOS setup and powers amt1 on to PXE; the simulator booted there', async () => {
  const { ctx, page } = await signedIn('alice');
  try {
    const before = (await fleet.device(2)).boot.boot_count;
    await openDevice(page, 'amt2');
    assert.match(await page.textContent('#power'), /Reset to BIOS setup/);
    assert.match(await powerAction(page, 'bios-reset'), /amt2\.example\.test: Reset to BIOS setup done/);
    const dev = await fleet.device(2);
    assert.equal(dev.boot.last_boot, 'BIOS setup');
    assert.equal(dev.boot.boot_count, before + 1);
    assert.deepEqual(dev.boot.settings, {}, 'single-use options consumed at that boot');
    assert.equal(dev.boot.role_set, false);

    // PXE from power off.
    await patch(1, { power_state: 8 });
    await openDevice(page, 'amt1');
    assert.match(await powerAction(page, 'pxe-on'), /amt1\.example\.test: Power on to PXE done/);
    const one = await fleet.device(1);
    assert.equal(one.boot.last_boot, 'PXE');
    assert.equal(one.power_state, 2);
  } finally { await ctx.close(); }
});

test('device_details: alice synchronises a clock that was 15 minutes off', async () => {
  // 15 minutes is beyond AMT's usual 5-minute Kerberos tolerance: the device is given a wider
  // one, as some are configured, so it still admits Kerberos and can be fixed as the user.
  await patch(1, { clock_offset_secs: 900, kerberos: { max_clock_tolerance: 20 } });
  const { ctx, page } = await signedIn('alice');
  try {
    await openDevice(page, 'amt1');
    const off = Number(await page.getAttribute('#clock-offset', 'data-offset'));
    assert.ok(Math.abs(off - 900) <= 3, `offset ${off}`);
    assert.equal(await page.getAttribute('#clock-offset', 'class'), 'bad');
    assert.match(await page.textContent('#clock-note'), /Kerberos sign-in to the device fails/);
    await page.click('#sync-clock');
    await page.waitForSelector('#clock-outcome');
    assert.match(await page.textContent('#clock-outcome'), /amt1\.example\.test: clock synchronized \(it was 1[45] min \d+ s ahead\)/);
    assert.ok(Math.abs((await fleet.device(1)).clock_offset_secs) <= 2, 'the simulator clock is right again');
    await page.waitForFunction(() => Math.abs(Number(document.querySelector('#clock-offset')?.dataset.offset ?? 999)) <= 2);
    assert.equal(await page.getAttribute('#clock-offset', 'class'), 'ok');
  } finally {
    await ctx.close();
    await patch(1, { kerberos: { max_clock_tolerance: 5 } });
  }
});

test('device_details: the portal audit log shows alice\'s actions, filters them, and exports them as CSV; erin may not see it', async () => {
  const { ctx, page } = await signedIn('alice');
  try {
    await page.goto(portal.url + '/audit');
    await page.waitForSelector('#audit-table');
    await page.fill('#f-user', 'alice');
    await page.fill('#f-action', 'BIOS');
    await page.click('#apply');
    await page.waitForFunction(() => /^1 matching/.test(document.querySelector('#audit-count')?.textContent ?? ''));
    const rows = await page.$$eval('#audit-table tbody tr', (rs) => rs.map((r) => [...r.children].map((c) => c.textContent)));
    assert.equal(rows.length, 1, JSON.stringify(rows));
    const [, who, device, what, result] = rows[0];
    assert.match(who, /^alice@/);
    assert.equal(device, 'amt2.example.test');
    assert.equal(what, 'power: Reset to BIOS setup');
    assert.equal(result, 'ok');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const csv = readFileSync(await download.path(), 'utf8');
    const lines = csv.trim().split('\r\n');
    assert.equal(lines[0], '"when (UTC)","who","device","what","result","detail"');
    assert.equal(lines.length, 2, csv);
    assert.match(lines[1], /"alice@EXAMPLE\.TEST","amt2\.example\.test","power: Reset to BIOS setup","ok",""$/);
    // Unfiltered, the clock sync is there too.
    await page.fill('#f-action', '');
    await page.click('#apply');
    await page.waitForFunction(() => [...document.querySelectorAll('#audit-table td')].some((td) => td.textContent === 'clock: synchronize'));
  } finally { await ctx.close(); }

  const erin = await signedIn('erin');
  try {
    await erin.page.goto(portal.url + '/audit');
    await erin.page.waitForSelector('#audit-refused');
    assert.equal(await erin.page.getAttribute('#audit-refused', 'data-code'), 'not_auditor');
    assert.match(await erin.page.textContent('#audit-refused'), /open to members of AMT Admins only/);
    const r = await erin.page.goto(portal.url + '/audit.csv');
    assert.equal(r.status(), 403);
  } finally { await erin.ctx.close(); }
});
