"""Staff see an inbound e-mail's HTML safely, beside its stripped text: scripts, event handlers,
``javascript:`` links, CSS expressions and forms neutralised; remote images blocked until a click
asks for them; served in a sandboxed frame under a strict policy; the original .eml downloadable;
another merchant's e-mail a 404."""

import pytest
from django.urls import reverse

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory
from tickets.mailhtml import document_csp, mail_document, sanitised_mail_html
from tickets.models import Attachment, Email
from tickets.services.mail import mail_receive
from tickets.tests.factories import MailboxFactory
from tickets.tests.mailbuilders import raw_mail

HOSTILE = (
    '<p onclick="alert(1)" onmouseover="alert(1)">Hello <b>there</b></p>'
    "<script>document.title='pwned'</script>"
    '<a href="javascript:alert(3)">click</a> <a href="https://shop.test/order">order</a>'
    '<div style="width: expression(alert(4)); background:url(javascript:alert(5))">styled</div>'
    "<style>body{background:url(https://tracker.test/css.gif)}</style>"
    '<img src="https://tracker.test/open.gif?u=1" onerror="alert(6)" alt="Logo">'
    '<img src="cid:part1@example.com" alt="inline"><img src="data:image/png;base64,AAAA">'
    '<iframe src="https://evil.test/"></iframe><form action="https://evil.test/"><input name="p"></form>'
    '<svg onload="alert(7)"><circle/></svg><object data="https://evil.test/x.swf"></object>'
)


def test_scripts_handlers_javascript_urls_css_and_remote_images_are_neutralised():
    cleaned, remote = sanitised_mail_html(HOSTILE, show_images=False)

    lowered = cleaned.lower()
    for banned in (
        "<script",
        "onclick",
        "onmouseover",
        "onerror",
        "onload",
        "javascript:",
        "expression(",
        "style=",
        "<style",
        "<iframe",
        "<form",
        "<input",
        "<svg",
        "<object",
        "tracker.test",
        "cid:",
        "data:",
        "pwned",
    ):
        assert banned not in lowered, banned
    assert "<b>there</b>" in cleaned
    assert '<a href="https://shop.test/order" target="_blank" rel="noopener noreferrer nofollow">order</a>' in cleaned
    assert '<img alt="Logo">' in cleaned
    assert remote == 1


def test_remote_images_load_only_when_asked_for_and_only_over_http():
    blocked, _ = sanitised_mail_html(HOSTILE, show_images=False)
    shown, remote = sanitised_mail_html(HOSTILE, show_images=True)

    assert "https://tracker.test/open.gif?u=1" not in blocked
    assert '<img src="https://tracker.test/open.gif?u=1" alt="Logo">' in shown
    assert remote == 1
    assert "cid:" not in shown
    assert "data:" not in shown
    assert "onerror" not in shown


def test_the_frame_policy_allows_no_script_and_images_only_when_asked():
    blocked, shown = document_csp(images=False), document_csp(images=True)

    assert "default-src 'none'" in blocked
    assert "script-src" not in blocked  # default-src 'none' covers scripts
    assert "img-src 'none'" in blocked
    assert "img-src https: http:" in shown
    assert "sandbox allow-popups allow-popups-to-escape-sandbox" in blocked
    assert "allow-scripts" not in blocked + shown
    assert "frame-ancestors 'self'" in blocked


def test_a_plain_text_mail_has_no_document():
    assert mail_document(raw_mail(text="Only text", html=None)).html == ""


# --- pages --------------------------------------------------------------------------------------


@pytest.fixture
def received(db, merchant, private_storage):
    mailbox = MailboxFactory(merchant=merchant)
    email_row = mail_receive(mailbox=mailbox, raw=raw_mail(subject="Leaky kettle", text="It leaks.", html=HOSTILE))
    return Email.objects.get(pk=email_row.pk)


def _original(email_row):
    return Attachment.objects.get(message_id=email_row.ticket_message_id, content_type="message/rfc822")


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.mark.django_db
def test_the_ticket_page_links_the_mail_view_which_shows_the_text_the_frame_and_the_original(agent_client, received):
    original = _original(received)

    ticket_page = agent_client.get(reverse("dashboard:ticket", args=[received.ticket.number])).content.decode()
    page = agent_client.get(reverse("dashboard:mail_view", args=[original.pk])).content.decode()

    assert reverse("dashboard:mail_view", args=[original.pk]) in ticket_page
    assert "It leaks." in page
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in page
    assert f'src="{reverse("dashboard:mail_html", args=[original.pk])}"' in page
    assert f'href="{reverse("dashboard:mail_html", args=[original.pk])}?images=1" target="mail-frame"' in page
    assert "Show 1 remote image" in page
    assert "tracker.test" not in page
    assert reverse("dashboard:attachment", args=[original.pk]) in page


@pytest.mark.django_db
def test_the_frame_document_is_served_sanitised_under_a_strict_policy(agent_client, received):
    url = reverse("dashboard:mail_html", args=[_original(received).pk])

    blocked = agent_client.get(url)
    shown = agent_client.get(url, {"images": "1"})

    assert blocked.status_code == 200
    assert blocked["Content-Security-Policy"] == document_csp(images=False)
    assert blocked["X-Frame-Options"] == "SAMEORIGIN"
    assert blocked["X-Content-Type-Options"] == "nosniff"
    assert blocked["Referrer-Policy"] == "no-referrer"
    body = blocked.content.decode()
    assert "<script" not in body.lower()
    assert "tracker.test" not in body
    assert "<b>there</b>" in body
    assert shown["Content-Security-Policy"] == document_csp(images=True)
    assert 'src="https://tracker.test/open.gif?u=1"' in shown.content.decode()


@pytest.mark.django_db
def test_the_original_eml_stays_downloadable(agent_client, received):
    original = _original(received)

    response = agent_client.get(reverse("dashboard:attachment", args=[original.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert "attachment" in response["Content-Disposition"]
    assert b"Leaky kettle" in b"".join(response.streaming_content)


@pytest.mark.django_db
def test_another_merchants_staff_never_see_the_mail(client, received):
    outsider = MembershipFactory(merchant=MerchantFactory(), role=Membership.Role.MERCHANT_ADMIN).user
    client.force_login(outsider)
    original = _original(received)

    assert client.get(reverse("dashboard:mail_view", args=[original.pk])).status_code == 404
    assert client.get(reverse("dashboard:mail_html", args=[original.pk])).status_code == 404


@pytest.mark.django_db
def test_a_file_that_is_not_an_original_email_is_not_shown_as_one(agent_client, received):
    original = _original(received)
    Attachment.objects.filter(pk=original.pk).update(content_type="text/plain")

    assert agent_client.get(reverse("dashboard:mail_view", args=[original.pk])).status_code == 404
    assert agent_client.get(reverse("dashboard:mail_html", args=[original.pk])).status_code == 404
