"""Drive headless Chromium over the Chrome DevTools Protocol (CDP) - just enough to test the built book.

No browser download and no extra heavy dependency: the browser is the system's (Debian package ``chromium``),
the protocol client is ``websocket-client`` (already installed with Jupyter). One browser process, one tab per
page; every console message, uncaught exception, log entry and network request of the tab is recorded, so a test
can assert "no JavaScript errors" and "no request left localhost".

Command line, to look at a page yourself::

    .venv/bin/python tools/headless.py _build/html/book/how-to-use.html /tmp/how-to-use.png
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websocket  # websocket-client

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER_ENV = "KMEMBOOK_CHROMIUM"

# Flags known to work headless as root in a container with a closed network. --host-resolver-rules makes every
# host name except localhost unresolvable, so the book is tested as a reader without network would see it.
BASE_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    "--remote-allow-origins=*",
    "--window-size=1280,1000",
)


def find_browser() -> str | None:
    """Path of a Chromium binary: ``$KMEMBOOK_CHROMIUM`` or the first of :data:`BROWSER_NAMES` on PATH."""
    env = os.environ.get(BROWSER_ENV)
    if env:
        return env if Path(env).is_file() else None
    for name in BROWSER_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


class CDPError(RuntimeError):
    """A CDP command failed, or the browser did not answer in time."""


@dataclass
class PageReport:
    """What happened while a tab loaded one URL."""

    url: str
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    bytes_received: int = 0  # over the wire (Network.loadingFinished encodedDataLength: compressed, with headers)

    @property
    def js_errors(self) -> list[str]:
        return self.console_errors + self.exceptions + self.log_errors + self.failed_requests


class Browser:
    """One headless Chromium process with a fresh profile, controlled through its browser-level CDP socket."""

    def __init__(self, binary: str, extra_flags: tuple[str, ...] = (), start_timeout: float = 30.0) -> None:
        self._profile = tempfile.mkdtemp(prefix="kmembook-chromium-")
        self._stderr = open(Path(self._profile) / "stderr.log", "wb")  # noqa: SIM115 - closed in close()
        cmd = [binary, *BASE_FLAGS, *extra_flags, f"--user-data-dir={self._profile}",
               "--remote-debugging-port=0", "about:blank"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr)
        port_file = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + start_timeout
        while not (port_file.is_file() and len(port_file.read_text().splitlines()) >= 2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = (Path(self._profile) / "stderr.log").read_text(errors="replace")[-2000:]
                self.close()
                raise CDPError(f"Chromium did not start ({cmd[0]}); stderr:\n{log}")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=60, suppress_origin=True)
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ protocol
    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 60.0) -> dict:
        """Send one command and return its result; events that arrive meanwhile are queued."""
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while True:
            reply = self._recv(deadline)
            if reply is None:
                raise CDPError(f"no answer to {method} within {timeout}s")
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise CDPError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def _recv(self, deadline: float) -> dict | None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        self.ws.settimeout(remaining)
        try:
            return json.loads(self.ws.recv())
        except websocket.WebSocketTimeoutException:
            return None

    def pump(self, seconds: float) -> None:
        """Collect events for ``seconds``."""
        deadline = time.monotonic() + seconds
        while (msg := self._recv(deadline)) is not None:
            if "method" in msg:
                self._events.append(msg)

    def take_events(self, session: str) -> list[dict]:
        mine = [e for e in self._events if e.get("sessionId") == session]
        self._events = [e for e in self._events if e.get("sessionId") != session]
        return mine

    # ------------------------------------------------------------------ tabs
    def open_tab(self, width: int = 1280, height: int = 1000) -> str:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
        self.take_events(session)
        self._targets = getattr(self, "_targets", {})
        self._targets[session] = target
        return session

    def close_tab(self, session: str) -> None:
        target = self._targets.pop(session, None)
        if target:
            self.send("Target.closeTarget", {"targetId": target})
        self.take_events(session)

    def evaluate(self, session: str, expression: str, await_promise: bool = False, timeout: float = 60.0) -> Any:
        res = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                             "awaitPromise": await_promise}, session=session, timeout=timeout)
        if "exceptionDetails" in res:
            raise CDPError(f"evaluate failed: {res['exceptionDetails'].get('text')} "
                           f"{res['exceptionDetails'].get('exception', {}).get('description', '')}")
        return res.get("result", {}).get("value")

    def load(self, session: str, url: str, timeout: float = 60.0) -> None:
        """Navigate and wait for the load event."""
        res = self.send("Page.navigate", {"url": url}, session=session)
        if res.get("errorText"):
            raise CDPError(f"navigation to {url} failed: {res['errorText']}")
        deadline = time.monotonic() + timeout
        while True:
            if any(e["method"] == "Page.loadEventFired" and e.get("sessionId") == session for e in self._events):
                return
            msg = self._recv(deadline)
            if msg is None:
                raise CDPError(f"{url} did not finish loading within {timeout}s")
            if "method" in msg:
                self._events.append(msg)

    def report(self, session: str, url: str, events: list[dict]) -> PageReport:
        """Turn a tab's recorded events into a :class:`PageReport`."""
        rep = PageReport(url=url)
        for ev in events:
            m, p = ev["method"], ev.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                args = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
                rep.console_errors.append(f"console.{p['type']}: {args}")
            elif m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                rep.exceptions.append(f"uncaught: {d.get('exception', {}).get('description') or d.get('text')}")
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                e = p["entry"]
                rep.log_errors.append(f"log[{e.get('source')}]: {e.get('text')} {e.get('url', '')}".strip())
            elif m == "Network.requestWillBeSent":
                rep.requests.append(p["request"]["url"])
            elif m == "Network.loadingFinished":
                rep.bytes_received += int(p.get("encodedDataLength", 0))
            elif m == "Network.loadingFailed" and not p.get("canceled"):
                rep.failed_requests.append(f"request failed: {p.get('errorText')} ({p.get('type')})")
        return rep

    def screenshot(self, session: str, path: Path, width: int = 1280, max_height: int = 12000) -> None:
        """Full-page PNG: the viewport is stretched to the page height (at most ``max_height`` CSS pixels)."""
        height = int(self.evaluate(session, "document.documentElement.scrollHeight"))
        height = max(1, min(height, max_height))
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
        self.pump(0.3)  # let the layout settle at the new size
        data = self.send("Page.captureScreenshot", {"format": "png"}, session=session)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            if getattr(self, "ws", None) is not None:
                try:
                    self.send("Browser.close", timeout=5)
                except Exception:  # noqa: BLE001 - the browser may already be gone
                    pass
                self.ws.close()
        finally:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self._stderr.close()
            shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# JavaScript that describes the state of a book page: how many widget views / math nodes it has and how many of
# them were rendered. Used by the browser test and by main() below.
PAGE_STATE_JS = r"""
(() => {
  const q = (s) => Array.from(document.querySelectorAll(s));
  const stateTag = document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]');
  let outputModelsWithContent = 0;
  if (stateTag) {
    const st = JSON.parse(stateTag.textContent).state || {};
    for (const k in st) {
      if (st[k].model_name === 'OutputModel' && ((st[k].state || {}).outputs || []).length) outputModelsWithContent++;
    }
  }
  const main = document.querySelector('main') || document.body;
  return {
    readyState: document.readyState,
    title: document.title,
    mainTextLength: main.innerText.trim().length,
    h1: q('main h1').map(e => e.innerText.trim()),
    widgetViews: q('script[type="application/vnd.jupyter.widget-view+json"]').length,
    widgetState: !!stateTag,
    widgetsRendered: q('.jupyter-widgets').length,
    sliders: q('.widget-slider').length,
    outputModelsWithContent: outputModelsWithContent,
    outputWidgetsWithText: q('.widget-output').filter(e => e.innerText.trim().length > 0).length,
    mathNodes: q('.math').length,
    mathUntypeset: q('.math').filter(e => !e.querySelector('mjx-container')).length,
    mathTypeset: q('mjx-container').length,
    mathErrors: q('mjx-merror').map(e => e.getAttribute('data-mjx-error') || e.textContent),
    mathJaxLoaded: !!(window.MathJax && window.MathJax.startup),
    mathJaxScript: !!document.querySelector('script[src*="mathjax"]'),
    widgetJsLoaded: !!document.querySelector('script[src*="embed-amd.js"]'),
  };
})()
"""


def page_done(state: dict) -> bool:
    """True once everything the page has (widgets, math) has been rendered."""
    widgets_ok = state["widgetViews"] == 0 or (
        state["widgetsRendered"] >= state["widgetViews"]
        and state["outputWidgetsWithText"] >= state["outputModelsWithContent"]
    )
    math_ok = state["mathNodes"] == 0 or state["mathUntypeset"] == 0
    return state["readyState"] == "complete" and widgets_ok and math_ok


def render(browser: Browser, url: str, screenshot: Path | None = None, timeout: float = 45.0,
           settle: float = 0.5) -> tuple[dict, PageReport]:
    """Open ``url`` in a fresh tab, wait until widgets and math are rendered (or ``timeout``), screenshot it."""
    session = browser.open_tab()
    try:
        browser.load(session, url)
        deadline = time.monotonic() + timeout
        state = browser.evaluate(session, PAGE_STATE_JS)
        while not page_done(state) and time.monotonic() < deadline:
            browser.pump(0.2)
            state = browser.evaluate(session, PAGE_STATE_JS)
        browser.pump(settle)  # late console errors, e.g. from lazily loaded MathJax components
        state = browser.evaluate(session, PAGE_STATE_JS)
        if screenshot is not None:
            browser.screenshot(session, screenshot)
        return state, browser.report(session, url, browser.take_events(session))
    finally:
        browser.close_tab(session)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__)
        return 2
    page, png = Path(args[0]).resolve(), Path(args[1])
    binary = find_browser()
    if binary is None:
        print(f"no Chromium found (set {BROWSER_ENV})", file=sys.stderr)
        return 1
    with Browser(binary) as browser:
        state, rep = render(browser, page.as_uri(), screenshot=png)
    print(json.dumps(state, indent=2))
    for line in rep.js_errors:
        print("ERROR", line)
    print(f"{len(rep.requests)} requests; screenshot: {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
