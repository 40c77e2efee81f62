"""A real browser logs in to the admin."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import screenshot
from tests.factories import PASSWORD, TeamFactory, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(browser: Any, live_server: Any, username: str) -> None:
    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()


def test_a_team_member_logs_in_to_the_admin(browser, live_server) -> None:
    user = member(TeamFactory.create(), "coordinator")
    log_in(browser, live_server, user.username)
    # The click submits the form; wait for the admin to answer with its next page.
    WebDriverWait(browser, 15).until(lambda driver: "/login/" not in driver.current_url)
    assert "Log out" in browser.page_source
    screenshot(browser, "login")
