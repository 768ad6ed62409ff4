// Scenarios of provisioning profiles: alice (AMT Admins) builds a profile from entries found by
// searching the directory, sees each problem by its field without losing what she typed, saves
// it, sees it listed and assigns a device to it; bob (AMT Helpdesk) is not offered any of it and
// a call he forges is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortal, kinit } from './fixtures/portal.mjs';
import { startFleet } from './fixtures/fleet.mjs';
import { launch } from './fixtures/browser.mjs';

let fleet, portal;
before(async () => {
  fleet = await startFleet(2);
  portal = await startPortal({ devicesCsv: fleet.csv, env: { PORTAL_ADMIN_GROUPS: 'AMT Admins', PORTAL_POLL_MINUTES: '0' } });
});
after(() => { portal?.stop(); fleet?.stop(); });

const rules = 'MAP portal.example.test 127.0.0.1';

async function open(user, path) {
  const ctx = await launch({ sso: { ccache: kinit(user), delegate: true }, hostRules: rules });
  const page = await ctx.newPage();
  await page.goto(`${portal.url}${path}`);
  await page.waitForLoadState('networkidle');
  return { ctx, page };
}

/** Types part of a name into the search box and adds the match named `name` (by button or Enter). */
async function addBySearch(page, typed, name, { enter = false } = {}) {
  await page.fill('#principal-search', typed);
  const match = page.locator('#principal-results button.principal', { hasText: name });
  await match.first().waitFor();
  if (enter) {
    await page.press('#principal-search', 'Enter');
  } else {
    await match.first().click();
  }
  await page.locator(`li.acl-entry[data-name="${name}"]`).waitFor();
}

const entry = (page, name) => page.locator(`li.acl-entry[data-name="${name}"]`);

test('profiles: alice builds a profile from the directory, fixes what is refused, saves and assigns amt1', async () => {
  const { ctx, page } = await open('alice', '/profiles');
  try {
    await page.waitForSelector('#nav-profiles');
    await page.waitForSelector('#no-profiles');
    await page.click('#new-profile');
    await page.waitForSelector('#profile-form');
    await page.waitForLoadState('networkidle');

    await page.fill('#name', 'Lab devices');
    await addBySearch(page, 'AMT Adm', 'AMT Admins');
    await entry(page, 'AMT Admins').locator('button[data-preset="administrator"]').click();
    await addBySearch(page, 'AMT Help', 'AMT Helpdesk');
    await entry(page, 'AMT Helpdesk').locator('button[data-preset="helpdesk"]').click();
    await addBySearch(page, 'AMT View', 'AMT Viewers', { enter: true });
    await entry(page, 'AMT Viewers').locator('button[data-preset="viewer"]').click();
    // The SIDs are the directory's.
    assert.equal(await entry(page, 'AMT Helpdesk').getAttribute('data-sid'), portal.lab.LAB_SID_AMT_HELPDESK);
    assert.equal(await entry(page, 'AMT Admins').getAttribute('data-sid'), portal.lab.LAB_SID_AMT_ADMINS);

    // Bad input: a tolerance AMT refuses and an OU that is not one.
    await page.fill('#device_ou', 'DC=example,DC=test');
    await page.fill('#clock_tolerance_minutes', '6');
    await page.click('#save-profile');
    const tol = page.locator('#profile-form .problem[data-field="clock_tolerance_minutes"]');
    await tol.waitFor();
    assert.match(await tol.textContent(), /1 to 5 minutes/);
    assert.match(await page.locator('.problem[data-field="device_ou"]').textContent(), /must contain OU=/);
    assert.match(await page.textContent('#save-outcome'), /Not saved: 2 things to fix/);
    // The problem is next to its field, and nothing typed is lost.
    assert.ok(await page.evaluate(() => {
      const input = document.querySelector('#clock_tolerance_minutes');
      const p = document.querySelector('.problem[data-field="clock_tolerance_minutes"]');
      return !!(input.compareDocumentPosition(p) & Node.DOCUMENT_POSITION_FOLLOWING)
        && p.previousElementSibling?.previousElementSibling === input;
    }), 'the tolerance problem sits right under its field');
    assert.equal(await page.inputValue('#name'), 'Lab devices');
    assert.equal(await page.inputValue('#clock_tolerance_minutes'), '6');
    assert.equal(await page.locator('li.acl-entry').count(), 3);
    assert.ok(await entry(page, 'AMT Helpdesk').locator('input[data-realm="remote-control"]').isChecked());

    await page.fill('#device_ou', `OU=AMT Devices,${portal.lab.LAB_BASE_DN}`);
    await page.fill('#clock_tolerance_minutes', '5');
    await page.click('#save-profile');
    await page.waitForURL(/\/profiles\/\d+$/);
    await page.waitForSelector('#assign-devices input.assign');
    await page.waitForLoadState('networkidle');
    const id = page.url().split('/').pop();
    // What was stored is what she chose.
    const helpdesk = entry(page, 'AMT Helpdesk');
    for (const r of ['remote-control', 'redirection', 'general-info', 'hardware-asset', 'event-log-reader', 'audit-log']) {
      assert.ok(await helpdesk.locator(`input[data-realm="${r}"]`).isChecked(), r);
    }
    assert.ok(!(await helpdesk.locator('input[data-realm="pt-administration"]').isChecked()));
    assert.ok(await entry(page, 'AMT Admins').locator('input[data-realm="pt-administration"]').isChecked());
    assert.ok(!(await entry(page, 'AMT Viewers').locator('input[data-realm="remote-control"]').isChecked()));
    assert.equal(await page.inputValue('#clock_tolerance_minutes'), '5');

    await page.check('#assign-devices input.assign[data-fqdn="amt1.example.test"]');
    await page.click('#assign-selected');
    await page.waitForSelector('.assign-outcome');
    assert.match(await page.textContent('.assign-outcome'), /amt1\.example\.test now has profile "Lab devices"/);

    await page.goto(`${portal.url}/profiles`);
    const row = page.locator(`#profiles-table tr[data-id="${id}"]`);
    await row.waitFor();
    assert.match(await row.textContent(), /Lab devices/);
    assert.equal((await row.locator('td.entries').textContent()).trim(), '3');
    assert.equal((await row.locator('td.devices').textContent()).trim(), 'amt1.example.test');

    // The device page shows (and offers to change) its profile.
    await page.goto(`${portal.url}/devices/1`);
    await page.waitForSelector('#device-profile-select');
    assert.equal(await page.inputValue('#device-profile-select'), id);
  } finally { await ctx.close(); }
});

test('profiles: bob is not offered profiles and a forged save is refused', async () => {
  const { ctx, page } = await open('bob', '/profiles');
  try {
    await page.waitForSelector('#profiles-refused');
    assert.match(await page.textContent('#profiles-refused'), /only members of AMT Admins/);
    assert.equal(await page.$('#nav-profiles'), null);
    await page.goto(`${portal.url}/profiles/new`);
    await page.waitForSelector('#profile-refused');
    assert.equal(await page.$('#profile-form'), null);
    await page.goto(`${portal.url}/devices/1`);
    await page.waitForSelector('#power-state, #device-refused');
    await page.waitForLoadState('networkidle');
    assert.equal(await page.$('#device-profile'), null);

    const forged = await page.evaluate(async (lab) => {
      const profile = {
        id: 0, name: 'Bob was here', description: '', device_ou: 'OU=X,DC=example,DC=test',
        acl: [{ sid: lab.LAB_SID_BOB, name: 'bob', kind: 'User', realms: ['PtAdministration'], access: 'Both' }],
        clock_tolerance_minutes: 5, tls: 'Preferred', redirection: { sol: true, storage: false, kvm: false },
        consent: 'None', time_sync_hours: 24,
      };
      const save = await fetch('/api/profile-save', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ profile }),
      });
      const assign = await fetch('/api/profile-assign', {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ profile_id: null, device_ids: [1] }),
      });
      return { save: [save.status, await save.text()], assign: [assign.status, await assign.text()] };
    }, portal.lab);
    assert.notEqual(forged.save[0], 200, forged.save[1]);
    assert.match(forged.save[1], /only members of AMT Admins/);
    assert.notEqual(forged.assign[0], 200, forged.assign[1]);
    assert.match(forged.assign[1], /only members of AMT Admins/);
  } finally { await ctx.close(); }
  // Nothing changed: alice still sees one profile, still used by amt1.
  const alice = await open('alice', '/profiles');
  try {
    await alice.page.waitForSelector('#profiles-table');
    assert.equal(await alice.page.locator('#profiles-table tbody tr').count(), 1);
    assert.doesNotMatch(await alice.page.textContent('#profiles-table'), /Bob was here/);
    assert.match(await alice.page.textContent('#profiles-table td.devices'), /amt1\.example\.test/);
  } finally { await alice.ctx.close(); }
});
