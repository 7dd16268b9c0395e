"""The Exports page on a phone (Debian's Chromium through Playwright): a running export's progress
bar and a ready one's download button fit the screen, and the page reloads itself while one runs."""

import re
from pathlib import Path

import pytest

from aftersales.models import ExportJob, ExportState, Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_the_exports_page_fits_a_phone_and_follows_a_running_export(live_server, browser):
    # Given a supervisor with one export being written (40 %) and one ready
    merchant = MerchantFactory.create(slug="kettle-co")
    supervisor = MembershipFactory.create(merchant=merchant, role=Membership.Role.SUPERVISOR).user
    common = {"merchant": merchant, "requested_by": supervisor, "source": "tickets.queue", "language": "en"}
    running = ExportJob.objects.create(
        **common, stem="queue", file_format="csv", state=ExportState.RUNNING, rows_total=250_000, rows_written=100_000
    )
    ExportJob.objects.create(
        **common,
        stem="queue",
        file_format="xlsx",
        state=ExportState.DONE,
        rows_total=42_000,
        rows_written=42_000,
        file="exports/1/x/queue.xlsx",
        file_size=3_500_000,
    )

    # When they open the Exports page on a phone
    page = browser.new_page(locale="en-US", viewport={"width": 390, "height": 844})
    page.goto(f"{live_server.url}/dashboard/login/")
    page.fill("input[name=username]", supervisor.username)
    page.fill("input[name=password]", "pass-word-123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    page.goto(f"{live_server.url}/dashboard/exports/")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "exports-phone.png"), full_page=True)

    # Then the running export shows its progress, the ready one its download, nothing wider than the phone
    assert page.locator(f"[data-export='{running.pk}'] progress").get_attribute("value") == "100000"
    assert "100000 of 250000 rows (40%)" in page.locator(f"[data-export='{running.pk}']").inner_text()
    download = page.get_by_role("link", name=re.compile("Download"))
    assert download.count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("meta[http-equiv=refresh]").count() == 1
    page.close()
