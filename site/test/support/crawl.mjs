// Visits every page of the site reachable from its home page, in a few tabs at once, and
// records for each: the HTTP status, the console errors and failed requests, the ids on
// the page, its links, its Mermaid diagrams and its kata cards.

/**
 * In each page before its scripts: a flag that an error happened (console.error, which is how
 * Vue reports an error in a component, or an uncaught error), so waits end at the first one.
 */
const RECORD_ERRORS = () => {
  window.__siteErrors = [];
  const consoleError = console.error.bind(console);
  console.error = (...args) => {
    window.__siteErrors.push(args.map(String).join(" "));
    consoleError(...args);
  };
  window.addEventListener("error", (e) => window.__siteErrors.push(String(e.message)));
  window.addEventListener("unhandledrejection", (e) => window.__siteErrors.push(String(e.reason?.message ?? e.reason)));
};

const isPagePath = (pathname) => pathname.endsWith(".html") || pathname.endsWith("/");
/** The page a path names: /base/ and /base/index.html are one page. */
export const pageKey = (pathname) => (pathname.endsWith("/") ? `${pathname}index.html` : pathname);

async function visit(tab, url, { origin, timeoutMs }) {
  const errors = [];
  const onConsole = (message) => {
    if (message.type() !== "error") return;
    const where = message.location()?.url;
    errors.push(`console error: ${message.text()}${where ? ` (${where})` : ""}`);
  };
  const onPageError = (error) => errors.push(`uncaught: ${error.message}`);
  const onResponse = (response) => {
    if (response.url().startsWith(origin) && response.status() >= 400)
      errors.push(`HTTP ${response.status()}: ${response.url()}`);
  };
  // A request the browser cancels (a prefetch cut short by the next navigation) is no
  // defect of the site; one that fails or answers an error is (the response handler sees those).
  const onFailed = (request) => {
    const reason = request.failure()?.errorText ?? "?";
    if (reason !== "net::ERR_ABORTED") errors.push(`request failed: ${request.url()} (${reason})`);
  };
  tab.on("console", onConsole);
  tab.on("pageerror", onPageError);
  tab.on("response", onResponse);
  tab.on("requestfailed", onFailed);
  const started = Date.now();
  try {
    const response = await tab.goto(url, { waitUntil: "load", timeout: timeoutMs });
    const status = response?.status() ?? 0;
    // Hydrated: Vue has mounted the app (it sets __vue_app__ on the container).
    await tab.waitForFunction(() => document.getElementById("app")?.__vue_app__ !== undefined, null, {
      timeout: timeoutMs,
    });
    // Diagrams render one after the other once the page is mounted; each ends as an SVG or
    // as an error (Vue logs it), so the wait is over when there are as many of those as diagrams.
    const diagramsSettled = await tab
      .waitForFunction(
        () => {
          const diagrams = [...document.querySelectorAll("div.mermaid")];
          const drawn = diagrams.filter((d) => d.querySelector("svg") !== null).length;
          return drawn + window.__siteErrors.length >= diagrams.length;
        },
        null,
        { timeout: timeoutMs, polling: 100 },
      )
      .then(
        () => true,
        () => false,
      );
    const data = await tab.evaluate(() => ({
      title: document.title,
      ids: [...document.querySelectorAll("[id]")].map((e) => e.id),
      links: [...document.querySelectorAll("a[href]")].map((a) => ({
        href: a.href,
        text: a.textContent.trim().slice(0, 80),
      })),
      diagrams: [...document.querySelectorAll("div.mermaid")].map((d) => ({
        svg: d.querySelector("svg") !== null,
        error:
          d.querySelector('svg[aria-roledescription="error"]') !== null || /Syntax error/i.test(d.textContent ?? ""),
      })),
      cards: [...document.querySelectorAll(".kata-card")].map((c) => ({
        kata: c.dataset.kata,
        services: c.dataset.services,
        command: c.querySelector("pre code")?.textContent?.trim() ?? "",
        text: c.innerText,
      })),
      windowErrors: window.__siteErrors,
    }));
    // Errors reach `errors` through Playwright's events; the page's own list only ends waits early.
    if (errors.length === 0 && data.windowErrors.length > 0)
      errors.push(...data.windowErrors.map((e) => `error: ${e}`));
    return { url, status, errors, diagramsSettled, ms: Date.now() - started, ...data };
  } catch (error) {
    return {
      url,
      status: 0,
      errors: [...errors, `could not load: ${error.message}`],
      ids: [],
      links: [],
      diagrams: [],
      cards: [],
      diagramsSettled: false,
    };
  } finally {
    tab.off("console", onConsole);
    tab.off("pageerror", onPageError);
    tab.off("response", onResponse);
    tab.off("requestfailed", onFailed);
  }
}

/**
 * Crawls from `start` (the site's home, under `base` on `origin`) with `tabs` tabs.
 * Returns Map(pageKey -> visit result).
 */
export async function crawl(context, { start, origin, base, tabs = 3, timeoutMs = 30_000, maxPages = 500 }) {
  await context.addInitScript(RECORD_ERRORS);
  const pages = new Map();
  const queue = [start];
  const queued = new Set([pageKey(new URL(start).pathname)]);
  const workers = [];
  let active = 0;
  // Tabs with nothing to do wait here until another tab finishes a page (and maybe queues more).
  let waiting = [];
  const wakeAll = () => {
    const list = waiting;
    waiting = [];
    for (const resolve of list) resolve();
  };
  const worker = async () => {
    const tab = await context.newPage();
    try {
      for (;;) {
        const url = queue.shift();
        if (url === undefined) {
          if (active === 0) break;
          await new Promise((resolve) => waiting.push(resolve));
          continue;
        }
        active++;
        const result = await visit(tab, url, { origin, timeoutMs });
        pages.set(pageKey(new URL(url).pathname), result);
        for (const link of result.links) {
          const target = new URL(link.href);
          if (target.origin !== origin || !target.pathname.startsWith(base) || !isPagePath(target.pathname)) continue;
          const key = pageKey(target.pathname);
          if (queued.has(key) || queued.size >= maxPages) continue;
          queued.add(key);
          queue.push(`${origin}${target.pathname}`);
        }
        active--;
        wakeAll();
      }
    } finally {
      wakeAll();
      await tab.close();
    }
  };
  for (let i = 0; i < tabs; i++) workers.push(worker());
  await Promise.all(workers);
  return pages;
}
