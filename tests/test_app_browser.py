"""End to end: `narvard app` in a real headless Chromium (Debian's), driven by playwright.

Chromium comes from the system (`apt-get install -y chromium chromium-driver`; `.ci/run` does it),
never from `playwright install`. Where it is not installed the test is skipped with that message.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
OUTPUT = Path(__file__).resolve().parent / "output"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_url():
    port = _free_port()
    cmd = [sys.executable, "-m", "sim", "app", "--port", str(port), "--persons", "400", "--years", "0.5",
           "--replications", "2", "--example-persons", "600"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read().decode(errors="replace") if proc.poll() is not None else ""
                pytest.fail(f"`narvard app` did not come up on {url}: {out[-2000:]}")
            time.sleep(0.5)
        first = proc.stdout.readline().decode()
        assert url in first  # the command prints its address
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the app's own process group (started above)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_whatif_in_a_real_browser(app_url):
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"Chromium not installed at {CHROMIUM}: `apt-get install -y chromium chromium-driver` "
                    "(as .ci/run does) to run the browser test")
    assert shutil.which("chromium") or os.path.isfile(CHROMIUM)
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.goto(app_url)
            page.get_by_text("What-if", exact=True).click(timeout=60_000)
            value = page.locator('[data-testid="stMetricValue"]')
            value.wait_for(timeout=180_000)
            before = value.inner_text()
            box = page.get_by_label("Caseload (persons at once)")
            box.fill("3")
            box.press("Enter")
            deadline = time.monotonic() + 180
            while value.inner_text() == before:
                assert time.monotonic() < deadline, "the result did not change after the caseload changed"
                page.wait_for_timeout(500)
            page.wait_for_timeout(1000)  # let the chart settle for the screenshot
            shot = OUTPUT / "app_whatif.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
