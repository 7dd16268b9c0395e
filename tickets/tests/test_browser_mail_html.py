"""An HTML e-mail in a real browser (Debian's Chromium driven by Playwright): a script in it never
runs — not in the staff page, not in the frame that shows the mail — and a remote image is not
fetched until the agent clicks "show images"."""

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory
from tickets.models import Attachment
from tickets.services.mail import mail_receive
from tickets.tests.factories import MailboxFactory
from tickets.tests.mailbuilders import raw_mail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ONE_PIXEL_GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c000000000100010000020144003b")


class _Pixel:
    """A loopback server that counts the image requests it answers."""

    def __init__(self) -> None:
        owner = self
        self.hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits.append(self.path)
                body = bytes.fromhex(
                    "47494638396101000100800000000000ffffff21f90401000000002c000000000100010000020144003b"
                )
                self.send_response(200)
                self.send_header("Content-Type", "image/gif")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/open.gif"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def pixel():
    with _Pixel() as server:
        yield server


def test_a_script_in_an_html_mail_never_runs_and_images_wait_for_a_click(live_server, browser, pixel, private_storage):
    merchant = MerchantFactory(slug="mail-shop")
    agent = MembershipFactory(merchant=merchant, role=Membership.Role.AGENT, user__username="mailagent").user
    agent.set_password("pass-word-123")
    agent.save()
    hostile = (
        "<p>Hello, my kettle leaks.</p>"
        "<script>window.top.document.title='PWNED'; alert('script');</script>"
        f'<img src="{pixel.url}" alt="Tracker" onerror="alert(\'onerror\')">'
        '<a href="javascript:alert(\'link\')" id="bad">click me</a>'
        "<svg onload=\"alert('svg')\"></svg>"
    )
    email_row = mail_receive(mailbox=MailboxFactory(merchant=merchant), raw=raw_mail(text="Kettle leaks", html=hostile))
    original = Attachment.objects.get(message_id=email_row.ticket_message_id, content_type="message/rfc822")
    dialogs: list[str] = []

    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{live_server.url}/dashboard/login/")
    page.fill("input[name=username]", "mailagent")
    page.fill("input[name=password]", "pass-word-123")
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    page.goto(f"{live_server.url}/dashboard/emails/{original.pk}/")
    title = page.title()
    frame = page.frame(name="mail-frame")
    assert frame is not None
    frame.wait_for_load_state()
    frame.locator("text=Hello, my kettle leaks.").wait_for(timeout=10_000)
    page.wait_for_timeout(500)

    assert dialogs == []
    assert page.title() == title
    assert "PWNED" not in page.title()
    assert frame.locator("script").count() == 0
    assert frame.locator("img[src]").count() == 0
    assert pixel.hits == []
    frame.locator("#bad, a:has-text('click me')").first.click()
    page.wait_for_timeout(300)
    assert dialogs == []

    page.locator("#show-images").click()
    frame = page.frame(name="mail-frame")
    assert frame is not None
    frame.locator("img[src]").wait_for(timeout=10_000)
    page.wait_for_timeout(300)

    assert pixel.hits == ["/open.gif"]
    assert dialogs == []
    assert page.title() == title
