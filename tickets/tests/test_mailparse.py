"""Reading an e-mail, without a database: threading ids, the visible text, sanitised HTML, noise."""

from tickets.mailparse import Noise, html_to_text, parse_mail, sanitise_html, ticket_number_in, visible_part
from tickets.tests.mailbuilders import raw_mail


def test_html_loses_scripts_handlers_and_remote_images_but_keeps_formatting():
    markup = (
        '<p onclick="steal()">Hello <b>there</b></p><script>alert(1)</script>'
        '<img src="https://tracker.example/pixel.gif"><a href="javascript:alert(1)">x</a>'
        '<a href="https://shop.test/help">help</a><style>p{}</style><iframe src="https://evil.test"></iframe>'
    )

    clean = sanitise_html(markup)

    assert "<b>there</b>" in clean
    assert "script" not in clean
    assert "alert" not in clean
    assert "onclick" not in clean
    assert "<img" not in clean
    assert "tracker.example" not in clean
    assert "iframe" not in clean
    assert "evil.test" not in clean
    assert 'href="https://shop.test/help"' in clean
    assert 'rel="noopener noreferrer nofollow"' in clean


def test_an_html_only_mail_gives_its_text_and_sanitised_html():
    raw = raw_mail(text=None, html='<div>Broken lid<br>Order 42</div><script>x()</script><img src="http://t/p.gif">')

    parsed = parse_mail(raw)

    assert parsed.text == "Broken lid\nOrder 42"
    assert parsed.html == "<div>Broken lid<br>Order 42</div>"


def test_quoted_history_and_signatures_are_cut_from_what_the_timeline_shows():
    english = "Still broken.\n\nOn Mon, 1 Dec 2026 at 10:00, Shop <support@shop.test> wrote:\n> What is wrong?\n"
    chinese = "还是坏的。\n\n在 2026年12月1日 10:00，客服 <support@shop.test> 写道：\n> 请问什么问题？\n"
    outlook = "Thanks!\n\n-----Original Message-----\nFrom: Shop\nSent: Monday\n"
    signed = "See photo.\n-- \nLi Wei\n+86 138 0000 0000\n"
    phone = "好的\n\n发自我的iPhone\n"

    assert visible_part(english) == "Still broken."
    assert visible_part(chinese) == "还是坏的。"
    assert visible_part(outlook) == "Thanks!"
    assert visible_part(signed) == "See photo."
    assert visible_part(phone) == "好的"


def test_inline_answers_between_quotes_are_kept():
    text = "> Which colour?\nRed.\n> Which size?\nLarge.\n"

    assert visible_part(text) == "> Which colour?\nRed.\n> Which size?\nLarge."


def test_a_bounce_is_noise_by_its_report_type_and_by_its_sender():
    report = raw_mail(sender="MAILER-DAEMON@mx.example.com", subject="Undelivered Mail Returned to Sender")
    dsn = (
        b"From: postmaster@mx.example.com\r\nTo: support@shop.test\r\nSubject: failure\r\n"
        b"Message-ID: <dsn-1@mx.example.com>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n--b--\r\n"
    )

    assert parse_mail(report).noise == Noise.BOUNCE
    assert parse_mail(dsn).noise == Noise.BOUNCE


def test_auto_replies_are_noise_by_each_header_that_says_so():
    for headers in (
        {"Auto-Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"Precedence": "auto_reply"},
        {"X-Autoreply": "yes"},
    ):
        assert parse_mail(raw_mail(headers=headers)).noise == Noise.AUTO_REPLY, headers
    assert parse_mail(raw_mail(headers={"Auto-Submitted": "no"})).noise == Noise.NONE
    assert parse_mail(raw_mail()).noise == Noise.NONE


def test_threading_ids_put_in_reply_to_first_then_references_newest_first():
    raw = raw_mail(in_reply_to="<c@x>", references="<a@x> <b@x> <c@x>")

    assert parse_mail(raw).thread_ids == ("<c@x>", "<b@x>", "<a@x>")


def test_a_mail_without_message_id_gets_one_from_its_content():
    raw = b"From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n"

    assert parse_mail(raw).message_id == parse_mail(raw).message_id
    assert parse_mail(raw).message_id.endswith("@no-message-id.invalid>")
    assert parse_mail(raw + b"more").message_id != parse_mail(raw).message_id


def test_the_case_number_is_found_in_a_subject():
    assert ticket_number_in("Re: New reply to your request SUP-000042") == "SUP-000042"
    assert ticket_number_in("回复：[RT-000123] 退货") == "RT-000123"
    assert ticket_number_in("Order 12345") is None


def test_html_to_text_unescapes_entities():
    assert html_to_text("<p>Tom &amp; Jerry</p><p>&lt;3</p>") == "Tom & Jerry\n<3"


def test_encoded_words_in_subject_and_sender_name_are_decoded():
    raw = raw_mail(sender="李伟 <li.wei@example.com>", subject="水壶漏水 — order 42")

    parsed = parse_mail(raw)

    assert b"=?utf-8?" in raw
    assert (parsed.subject, parsed.sender_name, parsed.sender) == ("水壶漏水 — order 42", "李伟", "li.wei@example.com")


def test_a_platform_forwarding_a_buyer_from_noreply_is_the_buyer_writing():
    raw = raw_mail(sender="noreply@shop-platform.example", headers={"Reply-To": "Li Wei <li.wei@example.com>"})

    parsed = parse_mail(raw)

    assert (parsed.sender, parsed.sender_name, parsed.noise) == ("li.wei@example.com", "Li Wei", Noise.NONE)


def test_raw_utf8_in_headers_is_read_as_utf8():
    raw = (
        "From: 李伟 <li.wei@example.com>\r\nSubject: 水壶漏水\r\nMessage-ID: <u8@example.com>\r\n\r\n漏水\r\n".encode()
    )

    parsed = parse_mail(raw)

    assert (parsed.subject, parsed.sender_name, parsed.message_id) == ("水壶漏水", "李伟", "<u8@example.com>")
    parsed.subject.encode("utf-8")  # no surrogate left to fail a database write


def test_a_related_html_body_in_gbk_with_an_encoded_word_file_name_is_read():
    # A client's HTML mail with an inline image (multipart/related), its text in GBK and the
    # image's name in encoded words inside the parameter (not RFC 2231, but common).
    raw = (
        b"From: Li Wei <li.wei@example.com>\r\nMessage-ID: <related@example.com>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/related; boundary="B"\r\n\r\n--B\r\nContent-Type: text/html; charset=gbk\r\n\r\n'
        + "<p>水壶漏水</p>".encode("gbk")
        + b"\r\n--B\r\nContent-Type: image/png\r\nContent-ID: <i1>\r\n"
        b'Content-Disposition: inline; filename="=?utf-8?B?5rC05aO2LnBuZw==?="\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--B--\r\n"
    )

    parsed = parse_mail(raw)

    assert (parsed.text, parsed.html) == ("水壶漏水", "<p>水壶漏水</p>")
    assert [(f.name, f.content_type, f.content) for f in parsed.files] == [
        ("水壶.png", "image/png", b"\x89PNG\r\n\x1a\n")
    ]


def test_an_attached_text_file_is_a_file_not_the_body():
    raw = raw_mail(text="See the log.", files=[("log.txt", "text/plain", b"error 42\n")])

    parsed = parse_mail(raw)

    assert parsed.text == "See the log."
    assert [(f.name, f.content_type, f.content) for f in parsed.files] == [("log.txt", "text/plain", b"error 42\n")]


def test_a_quoted_printable_body_and_an_encoded_subject_in_gb2312_are_decoded():
    raw = (
        b"From: x@example.com\r\nSubject: =?gb2312?B?xOO6ww==?=\r\n"
        b'Content-Type: text/plain; charset="gb2312"\r\nContent-Transfer-Encoding: quoted-printable\r\n'
        b"\r\n=C4=E3=BA=C3\r\n"
    )

    parsed = parse_mail(raw)

    assert (parsed.subject, parsed.text, parsed.noise) == ("你好", "你好", Noise.NONE)
