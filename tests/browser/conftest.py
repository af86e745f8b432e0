"""Browser fixtures: headless Chromium from Debian's packages, driven by Selenium through Debian's chromedriver.

The set-up scripts install Chromium and the pages' libraries when they are missing (idempotent),
so these tests run on a fresh machine and are never skipped.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

REPO = Path(__file__).resolve().parents[2]
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WAIT_S = 90  # a shared 2-core machine: generous, and only ever a bound on waiting for a condition


@pytest.fixture(scope="session")
def browser_installed() -> None:
    for script in ("setup-browser.sh", "setup-web.sh"):
        subprocess.run([REPO / "scripts" / script], check=True)


def chrome_options(width: int = 1400, height: int = 1000) -> webdriver.ChromeOptions:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--enable-precise-memory-info", "--lang=en-US"):
        options.add_argument(arg)
    return options


@pytest.fixture
def browser(browser_installed: None) -> Iterator[webdriver.Chrome]:
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=chrome_options())
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver: webdriver.Chrome, condition: Callable, what: str, seconds: float = WAIT_S):
    # A live page replaces what it redraws: an element found a moment ago may be gone, so look again.
    return WebDriverWait(driver, seconds, poll_frequency=0.1, ignored_exceptions=[StaleElementReferenceException]
                         ).until(condition, f"waiting for {what}")


@pytest.fixture(scope="session")
def shots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Screenshots of the pages taken by the tests, to look at (BROWSER_SHOTS chooses the folder)."""
    chosen = os.environ.get("BROWSER_SHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("browser-shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def shot(browser: webdriver.Chrome, shots_dir: Path, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    def take(name: str) -> Path:
        path = shots_dir / f"{request.node.name}-{name}.png"
        browser.save_screenshot(str(path))
        return path
    return take
