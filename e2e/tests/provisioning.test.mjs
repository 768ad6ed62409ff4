// Scenarios of provisioning a fresh device end to end (issue 6): alice (AMT Admins) builds a
// profile from directory entries, assigns it to amt9 (a simulated device never provisioned for
// Kerberos: only its Digest admin account), stores that account and applies the profile,
// watching each step; the computer object then sits in the provisioning OU with its four SPNs
// and the device holds the written key and the access list. bob (AMT Helpdesk) powers it as
// himself, erin (AMT Viewers) is refused the Remote Control realm. bob then requests
// reprovisioning, alice (AMT Approvers) approves it and the run's end reaches bob's requests.
// Real browser, real AD tickets, simulated AMT device; the computer object is deleted at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPortal, kinit, labEnv } from './fixtures/portal.mjs';
import { startFleet } from './fixtures/fleet.mjs';
import { launch } from './fixtures/browser.mjs';

const FRESH = 9;
const FQDN = `amt${FRESH}.example.test`;
const ADMIN_USER = 'admin';
const ADMIN_PASSWORD = 'Adm1n!AMT'; // the fleet seed's Digest admin account
const rules = 'MAP portal.example.test 127.0.0.1';
const STEPS = ['check_profile', 'reach_device', 'ad_object', 'ad_check_dcs', 'kerberos_settings',
  'acl_entries', 'redirection', 'clock', 'prove'];

const lab = labEnv();
const dn = `CN=amt${FRESH},${lab.LAB_PROVISION_OU}`;

/** Runs an LDAP tool as the lab's Administrator over LDAPS (simple bind needs TLS on Samba). */
function ldap(tool, args) {
  return execFileSync(tool, ['-x', '-H', lab.LAB_LDAPS_URL, '-D', `${lab.LAB_ADMIN_USER}@${lab.LAB_DNS_DOMAIN}`,
    '-w', lab.LAB_ADMIN_PASSWORD, ...args],
  { env: { ...process.env, LDAPTLS_CACERT: lab.LAB_CA_FILE, LDAPTLS_REQCERT: 'never' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The computer object amt9 in the provisioning OU as { dn, spns }, or null when it is absent. */
function computerObject() {
  const out = ldap('ldapsearch', ['-LLL', '-o', 'ldif-wrap=no', '-b', lab.LAB_PROVISION_OU, '-s', 'one',
    `(&(objectClass=computer)(cn=amt${FRESH}))`, 'dn', 'servicePrincipalName']);
  const found = out.match(/^dn: (.*)$/m);
  if (!found) return null;
  return { dn: found[1], spns: [...out.matchAll(/^servicePrincipalName: (.*)$/gm)].map((m) => m[1]).sort() };
}

/** Deletes amt9's computer object (left by an earlier run, or made by this one). */
function deleteComputerObject() {
  if (computerObject()) ldap('ldapdelete', [dn]);
}

let fleet, portal;
before(async () => {
  deleteComputerObject();
  assert.equal(computerObject(), null, 'no amt9 object before the test');
  fleet = await startFleet(FRESH, { fresh: [FRESH] });
  const key = join(mkdtempSync(join(tmpdir(), 'portal-key-')), 'secret.key');
  writeFileSync(key, randomBytes(32).toString('hex'));
  chmodSync(key, 0o600);
  portal = await startPortal({
    devicesCsv: fleet.csv,
    env: {
      PORTAL_SECRET_KEY_FILE: key, PORTAL_POLL_MINUTES: '0', PORTAL_DEVICE_OU: lab.LAB_PROVISION_OU,
      PORTAL_ADMIN_GROUPS: 'AMT Admins', PORTAL_APPROVER_GROUPS: 'AMT Approvers',
    },
  });
});
after(() => {
  portal?.stop();
  fleet?.stop();
  deleteComputerObject();
});

async function open(user, path) {
  const ctx = await launch({ sso: { ccache: kinit(user), delegate: true }, hostRules: rules });
  const page = await ctx.newPage();
  // What the browser reports as going wrong (e.g. hydration), for failure messages.
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') page.errors.push(m.text()); });
  await page.goto(`${portal.url}${path}`);
  await page.waitForLoadState('networkidle');
  return { ctx, page };
}

/** Opens amt9's page from the devices list. */
async function openDevice(user) {
  const { ctx, page } = await open(user, '/devices');
  await Promise.all([page.waitForURL(/\/devices\/\d+$/), page.click(`#device-amt${FRESH}`)]);
  await page.waitForSelector('#provisioning');
  await page.waitForLoadState('networkidle');
  return { ctx, page };
}

/** Types part of a name into the search box and adds the match named `name`. */
async function addBySearch(page, typed, name) {
  await page.fill('#principal-search', typed);
  const match = page.locator('#principal-results button.principal', { hasText: name });
  await match.first().waitFor();
  await match.first().click();
  await page.locator(`li.acl-entry[data-name="${name}"]`).waitFor();
}

const entry = (page, name) => page.locator(`li.acl-entry[data-name="${name}"]`);

/** Waits for run `id` on the device page to end; returns { state, summary, steps: {id: {outcome, text}} , seen }. */
async function waitForRun(page, id, timeout = 120000) {
  const run = page.locator(`#run-${id}`);
  await run.waitFor({ timeout: 30000 });
  const seen = new Set();
  const deadline = Date.now() + timeout;
  for (;;) {
    const state = await run.getAttribute('data-state');
    const outcomes = await run.locator('li.step').evaluateAll((els) => els.map((e) => e.dataset.outcome));
    seen.add(`${state}:${outcomes.join(',')}`);
    if (state === 'done' || state === 'failed') break;
    if (Date.now() > deadline) throw new Error(`run ${id} did not end: ${await run.textContent()}`);
    await page.waitForTimeout(250);
  }
  const steps = {};
  for (const li of await run.locator('li.step').all()) {
    steps[await li.getAttribute('data-step')] = { outcome: await li.getAttribute('data-outcome'), text: await li.textContent() };
  }
  return { state: await run.getAttribute('data-state'), summary: await run.locator('.run-summary').textContent(), steps, seen: [...seen] };
}

const assertAllDone = (run) => {
  assert.deepEqual(Object.keys(run.steps), STEPS, 'every step is listed, in order');
  for (const s of STEPS) assert.equal(run.steps[s].outcome, 'done', `${s}: ${run.steps[s].text}`);
  assert.equal(run.state, 'done', run.summary);
};

let firstKey;

test('provisioning: alice builds a profile, assigns it to the fresh amt9, stores its admin account and applies it', async () => {
  const before = await fleet.device(FRESH);
  assert.equal(before.kerberos.enabled, false, 'amt9 starts fresh');
  assert.equal(before.kerberos.written_key ?? null, null);
  assert.equal(before.acl.filter((e) => e.sid).length, 0, 'amt9 starts with no Kerberos ACL entry');

  const { ctx, page } = await open('alice', '/profiles/new');
  try {
    await page.waitForSelector('#profile-form');
    await page.fill('#name', 'Provisioning OU devices');
    await addBySearch(page, 'AMT Adm', 'AMT Admins');
    await entry(page, 'AMT Admins').locator('button[data-preset="administrator"]').click();
    await addBySearch(page, 'AMT Help', 'AMT Helpdesk');
    await entry(page, 'AMT Helpdesk').locator('button[data-preset="helpdesk"]').click();
    await addBySearch(page, 'AMT View', 'AMT Viewers');
    await entry(page, 'AMT Viewers').locator('button[data-preset="viewer"]').click();
    assert.equal(await entry(page, 'AMT Viewers').getAttribute('data-sid'), lab.LAB_SID_AMT_VIEWERS);
    await page.fill('#device_ou', lab.LAB_PROVISION_OU);
    await page.click('#save-profile');
    await page.waitForURL(/\/profiles\/\d+$/);
    const profileId = page.url().split('/').pop();

    // Assign it from the device's page.
    await page.goto(`${portal.url}/devices`);
    await Promise.all([page.waitForURL(/\/devices\/\d+$/), page.click(`#device-amt${FRESH}`)]);
    await page.waitForSelector('#device-profile-select');
    await page.waitForLoadState('networkidle');
    await page.selectOption('#device-profile-select', profileId);
    await page.click('#device-profile-save');
    await page.waitForSelector('#device-profile-outcome');
    assert.match(await page.textContent('#device-profile-outcome'), /Provisioning OU devices/);

    // The fresh device's Digest admin account, sealed on the server.
    await page.waitForSelector('#admin-mode');
    await page.fill('#admin-user', ADMIN_USER);
    await page.fill('#admin-password', ADMIN_PASSWORD);
    await page.click('#admin-store');
    await page.waitForSelector('#admin-account-outcome');
    assert.match(await page.textContent('#admin-account-outcome'), new RegExp(`admin account admin of ${FQDN.replace(/\./g, '\\.')} is stored, sealed`));

    await page.click('#apply-profile');
    assert.match(await page.textContent('#apply-confirm-text'), /The device gets a new key/);
    await page.click('#apply-confirm');
    await page.waitForSelector('#apply-outcome');
    const started = (await page.textContent('#apply-outcome')).match(/^Run (\d+) started\.$/);
    assert.ok(started, `apply outcome: ${await page.textContent('#apply-outcome')}`);
    const run = await waitForRun(page, started[1]);
    console.log(`first run, states seen while polling: ${run.seen.join(' | ')}`);
    assertAllDone(run);
    assert.match(run.steps.reach_device.text, /stored Digest admin account admin/);
    assert.ok(run.steps.ad_object.text.includes(dn), run.steps.ad_object.text);
    assert.match(run.steps.ad_object.text, /Created/);
    assert.match(run.steps.ad_check_dcs.text, /Every domain controller/);
    assert.match(run.steps.prove.text, /alice@EXAMPLE\.TEST/);
    assert.ok(!(await page.textContent('#provisioning')).includes(ADMIN_PASSWORD), 'no secret on the page');
  } finally { await ctx.close(); }

  // Outside the browser: AD holds the object with its four SPNs…
  const obj = computerObject();
  assert.ok(obj, `the computer object ${dn} exists`);
  assert.equal(obj.dn, dn);
  assert.deepEqual(obj.spns, [16992, 16993, 16994, 16995].map((p) => `HTTP/${FQDN}:${p}`));
  // … and the device the key and the profile's access list.
  const dev = await fleet.device(FRESH);
  assert.equal(dev.kerberos.enabled, true);
  assert.equal(dev.kerberos.realm, lab.LAB_REALM);
  assert.ok(dev.kerberos.written_key, `a key is written: ${JSON.stringify(dev.kerberos)}`);
  firstKey = dev.kerberos.written_key;
  const realms = (sid) => dev.acl.find((e) => e.sid === sid)?.realms.slice().sort((a, b) => a - b);
  assert.deepEqual(realms(lab.LAB_SID_AMT_ADMINS), [3], 'AMT Admins: PT Administration (all realms)');
  assert.deepEqual(realms(lab.LAB_SID_AMT_HELPDESK), [2, 4, 5, 13, 19, 20], 'AMT Helpdesk');
  assert.deepEqual(realms(lab.LAB_SID_AMT_VIEWERS), [4, 13, 19, 20], 'AMT Viewers');
  assert.equal(dev.acl.filter((e) => e.sid).length, 3, `exactly the profile's entries: ${JSON.stringify(dev.acl)}`);
});

test('provisioning: bob powers amt9 as himself; erin is refused the Remote Control realm', async () => {
  {
    const { ctx, page } = await openDevice('bob');
    try {
      await page.waitForSelector('#power-state');
      assert.match(await page.textContent('#acting-as'), /your own Kerberos ticket/);
      await page.click('#action-cycle');
      assert.match(await page.textContent('#confirm-text'), new RegExp(`Power cycle ${FQDN.replace(/\./g, '\\.')}\\?`));
      await page.click('#confirm');
      await page.waitForSelector('#outcome');
      assert.match(await page.textContent('#outcome'), new RegExp(`${FQDN.replace(/\./g, '\\.')}: Power cycle done`));
    } finally { await ctx.close(); }
    const dev = await fleet.device(FRESH);
    assert.ok(dev.audit_log.some((e) => JSON.stringify(e).includes(lab.LAB_SID_BOB)),
      `the device's audit log names bob: ${JSON.stringify(dev.audit_log)}`);
  }
  {
    const { ctx, page } = await openDevice('erin');
    try {
      await page.waitForSelector('#power-refused');
      assert.equal(await page.getAttribute('#power-refused', 'data-code'), 'access_denied');
      assert.match(await page.textContent('#power-refused'),
        /amt9\.example\.test refused: none of your groups has the Remote Control realm on this device/);
      assert.ok(await page.isDisabled('#action-cycle'), 'erin\'s power buttons are disabled');
    } finally { await ctx.close(); }
    const dev = await fleet.device(FRESH);
    assert.ok(!JSON.stringify(dev.audit_log).includes(lab.LAB_SID_ERIN), 'erin changed nothing');
  }
});

test('provisioning: bob requests reprovisioning, alice approves, the run updates the object and bob sees it done', async () => {
  let requestId;
  {
    const { ctx, page } = await openDevice('bob');
    try {
      assert.equal(await page.$('#apply-profile'), null, 'bob is not offered "Apply the profile"');
      await page.fill('#request-reason', 'Sign-in to amt9 fails after a board swap');
      await page.click('#request-submit');
      await page.waitForSelector('#request-outcome');
      assert.match(await page.textContent('#request-outcome'), /is filed for bob@EXAMPLE\.TEST: an approver will decide it/);
      const line = page.locator('#device-requests li.request').first();
      await line.waitFor();
      assert.equal(await line.getAttribute('data-state'), 'pending');
      requestId = (await line.getAttribute('id')).replace('request-', '');
      assert.match(await line.textContent(), /waiting for approval/);
    } finally { await ctx.close(); }
  }
  // A fresh sign-in for alice: a held credential would keep amt9's service ticket under the
  // key the first run replaced (known limit), and a new browser context is a new sign-in.
  {
    const { ctx, page } = await open('alice', '/requests');
    try {
      const errors = page.errors;
      await page.locator(`#approve-${requestId}`).waitFor();
      assert.match(await page.textContent('#pending-requests'), /bob@EXAMPLE\.TEST, .*"Sign-in to amt9 fails after a board swap"/);
      await page.fill(`#comment-${requestId}`, 'ok, rekey it');
      await page.click(`#approve-${requestId}`);
      await page.waitForSelector('#decide-outcome', { timeout: 20000 }).catch((e) => {
        const server = portal.log().split('\n').filter((l) => /request|decide/i.test(l)).slice(-10).join('\n');
        throw new Error(`no decision shown after "Approve": ${e.message}; page errors: ${errors.join(' | ')}; portal log: ${server}`);
      });
      const decided = (await page.textContent('#decide-outcome')).match(/is approved: run (\d+) applies the profile/);
      assert.ok(decided, `decision: ${await page.textContent('#decide-outcome')}; page errors: ${errors.join(' | ')}`);
      await page.goto(`${portal.url}/devices`);
      await Promise.all([page.waitForURL(/\/devices\/\d+$/), page.click(`#device-amt${FRESH}`)]);
      const run = await waitForRun(page, decided[1]);
      assertAllDone(run);
      assert.match(run.steps.ad_object.text, /Updated/, 'the second run updates the object');
      assert.match(run.steps.prove.text, /alice@EXAMPLE\.TEST/);
    } finally { await ctx.close(); }
  }
  const obj = computerObject();
  assert.deepEqual(obj?.spns, [16992, 16993, 16994, 16995].map((p) => `HTTP/${FQDN}:${p}`));
  const dev = await fleet.device(FRESH);
  assert.notEqual(dev.kerberos.written_key, firstKey, `a new key: ${dev.kerberos.written_key}`);
  {
    const { ctx, page } = await open('bob', '/requests');
    try {
      const mine = page.locator(`#my-requests li#request-${requestId}`);
      await mine.waitFor();
      assert.equal(await mine.getAttribute('data-state'), 'done', await mine.textContent());
      assert.match(await mine.textContent(), /alice@EXAMPLE\.TEST: "ok, rekey it"/);
    } finally { await ctx.close(); }
  }
});
