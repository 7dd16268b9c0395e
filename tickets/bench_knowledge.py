"""``bench support-kb``: knowledge-base search over many articles, half Chinese, half English.
Registered with the bench harness (``aftersales.bench``) in ``TicketsConfig.ready``.

Seeds (or reuses, or grows) the merchant ``bench-kb`` with ``--articles`` published articles,
half in Chinese and half in English, written from an after-sales vocabulary (so that common words
like 退货 or "refund" match thousands of articles, as in a real help centre). The Chinese text is
segmented by the same ``tickets.segmentation.segment`` and indexed by the same configurations and
weights as ``tickets.services.knowledge.article_search_vector``, in set-based SQL (the service
would take minutes for 50,000 rows; what it writes is the same).

Then it measures ``tickets.selectors.article_search`` as the portal calls it (a full question, and
a question being typed, whose last word is a prefix), over distinct questions: Chinese questions
without spaces (怎么申请退货) and English ones; p50, p95 and max milliseconds, and how often the
expected article is first. Last, the portal's suggestion endpoint through the whole WSGI stack.

Target (issue text): p95 at most 50 ms over 50,000 articles.
"""

import math
import random
import time
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from aftersales.bench.output import Measurements
from aftersales.bench.timing import time_page
from aftersales.models import Merchant
from tickets.models import Article, ArticleLanguage, ArticleStatus
from tickets.segmentation import segment, segmenter_warm_up
from tickets.selectors import article_search
from tickets.services.knowledge import SEARCH_CONFIGS

BENCH = "support-kb"
SLUG = "bench-kb"
P95_LIMIT_MS = 50.0
BATCH = 2_000
HELP = "Knowledge-base search (Chinese and English) over many articles: p95 per question."

ZH_TOPICS = [
    "申请退货",
    "退款进度",
    "换货流程",
    "运费险",
    "发票开具",
    "保修期",
    "上门维修",
    "快递丢件",
    "订单取消",
    "优惠券使用",
    "会员积分",
    "七天无理由",
    "质量问题",
    "安装服务",
    "以旧换新",
    "价格保护",
    "修改地址",
    "退货地址",
    "退款到账",
    "配送时间",
    "商品破损",
    "缺少配件",
    "激活保修",
    "电池续航",
    "屏幕碎裂",
    "充电故障",
    "无法开机",
    "蓝牙连接",
    "固件升级",
    "清洁保养",
    "尺码选择",
    "颜色差异",
    "包装要求",
]
ZH_WORDS = [
    "订单",
    "商品",
    "客服",
    "快递",
    "包裹",
    "物流",
    "签收",
    "审核",
    "照片",
    "凭证",
    "原因",
    "工作日",
    "小时",
    "账户",
    "余额",
    "支付",
    "银行卡",
    "支付宝",
    "微信",
    "门店",
    "售后",
    "工程师",
    "配件",
    "说明书",
    "序列号",
    "检测",
    "维修",
    "更换",
    "补发",
    "寄回",
    "上门",
    "取件",
    "时效",
    "承担",
    "费用",
    "规则",
    "条件",
    "流程",
    "页面",
    "点击",
    "提交",
    "选择",
    "填写",
    "联系",
    "处理",
    "完成",
    "通知",
    "短信",
    "邮件",
    "电话",
]
EN_TOPICS = [
    "return an item",
    "refund status",
    "exchange a product",
    "shipping insurance",
    "invoice request",
    "warranty period",
    "on-site repair",
    "lost parcel",
    "cancel an order",
    "use a coupon",
    "member points",
    "seven-day returns",
    "quality problem",
    "installation service",
    "trade-in",
    "price protection",
    "change the address",
    "return address",
    "refund arrival",
    "delivery time",
    "damaged goods",
    "missing accessories",
    "activate the warranty",
    "battery life",
    "cracked screen",
    "charging fault",
    "does not switch on",
    "bluetooth pairing",
    "firmware update",
    "cleaning and care",
    "size guide",
]
EN_WORDS = [
    "order",
    "product",
    "support",
    "courier",
    "parcel",
    "tracking",
    "delivered",
    "review",
    "photo",
    "receipt",
    "reason",
    "business",
    "days",
    "hours",
    "account",
    "balance",
    "payment",
    "card",
    "store",
    "engineer",
    "spare",
    "manual",
    "serial",
    "number",
    "inspection",
    "repairing",
    "replacement",
    "resend",
    "ship",
    "pickup",
    "collect",
    "fees",
    "policy",
    "conditions",
    "steps",
    "page",
    "click",
    "submit",
    "choose",
    "form",
    "contact",
    "handled",
    "completed",
    "notified",
    "message",
    "email",
    "phone",
    "within",
]
ZH_ASK = ["怎么", "如何", "请问", "能不能", "为什么", "什么时候", "哪里可以"]
EN_ASK = ["how do I", "how can I", "when will", "what is the", "can I", "where do I"]


def _zh_article(rng: random.Random, topic: str) -> tuple[str, str]:
    title = f"{topic}{rng.choice(['说明', '指南', '常见问题', '须知', '流程'])}"
    sentences = []
    for _ in range(rng.randint(4, 8)):
        words = rng.sample(ZH_WORDS, rng.randint(4, 8))
        if rng.random() < 0.4:
            words.insert(rng.randrange(len(words)), topic)
        sentences.append("".join(words) + "。")
    return title, "".join(sentences)


def _en_article(rng: random.Random, topic: str) -> tuple[str, str]:
    title = f"{rng.choice(['How to', 'About', 'Help with', 'FAQ:', 'Guide:'])} {topic}"
    sentences = []
    for _ in range(rng.randint(4, 8)):
        words = rng.sample(EN_WORDS, rng.randint(5, 10))
        if rng.random() < 0.4:
            words.insert(rng.randrange(len(words)), topic)
        sentences.append(" ".join(words).capitalize() + ".")
    return title, " ".join(sentences)


def _merchant() -> Merchant:
    merchant, _ = Merchant.objects.get_or_create(slug=SLUG, defaults={"name": "Bench knowledge base"})
    return merchant


def _insert(merchant: Merchant, rows: list[tuple[str, str, str]]) -> None:
    """Articles, their first versions and their search column, in three statements."""
    now = timezone.now()
    with transaction.atomic():
        articles = Article.objects.bulk_create(
            [
                Article(
                    merchant=merchant,
                    language=language,
                    title=title,
                    body=body,
                    status=ArticleStatus.PUBLISHED,
                    published_at=now,
                    version=1,
                )
                for language, title, body in rows
            ]
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO tickets_articleversion (created_at, updated_at, merchant_id, article_id, number, title,"
                " body, language) SELECT %s, %s, a.merchant_id, a.id, 1, a.title, a.body, a.language"
                " FROM tickets_article a WHERE a.id = ANY(%s)",
                [now, now, [a.pk for a in articles]],
            )
            # What article_search_vector and article_title_vector write: title weight A, text
            # weight B, per language.
            cursor.execute(
                "UPDATE tickets_article a SET search_vector ="
                " setweight(to_tsvector(v.config::regconfig, v.title), 'A')"
                " || setweight(to_tsvector(v.config::regconfig, v.body), 'B'),"
                " title_vector = setweight(to_tsvector(v.config::regconfig, v.title), 'A')"
                " FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[]) AS v(id, config, title, body)"
                " WHERE a.id = v.id",
                [
                    [a.pk for a in articles],
                    [SEARCH_CONFIGS[ArticleLanguage(a.language)] for a in articles],
                    [segment(a.title) for a in articles],
                    [segment(a.body) for a in articles],
                ],
            )


def seed(merchant: Merchant, target: int, log: Any) -> int:
    have = Article.objects.filter(merchant=merchant).count()
    rng = random.Random(have)  # noqa: S311 - made-up text, seeded to repeat
    started = time.perf_counter()
    while have < target:
        rows = []
        for index in range(have, min(target, have + BATCH)):
            if index % 2 == 0:
                rows.append((ArticleLanguage.ZH_HANS.value, *_zh_article(rng, rng.choice(ZH_TOPICS))))
            else:
                rows.append((ArticleLanguage.EN.value, *_en_article(rng, rng.choice(EN_TOPICS))))
        _insert(merchant, rows)
        have += len(rows)
        log(f"seeded {have}/{target} articles ({time.perf_counter() - started:.0f} s)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_article")
    return have


def _questions(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(question, the topic its best article is about)."""
    questions = []
    for index in range(count):
        if index % 2 == 0:
            topic = rng.choice(ZH_TOPICS)
            questions.append((f"{rng.choice(ZH_ASK)}{topic}", topic))
        else:
            topic = rng.choice(EN_TOPICS)
            questions.append((f"{rng.choice(EN_ASK)} {topic}", topic))
    return questions


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def run(*, articles: int, questions: int, out: Measurements, log: Any) -> None:
    merchant = _merchant()
    started = time.perf_counter()
    segmenter_warm_up()
    log(f"jieba dictionary loaded in {time.perf_counter() - started:.2f} s (once per process)")
    total = seed(merchant, articles, log)
    rng = random.Random(12)  # noqa: S311 - the same questions every run
    asked = _questions(rng, questions)
    for text, _ in asked[:20]:  # warm the caches the way a running server has them
        article_search(merchant=merchant, text=text)
    for mode, as_you_type in (("question", False), ("as you type", True)):
        samples: list[float] = []
        first_right = 0
        for text, topic in asked:
            query = text[:-1] if as_you_type else text
            began = time.perf_counter()
            found = article_search(merchant=merchant, text=query, as_you_type=as_you_type)
            samples.append((time.perf_counter() - began) * 1000)
            if found and topic.lower().split()[-1] in found[0].title.lower():
                first_right += 1
        measured = {"articles": total, "questions": len(asked), "mode": mode}
        out.emit("search p50", round(_percentile(samples, 0.5), 2), "ms", **measured)
        p95 = _percentile(samples, 0.95)
        out.emit("search p95", round(p95, 2), "ms", target=P95_LIMIT_MS, met=p95 <= P95_LIMIT_MS, **measured)
        out.emit("search max", round(max(samples), 2), "ms", **measured)
        out.emit("expected article first", round(first_right / len(asked), 3), "ratio", **measured)

    from django.test import Client

    client = Client()
    path = (
        reverse("portal:help_suggest", args=[merchant.slug])
        + "?q=%E6%80%8E%E4%B9%88%E7%94%B3%E8%AF%B7%E9%80%80%E8%B4%A7"
    )
    timing = time_page(client, path, requests=100, warmup=10)
    if not timing.ok:
        raise CommandError(f"the suggestion page answered {timing.status}: {timing.error}")
    p95 = timing.percentile(0.95)
    out.emit(
        "suggestion page p95",
        round(p95, 2),
        "ms",
        articles=total,
        query="怎么申请退货",
        target=P95_LIMIT_MS,
        met=p95 <= P95_LIMIT_MS,
    )


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--articles", type=int, default=50_000, help="Articles, half Chinese (default 50,000).")
    parser.add_argument("--questions", type=int, default=400, help="Distinct questions asked (default 400).")


def command(options: dict, *, stdout, stderr) -> None:
    if options["articles"] < 1 or options["questions"] < 2:
        raise CommandError("--articles must be positive and --questions at least 2.")
    run(
        articles=options["articles"],
        questions=options["questions"],
        out=Measurements(BENCH, stdout),
        log=lambda message: stderr.write(message, style_func=str),
    )
