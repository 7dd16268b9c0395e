"""Chinese text uses Chinese punctuation: no translation that contains Chinese characters uses
the ASCII ",:;()" (placeholders such as %(name)s, JSON examples, times and HTTP headers aside)."""

import re

from aftersales.tests.test_i18n import CJK, PRINTF, _po_path, read_po

# What keeps its ASCII punctuation inside a Chinese sentence: JSON, clock times, "Header: value".
CODE = re.compile(r"\{[^{}]*\}|\d+:\d+|[A-Za-z][A-Za-z-]*: [A-Za-z<]")
ASCII_PUNCTUATION = re.compile(r"[,:;()]")


def ascii_punctuation_in_chinese(entries) -> list[tuple[str, str]]:
    found = []
    for entry in entries:
        for translated in entry["msgstr"]:
            prose = CODE.sub("", PRINTF.sub("", translated))
            if CJK.search(translated) and ASCII_PUNCTUATION.search(prose):
                found.append((entry["msgid"], translated))
    return found


def test_the_scan_finds_ascii_punctuation_in_a_chinese_sentence():
    entries = [
        {"msgid": "a", "msgstr": ["可退 2 件, 截至 %(day)s"]},
        {"msgid": "b", "msgstr": ["尺码: L"]},
        {"msgid": "c", "msgstr": ["退货（%(count)s 件）：%(items)s"]},
        {"msgid": "d", "msgstr": ['格式如 {"size": "M"}，时间 ±15:59']},
    ]

    assert ascii_punctuation_in_chinese(entries) == [("a", "可退 2 件, 截至 %(day)s"), ("b", "尺码: L")]


def test_no_chinese_translation_uses_ascii_punctuation():
    assert ascii_punctuation_in_chinese(read_po(_po_path("zh_Hans"))[1:]) == []
