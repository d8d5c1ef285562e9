// A headless Chromium session for the browser end-to-end tests
// (crates/hitl/tests/browser_e2e.rs drives it; see `Browser` in tests/common).
//
// It launches Debian's Chromium through playwright-core (never a downloaded
// browser) with a fresh profile, then reads one JSON command per line on
// standard input and answers each with one JSON line on standard output:
//
//   {"cmd":"open","tab":"a","url":"http://127.0.0.1:PORT/review?..."} -> {"ok":true,"page":{...}}
//   {"cmd":"fill","tab":"a","decision":"reject","reviewer":"Ana","comment":"..."} -> {"ok":true}
//   {"cmd":"send","tab":"a"}        clicks "Send my decision"      -> {"ok":true,"page":{...}}
//   {"cmd":"screenshot","tab":"a","path":"docs/review-page.png"}   -> {"ok":true}
//
// A failed command answers {"ok":false,"error":"..."}. End of input closes
// the browser. Tabs share one browser; each is opened by its first "open".
//
// The review links hold task tokens: nothing printed here (pages, errors)
// contains a URL's query or a token seen in one. Fields are found by their
// accessible names (getByRole/getByLabel), as a screen reader finds them.
//
// Environment: HITL_CHROMIUM (default /usr/bin/chromium), HITL_BROWSER_PROFILE
// (a directory for the fresh profile; default a new temporary one).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const executablePath = process.env.HITL_CHROMIUM || '/usr/bin/chromium';
const profile = mkdtempSync(join(process.env.HITL_BROWSER_PROFILE || tmpdir(), 'chromium-'));
// A step waits at most this long for the page (the review page calls Step Functions).
const STEP_TIMEOUT_MS = 30_000;

const secrets = new Set();

/** Text with every known token and any URL query replaced by "…". */
function redact(text) {
  let out = String(text);
  for (const secret of secrets) {
    out = out.split(secret).join('…');
  }
  return out
    .replace(/\u001b\[[0-9;]*m/g, '')
    .replace(/(https?:\/\/[^\s"'?]*)\?[^\s"']*/g, '$1?…');
}

function remember(url) {
  // Both the decoded and the raw values: the links are not percent-encoded.
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  for (const pair of query.split('&')) {
    const [name, raw] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
    if ((name === 't' || name === 'e') && raw) {
      secrets.add(raw);
      secrets.add(new URLSearchParams(pair).get(name));
    }
  }
}

function answer(value) {
  process.stdout.write(`${redact(JSON.stringify(value))}\n`);
}

// What a test asserts on: the HTTP status, the visible text, the form's
// state, the CSP header, whether the style block applied (a wrong hash in the
// CSP would leave the page unstyled) and what the console reported.
async function report(tab, response) {
  const page = tab.page;
  const state = await page.evaluate(() => {
    const checked = document.querySelector('input[name="d"]:checked');
    const main = document.querySelector('main');
    return {
      title: document.title,
      heading: document.querySelector('h1')?.innerText ?? null,
      text: (main ?? document.body).innerText,
      forms: document.forms.length,
      buttons: [...document.querySelectorAll('button')].map((b) => b.innerText),
      decision: checked ? checked.value : null,
      styled: main ? getComputedStyle(main).backgroundColor !== getComputedStyle(document.body).backgroundColor : false,
    };
  });
  const messages = tab.console.splice(0);
  return {
    status: response ? response.status() : null,
    csp: response ? (response.headers()['content-security-policy'] ?? null) : null,
    path: new URL(page.url()).pathname,
    ...state,
    console: messages,
  };
}

async function run(browser, tabs, command) {
  let tab = tabs.get(command.tab);
  switch (command.cmd) {
    case 'open': {
      if (!tab) {
        const page = await browser.newPage();
        page.setDefaultTimeout(STEP_TIMEOUT_MS);
        tab = { page, console: [] };
        page.on('console', (message) => tab.console.push(`${message.type()}: ${message.text()}`));
        page.on('pageerror', (error) => tab.console.push(`pageerror: ${error.message}`));
        tabs.set(command.tab, tab);
      }
      remember(command.url);
      const response = await tab.page.goto(command.url, { waitUntil: 'load' });
      return { ok: true, page: await report(tab, response) };
    }
    case 'fill': {
      const page = needTab(tab, command).page;
      if (command.decision) {
        const name = command.decision === 'approve' ? 'Approve' : 'Reject';
        await page.getByRole('radio', { name, exact: true }).check();
      }
      if (command.reviewer !== undefined) {
        await page.getByLabel('Your name (optional)').fill(command.reviewer);
      }
      if (command.comment !== undefined) {
        await page.getByLabel('Comment (optional)').fill(command.comment);
      }
      return { ok: true };
    }
    case 'send': {
      const page = needTab(tab, command).page;
      // The form posts and the browser navigates to the answer page.
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.request().isNavigationRequest() && r.request().method() === 'POST'),
        page.getByRole('button', { name: 'Send my decision' }).click(),
      ]);
      await page.waitForLoadState('load');
      return { ok: true, page: await report(tab, response) };
    }
    case 'screenshot': {
      const page = needTab(tab, command).page;
      // No focus ring from the last field filled in; the picture ends 2rem
      // below the page's box rather than at the bottom of the window.
      const { width, height } = await page.evaluate(() => {
        document.activeElement?.blur();
        const box = document.querySelector('main') ?? document.body;
        return {
          width: document.documentElement.clientWidth,
          height: Math.ceil(box.getBoundingClientRect().bottom + window.scrollY) + 32,
        };
      });
      await page.screenshot({ path: command.path, fullPage: true, clip: { x: 0, y: 0, width, height } });
      return { ok: true };
    }
    default:
      throw new Error(`unknown command ${JSON.stringify(command.cmd)}`);
  }
}

function needTab(tab, command) {
  if (!tab) throw new Error(`no tab ${JSON.stringify(command.tab)}: open it first`);
  return tab;
}

async function main() {
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    // Offline and quiet: no first-run UI, no update checks, no sync, no QUIC.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 800, height: 600 },
  });
  // The persistent context opens one blank page; tabs are opened as needed.
  for (const page of browser.pages()) await page.close();
  const tabs = new Map();
  try {
    for await (const line of createInterface({ input: process.stdin })) {
      if (!line.trim()) continue;
      let command;
      try {
        command = JSON.parse(line);
        answer(await run(browser, tabs, command));
      } catch (error) {
        answer({ ok: false, error: error?.message ?? String(error) });
      }
    }
  } finally {
    await browser.close();
  }
}

main()
  .catch((error) => {
    process.stderr.write(`${redact(error?.stack ?? error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => rmSync(profile, { recursive: true, force: true }));
