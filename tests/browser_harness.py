"""Debian's Chromium, headless and offline, driven over the Chrome DevTools
Protocol (websocket-client, which Odoo's own tours use too): what a person
does in the browser against a real Odoo server (tests/system_harness.py).

Nothing is downloaded: the browser is /usr/bin/chromium (scripts/setup.sh
installs it with SCADA_NEED_CHROMIUM=1), with a fresh profile per browser
and the switches that keep it from calling home.  Every wait has a timeout
and fails with what it waited for, the page's address and text, and a
screenshot in screenshots/FAILED-<what>.png."""

import base64
import contextlib
import itertools
import json
import os
import re
import resource
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import websocket

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "screenshots"
LOGS = ROOT / ".bench" / "logs" / "system"
CHROMIUM = os.environ.get("SCADA_CHROMIUM", "/usr/bin/chromium")
# As scada_plc_bridge/tests/test_ui_tour.py: this machine has no outside network.
OFFLINE_SWITCHES = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# In-page helpers, defined again by every expression (a page load forgets them).
_FIND_JS = """
const __visible = (el) => !!el && !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)
    && getComputedStyle(el).visibility !== "hidden";
// within: null (the page), a selector, or [selector, text] (the element showing text)
const __find = (selector, text, within) => {
    const root = !within ? document
        : Array.isArray(within) ? __find(within[0], within[1], null) : document.querySelector(within);
    if (!root) { return null; }
    for (const el of root.querySelectorAll(selector)) {
        if (__visible(el) && (text === null || (el.innerText || el.value || "").includes(text))) {
            return el;
        }
    }
    return null;
};
"""


class BrowserError(AssertionError):
    pass


def _js(expression):
    """`expression` evaluated with the in-page helpers, in a scope of its own."""
    return "(() => {%s\nreturn (%s);\n})()" % (_FIND_JS, expression)


def _unlimited_address_space():
    """Chromium reserves far more address space than it uses; Odoo, loaded in
    the pytest process, limits it (limit_memory_hard) as Odoo's own
    ChromeBrowser lifts it for its browser."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def _slug(text):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:80] or "page"


class Browser:
    """One headless Chromium with one page, logged in (or not) to base_url."""

    def __init__(self, base_url, name="browser", width=1366, height=768, default_timeout=15):
        if not os.access(CHROMIUM, os.X_OK):
            raise BrowserError("%s is missing: run SCADA_NEED_CHROMIUM=1 scripts/setup.sh as root" % CHROMIUM)
        self.base_url = base_url.rstrip("/")
        self.name, self.width, self.height = name, width, height
        self.default_timeout = default_timeout
        self.console_errors = []  # uncaught exceptions and console.error() of the page
        self._ids = itertools.count(1)
        self._replies, self._replied = {}, threading.Condition()
        self._closed = False
        self.profile = tempfile.mkdtemp(prefix="scada-chromium-")
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log = LOGS / ("%s-chromium.log" % name)
        command = [CHROMIUM, "--headless", *OFFLINE_SWITCHES]
        command += ["--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0"]
        command += ["--user-data-dir=%s" % self.profile, "--window-size=%d,%d" % (width, height)]
        command += ["--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio", "about:blank"]
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_unlimited_address_space,
            )
        try:
            self._connect()
        except Exception:
            self.close()
            raise

    # -- the DevTools connection ------------------------------------------------
    def _connect(self):
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise BrowserError("Chromium did not start: %s" % self.log.read_text()[-2000:])
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10) as reply:
            pages = [t for t in json.load(reply) if t.get("type") == "page"]
        if not pages:
            raise BrowserError("Chromium shows no page to drive")
        self._socket = websocket.create_connection(
            pages[0]["webSocketDebuggerUrl"], timeout=None, suppress_origin=True, enable_multithread=True
        )
        self._reader = threading.Thread(target=self._read_messages, name="cdp-%s" % self.name, daemon=True)
        self._reader.start()
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=self.height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def _read_messages(self):
        while True:
            try:
                message = json.loads(self._socket.recv())
            except Exception:  # closed, or the browser died: wake whoever waits
                with self._replied:
                    self._closed = True
                    self._replied.notify_all()
                return
            if "id" in message:
                with self._replied:
                    self._replies[message["id"]] = message
                    self._replied.notify_all()
            elif message.get("method") == "Runtime.exceptionThrown":
                details = message["params"]["exceptionDetails"]
                text = details.get("exception", {}).get("description") or details.get("text")
                self.console_errors.append(text)
            elif message.get("method") == "Runtime.consoleAPICalled":
                if message["params"].get("type") == "error":
                    args = message["params"].get("args", [])
                    self.console_errors.append(
                        " ".join(str(a.get("value", a.get("description", ""))) for a in args)
                    )

    def call(self, method, timeout=30, **params):
        """One DevTools command; its result, or BrowserError."""
        request_id = next(self._ids)
        self._socket.send(json.dumps({"id": request_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        with self._replied:
            while request_id not in self._replies:
                remaining = deadline - time.monotonic()
                if self._closed or remaining <= 0:
                    raise BrowserError("no answer from Chromium to %s" % method)
                self._replied.wait(remaining)
            reply = self._replies.pop(request_id)
        if "error" in reply:
            raise BrowserError("%s: %s" % (method, reply["error"].get("message")))
        return reply.get("result", {})

    def evaluate(self, expression, timeout=30):
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.call(
            "Runtime.evaluate",
            timeout=timeout,
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
            userGesture=True,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise BrowserError(
                "JavaScript failed: %s"
                % (details.get("exception", {}).get("description") or details.get("text"))
            )
        return result.get("result", {}).get("value")

    # -- what a person does ----------------------------------------------------------
    def goto(self, path, ready=None, timeout=None):
        """Load a page afresh, as a new document even where only the #fragment
        differs from the page shown (through about:blank, so that nothing the
        old page does meanwhile changes where the browser goes);
        `ready`: a selector to wait for."""
        url = path if re.match(r"^[a-z]+:", path) else self.base_url + path
        self.call("Page.navigate", url="about:blank")
        self.wait_until("window.location.href === 'about:blank'", timeout, "about:blank")
        self.call("Page.navigate", url=url)
        self.wait_until(
            "window.location.href !== 'about:blank' && document.readyState === 'complete'",
            timeout,
            "%s to load" % path,
        )
        if ready:
            self.wait(ready, timeout=timeout)

    def login(self, login, password, timeout=None):
        """Through /web/login, as a person does; then the web client is up."""
        self.goto("/web/login", ready="form.oe_login_form")
        self.fill("input[name=login]", login)
        self.fill("input[name=password]", password)
        self.click("form.oe_login_form button[type=submit]")
        self.wait(".o_web_client .o_main_navbar", timeout=timeout, what="the web client after logging in")
        self.wait_idle(timeout)

    def wait_until(self, expression, timeout=None, what=None, interval=0.1):
        """Poll a JavaScript expression until it is truthy; its value."""
        timeout = self.default_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.evaluate(_js(expression))
            except BrowserError:
                value = None  # a page between two loads
            if value:
                return value
            if time.monotonic() > deadline:
                self.fail("timed out after %ss waiting for %s" % (timeout, what or expression))
            time.sleep(interval)

    def wait(self, selector, text=None, timeout=None, gone=False, within=None, what=None):
        """Wait for a visible element (containing `text`), or for its absence."""
        found = "!!__find(%s, %s, %s)" % (json.dumps(selector), json.dumps(text), json.dumps(within))
        description = what or "%s%s%s" % (
            "no " if gone else "",
            selector,
            " with %r" % text if text is not None else "",
        )
        return self.wait_until("!" + found if gone else found, timeout, description)

    def wait_idle(self, timeout=None):
        """No RPC running (Odoo's loading indicator hidden) and no blocked UI."""
        self.wait_until(
            "!__visible(document.querySelector('.o_loading')) && !document.querySelector('.o_blockUI')"
            " && !document.body.classList.contains('o_ui_blocked')",
            timeout,
            "the web client to be idle",
        )

    def exists(self, selector, text=None, within=None):
        return bool(
            self.evaluate(
                _js("!!__find(%s, %s, %s)" % (json.dumps(selector), json.dumps(text), json.dumps(within)))
            )
        )

    def click(self, selector, text=None, within=None, timeout=None):
        """A real mouse click in the middle of the element (scrolled into view)."""
        self.wait(selector, text=text, within=within, timeout=timeout)
        box = self.evaluate(
            _js(
                "(() => { const el = __find(%s, %s, %s); el.scrollIntoView({block: 'center'});"
                " const r = el.getBoundingClientRect();"
                " return {x: r.left + r.width / 2, y: r.top + r.height / 2, disabled: !!el.disabled}; })()"
                % (json.dumps(selector), json.dumps(text), json.dumps(within))
            )
        )
        if box["disabled"]:
            self.fail("%s is disabled" % selector)
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent", type=kind, x=box["x"], y=box["y"], button="left", clickCount=1
            )

    def fill(self, selector, value, within=None):
        """Focus the field, select what it holds and type `value` over it."""
        self.wait(selector, within=within)
        self.evaluate(
            _js(
                "(() => { const el = __find(%s, null, %s); el.focus();"
                " if (el.select) { el.select(); } })()" % (json.dumps(selector), json.dumps(within))
            )
        )
        self.call("Input.insertText", text=value)
        self.evaluate(
            _js(
                "(() => { const el = __find(%s, null, %s);"
                " el.dispatchEvent(new Event('change', {bubbles: true})); })()"
                % (json.dumps(selector), json.dumps(within))
            )
        )

    def text(self, selector="body", within=None):
        """The visible text of the first visible element matching selector ('' if none)."""
        return (
            self.evaluate(
                _js(
                    "(() => { const el = __find(%s, null, %s); return el ? el.innerText : ''; })()"
                    % (json.dumps(selector), json.dumps(within))
                )
            )
            or ""
        )

    def texts(self, selector):
        """The texts of all visible elements matching selector."""
        return self.evaluate(
            _js(
                "[...document.querySelectorAll(%s)].filter(__visible).map(el => el.innerText)"
                % json.dumps(selector)
            )
        )

    def url(self):
        return self.evaluate("window.location.href")

    def screenshot(self, name):
        """The viewport as screenshots/<name>.png; its path."""
        SCREENSHOTS.mkdir(exist_ok=True)
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path = SCREENSHOTS / ("%s.png" % name)
        path.write_bytes(base64.b64decode(data))
        return path

    def fail(self, message):
        """BrowserError with the page's address and text, and a screenshot."""
        shot, url, text = None, "?", ""
        with contextlib.suppress(Exception):
            shot = self.screenshot("FAILED-%s-%s" % (self.name, _slug(message)))
            url = self.url()
            text = self.text("body")
            # An error dialog's details (Odoo keeps them folded).
            details = self.evaluate(
                "[...document.querySelectorAll('.modal .o_error_detail')]"
                ".map((e) => e.textContent).join(' | ')"
            )
            if details:
                text = "ERROR DIALOG: %s\n  %s" % (details[:3000], text)
            if self.console_errors:
                text = "JS ERRORS: %s\n  %s" % (" | ".join(self.console_errors[-5:])[:2000], text)
        text = re.sub(r"\s+", " ", text)[:4000]
        raise BrowserError("%s\n  page: %s\n  screenshot: %s\n  page text: %s" % (message, url, shot, text))

    def close(self):
        with contextlib.suppress(Exception):
            self.call("Browser.close", timeout=5)
        with contextlib.suppress(Exception):
            self._socket.close()
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, 15)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)
