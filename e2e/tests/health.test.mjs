// The Kerberos health page: alice checks herself against the AMT 4 device (amt3) and sees her
// findings grouped (ticket fits, SPNs once, SSO with delegation); frank (400 groups) sees the
// ticket-too-large problem with the fix. Real browser, real AD tickets, simulated devices.
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

/** Signs `user` in, lets the background check learn the firmware versions, checks amt3 on /health. */
async function checkAmt3(user) {
  const ctx = await launch({ sso: { ccache: kinit(user), delegate: true }, hostRules: rules });
  const page = await ctx.newPage();
  await page.goto(portal.url + '/devices');
  await page.waitForSelector('#refresh-progress[data-running="false"]', { timeout: 20000 });
  await page.goto(portal.url + '/health');
  await page.waitForSelector('#health-device option:has-text("amt3.example.test")', { state: 'attached' });
  await page.selectOption('#health-device', { label: 'amt3.example.test' });
  await page.click('#health-check');
  await page.waitForSelector('#my-health .health-report:has-text("amt3.example.test")', { timeout: 30000 });
  return { ctx, page };
}

test('health: alice sees her findings for an AMT 4 device, grouped, her ticket within the limit', async () => {
  const { ctx, page } = await checkAmt3('alice');
  try {
    const ok = await page.textContent('#my-health [data-code="ticket_size_ok_16992"]');
    assert.match(ok, /HTTP\/amt3\.example\.test:16992: \d+ base64 characters; limit of AMT 4\.2\.0: 4096/);
    assert.equal(await page.locator('#my-health [data-code="spn_ok"]').count(), 4);
    assert.ok(await page.$('#my-health [data-code="sso_delegated"]'));
    const groups = await page.$$eval('#my-health .finding-group h3', (hs) => hs.map((h) => h.textContent));
    assert.ok(groups.includes('Ticket size') && groups.includes('Browser single sign-on'), groups.join(', '));
  } finally {
    await ctx.close();
  }
});

test('health: frank sees the ticket-too-large problem with the fix', async () => {
  const { ctx, page } = await checkAmt3('frank');
  try {
    const f = page.locator('#my-health [data-code="ticket_too_large_16992"]');
    const text = await f.textContent();
    assert.match(text, /Problem/);
    assert.match(text, /limit of AMT 4\.2\.0: 4096/);
    assert.match(text, /Fix: Remove the user from groups/);
    assert.match(await f.getAttribute('class'), /sev-problem/);
  } finally {
    await ctx.close();
  }
});
