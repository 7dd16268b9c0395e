"""Simplified Chinese and English ship complete: every string of the code is in both catalogs,
translated, with its placeholders intact, and pages, e-mails and API errors speak the language
the request asks for."""

import contextlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation.reloader import translation_file_changed
from rest_framework.test import APIClient

from aftersales.models import Membership, Notification
from aftersales.notifications.links import case_link_url
from aftersales.notifications.rendering import render_notification
from aftersales.tests.factories import CustomerFactory, MembershipFactory, MerchantFactory, api_key_for
from tickets.models import TicketStatus
from tickets.services import ticket_change_status
from tickets.tests.factories import TicketFactory

BASE_DIR = Path(settings.BASE_DIR)
LOCALE_DIR = BASE_DIR / "locale"
SHIPPED = {"zh_Hans": 1, "en": 2}  # locale → number of plural forms
APPS = ("aftersales", "tickets", "returns", "repairs", "feedback")
IGNORED = [".venv", "var", "staticfiles", "test-artifacts", "node_modules"]
NOTIFICATIONS_DIR = BASE_DIR / "templates" / "notifications"

# %(name)s, %(seconds).1f, %s, %d …; "%%" is a literal percent sign.
PRINTF = re.compile(r"%(?:\([^)]+\))?[-#0 +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa%]")
HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "django.po"


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogs():
    """``make test`` compiles the catalogs first; a run of this file alone compiles what is stale."""
    stale = []
    for locale in SHIPPED:
        mo = _po_path(locale).with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < _po_path(locale).stat().st_mtime:
            stale.append(locale)
    if stale:
        if shutil.which("msgfmt") is None:
            pytest.skip("gettext's msgfmt is missing (apt-get install gettext); the catalogs cannot be compiled")
        with contextlib.chdir(BASE_DIR):
            call_command("compilemessages", locale=stale, ignore_patterns=IGNORED, verbosity=0)
        # Catalogs already loaded in this process would otherwise stay the old ones.
        translation_file_changed(sender=None, file_path=Path("django.mo"))


# --- a small .po reader ----------------------------------------------------------------------------


def _unquote(quoted: str) -> str:
    escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda match: escapes[match.group(1)], quoted[1:-1])


def read_po(path: Path) -> list[dict[str, Any]]:
    """Entries as dicts: msgctxt, msgid, msgid_plural, msgstr (list, one per plural form), flags."""
    entries: list[dict[str, Any]] = []
    entry: dict[str, Any] | None = None
    field: str | tuple[str, int] | None = None

    def close() -> None:
        if entry is not None and entry["msgid"] is not None:
            entries.append(entry)

    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            close()
            entry, field = None, None
            continue
        if entry is None:
            entry = {"msgctxt": None, "msgid": None, "msgid_plural": None, "msgstr": {}, "flags": set()}
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif match := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?) (".*")$', line):
            key, index, value = match.group(1), match.group(2), _unquote(match.group(3))
            if key.startswith("msgstr"):
                field = ("msgstr", int(index or 0))
                entry["msgstr"][field[1]] = value
            else:
                field = key
                entry[key] = value
        elif line.startswith('"'):
            if isinstance(field, tuple):
                entry["msgstr"][field[1]] += _unquote(line)
            elif field is not None:
                entry[field] += _unquote(line)
            else:
                raise ValueError(f"{path}: a continuation line with nothing to continue: {line!r}")
        else:
            raise ValueError(f"{path}: cannot read {line!r}")
    return [{**entry, "msgstr": [entry["msgstr"][i] for i in sorted(entry["msgstr"])]} for entry in entries]


def _key(entry: dict) -> tuple:
    return entry["msgctxt"], entry["msgid"], entry["msgid_plural"]


# --- the catalogs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", SHIPPED)
def test_every_entry_of_the_catalog_is_translated_and_none_is_fuzzy(locale):
    entries = read_po(_po_path(locale))
    header, messages = entries[0], entries[1:]

    assert header["msgid"] == ""
    assert "fuzzy" not in header["flags"]
    assert f"Language: {locale}\n" in header["msgstr"][0]
    assert "Content-Type: text/plain; charset=UTF-8\n" in header["msgstr"][0]
    assert f"Plural-Forms: nplurals={SHIPPED[locale]};" in header["msgstr"][0]
    assert len(messages) > 500
    assert [_key(e) for e in messages if "fuzzy" in e["flags"]] == []
    assert [_key(e) for e in messages if not all(e["msgstr"])] == []
    plural_forms = {len(e["msgstr"]) for e in messages if e["msgid_plural"] is not None}
    assert plural_forms == {SHIPPED[locale]}


@pytest.mark.parametrize("locale", SHIPPED)
def test_msgfmt_finds_every_message_translated_and_the_formats_consistent(locale):
    if shutil.which("msgfmt") is None:
        pytest.skip("gettext's msgfmt is missing")
    messages = read_po(_po_path(locale))[1:]

    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", os.devnull, str(_po_path(locale))],
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C"},
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"{len(messages)} translated messages."


@pytest.mark.parametrize("locale", SHIPPED)
def test_each_translation_keeps_the_placeholders_and_markup_of_its_source(locale):
    mismatches = []
    for entry in read_po(_po_path(locale))[1:]:
        sources = [entry["msgid"]] if entry["msgid_plural"] is None else [entry["msgid"], entry["msgid_plural"]]
        for index, translated in enumerate(entry["msgstr"]):
            # Chinese has one form, written from the plural source; English has singular then plural.
            source = sources[min(index, len(sources) - 1)] if len(entry["msgstr"]) > 1 else sources[-1]
            if "no-python-format" not in entry["flags"] and sorted(PRINTF.findall(translated)) != sorted(
                PRINTF.findall(source)
            ):
                mismatches.append(("placeholders", entry["msgid"], translated))
            if sorted(HTML_TAG.findall(translated)) != sorted(HTML_TAG.findall(source)):
                mismatches.append(("markup", entry["msgid"], translated))

    assert mismatches == []


def test_the_english_catalog_says_what_the_code_says():
    changed = [
        entry["msgid"]
        for entry in read_po(_po_path("en"))[1:]
        if entry["msgstr"]
        != ([entry["msgid"]] if entry["msgid_plural"] is None else [entry["msgid"], entry["msgid_plural"]])
    ]

    assert changed == []


def test_the_catalogs_hold_exactly_the_strings_of_the_code(tmp_path):
    """A string added to the code without running makemessages, or one removed from it, fails here."""
    if shutil.which("xgettext") is None:
        pytest.skip("gettext's xgettext is missing (apt-get install gettext)")
    # Given a copy of the sources, so that makemessages writes nowhere near the real catalogs
    for folder in (*APPS, "templates"):
        for source in (BASE_DIR / folder).rglob("*"):
            if source.suffix in {".py", ".html", ".txt"} and "__pycache__" not in source.parts:
                target = tmp_path / source.relative_to(BASE_DIR)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)

    # When makemessages extracts them, as the committed catalogs were
    with contextlib.chdir(tmp_path), override_settings(LOCALE_PATHS=[tmp_path / "locale"]):
        call_command(
            "makemessages",
            locale=["zh_Hans"],
            extensions=["html", "txt", "py"],
            no_obsolete=True,
            ignore_patterns=IGNORED,
            verbosity=0,
        )

    # Then both catalogs have the same strings as the code, no more and no fewer
    in_code = {_key(e) for e in read_po(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")[1:]}
    for locale in SHIPPED:
        in_catalog = {_key(e) for e in read_po(_po_path(locale))[1:]}
        assert sorted(in_code - in_catalog, key=str) == [], f"not in the {locale} catalog: run makemessages"
        assert sorted(in_catalog - in_code, key=str) == [], f"gone from the code, still in the {locale} catalog"


# --- pages, e-mails and the API speak Chinese ---------------------------------------------------------


@pytest.fixture
def english_shop(db):
    return MerchantFactory(slug="trail-gear", name="Trail Gear", default_language="en")


@pytest.mark.django_db
@pytest.mark.parametrize("accept_language", ["zh-CN", "zh-Hans", "zh-CN,zh;q=0.9,en;q=0.8"])
def test_the_portal_lookup_page_is_in_chinese_for_a_chinese_browser(client, english_shop, accept_language):
    page = client.get(reverse("portal:home", args=[english_shop.slug]), headers={"accept-language": accept_language})

    html = page.content.decode()
    assert page.status_code == 200
    assert page["Content-Language"] == "zh-hans"
    assert "<h1>查找订单</h1>" in html
    assert "获取验证码" in html
    assert "Find your order" not in html


@pytest.mark.django_db
def test_the_language_cookie_wins_over_the_browser(client, english_shop):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    page = client.get(reverse("portal:home", args=[english_shop.slug]), headers={"accept-language": "en-US"})

    assert page["Content-Language"] == "zh-hans"
    assert "<h1>查找订单</h1>" in page.content.decode()


@pytest.mark.django_db
def test_the_portal_speaks_english_to_an_english_browser(client):
    chinese_shop = MerchantFactory(slug="river-kayaks", default_language="zh-hans")

    page = client.get(reverse("portal:home", args=[chinese_shop.slug]), headers={"accept-language": "en-US,en"})

    assert page["Content-Language"] == "en"
    assert "<h1>Find your order</h1>" in page.content.decode()


@pytest.mark.django_db
def test_a_chinese_merchants_portal_is_in_chinese_when_the_browser_asks_for_nothing(client):
    chinese_shop = MerchantFactory(slug="river-kayaks", default_language="zh-hans")

    page = client.get(reverse("portal:home", args=[chinese_shop.slug]))

    assert page["Content-Language"] == "zh-hans"
    assert "<h1>查找订单</h1>" in page.content.decode()


@pytest.mark.django_db
def test_the_dashboard_login_is_in_chinese_for_a_chinese_browser(client):
    page = client.get(reverse("dashboard:login"), headers={"accept-language": "zh-CN"})

    html = page.content.decode()
    assert page.status_code == 200
    assert "<h1>员工登录</h1>" in html
    assert "用户名" in html
    assert "Staff log in" not in html


@pytest.mark.django_db
def test_the_dashboard_of_a_chinese_merchant_is_in_chinese_when_the_browser_asks_for_nothing(client):
    membership = MembershipFactory(merchant=MerchantFactory(default_language="zh-hans"), role=Membership.Role.AGENT)
    client.force_login(membership.user)

    page = client.get(reverse("dashboard:queue"))

    assert page.status_code == 200
    assert page["Content-Language"] == "zh-hans"
    assert "新建工单" in page.content.decode()


def test_the_portal_code_e_mail_in_chinese_has_a_chinese_subject_and_keeps_the_code():
    context = {"code": "482913", "merchant_name": "山野户外", "order_number": "TM-20240501", "minutes": 10}

    chinese = render_notification("portal_code", context, "zh-hans")
    english = render_notification("portal_code", context, "en")

    assert chinese.subject == "您订单 TM-20240501 的验证码"
    assert "482913" in chinese.body
    assert "10 分钟内有效" in chinese.body
    assert chinese.short == "【山野户外】您订单 TM-20240501 的验证码是 482913，10 分钟内有效。"
    assert english.subject == "Your verification code for order TM-20240501"


@pytest.mark.parametrize("template", sorted(path.name for path in NOTIFICATIONS_DIR.iterdir() if path.is_dir()))
def test_every_notification_template_reads_in_chinese(template):
    context = {
        name: f"<{name}>"
        for name in (
            "code",
            "merchant_name",
            "order_number",
            "minutes",
            "customer_name",
            "ticket_number",
            "ticket_subject",
            "ticket_url",
            "portal_url",
            "agent_name",
            "reply",
            "message",
            "status",
            "target",
            "due_at",
            "level",
            "note",
        )
    }
    # Counts pick a plural form, so they are numbers, as the services send them.
    context["units"] = 2

    rendered = render_notification(template, context, "zh-hans")

    assert CJK.search(rendered.subject), rendered.subject
    assert CJK.search(rendered.body), rendered.body
    assert CJK.search(rendered.short), rendered.short


@pytest.mark.django_db
def test_an_api_domain_error_comes_back_in_chinese():
    # Given a cancelled ticket and an integration that reads Chinese
    merchant = MerchantFactory(default_language="en")
    agent = MembershipFactory(merchant=merchant).user
    ticket = TicketFactory(merchant=merchant)
    ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.CANCELLED)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_for(merchant)[1]}")

    # When it asks to reopen it
    response = client.post(
        reverse("api:ticket-status", kwargs={"number": ticket.number}),
        {"status": "open"},
        format="json",
        headers={"accept-language": "zh-hans"},
    )

    # Then the refusal is worded in Chinese, and the code stays the same in every language
    assert response.status_code == 409
    assert response["Content-Language"] == "zh-hans"
    assert response.json()["error"]["code"] == "transition_not_allowed"
    assert response.json()["error"]["message"] == "状态为“已取消”的工单不能变为“处理中”。"
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CANCELLED


@pytest.mark.django_db
def test_an_api_validation_error_comes_back_in_chinese():
    merchant = MerchantFactory(default_language="en")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_for(merchant)[1]}")

    response = client.post(reverse("api:ticket-list"), {}, format="json", headers={"accept-language": "zh-hans"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["message"] == "输入有误。"


@pytest.mark.django_db
def test_the_status_e_mail_names_the_status_in_the_customers_language_not_the_agents(
    django_capture_on_commit_callbacks,
):
    # Given a Chinese-speaking customer and an agent working in English
    merchant = MerchantFactory(default_language="en")
    agent = MembershipFactory(merchant=merchant).user
    customer = CustomerFactory(merchant=merchant, language="zh-hans")
    ticket = TicketFactory(merchant=merchant, customer=customer)

    # When the agent resolves the ticket
    with translation.override("en"), django_capture_on_commit_callbacks():
        ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.RESOLVED)

    # Then the queued e-mail carries the Chinese label and renders in Chinese
    notification = Notification.objects.get(ticket=ticket, template="ticket_status", channel="email")
    assert notification.language == "zh-hans"
    assert notification.context["status"] == "已解决"
    rendered = render_notification(notification.template, notification.context, notification.language)
    assert rendered.subject == f"您的售后申请 {ticket.number} 当前状态：已解决"


SMS_LIMIT = 160  # one GSM-7 segment: an English message longer than this is billed as two or more


@pytest.mark.parametrize("template", sorted(path.name for path in NOTIFICATIONS_DIR.iterdir() if path.is_dir()))
def test_every_english_sms_with_its_case_link_fits_one_segment(template, settings):
    # Given the default site address, a case link as sent (signed, with a seven-digit case id),
    # a ticket number of this year, values shaped as the services send them, and twelve
    # characters for every other value
    settings.SITE_URL = "http://127.0.0.1:8000"
    source = (NOTIFICATIONS_DIR / template / "short.txt").read_text()
    context: dict[str, object] = dict.fromkeys(re.findall(r"{{\s*([a-z_]+)", source), "x" * 12)
    link = case_link_url("acme-home", 1_234_567)
    context.update(ticket_number="R-2026-000123", portal_url=link, ticket_url=link, units=2, minutes=10)
    context.update(amount="1299.00", currency="CNY", code="482913", arrival="14:30")

    # When the English SMS is rendered
    short = render_notification(template, context, "en").short

    # Then it fits one segment
    assert len(short) <= SMS_LIMIT, short
