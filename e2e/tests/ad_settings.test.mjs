// The Active Directory settings page: alice (AMT Admins) sees the settings in force (from the
// portal's configuration), tests them against the lab DC and sees every check with its outcome,
// gets the exact reason for an OU that does not exist, saves, and the portal's audit log has it.
// bob (not an administrator) is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortal, kinit } from './fixtures/portal.mjs';
import { launch } from './fixtures/browser.mjs';

let portal;
before(async () => {
  portal = await startPortal({ env: { PORTAL_POLL_MINUTES: '0' } });
});
after(() => { portal?.stop(); });

const rules = 'MAP portal.example.test 127.0.0.1';

async function open(user) {
  const ctx = await launch({ sso: { ccache: kinit(user) }, hostRules: rules });
  const page = await ctx.newPage();
  await page.goto(`${portal.url}/settings/ad`);
  await page.waitForSelector('#ad-form, #ad-refused');
  await page.waitForLoadState('networkidle');
  return { ctx, page };
}

async function runTest(page) {
  await page.click('#ad-test');
  await page.waitForSelector('#ad-test-summary, #ad-test-error', { timeout: 60000 });
  return page.$$eval('#ad-checks tbody tr', (rows) => rows.map((r) => ({
    outcome: r.dataset.outcome,
    name: r.children[0].textContent,
    detail: r.children[2].textContent,
  })));
}

test('ad_settings: alice tests the settings, sees each check, a missing OU named, and saves', async () => {
  const lab = portal.lab;
  const ou = lab.LAB_PROVISION_OU || `OU=AMT Provisioning,${lab.LAB_BASE_DN}`;
  const { ctx, page } = await open('alice');
  try {
    assert.match(await page.textContent('#ad-origin'), /Nothing saved yet/);
    assert.match(await page.inputValue('#ad-dcs'), new RegExp(lab.LAB_LDAP_URL.replace(/\./g, '\\.')));
    await page.fill('#ad-ou', ou);

    const good = await runTest(page);
    assert.match(await page.textContent('#ad-test-summary'), /Every check passed/);
    assert.ok(good.length >= 7, JSON.stringify(good));
    assert.ok(good.every((c) => c.outcome === 'ok'), JSON.stringify(good));
    assert.ok(good.some((c) => /svc-portal may create computer objects/.test(c.name)), JSON.stringify(good));
    assert.ok(good.some((c) => /nothing left behind/.test(c.detail)), JSON.stringify(good));

    const missing = `OU=Nowhere,${lab.LAB_BASE_DN}`;
    await page.fill('#ad-ou', missing);
    const bad = await runTest(page);
    assert.match(await page.textContent('#ad-test-summary'), /Some checks failed/);
    const row = bad.find((c) => c.outcome === 'bad');
    assert.equal(row.detail, `${missing} does not exist on ${lab.LAB_DC_HOST}: create it or fix the DN`);

    await page.fill('#ad-ou', ou);
    await page.click('#ad-save');
    await page.waitForSelector('#ad-saved, #ad-save-error');
    assert.match(await page.textContent('#ad-saved'), /The AD settings are saved/);
    await page.reload();
    await page.waitForSelector('#ad-form');
    assert.match(await page.textContent('#ad-origin'), /Saved by alice@EXAMPLE\.TEST/);
    assert.equal(await page.inputValue('#ad-ou'), ou);
  } finally { await ctx.close(); }

  const audit = await open('alice');
  try {
    await audit.page.goto(`${portal.url}/audit`);
    await audit.page.waitForSelector('#audit-table');
    const text = await audit.page.textContent('#audit-table');
    assert.match(text, /AD settings: save/);
    assert.match(text, /AD settings: test/);
  } finally { await audit.ctx.close(); }
});

test('ad_settings: bob (not an administrator) is refused', async () => {
  const { ctx, page } = await open('bob');
  try {
    assert.match(await page.textContent('#ad-refused'), /only members of AMT Admins/);
    assert.equal(await page.$('#ad-form'), null);
  } finally { await ctx.close(); }
});
