"""Splitting text into the words the knowledge-base search indexes and asks for. Pure: no database.

PostgreSQL's text-search parsers take a run of Chinese characters for one word, so "怎么申请退货"
would only ever match itself. The text is segmented with jieba first and the words joined by
spaces; the articles' search column and the customer's query are segmented the same way.

jieba's dictionary takes about a second to load and some 50 MB. It is loaded lazily, once per
process, on the first segmentation (a web or worker process that never searches never pays it);
``segmenter_warm_up`` loads it ahead, for a process that would rather pay at start.
"""

import logging
import re
import threading
from functools import cache
from typing import Any

# What the query keeps: runs of letters, digits and CJK characters. Everything else (punctuation,
# and the operators of to_tsquery's syntax) is dropped, so a query can never be malformed.
_WORD = re.compile(r"\w+", re.UNICODE)
_HAS_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

# Question words and particles that say nothing about what is asked: 怎么申请退货 asks for 申请 and
# 退货. English stop words are dropped by PostgreSQL's 'english' configuration.
CHINESE_STOP_WORDS = frozenset(
    [
        "的",
        "了",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "么",
        "和",
        "与",
        "或",
        "是",
        "在",
        "我",
        "我们",
        "你",
        "你们",
        "他",
        "她",
        "它",
        "这",
        "那",
        "这个",
        "那个",
        "哪",
        "哪个",
        "哪里",
        "怎么",
        "怎么样",
        "怎样",
        "如何",
        "什么",
        "为什么",
        "为何",
        "是否",
        "能否",
        "能不能",
        "可不可以",
        "可以",
        "能",
        "要",
        "想",
        "请问",
        "请",
        "一下",
        "有",
        "没有",
        "就",
        "都",
        "也",
        "还",
        "又",
        "吗",
        "嘛",
        "把",
        "被",
        "给",
        "对",
        "从",
        "到",
        "个",
        "会",
        "不会",
        "该",
        "应该",
        "需要",
        "不能",
        "时候",
        "什么时候",
        "哪里可以",
        "怎么办",
        "多久",
        "还是",
        "一个",
    ]
)
# The same for English, for the half of the query asked of the 'simple' (unstemmed) index, which
# keeps every word: "can I cancel an order" asks for cancel and order.
ENGLISH_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "get",
        "got",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "please",
        "should",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)
MAX_QUERY_WORDS = 12

_lock = threading.Lock()


@cache
def _jieba() -> Any:
    with _lock:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        return jieba


def segmenter_warm_up() -> None:
    """Load the dictionary now rather than on the first search."""
    _jieba()


def has_chinese(text: str) -> bool:
    return bool(_HAS_HAN.search(text))


def segment(text: str) -> str:
    """The text as space-separated words, for the search column. Text without Chinese is returned
    as it is (PostgreSQL's parser splits it well); Chinese is cut by jieba's search mode, which
    also yields the short words inside long ones (退货运费 → 退货, 运费, 退货运费)."""
    if not has_chinese(text):
        return text
    words = _jieba().cut_for_search(text)
    return " ".join(word for word in (w.strip() for w in words) if word)


def query_words(query: str) -> list[str]:
    """The words of a customer's question to search for, in order, without repeats or noise."""
    text = query[:500]
    words = _jieba().cut_for_search(text) if has_chinese(text) else text.split()
    seen: dict[str, None] = {}
    for raw in words:
        for word in _WORD.findall(raw.lower()):
            if word in CHINESE_STOP_WORDS or word in ENGLISH_STOP_WORDS or (len(word) == 1 and not has_chinese(word)):
                continue
            seen.setdefault(word, None)
    return list(seen)[:MAX_QUERY_WORDS]


def tsquery_text(words: list[str], *, prefix_last: bool = False, every: bool = False) -> str:
    """``to_tsquery`` input that matches articles with any of the words, or with ``every`` one of
    them. The last word may be a prefix, for a question still being typed. Safe by construction:
    every word is a run of ``\\w`` characters."""
    terms = [f"'{word}'" for word in words if _WORD.fullmatch(word)]
    if prefix_last and terms:
        terms[-1] += ":*"
    return (" & " if every else " | ").join(terms)
