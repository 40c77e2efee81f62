"""End to end in headless Chromium against a live server: a coordinator moves a case on
from the dashboard and sees its new tasks; a physiotherapist records a painful session and
sees the pain-gate flag and its task (also on a tablet, 768 px wide); another team's
coordinator cannot reach the case by URL. Each test saves a screenshot (tests/conftest.py:
SCREENSHOTS; SCREENSHOT_DIR=docs/screenshots refreshes the README's dashboard and case page)."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from cases.models import Case, RehabSession, SafetyFlag
from scheduling.models import Task
from tests.conftest import screenshot
from tests.factories import PASSWORD
from tests.ui.builders import busy_clinic, clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _migration_data() -> None:
    """A transactional test's flush takes the data migrations' rows (task templates, example
    rehab protocols) with it: install them again, as seed_demo does."""
    from cases import protocol_examples
    from cases.models import RehabPhase, RehabProtocol
    from scheduling import defaults
    from scheduling.models import TaskTemplate

    defaults.install(TaskTemplate)
    protocol_examples.install(RehabProtocol, RehabPhase)


def log_in(browser: Any, live_server: Any, user: Any) -> None:
    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys(user.username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait_for(browser, "#content")


def wait_for(browser: Any, css: str, text: str | None = None) -> Any:
    wait = WebDriverWait(browser, 10)
    if text is not None:
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
    return wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))


def messages(browser: Any) -> str:
    return "\n".join(m.text for m in browser.find_elements(By.CSS_SELECTOR, ".messagelist li"))


def full_page(browser: Any, name: str, width: int = 1280) -> None:
    """A screenshot of the whole page: the window grows to the page's height first."""
    browser.execute_script("window.scrollTo(0, 0)")
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width, min(max(height + 20, 900), 2200))
    screenshot(browser, name)


def test_a_coordinator_moves_a_case_on_from_the_dashboard(browser, live_server) -> None:
    c, cases = busy_clinic()
    referral = cases["referral"]
    log_in(browser, live_server, c.coordinator)

    assert wait_for(browser, "h1").text.startswith("My dashboard")
    overdue = wait_for(browser, "#overdue")
    assert "Chase the GP letter" in overdue.text
    flags = browser.find_element(By.ID, "flags").text
    assert "Overload" in flags and "CASTELLANO" in flags
    assert "Pain gate" not in flags  # not raised yet
    assert "Kit" in browser.find_element(By.ID, "next-meeting").text or "OKAFOR" in (
        browser.find_element(By.ID, "next-meeting").text
    )
    full_page(browser, "dashboard")

    # Open the case: the "Referred" row of my cases by stage, then the case in the list.
    browser.set_window_size(1280, 900)
    browser.find_element(
        By.CSS_SELECTOR, "#cases-by-stage a[href*='stage__exact=referred']"
    ).click()
    wait_for(browser, "#result_list")
    browser.find_element(By.LINK_TEXT, "H400123 ASHBY, Morgan").click()
    wait_for(browser, "#next-steps")
    assert "Referred" in browser.find_element(By.CSS_SELECTOR, ".omdt-case-title").text

    browser.find_element(By.CSS_SELECTOR, "#next-steps button[value=screening]").click()
    wait_for(browser, ".messagelist", "Moved to Screening.")

    assert "Screening" in browser.find_element(By.CSS_SELECTOR, ".omdt-case-title").text
    assert "Pre-screen the referral" in messages(browser)
    assert "Pre-screen the referral" in browser.find_element(By.ID, "tasks").text
    assert Case.objects.get(pk=referral.pk).stage == "screening"
    assert Task.objects.filter(case=referral, role="coordinator").count() >= 1
    full_page(browser, "case_moved")


def test_a_physiotherapist_records_a_painful_session_and_sees_the_pain_gate(
    browser, live_server
) -> None:
    c, cases = busy_clinic()
    rehab = cases["rehab"]
    log_in(browser, live_server, c.physio)
    browser.get(f"{live_server.url}/admin/cases/case/{rehab.pk}/overview/")
    wait_for(browser, "#session")

    form = browser.find_element(By.CSS_SELECTOR, "#session form")
    form.find_element(By.NAME, "load_kg").send_keys("30")
    form.find_element(By.NAME, "duration_minutes").send_keys("30")
    form.find_element(By.NAME, "pain_nrs_before").send_keys("3")
    form.find_element(By.NAME, "pain_nrs_after").send_keys("6")
    form.find_element(By.CSS_SELECTOR, "input[name=stoma_findings][value=clean]").click()
    form.find_element(By.NAME, "notes").send_keys("Sharp pain at 30 kg; stopped early.")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(browser, ".messagelist", "Flag raised: Pain gate")

    assert "Session recorded" in messages(browser)
    assert "Pain gate: plan held" in messages(browser)
    assert "Pain gate" in browser.find_element(By.ID, "open-flags").text
    assert "Pain gate: plan held" in browser.find_element(By.ID, "tasks").text
    session = RehabSession.objects.filter(case=rehab).order_by("-id").first()
    assert session is not None and session.recorded_by == c.physio and session.holds_plan
    assert SafetyFlag.objects.filter(case=rehab, kind="pain_gate", resolved_at=None).exists()
    full_page(browser, "case_page")


def test_quick_session_entry_works_on_a_tablet_768_px_wide(browser, live_server) -> None:
    c, cases = busy_clinic()
    rehab = cases["rehab"]
    browser.set_window_size(768, 1024)
    log_in(browser, live_server, c.physio)
    browser.get(f"{live_server.url}/admin/cases/case/{rehab.pk}/overview/")
    section = wait_for(browser, "#session")

    # One column, nothing wider than the screen; the session form comes before the timeline.
    page_width = browser.execute_script("return document.documentElement.scrollWidth")
    viewport = browser.execute_script("return document.documentElement.clientWidth")
    assert page_width <= viewport
    timeline = browser.find_element(By.ID, "timeline")
    assert section.location["y"] < timeline.location["y"]
    save = section.find_element(By.CSS_SELECTOR, "button[type=submit]")
    assert save.size["height"] >= 40  # a finger-sized target

    section.find_element(By.NAME, "load_kg").send_keys("28")
    section.find_element(By.NAME, "pain_nrs_after").send_keys("2")
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", section)
    screenshot(browser, "quick_entry_768")
    save.click()
    wait_for(browser, ".messagelist", "Session recorded")

    assert "Flag raised" not in messages(browser)
    assert RehabSession.objects.filter(case=rehab, load_kg=28, recorded_by=c.physio).exists()
    browser.execute_script("window.scrollTo(0, 0)")
    screenshot(browser, "quick_entry_768_saved")


def test_another_teams_coordinator_cannot_reach_the_case_by_url(browser, live_server) -> None:
    _, cases = busy_clinic()
    stranger = clinic().coordinator
    rehab = cases["rehab"]
    log_in(browser, live_server, stranger)

    for path in (
        f"/admin/cases/case/{rehab.pk}/overview/",
        f"/admin/cases/case/{rehab.pk}/history/",
    ):
        browser.get(f"{live_server.url}{path}")
        assert wait_for(browser, "h1").text == "Not found"
        assert "H400311" not in browser.page_source
        assert "CASTELLANO" not in browser.page_source.upper()
    screenshot(browser, "other_team_not_found")

    browser.get(f"{live_server.url}/admin/cases/case/{rehab.pk}/change/")
    wait_for(browser, "#content")
    assert "H400311" not in browser.page_source
    assert "Castellano" not in browser.page_source
