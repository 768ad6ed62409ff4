// Scenarios of the fleet list: states from the portal's background checks, a device that hangs
// and one that answers garbage each show their error on their own row while the rest of the
// fleet works, search and filter, and a power action on a selection with one result per device.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortal, kinit } from './fixtures/portal.mjs';
import { startFleet } from './fixtures/fleet.mjs';
import { launch } from './fixtures/browser.mjs';

let fleet, portal;
before(async () => {
  fleet = await startFleet(4);
  await fleet.faults(2, { hang: true });
  await fleet.faults(4, { malformed_xml: true });
  // The first scheduled check runs at start-up; 3 s per device request keeps the hang short.
  portal = await startPortal({ devicesCsv: fleet.csv, env: { PORTAL_DEVICE_TIMEOUT_SECS: '3' } });
});
after(() => { portal?.stop(); fleet?.stop(); });

const rules = 'MAP portal.example.test 127.0.0.1';

async function openFleet(user) {
  const ctx = await launch({ sso: { ccache: kinit(user), delegate: true }, hostRules: rules });
  const page = await ctx.newPage();
  await page.goto(portal.url + '/devices');
  // The page re-reads itself while a check runs; wait for the finished one.
  await page.waitForSelector('#refresh-progress[data-running="false"]', { timeout: 20000 });
  return { ctx, page };
}

const health = (page, name) => page.getAttribute(`#row-${name}`, 'data-health');
const problem = (page, name) => page.textContent(`#row-${name} td.problem`);

test('list_fleet: a hanging and a garbage-answering device show their errors on their rows; the rest works', async () => {
  const { ctx, page } = await openFleet('alice');
  try {
    assert.equal(await health(page, 'amt1'), 'on');
    assert.equal(await health(page, 'amt3'), 'on', 'the old AMT 4 device is checked too');
    assert.match(await page.textContent('#row-amt1'), /On \(S0\)/);
    assert.match(await page.textContent('#row-amt1'), /16\.\d/, 'AMT version read');
    assert.match(await page.textContent('#row-amt3'), /4\.2\.0/);
    assert.equal(await health(page, 'amt2'), 'unreachable');
    assert.match(await problem(page, 'amt2'), /did not answer within 3 s/);
    assert.equal(await health(page, 'amt4'), 'error');
    assert.match(await problem(page, 'amt4'), /not WS-Management/);
    assert.match(await page.textContent('#refresh-progress'), /4 devices, 2 failed/);
    assert.match(await page.getAttribute('#fleet-picture', 'aria-label'), /2 On, 1 Unreachable, 1 Error/);

    // Search narrows the list; the state filter too.
    await page.fill('#search', 'amt3');
    await page.waitForFunction(() => document.querySelectorAll('#fleet tbody tr').length === 1);
    assert.ok(await page.$('#row-amt3'));
    assert.match(await page.textContent('#page-info'), /1–1 of 1 matching \(4 in all\)/);
    await page.fill('#search', '');
    await page.click('#filter-unreachable');
    await page.waitForFunction(() => document.querySelectorAll('#fleet tbody tr').length === 1);
    assert.ok(await page.$('#row-amt2'));
    await page.click('#filter-all');
    await page.waitForFunction(() => document.querySelectorAll('#fleet tbody tr').length === 4);
  } finally { await ctx.close(); }
});

test('power_fleet: alice powers off a selection; each device reports its own result', async () => {
  const { ctx, page } = await openFleet('alice');
  try {
    for (const n of ['amt1', 'amt2', 'amt3']) await page.check(`#pick-${n}`);
    assert.equal(await page.textContent('#selected-count'), '3 selected');
    await page.selectOption('#bulk-action', 'off');
    await page.click('#bulk-run');
    assert.match(await page.textContent('#bulk-confirm-text'), /Power off on 3 devices\?/);
    await page.click('#bulk-confirm');
    await page.waitForSelector('#bulk-results', { timeout: 20000 });
    assert.match(await page.textContent('#bulk-summary'), /Power off: 2 of 3 devices done/);
    assert.equal(await page.getAttribute('#result-amt1', 'data-code'), 'ok');
    assert.equal(await page.getAttribute('#result-amt3', 'data-code'), 'ok');
    assert.equal(await page.getAttribute('#result-amt2', 'data-code'), 'timeout');
    assert.match(await page.textContent('#result-amt2'), /amt2\.example\.test did not answer within 3 seconds/);
    for (const n of [1, 3]) {
      const dev = await fleet.device(n);
      assert.equal(dev.power_state, 8, `amt${n} is off in the simulator`);
      assert.ok(JSON.stringify(dev.audit_log).includes(portal.lab.LAB_SID_ALICE), `amt${n}'s audit log names alice`);
    }
    // The portal re-checks the devices it acted on: the list shows them off without a full refresh.
    await page.waitForFunction(() => document.querySelector('#row-amt1')?.dataset.health === 'off', null, { timeout: 15000 });
  } finally { await ctx.close(); }
});

test('add_device: alice adds a device by hand (a bad name is refused with the reason); bob cannot add devices', async () => {
  const { ctx, page } = await openFleet('alice');
  try {
    await page.click('#add-device summary');
    await page.fill('#new-fqdn', 'not a name');
    await page.click('#new-submit');
    await page.waitForSelector('#add-outcome');
    assert.match(await page.textContent('#add-outcome'), /is not a fully qualified DNS name/);
    assert.equal(await page.$('#row-not'), null, 'nothing was stored');

    await page.fill('#new-fqdn', 'amt6.example.test');
    await page.fill('#new-address', '127.1.0.6');
    await page.fill('#new-site', 'Lyon');
    await page.click('#new-submit');
    await page.waitForFunction(() => /amt6\.example\.test added/.test(document.querySelector('#add-outcome')?.textContent || ''));
    await page.waitForSelector('#row-amt6');
    // Nothing listens on amt6 in this fleet: its check says so on its row.
    await page.waitForFunction(() => document.querySelector('#row-amt6')?.dataset.health === 'unreachable', null, { timeout: 15000 });
    assert.match(await page.textContent('#row-amt6 td.problem'), /refused the connection on port 16992/);
  } finally { await ctx.close(); }
  const bob = await openFleet('bob');
  try {
    assert.equal(await bob.page.$('#add-device'), null, 'bob is not a registry administrator');
  } finally { await bob.ctx.close(); }
});
