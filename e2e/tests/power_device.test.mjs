// Scenarios of acting on a device as the signed-in user: the device's ACL decides, and its
// audit log names the person. Real browser, real AD tickets, simulated AMT devices.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
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

async function openDevice(user, name, { delegate = true } = {}) {
  const ctx = await launch({ sso: { ccache: kinit(user), delegate }, hostRules: rules });
  const page = await ctx.newPage();
  await page.goto(portal.url + '/devices');
  await Promise.all([page.waitForURL(/\/devices\/\d+$/), page.click(`#device-${name}`)]);
  await page.waitForSelector('#rights, #device-refused');
  return { ctx, page };
}

test('power_cycle_device: alice power-cycles amt1 from the browser; the device audit log names her', async () => {
  const { ctx, page } = await openDevice('alice', 'amt1');
  try {
    assert.match(await page.textContent('#power-state'), /On/);
    assert.match(await page.textContent('#acting-as'), /your own Kerberos ticket/);
    await page.click('#action-cycle');
    assert.match(await page.textContent('#confirm-text'), /Power cycle amt1\.example\.test\?/);
    await page.click('#confirm');
    await page.waitForSelector('#outcome');
    assert.match(await page.textContent('#outcome'), /amt1\.example\.test: Power cycle done/);
    const dev = await fleet.device(1);
    const mine = dev.audit_log.filter((e) => JSON.stringify(e).includes(portal.lab.LAB_SID_ALICE));
    assert.ok(mine.some((e) => JSON.stringify(e).includes('1702')), `audit log: ${JSON.stringify(dev.audit_log)}`);
  } finally { await ctx.close(); }
});

test('power_cycle_device: erin (viewer) is refused the Remote Control realm; dave (in no ACL entry) is not let in', async () => {
  {
    const { ctx, page } = await openDevice('erin', 'amt1');
    try {
      // erin may read the device, so the page shows; power is refused and explained, buttons disabled.
      assert.equal(await page.getAttribute('#power-refused', 'data-code'), 'access_denied');
      assert.match(await page.textContent('#power-refused'),
        /amt1\.example\.test refused: none of your groups has the Remote Control realm on this device/);
      assert.ok(await page.isDisabled('#action-cycle'), 'erin\'s power buttons are disabled');
    } finally { await ctx.close(); }
  }
  {
    const { ctx, page } = await openDevice('dave', 'amt1');
    try {
      assert.equal(await page.getAttribute('#device-refused', 'data-code'), 'device_refused_ticket');
      assert.match(await page.textContent('#refusal'),
        /amt1\.example\.test did not let you in\. Most often neither your account nor any of your groups is in the device's access list/);
      assert.equal(await page.$('#action-cycle'), null, 'dave gets no power buttons');
    } finally { await ctx.close(); }
  }
  const dev = await fleet.device(1);
  assert.ok(!JSON.stringify(dev.audit_log).includes(portal.lab.LAB_SID_ERIN), 'erin changed nothing');
});

test('power_cycle_device: frank is told his ticket is too large for an old-generation device', async () => {
  const { ctx, page } = await openDevice('frank', 'amt3');
  try {
    assert.equal(await page.getAttribute('#device-refused', 'data-code'), 'device_refused_ticket');
    assert.match(await page.textContent('#refusal'), /old AMT firmware \(versions 2 to 5\) accepts at most 4096/);
  } finally { await ctx.close(); }
});

test('power_cycle_device: without browser delegation, constrained delegation acts as bob', async () => {
  const { ctx, page } = await openDevice('bob', 'amt2', { delegate: false });
  try {
    assert.match(await page.textContent('#acting-as'), /constrained delegation \(S4U2Proxy\)/);
    await page.click('#action-reset');
    await page.click('#confirm');
    await page.waitForSelector('#outcome');
    assert.match(await page.textContent('#outcome'), /amt2\.example\.test: Reset done/);
    const dev = await fleet.device(2);
    assert.ok(JSON.stringify(dev.audit_log).includes(portal.lab.LAB_SID_BOB), 'the device saw bob, not the portal');
  } finally { await ctx.close(); }
});

test('power_cycle_device: sam (sensitive account) without browser delegation is told exactly why', async () => {
  const { ctx, page } = await openDevice('sam', 'amt2', { delegate: false });
  try {
    assert.equal(await page.getAttribute('#device-refused', 'data-code'), 'delegation_refused');
    assert.match(await page.textContent('#refusal'),
      /Your browser delegated no ticket and the domain refused to let the portal act as you: your account is marked "sensitive and cannot be delegated"/);
  } finally { await ctx.close(); }
});
