"""`zhongcao explore` in a real headless browser (Debian's Chromium driven by Playwright): the
page loads with the scenario at day 0, Step advances the day, turning the live channel off
(then Reset) changes the channel chart and zeroes live GMV, and the strictness slider reaches
the model.

Chromium absent: skipped locally with the reason; in CI (CI=true) a failure, since .ci/run
installs it. Every wait is bounded; the server is stopped at the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, SCENARIOS

from sim.runner import run_scenario
from sim.scenario import load_scenario

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SERVER_START_S = 120
WAIT_MS = 60_000


def _chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run installs Debian's chromium")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); CI installs it")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def explorer(tmp_path_factory, compiled_kernel):
    """The explorer serving a 1,000-consumer, 10-day tiny market with a saved baseline run;
    yields its address."""
    chromium = _chromium()
    root = tmp_path_factory.mktemp("explore")
    scenario = root / "small.yaml"
    scenario.write_text(
        f"extends: {SCENARIOS / 'tiny.yaml'}\nname: small\nsteps: 10\n"
        "population: {consumers: 1000}\n",
        encoding="utf-8",
    )
    baseline = run_scenario(load_scenario(scenario), root, command=["test"], plot=False).folder
    port = _free_port()
    log = (root / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "explore", str(scenario), "--baseline",
         str(baseline), "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=root,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"explorer did not start: {(root / 'server.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield url, chromium, root
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=20)
        log.close()


def _charts(page) -> list[str]:
    """The src of every chart image on the page (matplotlib PNGs)."""
    return page.locator("img").evaluate_all("els => els.map(e => e.src)")


def _step(page, day: int, of: int = 10) -> None:
    page.get_by_role("button", name="Step").click()
    page.get_by_text(f"day {day} of {of}").wait_for(timeout=WAIT_MS)


def test_the_explorer_loads_steps_and_its_levers_change_the_charts(explorer):
    from playwright.sync_api import sync_playwright

    url, chromium, root = explorer
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.set_default_timeout(WAIT_MS)
            page.goto(url, timeout=WAIT_MS)
            page.get_by_text("day 0 of 10").wait_for()
            assert page.get_by_text("governance strictness").is_visible()
            before = _charts(page)
            assert len(before) == 3  # headline (with the baseline run), channels, governance

            _step(page, 1)  # stepping advances the day and redraws the charts
            _step(page, 2)
            with_live = _charts(page)
            assert with_live != before
            assert "(live 0)" not in page.inner_text("body")

            page.get_by_text("live channel").click()  # a lever: the live channel off
            page.get_by_role("button", name="Reset").click()
            page.get_by_text("channels: feed, follow, search, mall.").wait_for()
            _step(page, 1)
            _step(page, 2)
            page.get_by_text("(live 0)").wait_for()
            without_live = _charts(page)
            assert without_live[1] != with_live[1]  # the channel mix lost its live layer

            slider = page.locator(".v-input", has_text="governance strictness")
            slider.get_by_role("slider").focus()
            page.keyboard.press("End")  # strictness to its maximum
            page.get_by_role("button", name="Reset").click()
            page.get_by_text("strictness 1.00").wait_for()
            _step(page, 1)
            page.screenshot(path=str(root / "explorer.png"), full_page=True)
        finally:
            browser.close()
