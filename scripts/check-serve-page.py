#!/usr/bin/env python3
"""Browser check of the page served by `rubble serve` (Python 3 stdlib only).

Drives headless Chromium over the DevTools protocol on a pipe
(--remote-debugging-pipe: JSON messages ended by a NUL byte; Chromium reads
commands on its fd 3 and writes replies and events on its fd 4).

    python3 scripts/check-serve-page.py --url http://127.0.0.1:PORT \
        --token TOKEN --screenshot OUT.png [--browser /usr/bin/chromium]

The token must belong to a verifier or an admin, and the server must have at
least one flagged, geotagged photo (or get one within --wait seconds).
Steps, each a hard failure (exit 1) when it does not hold:
  1. open the page, type the token into #token, click the submit button of #signin;
  2. wait for #gallery to hold at least one .card;
  3. wait for svg#map to hold path.land and at least one circle.point;
  4. click the first card (it must get class "selected") and press "c";
  5. GET /api/v1/photos/{id} over HTTP: it must have one verdict more than
     before the key press, its verdict must equal its label, and a verdict
     with that label by the signed-in user must be among its verdicts;
  6. write a 1280x900 screenshot (PNG).
Uncaught page exceptions seen along the way fail the check too.
"""

import argparse
import base64
import fcntl
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

CALL_TIMEOUT = 20.0


class CheckFailed(Exception):
    pass


def step(message):
    print(f"[check] {message}", flush=True)


class Browser:
    """A Chromium child with a DevTools pipe; call() sends one command."""

    def __init__(self, path, profile, log):
        # Our ends of the two pipes; the child's ends are moved to fds 3 and 4.
        cmd_read, cmd_write = os.pipe()      # we write commands, child reads (its fd 3)
        resp_read, resp_write = os.pipe()    # child writes replies (its fd 4), we read
        # Move the child's ends above 10 first so dup2 onto 3/4 cannot clobber them.
        child_in = fcntl.fcntl(cmd_read, fcntl.F_DUPFD_CLOEXEC, 10)
        child_out = fcntl.fcntl(resp_write, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(cmd_read)
        os.close(resp_write)

        def map_fds():  # runs in the child between fork and exec
            os.dup2(child_in, 3)   # dup2 leaves 3 and 4 inheritable
            os.dup2(child_out, 4)

        args = [path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--hide-scrollbars", "--mute-audio", f"--user-data-dir={profile}",
                "--remote-debugging-pipe", "about:blank"]
        # close_fds=False so the fds set up by map_fds survive into the exec;
        # every other fd Python opened is close-on-exec anyway.
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                        close_fds=False, preexec_fn=map_fds, start_new_session=True)
        os.close(child_in)
        os.close(child_out)
        self.writer = os.fdopen(cmd_write, "wb", buffering=0)
        self.reader = os.fdopen(resp_read, "rb", buffering=0)
        self.next_id = 0
        self.replies = {}
        self.inbox = queue.Queue()
        self.events = []
        threading.Thread(target=self._read_loop, daemon=True).start()

    def _read_loop(self):
        buffer = b""
        while True:
            chunk = self.reader.read(65536)
            if not chunk:
                self.inbox.put(None)
                return
            buffer += chunk
            while b"\0" in buffer:
                message, buffer = buffer.split(b"\0", 1)
                self.inbox.put(json.loads(message))

    def call(self, method, params=None, session=None, timeout=CALL_TIMEOUT):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.writer.write(json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while self.next_id not in self.replies:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CheckFailed(f"no reply to {method} within {timeout:.0f} s")
            try:
                item = self.inbox.get(timeout=remaining)
            except queue.Empty:
                continue
            if item is None:
                raise CheckFailed(f"the browser closed the pipe (during {method})")
            if "id" in item:
                self.replies[item["id"]] = item
            else:
                self.events.append(item)
        reply = self.replies.pop(self.next_id)
        if "error" in reply:
            raise CheckFailed(f"{method} failed: {reply['error']}")
        return reply.get("result", {})

    def close(self):
        """Asks Chromium to quit, then ends its process group (only ours)."""
        if self.process.poll() is None:
            try:
                self.call("Browser.close", timeout=3)
            except (CheckFailed, OSError):
                pass
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)  # helpers left in the group
            except (ProcessLookupError, PermissionError):
                break
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                continue
            time.sleep(0.2)


class Page:
    """One tab (flattened session) of the browser."""

    def __init__(self, browser):
        self.browser = browser
        target = browser.call("Target.createTarget", {"url": "about:blank"})
        attached = browser.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
        self.session = attached["sessionId"]

    def call(self, method, params=None, timeout=CALL_TIMEOUT):
        return self.browser.call(method, params, self.session, timeout)

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                 "awaitPromise": True})
        if "exceptionDetails" in result:
            raise CheckFailed(f"evaluating {expression!r}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def wait_for(self, expression, what, timeout):
        """Polls a JS expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise CheckFailed(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(0.25)

    def click(self, x, y):
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left",
                                                   "buttons": 1 if kind == "mousePressed" else 0, "clickCount": 1})

    def press(self, key, code, keycode, text=None):
        down = {"type": "keyDown", "key": key, "code": code,
                "windowsVirtualKeyCode": keycode, "nativeVirtualKeyCode": keycode}
        if text:
            down["text"] = text
            down["unmodifiedText"] = text
        self.call("Input.dispatchKeyEvent", down)
        self.call("Input.dispatchKeyEvent", {"type": "keyUp", "key": key, "code": code,
                                             "windowsVirtualKeyCode": keycode, "nativeVirtualKeyCode": keycode})

    def centre_of(self, selector):
        """Scrolls an element into view and returns its centre in CSS pixels."""
        rect = self.evaluate(f"""(() => {{
            const node = document.querySelector({json.dumps(selector)});
            if (!node) return null;
            node.scrollIntoView({{block: "center"}});
            const r = node.getBoundingClientRect();
            return {{x: r.left + r.width / 2, y: r.top + r.height / 2, w: r.width, h: r.height}};
        }})()""")
        if not rect or rect["w"] == 0:
            raise CheckFailed(f"{selector} is not on the page or not visible")
        return rect["x"], rect["y"]


def api_get(base, token, path):
    request = urllib.request.Request(base + "/api/v1" + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        raise CheckFailed(f"GET /api/v1{path}: HTTP {error.code} {error.read()[:200]!r}")
    except urllib.error.URLError as error:
        raise CheckFailed(f"GET /api/v1{path}: {error.reason}")


def check_token(base, token):
    me = api_get(base, token, "/me")
    step(f"GET /api/v1/me: the token belongs to {me.get('name')} ({me.get('role')})")
    if me.get("role") not in ("verifier", "admin"):
        raise CheckFailed("the token must belong to a verifier or an admin to give a verdict")
    return me


def run(args, browser, me):
    base = args.url.rstrip("/")
    page = Page(browser)
    page.call("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 900,
                                                      "deviceScaleFactor": 1, "mobile": False})
    page.call("Runtime.enable")
    page.call("Page.enable")

    step(f"open {base}/")
    page.call("Page.navigate", {"url": base + "/"})
    page.wait_for("document.readyState === 'complete' && !!document.querySelector('#token') "
                  "&& !!document.querySelector('#signin')", "the sign-in form (#signin, #token)", 15)

    step("type the token into #token and submit #signin")
    page.click(*page.centre_of("#token"))
    page.wait_for("document.activeElement === document.querySelector('#token')", "#token to have focus", 5)
    page.call("Input.insertText", {"text": args.token})
    typed = page.evaluate("document.querySelector('#token').value")
    if typed != args.token:
        raise CheckFailed("typing into #token did not set its value")
    page.click(*page.centre_of("#signin button[type=submit], #signin input[type=submit]"))
    try:
        page.wait_for("document.querySelector('#signin').offsetParent === null", "the sign-in form to go away", 10)
    except CheckFailed:
        message = page.evaluate("(document.querySelector('#signin-message') || {}).textContent || ''")
        raise CheckFailed(f"sign-in did not complete; the page says: {message!r}")

    step(f"wait for #gallery to show at least one .card (up to {args.wait:.0f} s)")
    count = page.wait_for("document.querySelectorAll('#gallery .card').length", "a .card in #gallery", args.wait)
    data_count = page.evaluate("document.querySelector('#gallery').dataset.count")
    step(f"  {count} card(s), #gallery data-count={data_count}")
    if str(data_count) != str(page.evaluate("document.querySelectorAll('#gallery .card').length")):
        raise CheckFailed("#gallery data-count does not match the number of .card elements")

    step(f"wait for svg#map to have land paths and at least one circle.point (up to {args.wait:.0f} s)")
    counts = page.wait_for("""(() => {
        const land = document.querySelectorAll('svg#map path.land').length;
        const points = document.querySelectorAll('svg#map circle.point').length;
        return land > 0 && points > 0 ? {land, points} : null;
    })()""", "path.land and circle.point in svg#map", args.wait)
    step(f"  {counts['land']} land path(s), {counts['points']} point(s)")

    step("click the first card and press 'c'")
    first_id = page.evaluate("document.querySelector('#gallery .card').dataset.id")
    x, y = page.centre_of(f"#gallery .card[data-id='{first_id}'] .card-head, #gallery .card[data-id='{first_id}']")
    page.click(x, y)
    page.wait_for(f"(document.querySelector('#gallery .card.selected') || {{dataset: {{}}}}).dataset.id === '{first_id}'",
                  f"card {first_id} to get class 'selected'", 5)
    photo = api_get(base, args.token, f"/photos/{first_id}")
    label = photo.get("label")
    before = len(photo.get("verdicts") or [])
    step(f"  card {first_id}: model label {label!r}, {before} verdict(s) so far")
    page.press("c", "KeyC", 67, "c")

    step(f"GET /api/v1/photos/{first_id} until its verdict is {label!r} by {me.get('name')}")
    deadline = time.monotonic() + 10
    while True:
        photo = api_get(base, args.token, f"/photos/{first_id}")
        verdicts = photo.get("verdicts") or []
        mine = [v for v in verdicts if v.get("verifier") == me.get("name") and v.get("label") == label]
        if label is not None and photo.get("verdict") == label and mine and len(verdicts) > before:
            break
        if time.monotonic() > deadline:
            raise CheckFailed(f"photo {first_id}: verdict {photo.get('verdict')!r}, label {label!r}, "
                              f"verdicts {verdicts!r}: the key press did not record a confirming verdict")
        time.sleep(0.3)
    shown = page.wait_for(f"(() => {{ const v = document.querySelector(\"#gallery .card[data-id='{first_id}'] .verdict\");"
                          f" return v && !v.classList.contains('pending') && v.textContent.includes({json.dumps(label)})"
                          f" ? v.textContent : null; }})()",
                          f"card {first_id} to show the verdict in .verdict", 5)
    step(f"  card shows {shown!r}")

    step(f"write a 1280x900 screenshot to {args.screenshot}")
    page.evaluate("window.scrollTo(0, 0)")
    try:  # give the images a moment; not a failure if they are slow
        page.wait_for("[...document.querySelectorAll('#gallery .card img.photo')].slice(0, 2)"
                      ".every((i) => i.complete && i.naturalWidth > 0)", "images", 5)
    except CheckFailed:
        step("  (the first images had not loaded yet)")
    time.sleep(0.5)
    shot = page.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False})
    with open(args.screenshot, "wb") as f:
        f.write(base64.b64decode(shot["data"]))

    exceptions = [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]
    if exceptions:
        details = exceptions[0]["params"]["exceptionDetails"]
        text = (details.get("exception") or {}).get("description") or details.get("text")
        raise CheckFailed(f"{len(exceptions)} uncaught exception(s) on the page, first: {text}")
    return first_id, label, count, counts


def main():
    parser = argparse.ArgumentParser(description="Check the rubble serve page in headless Chromium.")
    parser.add_argument("--url", required=True, help="server base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--token", required=True, help="a verifier's or admin's bearer token")
    parser.add_argument("--screenshot", required=True, help="where to write the PNG")
    parser.add_argument("--browser", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--wait", type=float, default=30, help="seconds to wait for cards and points")
    parser.add_argument("--timeout", type=float, default=150, help="limit for the whole check, seconds")
    args = parser.parse_args()
    if not os.path.exists(args.browser):
        sys.exit(f"[check] FAILED: no browser at {args.browser} (apt-get install chromium)")

    def on_alarm(signum, frame):
        raise CheckFailed(f"the whole check took longer than {args.timeout:.0f} s")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(args.timeout))

    started = time.monotonic()
    profile = tempfile.mkdtemp(prefix="check-serve-page-")
    log_path = os.path.join(profile, "chromium.log")
    browser = None
    try:
        me = check_token(args.url.rstrip("/"), args.token)
        with open(log_path, "wb") as log:
            step(f"start {args.browser}")
            browser = Browser(args.browser, profile, log)
            version = browser.call("Browser.getVersion")
            step(f"  {version.get('product')}")
            first_id, label, cards, counts = run(args, browser, me)
        print(f"[check] PASSED in {time.monotonic() - started:.1f} s: {cards} card(s), {counts['land']} land path(s), "
              f"{counts['points']} point(s); photo {first_id} confirmed as {label!r}; screenshot {args.screenshot}")
        return 0
    except CheckFailed as error:
        print(f"[check] FAILED: {error}", file=sys.stderr)
        try:
            with open(log_path, "rb") as log:
                lines = [line for line in log.read().decode(errors="replace").splitlines()
                         if line.strip() and "dbus" not in line]  # dbus noise: no bus in a container
            tail = "\n".join(lines[-12:])
            if tail:
                print(f"[check] chromium log (tail):\n{tail}", file=sys.stderr)
        except OSError:
            pass
        return 1
    finally:
        signal.alarm(0)
        if browser:
            browser.close()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
