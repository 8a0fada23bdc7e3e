import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CASINO, ROOT, browser, devserver, serve, token } from '../harness.mjs';
const work = await mkdtemp(join(tmpdir(), 'cp-'));
await cp(join(ROOT, 'pkg'), join(work, 'pkg'), { recursive: true });
await cp(join(ROOT, 'tests/e2e/hosts/index.html'), join(work, 'index.html'));
const dev = await devserver();
const site = await serve(work);
const chrome = await browser();
const ctx = await chrome.newContext();
const page = await ctx.newPage();
await page.goto(`${site.url}/`);
await page.waitForFunction(() => window.ready === true);
const access = await token(dev.url, { staff_role: 'pit_boss', casino_id: CASINO });
const i = await page.evaluate((o) => window.start(o), { url: dev.url, apiKey: access, accessToken: access, casinoId: CASINO });
await page.evaluate((n) => window.managers[n].realtime.subscribe(), i);
await new Promise((r) => setTimeout(r, 1500));
const cdp = await chrome.newBrowserCDPSession();
const { targetInfos } = await cdp.send('Target.getTargets');
console.log(targetInfos.map((t) => [t.type, t.url.slice(-40)]));
const w = targetInfos.find((t) => t.type === 'shared_worker');
try {
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: w.targetId, flatten: false });
  const reply = new Promise((resolve) => cdp.on('Target.receivedMessageFromTarget', (e) => { const m = JSON.parse(e.message); if (m.id === 7) resolve(m); }));
  await cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: 7, method: 'Runtime.evaluate', params: { expression: 'typeof self.close + " " + self.name' } }) });
  console.log('reply', JSON.stringify(await reply));
} catch (e) { console.log('fail', e.message); }
await chrome.close(); site.stop(); dev.stop();
