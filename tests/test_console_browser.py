"""The analyst console in a real browser: headless Debian Chromium, driven by Selenium through
Debian's chromedriver, over the console serving tables and an archive on moto's server.

``make test`` installs chromium and chromium-driver with apt where they are missing. On failure the
test saves a screenshot and names it in the failure message.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console.app import create_app
from console.labels import TRUE_POSITIVE
from console.server import serving
from tests.console_factories import SCRAPER, build_world

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
)
WAIT_SECONDS = 30

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="Debian's chromium and chromium-driver are not installed (make test installs them with apt)",
)


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    assert CHROMIUM is not None
    options.binary_location = CHROMIUM
    for flag in HEADLESS_FLAGS:
        options.add_argument(flag)
    options.add_argument("--window-size=1400,1000")
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_an_analyst_opens_an_alert_from_the_list_and_records_a_verdict(
    aws_endpoint: str, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    # GIVEN the console over alerts, anomalies and an archive on moto's server
    world = build_world(aws_endpoint)
    app = create_app(world.services())
    screenshot = tmp_path / "console-failure.png"
    with serving(app) as running:
        try:
            # WHEN the analyst opens the list, clicks the scraper's alert, writes a note and clicks "True positive"
            browser.get(f"{running.url}/")
            assert browser.find_element(By.TAG_NAME, "h1").text == "Alerts"
            row = browser.find_element(By.XPATH, f"//tr[.//span[@class='entity' and text()='{SCRAPER}']]")
            row.find_element(By.CSS_SELECTOR, "a.open-alert").click()  # click 1
            WebDriverWait(browser, WAIT_SECONDS).until(expected_conditions.title_contains(SCRAPER))
            flagged = browser.find_elements(By.CSS_SELECTOR, "table.events tr.flagged")
            charts = browser.find_elements(By.CSS_SELECTOR, "section.charts svg")
            browser.find_element(By.NAME, "note").send_keys("40 pages in 80 s from a script")
            browser.find_element(By.CSS_SELECTOR, f"button[value='{TRUE_POSITIVE}']").click()  # click 2
            status = WebDriverWait(browser, WAIT_SECONDS).until(
                expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "p.flash"))
            )
            # THEN the alert page showed the timeline with its flagged events and both charts
            assert len(flagged) == len(world.flagged_event_ids) == 7
            assert len(charts) == 2
            # AND the verdict reached the labels table, and the page says so
            assert status.text == "Verdict recorded: true positive."
            (item,) = world.stored_labels()
            assert (item["entity"]["S"], item["verdict"]["S"]) == (SCRAPER, TRUE_POSITIVE)
            assert item["note"]["S"] == "40 pages in 80 s from a script"
            current = browser.find_element(By.CSS_SELECTOR, "p.current-verdict").text
            assert "true positive" in current
        except Exception as error:
            browser.save_screenshot(str(screenshot))
            raise AssertionError(f"{error}\nscreenshot: {screenshot}") from error
