// Drives the vaco dashboard in Debian's headless chromium (playwright-core; no browser is downloaded), for
// DashboardBrowserTest. Prints one JSON object per line on stdout.
//
//   node dashboard-check.mjs live URL SHOT_DIR WATCH_S    the page of a running training: loads, draws the steps so far,
//                                                         then, for WATCH_S seconds, when each new step is drawn
//   node dashboard-check.mjs compare URL SHOT_DIR         vaco dashboard over finished runs: every run drawn
//
// Console errors and uncaught page errors are collected and printed in the last line ("errors").
import { chromium } from 'playwright-core';

const [mode, url, shots, watchS] = process.argv.slice(2);
const executablePath = process.env.VACO_CHROMIUM || '/usr/bin/chromium';
const out = o => console.log(JSON.stringify(o));

const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
  page.on('console', m => { if (m.type() === 'error') errors.push('console: ' + m.text()); });
  page.on('pageerror', e => errors.push('page: ' + e.message + ' ' + (e.stack || '').split('\n').slice(0, 4).join(' | ')));
  page.on('requestfailed', r => errors.push('request failed: ' + r.url() + ' ' + (r.failure() || {}).errorText));
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => window.vacoDashboard && window.vacoDashboard.ready(), null, { timeout: 20000 });
  // every run has drawn its first step
  await page.waitForFunction(() => {
    const p = window.vacoDashboard.plotted('reward');
    return Object.values(p).every(s => s.length > 0);
  }, null, { timeout: 20000, polling: 100 });
  await page.waitForTimeout(300);
  const loaded = await page.evaluate(() => ({
    runs: window.vacoDashboard.runs(),
    reward: window.vacoDashboard.plotted('reward'),
    accuracy: window.vacoDashboard.plotted('accuracy'),
    lagHist: window.vacoDashboard.plotted('lagHist'),
    title: document.title,
    admission: document.getElementById('admission').textContent,
    servers: Array.from(document.querySelectorAll('#servers tbody tr')).map(tr => tr.textContent),
  }));
  out({ event: 'loaded', at: Date.now(), ...loaded });
  await page.screenshot({ path: `${shots}/dashboard-${mode}.png`, fullPage: true });
  if (mode === 'live') {
    const end = Date.now() + 1000 * Number(watchS || 20);
    while (Date.now() < end) await page.waitForTimeout(250);
    // one evaluation, so a step drawn between two of them cannot be in the chart and not yet in plottedAt
    const watched = await page.evaluate(() => ({ plottedAt: { ...window.vacoDashboard.plottedAt },
      reward: window.vacoDashboard.plotted('reward') }));
    out({ event: 'watched', ...watched });
    await page.screenshot({ path: `${shots}/dashboard-live-later.png`, fullPage: true });
  }
} catch (e) {
  errors.push('script: ' + e.message);
} finally {
  await browser.close();
}
out({ event: 'done', errors });
