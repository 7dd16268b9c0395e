"""Demo data: a merchant with stores, staff of every role, a catalogue, orders and a few hundred
cases of every kind in every status, plus a second small merchant to show tenancy.

Everything is written through the services, with the clock moved back to when each step
happened, so timelines, SLA clocks and reports look like the history of a real shop. The builder
is deterministic (a seeded ``random.Random``) and idempotent: merchants, stores, staff, teams and
products are keyed by slug, username, name and SKU; the history (orders and cases) is built once,
on the first run, because a history is not something to write twice.
"""

import io
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from aftersales.models import (
    ApiKey,
    BusinessCalendar,
    Customer,
    Membership,
    Merchant,
    Notification,
    Order,
    OrderLine,
    Product,
    Store,
    User,
    WorkingHours,
)
from aftersales.services.api_keys import api_key_create, api_key_revoke
from aftersales.services.notifications import notifications_deferred
from aftersales.services.orders import CustomerInput, OrderInput, OrderLineInput, order_upsert
from returns.models import (
    Disposition,
    ExecutionState,
    ItemGrade,
    Resolution,
    Responsibility,
    ReturnPolicy,
    ReturnReason,
    ReturnRequest,
    ReturnRule,
    ReturnStatus,
    ShippingMethod,
)
from returns.policy import active_rules, line_terms
from returns.services import (
    LineInspection,
    exchange_difference_confirm_paid,
    exchange_ship,
    refund_confirm_manual,
    return_pickup_book,
    return_request_approve,
    return_request_cancel,
    return_request_create,
    return_request_escalate,
    return_request_expire,
    return_request_inspect,
    return_request_receive,
    return_request_reject,
    return_request_settle,
    return_shipping_choose,
    return_tracking_add,
)
from tickets.models import SlaPolicy, Team, Ticket, TicketChannel, TicketKind, TicketPriority, TicketStatus
from tickets.services import (
    ticket_assign,
    ticket_change_priority,
    ticket_change_status,
    ticket_create,
    ticket_customer_message,
    ticket_link_order,
    ticket_note,
    ticket_reply,
    ticket_set_tags,
)

DEFAULT_PASSWORD = "aftersales-demo"
API_KEY_NAME = "Demo integration"
Role = Membership.Role
Kind = TicketKind
Status = TicketStatus


# --- the cast ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffSpec:
    username: str
    first_name: str
    last_name: str
    role: str
    language: str = "zh-hans"


DEMO_STAFF = (
    StaffSpec("admin", "Na", "Li", Role.MERCHANT_ADMIN),
    StaffSpec("supervisor", "Wei", "Zhang", Role.SUPERVISOR),
    StaffSpec("agent", "Fang", "Wang", Role.AGENT),
    StaffSpec("agent2", "Emily", "Chen", Role.AGENT, language="en"),
    StaffSpec("technician", "Qiang", "Liu", Role.TECHNICIAN),
    StaffSpec("warehouse", "Jun", "Zhao", Role.WAREHOUSE),
)
SECOND_STAFF = (
    StaffSpec("second-admin", "Lei", "Sun", Role.MERCHANT_ADMIN, language="en"),
    StaffSpec("second-agent", "Min", "Zhou", Role.AGENT, language="en"),
)

# (SKU, name, category, price, returnable, warranty months, serialized)
CATALOGUE = (
    ("TN-2P", "Ridgeline 2P Tent 山脊双人帐篷", "tents", "1299.00", True, 24, False),
    ("TN-3P", "Ridgeline 3P Tent 山脊三人帐篷", "tents", "1699.00", True, 24, False),
    ("TN-UL1", "Featherlite 1P Tent 超轻单人帐篷", "tents", "1999.00", True, 24, False),
    ("TN-FAM6", "Basecamp 6P Family Tent 大本营六人帐篷", "tents", "2599.00", True, 24, False),
    ("SB-DN0", "Summit Down Bag -10°C 顶峰羽绒睡袋", "sleeping bags", "1899.00", True, 12, False),
    ("SB-DN10", "Trail Down Bag 0°C 山径羽绒睡袋", "sleeping bags", "1199.00", True, 12, False),
    ("SB-SYN5", "Camp Synthetic Bag 5°C 营地棉睡袋", "sleeping bags", "499.00", True, 12, False),
    ("SB-LINER", "Silk Sleeping Bag Liner 真丝睡袋内胆", "sleeping bags", "259.00", False, 0, False),
    ("BP-65", "Traverse 65L Backpack 穿越65升背包", "backpacks", "1399.00", True, 36, False),
    ("BP-45", "Traverse 45L Backpack 穿越45升背包", "backpacks", "1099.00", True, 36, False),
    ("BP-DAY25", "Daytrip 25L Pack 日行25升背包", "backpacks", "459.00", True, 36, False),
    ("BP-KIDS", "Little Hiker Kids Pack 儿童背包", "backpacks", "199.00", True, 12, False),
    ("JK-HARD-M", "Storm Shell Jacket Men 风暴冲锋衣 男款", "apparel", "1599.00", True, 12, False),
    ("JK-HARD-W", "Storm Shell Jacket Women 风暴冲锋衣 女款", "apparel", "1599.00", True, 12, False),
    ("JK-DOWN", "Puffy 800 Down Jacket 800蓬羽绒服", "apparel", "1299.00", True, 12, False),
    ("JK-FLEECE", "Grid Fleece Pullover 网格抓绒衣", "apparel", "399.00", True, 0, False),
    ("BL-MERINO-TOP", "Merino 200 Base Layer Top 美利奴打底衣", "apparel", "459.00", True, 0, False),
    ("SK-MERINO", "Merino Hiking Socks 3-pack 美利奴徒步袜三双装", "apparel", "129.00", False, 0, False),
    ("UW-BRIEF", "Quick-dry Briefs 2-pack 速干内裤两条装", "apparel", "99.00", False, 0, False),
    ("FW-HIKE", "Granite Mid GTX Boots 花岗岩中帮登山鞋", "footwear", "1199.00", True, 12, False),
    ("FW-TRAIL", "Swift Trail Runners 迅捷越野跑鞋", "footwear", "899.00", True, 6, False),
    ("FW-SANDAL", "River Sandals 溯溪凉鞋", "footwear", "359.00", True, 6, False),
    ("EL-LAMP400", "Beacon 400 Headlamp 灯塔400头灯", "electronics", "329.00", True, 24, True),
    ("EL-GPS", "Pathfinder GPS Watch 寻路者GPS手表", "electronics", "2899.00", True, 24, True),
    ("EL-PWR20K", "Trail Power Bank 20000mAh 户外移动电源", "electronics", "299.00", True, 12, True),
    ("EL-SOLAR", "Sunfold 28W Solar Panel 折叠太阳能板", "electronics", "699.00", True, 24, True),
    ("EL-RADIO", "Ridge Walkie-Talkie Pair 山脊对讲机一对", "electronics", "899.00", True, 24, True),
    ("ST-GAS", "Blaze Gas Stove 烈焰气炉", "cooking", "269.00", True, 24, True),
    ("ST-POT", "Titanium Pot 750ml 钛锅", "cooking", "229.00", True, 0, False),
    ("ST-FUEL", "Gas Canister 230g 高山气罐", "cooking", "39.00", False, 0, False),
    ("FD-MEALS", "Freeze-dried Meal Box 冻干餐盒", "food", "189.00", False, 0, False),
    ("FD-BARS", "Energy Bars 12-pack 能量棒12支装", "food", "89.00", False, 0, False),
    ("WF-SQUEEZE", "Squeeze Water Filter 挤压式净水器", "water", "259.00", True, 12, False),
    ("WF-PUMP", "Alpine Pump Filter 高山泵式净水器", "water", "699.00", True, 24, True),
    ("WF-BOTTLE", "Insulated Bottle 1L 保温水壶", "water", "179.00", True, 12, False),
    ("AC-POLES", "Carbon Trekking Poles 碳纤维登山杖", "accessories", "599.00", True, 24, False),
    ("AC-CHAIR", "Camp Chair 折叠露营椅", "accessories", "329.00", True, 12, False),
    ("AC-HAMMOCK", "Hammock with Straps 吊床", "accessories", "259.00", True, 12, False),
    ("AC-KNIFE", "Folding Knife 折叠刀", "accessories", "199.00", False, 12, False),
    ("AC-GIFT", "Gift Card ¥500 礼品卡", "gift cards", "500.00", False, 0, False),
)

# The other sizes (and, for the fleece, colours) of the apparel and footwear sold, so that an
# exchange in the portal offers them: {catalogue SKU: (attribute, (code, value, price change), …)}
# in their natural order. The catalogue item is the variant whose code is its SKU's own
# ("M", "42", …); each other variant's SKU is the catalogue SKU and its code.
VARIANT_RUNS = {
    "JK-HARD-M": ("size", "M", (("S", "S", 0), ("M", "M", 0), ("L", "L", 0), ("XL", "XL", 0), ("XXL", "XXL", 100))),
    "JK-HARD-W": ("size", "M", (("XS", "XS", 0), ("S", "S", 0), ("M", "M", 0), ("L", "L", 0), ("XL", "XL", 0))),
    "JK-DOWN": ("size", "M", (("S", "S", 0), ("M", "M", 0), ("L", "L", 0), ("XL", "XL", 100), ("XXL", "XXL", 200))),
    "JK-FLEECE": (
        "colour",
        "GRY",
        (("GRY", "Grey 灰色", 0), ("RED", "Red, last season 红色（过季）", -80), ("NVY", "Navy 藏青", 0)),
    ),
    "BL-MERINO-TOP": ("size", "M", (("S", "S", 0), ("M", "M", 0), ("L", "L", 0), ("XL", "XL", 0))),
    "FW-HIKE": ("size", "42", tuple((str(size), str(size), 0 if size < 45 else 60) for size in range(38, 47))),
    "FW-TRAIL": ("size", "42", tuple((str(size), str(size), 0 if size < 43 else 50) for size in range(38, 47))),
    "FW-SANDAL": ("size", "41", tuple((str(size), str(size), 0) for size in range(36, 46))),
}

SURNAMES = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"), ("黄", "huang"),
    ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"),
    ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"), ("高", "gao"), ("罗", "luo"),
)  # fmt: skip
GIVEN_NAMES = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("磊", "lei"), ("洋", "yang"),
    ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"),
    ("秀英", "xiuying"), ("晓东", "xiaodong"), ("丽华", "lihua"), ("志强", "zhiqiang"), ("雪", "xue"), ("浩", "hao"),
)  # fmt: skip
MOBILE_PREFIXES = ("130", "131", "135", "136", "137", "138", "139", "150", "151", "158", "186", "188", "189")

# What customers write, by kind and language. ``{product}`` is the product the case is about.
OPENINGS = {
    Kind.RETURN: {
        "zh-hans": [
            ("退货：{product} 尺码不合适", "收到的{product}偏小，穿着不舒服，想申请退货退款。吊牌还在，没有使用过。"),
            ("{product} 与描述不符，申请退货", "{product}的颜色和页面图片差别很大，想退货。"),
        ],
        "en": [
            ("Return: {product} does not fit", "The {product} is too small for me. Tags are still on, never used."),
            ("{product} not as described", "The colour of the {product} is very different from the photos."),
        ],
    },
    Kind.EXCHANGE: {
        "zh-hans": [
            ("换货：{product} 想换大一号", "{product}小了一码，能换大一号吗？"),
            ("{product} 换颜色", "想把{product}换成深蓝色，谢谢。"),
        ],
        "en": [
            ("Exchange {product} for a larger size", "The {product} is one size too small, can I swap it?"),
            ("Exchange {product} for another colour", "I would prefer the {product} in navy, please."),
        ],
    },
    Kind.REFUND_ONLY: {
        "zh-hans": [
            ("仅退款：包裹一直没收到", "物流显示已签收，但我没有收到{product}，请帮忙处理退款。"),
            ("{product} 少发了一件", "订单里的{product}少了一件，申请退这一件的钱。"),
        ],
        "en": [
            ("Refund only: parcel never arrived", "Tracking says delivered but the {product} never reached me."),
            ("One {product} missing from the parcel", "I ordered two but only one {product} was in the box."),
        ],
    },
    Kind.REPAIR: {
        "zh-hans": [
            ("{product} 无法开机", "{product}用了两个月，现在充电后也无法开机，还在保修期内。"),
            ("{product} 故障报修", "{product}出现故障，时好时坏，需要维修。"),
        ],
        "en": [
            ("{product} will not switch on", "My {product} stopped working after two months, even when charged."),
            ("{product} is faulty", "The {product} works on and off. It is still under warranty."),
        ],
    },
    Kind.SUPPORT: {
        "zh-hans": [
            ("{product} 怎么设置？", "刚买的{product}，说明书看不太懂，请问怎么设置？"),
            ("{product} 使用问题", "{product}第一次使用有点问题，能指导一下吗？"),
        ],
        "en": [
            ("How do I set up the {product}?", "I just got the {product} and the manual is unclear."),
            ("Question about using the {product}", "Could you walk me through the first use of the {product}?"),
        ],
    },
    Kind.COMPLAINT: {
        "zh-hans": [
            ("投诉：包装破损，快递态度差", "{product}到货时外箱被压坏了，快递员还不让验货。"),
            ("投诉：客服一直不回复", "关于{product}的问题问了三天都没人回复，非常不满意。"),
        ],
        "en": [
            (
                "Complaint: crushed box, rude courier",
                "The {product} arrived in a crushed box and the courier was rude.",
            ),
            ("Complaint: nobody answers", "I have asked about the {product} for three days without an answer."),
        ],
    },
    Kind.INQUIRY: {
        "zh-hans": [
            ("{product} 适合冬天用吗？", "想问一下{product}在零下十度能用吗？"),
            ("{product} 什么时候补货？", "请问{product}的其他尺码什么时候有货？"),
        ],
        "en": [
            ("Is the {product} fine for winter?", "Can I use the {product} at -10°C?"),
            ("When is the {product} back in stock?", "When will the other sizes of the {product} be available?"),
        ],
    },
}
STAFF_LINES = {
    "zh-hans": {
        "first_reply": "您好，已收到您的申请，我们正在处理，请稍候。",
        "ask_info": "您好，麻烦上传几张商品和包装的照片，以便我们尽快处理。",
        "resolution": "问题已处理完毕，如有其他问题请随时联系我们。祝您户外愉快！",
        "follow_up": "已为您加急处理，预计1-2个工作日内完成。",
    },
    "en": {
        "first_reply": "Hello, we have received your request and are looking into it.",
        "ask_info": "Could you upload a few photos of the item and its packaging, please?",
        "resolution": "All sorted on our side. Let us know if anything else comes up. Enjoy the outdoors!",
        "follow_up": "We have prioritised your case; expect it done within one or two working days.",
    },
}
CUSTOMER_LINES = {
    "zh-hans": {"more_info": "照片已经上传了，请查看。", "cancel": "问题已经自己解决了，不用处理了，谢谢。"},
    "en": {"more_info": "I have uploaded the photos now.", "cancel": "Never mind, I sorted it out myself. Thanks."},
}
NOTES = (
    "Checked with the warehouse: stock available for a replacement.",
    "Customer called twice; keep replies short and friendly.",
    "Carrier claim opened with SF Express.",
    "Similar fault reported on the same batch — flag for quality.",
)
WITHDRAWN = "Customer withdrew the request."
THIRD_PARTY_NOTES = ("Waiting on SF Express for the claim.", "Waiting on the factory's answer about the fault.")
TAG_SETS = (("damaged-in-transit",), ("size",), ("quality", "batch-2024-07"), ("vip",), ("missing-parts",))

# (position, name, what it matches, first response, next response, resolution) in business minutes
SLA_POLICIES = (
    (1, "VIP customers", {"match_customer_tiers": [Customer.Tier.VIP]}, 60, 120, 13 * 60),
    (2, "Complaints", {"match_kinds": [Kind.COMPLAINT]}, 120, 240, 2 * 13 * 60),
    (3, "Standard", {}, 4 * 60, 8 * 60, 3 * 13 * 60),
)

# The first seven cover every status, so even a small demo has each one.
STATUS_PATTERN = (
    Status.NEW,
    Status.OPEN,
    Status.WAITING_CUSTOMER,
    Status.WAITING_THIRD_PARTY,
    Status.RESOLVED,
    Status.CLOSED,
    Status.CANCELLED,
    Status.CLOSED,
    Status.OPEN,
    Status.NEW,
    Status.CLOSED,
    Status.WAITING_CUSTOMER,
    Status.OPEN,
    Status.CLOSED,
    Status.RESOLVED,
    Status.NEW,
    Status.CLOSED,
    Status.OPEN,
    Status.CLOSED,
    Status.WAITING_THIRD_PARTY,
)
KIND_WEIGHTS = {
    Kind.RETURN: 30,
    Kind.EXCHANGE: 12,
    Kind.REFUND_ONLY: 12,
    Kind.REPAIR: 14,
    Kind.SUPPORT: 16,
    Kind.COMPLAINT: 8,
    Kind.INQUIRY: 8,
}
# How long ago a case in each final state was opened, in days.
AGE_DAYS = {
    Status.NEW: (0.02, 1.5),
    Status.OPEN: (0.3, 8),
    Status.WAITING_CUSTOMER: (0.5, 8),
    Status.WAITING_THIRD_PARTY: (1, 10),
    Status.RESOLVED: (1, 6),
    Status.CLOSED: (8, 80),
    Status.CANCELLED: (2, 80),
}


# --- returns ------------------------------------------------------------------------------------

# The law's exceptions to the 7-day no-reason return that the catalogue sells: perishable food.
EXCEPTED_CATEGORIES = ("food",)
RETURN_ADDRESSES = {
    "demo": (
        "Demo Outdoor 退货仓 收 / Returns dept.\n"
        "浙江省杭州市余杭区仓前街道文一西路 1888 号 3 号仓库\n310000 · 0571-8888 6666"
    ),
    "second": "Second Shop Returns\nNo. 8 Logistics Park Road, Daxing District, Beijing 102600\n010-6666 8888",
}
# (code, parent code, Chinese name, English name, whose responsibility). Merchant data, in the
# merchant's languages: a heading with children is not picked itself, its children are.
RETURN_REASONS = (
    ("changed_mind", "", "不想要了", "Changed my mind", Responsibility.CUSTOMER),
    ("wrong_size", "", "尺码或颜色不合适", "Wrong size or colour", Responsibility.CUSTOMER),
    ("quality", "", "质量问题", "Quality problem", Responsibility.MERCHANT),
    ("defective", "quality", "商品有瑕疵或故障", "Defective or faulty", Responsibility.MERCHANT),
    ("not_as_described", "quality", "与商品描述不符", "Not as described", Responsibility.MERCHANT),
    ("wrong_item", "", "发错货", "Wrong item sent", Responsibility.MERCHANT),
    ("damaged_in_transit", "", "运输途中损坏", "Damaged in transit", Responsibility.COURIER),
)
DEFECT_REASONS = ["defective", "not_as_described", "damaged_in_transit"]
# (position, name, fields) — the first active rule that matches a line applies.
RETURN_RULES = (
    (
        10,
        "Defects and damage: 15 days, photos required",
        {
            "match_reason_codes": DEFECT_REASONS,
            "window_days": 15,
            "allowed_resolutions": [Resolution.REFUND, Resolution.EXCHANGE, Resolution.STORE_CREDIT],
            "photos_required": True,
        },
    ),
    (
        20,
        "Apparel and footwear: 30 days",
        {
            "match_categories": ["apparel", "footwear"],
            "window_days": 30,
            "allowed_resolutions": [Resolution.REFUND, Resolution.EXCHANGE, Resolution.STORE_CREDIT],
        },
    ),
    (
        30,
        "Up to ¥300: approved automatically",
        {
            "max_unit_price": Decimal("300.00"),
            "window_days": 7,
            "allowed_resolutions": [Resolution.REFUND, Resolution.STORE_CREDIT],
            "auto_approve": True,
        },
    ),
    (
        40,
        "Everything else: 7 days",
        {"window_days": 7, "allowed_resolutions": [Resolution.REFUND, Resolution.EXCHANGE]},
    ),
)

RS = ReturnStatus
# How each return gets to its status, step by step through the services.
RETURN_PATHS = {
    RS.SUBMITTED: (),
    RS.NEEDS_REVIEW: (),
    RS.APPROVED: ("approve",),
    RS.REJECTED: ("reject",),
    RS.ESCALATED: ("reject", "escalate"),
    RS.AWAITING_SHIPMENT: ("approve", "ship"),
    RS.IN_TRANSIT: ("approve", "ship", "track"),
    RS.RECEIVED: ("approve", "ship", "track", "receive"),
    RS.INSPECTED: ("approve", "ship", "track", "receive", "inspect"),
    RS.SETTLING: ("approve", "ship", "track", "receive", "inspect", "settle"),
    RS.COMPLETED: ("approve", "ship", "track", "receive", "inspect", "settle", "finish"),
    RS.CANCELLED: ("cancel",),
    RS.EXPIRED: ("approve", "expire"),
}
# Hours between one step and the one before it (the expiry waits for the ship-by deadline).
STEP_HOURS = {
    "approve": (0.5, 20),
    "reject": (1, 20),
    "escalate": (2, 30),
    "ship": (1, 30),
    "track": (2, 30),
    "receive": (24, 72),
    "inspect": (2, 30),
    "settle": (0.5, 8),
    "finish": (2, 24),
    "cancel": (1, 20),
}
# How long ago the last step happened, in days: recent enough that no deadline has fired on it.
RETURN_AGE_DAYS = {
    RS.SUBMITTED: (0.05, 1.5),
    RS.NEEDS_REVIEW: (0.1, 1.5),
    RS.APPROVED: (0.2, 4),
    RS.REJECTED: (0.2, 2.5),
    RS.ESCALATED: (0.2, 2),
    RS.AWAITING_SHIPMENT: (0.2, 4),
    RS.IN_TRANSIT: (0.3, 3),
    RS.RECEIVED: (0.1, 2.5),
    RS.INSPECTED: (0.2, 5),
    RS.SETTLING: (0.2, 4),
    RS.COMPLETED: (3, 60),
    RS.CANCELLED: (1, 40),
    RS.EXPIRED: (1, 30),
}
# (status, resolution, reason code). The first fourteen cover every status the services reach
# without a failing payment gateway, so even a small demo has each one.
RETURN_PLAN = (
    (RS.COMPLETED, Resolution.REFUND, "wrong_size"),
    (RS.COMPLETED, Resolution.STORE_CREDIT, "defective"),
    (RS.SUBMITTED, Resolution.REFUND, "changed_mind"),
    (RS.NEEDS_REVIEW, Resolution.REFUND, "defective"),
    (RS.APPROVED, Resolution.REFUND, "not_as_described"),
    (RS.REJECTED, Resolution.REFUND, "changed_mind"),
    (RS.AWAITING_SHIPMENT, Resolution.EXCHANGE, "wrong_size"),
    (RS.IN_TRANSIT, Resolution.REFUND, "wrong_item"),
    (RS.RECEIVED, Resolution.REFUND, "changed_mind"),
    (RS.INSPECTED, Resolution.STORE_CREDIT, "wrong_size"),
    (RS.SETTLING, Resolution.REFUND, "defective"),
    (RS.CANCELLED, Resolution.REFUND, "changed_mind"),
    (RS.ESCALATED, Resolution.REFUND, "not_as_described"),
    (RS.EXPIRED, Resolution.REFUND, "changed_mind"),
    (RS.COMPLETED, Resolution.EXCHANGE, "wrong_size"),
    (RS.COMPLETED, Resolution.STORE_CREDIT, "changed_mind"),
    (RS.COMPLETED, Resolution.REFUND, "damaged_in_transit"),
    (RS.SUBMITTED, Resolution.EXCHANGE, "wrong_size"),
    (RS.IN_TRANSIT, Resolution.STORE_CREDIT, "changed_mind"),
    (RS.COMPLETED, Resolution.REFUND, "changed_mind"),
    (RS.APPROVED, Resolution.EXCHANGE, "defective"),
    (RS.RECEIVED, Resolution.EXCHANGE, "wrong_size"),
    (RS.COMPLETED, Resolution.REFUND, "wrong_item"),
    (RS.CANCELLED, Resolution.EXCHANGE, "wrong_size"),
    (RS.AWAITING_SHIPMENT, Resolution.REFUND, "changed_mind"),
    (RS.REJECTED, Resolution.REFUND, "not_as_described"),
    (RS.COMPLETED, Resolution.STORE_CREDIT, "wrong_size"),
    (RS.SETTLING, Resolution.REFUND, "changed_mind"),
    (RS.INSPECTED, Resolution.REFUND, "defective"),
    (RS.COMPLETED, Resolution.REFUND, "not_as_described"),
)
SECOND_RETURN_PLAN = (
    (RS.COMPLETED, Resolution.REFUND, "changed_mind"),
    (RS.SUBMITTED, Resolution.REFUND, "wrong_size"),
    (RS.IN_TRANSIT, Resolution.REFUND, "defective"),
    (RS.CANCELLED, Resolution.REFUND, "changed_mind"),
)
# Statuses a person still has to decide: a rule must not have approved them already.
DECIDED_BY_STAFF = (RS.SUBMITTED, RS.NEEDS_REVIEW, RS.REJECTED, RS.ESCALATED)
del RS
RETURN_NOTES = {
    "zh-hans": {
        "changed_mind": "买多了，商品未拆封，想退掉。",
        "wrong_size": "尺码偏小，穿着不合适。",
        "defective": "用了一次就坏了，照片已上传。",
        "not_as_described": "颜色和详情页差别很大。",
        "wrong_item": "收到的不是我下单的款式。",
        "damaged_in_transit": "外箱压坏，商品也有破损，照片已上传。",
    },
    "en": {
        "changed_mind": "Bought one too many; still sealed.",
        "wrong_size": "Runs small, does not fit.",
        "defective": "Broke the first time I used it, photos attached.",
        "not_as_described": "The colour is nothing like the photos.",
        "wrong_item": "This is not the model I ordered.",
        "damaged_in_transit": "The box was crushed and the item is damaged, photos attached.",
    },
}
RETURN_STAFF_LINES = {
    "zh-hans": {
        "reject": "商品吊牌已剪且有明显使用痕迹，不符合无理由退货条件。",
        "escalate": "商品到手就是这样，请主管再看一下。",
        "not_accepted": "吊牌已剪，有穿着痕迹，无法验收。",
    },
    "en": {
        "reject": "The tags were removed and the item shows wear; it cannot be returned without a reason.",
        "escalate": "It arrived like this. Please have a supervisor look again.",
        "not_accepted": "Worn and without its tags: not accepted.",
    },
}
RETURN_CARRIERS = (("SF Express", "SF"), ("ZTO Express", "ZT"), ("YTO Express", "YT"), ("JD Logistics", "JD"))


# --- the result -------------------------------------------------------------------------------


@dataclass
class DemoSummary:
    merchant: Merchant
    second_merchant: Merchant
    password: str
    staff: list[tuple[str, str]] = field(default_factory=list)  # (username, role label)
    portal_url: str = ""
    portal_order: Order | None = None
    api_key: str = ""
    history_built: bool = False
    order_count: int = 0
    ticket_count: int = 0
    return_count: int = 0


@dataclass
class _Tenant:
    merchant: Merchant
    stores: list[Store]
    staff: dict[str, User]
    teams: dict[str, Team]
    products: list[tuple[Product, Decimal]]
    supervisor: User


# --- the builder ------------------------------------------------------------------------------


def demo_build(*, orders: int = 400, tickets: int = 300, password: str = DEFAULT_PASSWORD, seed: int = 2024):
    """Build (or complete) the demo. Notifications stay in the outbox as pending rows.

    Dispatch is deferred while seeding: nothing is sent during the build (even with eager Celery),
    no broker has to be up, and the worker's periodic flush sends the rows later.
    """
    with notifications_deferred():
        return _DemoBuilder(seed=seed, password=password).build(orders=orders, tickets=tickets)


class _DemoBuilder:
    def __init__(self, *, seed: int, password: str):
        self.rng = random.Random(seed)
        self.password = password
        self.now = timezone.now().replace(microsecond=0)

    def build(self, *, orders: int, tickets: int) -> DemoSummary:
        demo = self.tenant(
            self.merchant("demo", "Demo Outdoor Co.", language="zh-hans", support_email="service@demo.example.com"),
            stores=(
                ("Demo Outdoor 天猫旗舰店", Store.Platform.TMALL, "demo-tmall"),
                ("demooutdoor.com", Store.Platform.SHOPIFY, "demo-outdoor.myshopify.com"),
            ),
            staff=DEMO_STAFF,
            teams={
                "returns": ("Returns & exchanges 退换货组", ("supervisor", "agent", "agent2")),
                "repairs": ("Repairs & support 维修技术组", ("technician", "agent2")),
            },
            catalogue=CATALOGUE,
            supervisor="supervisor",
        )
        second = self.tenant(
            self.merchant("second", "Second Shop", language="en", support_email="help@second.example.com"),
            stores=(("Second Shop 京东自营", Store.Platform.JD, "second-jd"),),
            staff=SECOND_STAFF,
            teams={"care": ("Customer care", ("second-admin", "second-agent"))},
            catalogue=CATALOGUE[::4],
            supervisor="second-admin",
        )
        self.service_levels(demo)
        self.return_policy(demo, bilingual=True)
        self.return_policy(second, bilingual=False)
        admin = demo.staff["admin"]
        admin.is_staff = admin.is_superuser = True
        admin.save(update_fields=["is_staff", "is_superuser"])

        summary = DemoSummary(merchant=demo.merchant, second_merchant=second.merchant, password=self.password)
        summary.staff = [(spec.username, spec.role.label) for spec in (*DEMO_STAFF, *SECOND_STAFF)]
        if not Order.objects.filter(merchant=demo.merchant).exists():
            summary.history_built = True
            self.history(
                (demo, orders, tickets, 4200001000, RETURN_PLAN[: max(14, tickets // 10)]),
                (second, max(5, orders // 10), max(7, tickets // 10), 7700001000, SECOND_RETURN_PLAN),
            )
            # The history happened "in the past": its e-mails and texts are not sent today to
            # customers who never asked (a newcomer's worker would print 1,300 of them).
            Notification.objects.filter(
                merchant__in=[demo.merchant, second.merchant], state=Notification.State.PENDING
            ).delete()
        summary.api_key = self.api_key(demo.merchant, admin)
        summary.portal_url = settings.SITE_URL + reverse("portal:home", kwargs={"merchant_slug": demo.merchant.slug})
        summary.portal_order = self.portal_order(demo.merchant)
        summary.order_count = Order.objects.filter(merchant=demo.merchant).count()
        summary.ticket_count = Ticket.objects.filter(merchant=demo.merchant).count()
        summary.return_count = ReturnRequest.objects.filter(merchant=demo.merchant).count()
        return summary

    @transaction.atomic
    def history(self, *plans: tuple[_Tenant, int, int, int, tuple]) -> None:
        """Orders, cases and returns, in one transaction: a build that fails leaves no half history
        behind, and one commit instead of thousands keeps the seeding fast."""
        for tenant, order_count, ticket_count, number_base, return_plan in plans:
            orders = self.orders(tenant, count=order_count, number_base=number_base)
            self.tickets(tenant, orders, count=ticket_count)
            self.returns(tenant, orders, return_plan)

    def portal_order(self, merchant: Merchant) -> Order | None:
        """The most recently delivered order a newcomer can look up (e-mail and phone) and return
        something from today: a line still inside its window, with units not yet asked for."""
        policy = ReturnPolicy.objects.filter(merchant=merchant).first()
        rules = active_rules(policy)
        reason = ReturnReason.objects.filter(merchant=merchant, code="changed_mind").first()
        orders = (
            Order.objects.filter(merchant=merchant, delivered_at__isnull=False)
            .exclude(contact_email="")
            .exclude(contact_phone="")
            .select_related("customer", "merchant")
            .order_by("-delivered_at", "-id")
        )
        first = returnable = None
        for order in orders[:50]:
            first = first or order
            if reason is None or order.return_requests.exists():
                continue
            for line in order.lines.select_related("product", "order__merchant"):
                terms = line_terms(
                    policy=policy, rules=rules, line=line, reason=reason, customer=order.customer, now=timezone.now()
                )
                if terms.eligible and line.product.returnable:
                    # Best of all, one with an item that comes in other sizes: an exchange shows them.
                    if line.product.variant_group:
                        return order
                    returnable = returnable or order
        return returnable or first

    def tenant(self, merchant: Merchant, *, stores, staff, teams, catalogue, supervisor: str) -> _Tenant:
        users = self.staff(merchant, staff)
        return _Tenant(
            merchant=merchant,
            stores=[self.store(merchant, *store) for store in stores],
            staff=users,
            teams={key: self.team(merchant, name, users, members) for key, (name, members) in teams.items()},
            products=self.products(merchant, catalogue),
            supervisor=users[supervisor],
        )

    # --- tenancy and catalogue (keyed, so a second run finds what the first made) ---------------

    def merchant(self, slug: str, name: str, *, language: str, support_email: str) -> Merchant:
        merchant, _created = Merchant.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "timezone": "Asia/Shanghai",
                "currency": "CNY",
                "default_language": language,
                "support_email": support_email,
                "is_active": True,
            },
        )
        return merchant

    def store(self, merchant: Merchant, name: str, platform: str, external_id: str) -> Store:
        store, _created = Store.objects.update_or_create(
            merchant=merchant, platform=platform, external_id=external_id, defaults={"name": name}
        )
        return store

    def staff(self, merchant: Merchant, specs: tuple[StaffSpec, ...]) -> dict[str, User]:
        users = {}
        for spec in specs:
            user, _created = User.objects.update_or_create(
                username=spec.username,
                defaults={
                    "first_name": spec.first_name,
                    "last_name": spec.last_name,
                    "email": f"{spec.username}@{merchant.slug}.example.com",
                    "language": spec.language,
                    "is_active": True,
                },
            )
            user.set_password(self.password)
            user.save(update_fields=["password"])
            Membership.objects.update_or_create(
                merchant=merchant, user=user, defaults={"role": spec.role, "is_active": True}
            )
            users[spec.username] = user
        return users

    def team(self, merchant: Merchant, name: str, staff: dict[str, User], members: tuple[str, ...]) -> Team:
        team, _created = Team.objects.get_or_create(merchant=merchant, name=name)
        team.members.add(*(staff[username] for username in members))
        return team

    def products(self, merchant: Merchant, catalogue) -> list[tuple[Product, Decimal]]:
        """The catalogue, each item at its price; the items that come in sizes or colours with
        their other variants (not sold in the history, offered in exchange)."""
        products = []
        for sku, name, category, price, returnable, warranty, serialized in catalogue:
            defaults = {
                "name": name,
                "category": category,
                "price": Decimal(price),
                "returnable": returnable,
                "warranty_months": warranty,
                "serialized": serialized,
            }
            attribute, own_code, run = VARIANT_RUNS.get(sku, ("", "", ()))
            for position, (code, value, change) in enumerate(run):
                variant_fields = {
                    "variant_group": sku,
                    "variant_attributes": {attribute: value},
                    "variant_position": position,
                }
                if code == own_code:
                    defaults.update(variant_fields)
                else:
                    Product.objects.update_or_create(
                        merchant=merchant,
                        sku=f"{sku}-{code}",
                        defaults={**defaults, **variant_fields, "price": Decimal(price) + change},
                    )
            product, _created = Product.objects.update_or_create(merchant=merchant, sku=sku, defaults=defaults)
            products.append((product, Decimal(price)))
        return products

    def service_levels(self, tenant: _Tenant) -> None:
        """A default business calendar (every day 09:00–22:00) and SLA policies, so the queue
        shows countdowns; the worker's sweep escalates what the history left overdue."""
        merchant = tenant.merchant
        calendar = BusinessCalendar.objects.filter(merchant=merchant, team__isnull=True).first()
        if calendar is None:
            calendar = BusinessCalendar.objects.create(merchant=merchant, name="Service desk 客服工作时间")
        if not calendar.working_hours.exists():
            WorkingHours.objects.bulk_create(
                WorkingHours(calendar=calendar, weekday=day, start_minute=9 * 60, end_minute=22 * 60)
                for day in range(7)
            )
        for position, name, matches, first, following, resolution in SLA_POLICIES:
            SlaPolicy.objects.update_or_create(
                merchant=merchant,
                position=position,
                defaults={
                    "name": name,
                    **matches,
                    "first_response_minutes": first,
                    "next_response_minutes": following,
                    "resolution_minutes": resolution,
                    "breach_team": tenant.teams["returns"] if position == 1 else None,
                },
            )

    def return_policy(self, tenant: _Tenant, *, bilingual: bool) -> ReturnPolicy:
        """The return policy, its rules and the reason tree, keyed by merchant, position and code:
        a second run finds them, and leaves alone what the merchant has edited since."""
        merchant = tenant.merchant
        sold = {product.category for product, _price in tenant.products}
        policy, _created = ReturnPolicy.objects.get_or_create(
            merchant=merchant,
            defaults={
                "legal_floor_days": 7,
                "excepted_categories": [category for category in EXCEPTED_CATEGORIES if category in sold],
                "return_address": RETURN_ADDRESSES[merchant.slug],
            },
        )
        for position, name, fields in RETURN_RULES:
            ReturnRule.objects.get_or_create(policy=policy, position=position, defaults={"name": name, **fields})
        codes = {}
        for position, (code, parent, chinese, english, responsibility) in enumerate(RETURN_REASONS, 1):
            codes[code], _created = ReturnReason.objects.get_or_create(
                merchant=merchant,
                code=code,
                defaults={
                    "parent": codes.get(parent),
                    "name": f"{chinese} {english}" if bilingual else english,
                    "responsibility": responsibility,
                    "position": position * 10,
                },
            )
        return policy

    def api_key(self, merchant: Merchant, admin: User) -> str:
        # The secret is not stored, so a second run cannot show the first key: it replaces it.
        for old in ApiKey.objects.filter(merchant=merchant, name=API_KEY_NAME, revoked_at__isnull=True):
            api_key_revoke(api_key=old)
        _api_key, full_key = api_key_create(merchant=merchant, name=API_KEY_NAME, created_by=admin)
        return full_key

    # --- history ----------------------------------------------------------------------------

    def customer_input(self, merchant: Merchant, index: int) -> CustomerInput:
        rng = self.rng
        surname, surname_py = rng.choice(SURNAMES)
        given, given_py = rng.choice(GIVEN_NAMES)
        has_email, has_phone = rng.random() < 0.85, rng.random() < 0.8
        if not (has_email or has_phone):
            has_phone = True
        email = f"{given_py}.{surname_py}{index}@{merchant.slug}-buyers.example.com" if has_email else ""
        phone = f"+86{rng.choice(MOBILE_PREFIXES)}{index:04d}{rng.randrange(10000):04d}" if has_phone else ""
        tier = Customer.Tier.VIP if rng.random() < 0.1 else Customer.Tier.REGULAR
        return CustomerInput(name=surname + given, email=email, phone=phone, tier=tier)

    def orders(self, tenant: _Tenant, *, count: int, number_base: int) -> list[Order]:
        rng = self.rng
        merchant, stores, products = tenant.merchant, tenant.stores, tenant.products
        buyers = [self.customer_input(merchant, i) for i in range(max(3, count * 2 // 3))]
        written = []
        for i in range(count):
            store = stores[i % len(stores)]
            # Spread over 90 days, the most recent orders the most numerous, as a growing shop has.
            placed_at = self.now - timedelta(days=90 * rng.random() ** 1.4, minutes=rng.randrange(24 * 60))
            shipped_at = placed_at + timedelta(hours=rng.uniform(4, 48))
            delivered_at = shipped_at + timedelta(hours=rng.uniform(24, 96))
            if shipped_at > self.now:
                shipped_at = delivered_at = None
            elif delivered_at > self.now:
                delivered_at = None
            lines = []
            for line_number, (product, price) in enumerate(rng.sample(products, rng.choice((1, 1, 1, 2, 2, 3))), 1):
                quantity = rng.choice((1, 1, 1, 2))
                discount = (price * quantity * Decimal(rng.choice((0, 0, 5, 10))) / 100).quantize(Decimal("0.01"))
                serials = (
                    [f"SN{product.sku[-3:]}{i:05d}{unit}" for unit in range(quantity)] if product.serialized else []
                )
                lines.append(
                    OrderLineInput(
                        line_number=str(line_number),
                        sku=product.sku,
                        name=product.name,
                        quantity=quantity,
                        unit_price=price,
                        discount_amount=discount,
                        category=product.category,
                        serial_numbers=serials,
                    )
                )
            number = str(number_base + i) if store.platform != Store.Platform.SHOPIFY else f"SH{number_base + i}"
            data = OrderInput(
                store_id=store.pk,
                number=number,
                customer=rng.choice(buyers),
                lines=lines,
                placed_at=placed_at,
                currency=merchant.currency,
                shipped_at=shipped_at,
                delivered_at=delivered_at,
                shipping_amount=Decimal(rng.choice(("0.00", "0.00", "12.00", "18.00"))),
            )
            with time_machine.travel(placed_at, tick=False):
                written.append(order_upsert(merchant=merchant, data=data).order)
        return written

    def tickets(self, tenant: _Tenant, orders: list[Order], *, count: int) -> None:
        rng = self.rng
        delivered = sorted((o for o in orders if o.delivered_at), key=lambda o: o.delivered_at)
        lines_by_order = {order.pk: [] for order in orders}
        for line in OrderLine.objects.filter(order__in=orders).select_related("product").order_by("order_id", "id"):
            lines_by_order[line.order_id].append(line)
        kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
        for i in range(count):
            status = STATUS_PATTERN[i % len(STATUS_PATTERN)]
            kind = kinds[i % len(kinds)] if i < len(kinds) else rng.choices(kinds, weights)[0]
            low, high = AGE_DAYS[status]
            opened_at = self.now - timedelta(days=rng.uniform(low, high))
            candidates = [o for o in (orders if kind == Kind.REFUND_ONLY else delivered) if _since(o) < opened_at]
            if not candidates:
                candidates = delivered or orders
                opened_at = max(opened_at, _since(candidates[0]) + timedelta(hours=2))
                opened_at = min(opened_at, self.now - timedelta(hours=1))
            order = rng.choice(candidates[-60:] if kind == Kind.COMPLAINT else candidates)
            self.ticket(tenant, order, lines_by_order[order.pk], kind=kind, status=status, opened_at=opened_at)

    def returns(self, tenant: _Tenant, orders: list[Order], plan) -> None:
        _ReturnStory(self, tenant, orders).tell(plan)

    def pickup_address(self, customer: Customer) -> str:
        if customer.language == "en":
            return f"{customer.name}, {self.rng.randrange(1, 300)} Jianguo Road, Chaoyang District, Beijing"
        return f"{customer.name} 浙江省杭州市西湖区文三路 {self.rng.randrange(1, 300)} 号"

    def ticket(self, tenant: _Tenant, order: Order, lines, *, kind, status, opened_at) -> Ticket:
        rng = self.rng
        merchant, staff, teams, supervisor = tenant.merchant, tenant.staff, tenant.teams, tenant.supervisor
        customer = order.customer
        language = "en" if customer.pk % 5 == 0 or merchant.default_language == "en" else "zh-hans"
        if customer.language != language:
            Customer.objects.filter(pk=customer.pk).update(language=language)
            customer.language = language
        line = _line_for(kind, lines, rng)
        subject, body = rng.choice(OPENINGS[kind][language])
        product = _product_name(line.product.name, language) if line else ""
        channel = rng.choices(
            (TicketChannel.PORTAL, TicketChannel.EMAIL, TicketChannel.PHONE, TicketChannel.API), (55, 20, 15, 10)
        )[0]
        agents = [staff[name] for name in ("agent", "agent2") if name in staff]
        agents = agents or [user for user in staff.values() if user != supervisor]
        assignee = _assignee_for(kind, staff, rng) or rng.choice(agents)
        team = teams.get("repairs" if kind in (Kind.REPAIR, Kind.SUPPORT) else "returns") or next(iter(teams.values()))
        priority = TicketPriority.NORMAL
        if kind == Kind.COMPLAINT or customer.tier == Customer.Tier.VIP:
            priority = TicketPriority.HIGH
        elif kind == Kind.INQUIRY:
            priority = TicketPriority.LOW
        by_phone = channel == TicketChannel.PHONE
        staff_lines, customer_lines = STAFF_LINES[language], CUSTOMER_LINES[language]

        steps = []  # (hours after the previous step, service, its arguments besides the ticket)

        def then(hours: float, service, **kwargs) -> None:
            steps.append((hours, service, kwargs))

        if by_phone:
            then(0.3, ticket_link_order, actor=assignee, order=order, order_lines=[line] if line else [])
        if status != Status.NEW or rng.random() < 0.5:
            then(rng.uniform(0.1, 3), ticket_assign, actor=supervisor, assignee=assignee, team=team)
        if rng.random() < 0.15:
            then(rng.uniform(0.1, 2), ticket_change_priority, actor=supervisor, priority=TicketPriority.URGENT)
        if rng.random() < 0.3:
            then(rng.uniform(0.1, 2), ticket_set_tags, actor=assignee, names=rng.choice(TAG_SETS))
        if status == Status.CANCELLED:
            then(rng.uniform(1, 20), ticket_customer_message, customer=customer, body=customer_lines["cancel"])
            then(rng.uniform(0.5, 8), ticket_change_status, actor=assignee, status=Status.CANCELLED, note=WITHDRAWN)
        elif status != Status.NEW:
            if status == Status.WAITING_CUSTOMER:
                then(rng.uniform(0.5, 10), ticket_reply, actor=assignee, body=staff_lines["ask_info"], status=status)
            else:
                then(rng.uniform(0.5, 10), ticket_reply, actor=assignee, body=staff_lines["first_reply"])
            if rng.random() < 0.35:
                then(rng.uniform(0.2, 6), ticket_note, actor=assignee, body=rng.choice(NOTES))
            if status == Status.WAITING_THIRD_PARTY:
                note = rng.choice(THIRD_PARTY_NOTES)
                then(rng.uniform(0.5, 12), ticket_change_status, actor=assignee, status=status, note=note)
            if status in (Status.RESOLVED, Status.CLOSED):
                if rng.random() < 0.6:
                    waiting = Status.WAITING_CUSTOMER
                    then(
                        rng.uniform(0.5, 8), ticket_reply, actor=assignee, body=staff_lines["ask_info"], status=waiting
                    )
                    then(
                        rng.uniform(2, 30), ticket_customer_message, customer=customer, body=customer_lines["more_info"]
                    )
                then(rng.uniform(1, 30), ticket_reply, actor=assignee, body=staff_lines["follow_up"])
                resolution = staff_lines["resolution"]
                then(rng.uniform(4, 72), ticket_reply, actor=assignee, body=resolution, status=Status.RESOLVED)
            if status == Status.CLOSED:
                then(rng.uniform(72, 168), ticket_change_status, actor=assignee, status=Status.CLOSED)

        # Squeeze the story into the time between opening and now, keeping its proportions.
        available = (self.now - timedelta(minutes=5) - opened_at).total_seconds() / 3600
        total = sum(hours for hours, _service, _kwargs in steps)
        scale = min(1.0, available / total) if total else 1.0
        with time_machine.travel(opened_at, tick=False):
            ticket = ticket_create(
                merchant=merchant,
                kind=kind,
                subject=subject.format(product=product),
                body=body.format(product=product),
                customer=customer,
                channel=channel,
                order=None if by_phone else order,
                order_lines=[line] if line and not by_phone else [],
                priority=priority,
                created_by=assignee if by_phone else None,
            )
        at = opened_at
        for hours, service, kwargs in steps:
            at += timedelta(hours=hours * scale)
            with time_machine.travel(at, tick=False):
                service(ticket=ticket, **kwargs)
        return ticket


def _since(order: Order) -> datetime:
    return order.delivered_at or order.placed_at


def _product_name(name: str, language: str) -> str:
    """The catalogue names are bilingual, "Beacon 400 Headlamp 灯塔400头灯": the customer's half."""
    words = name.split(" ")
    split = next((i for i, word in enumerate(words) if not word.isascii()), len(words))
    english, chinese = " ".join(words[:split]), " ".join(words[split:])
    return (chinese if language == "zh-hans" else english) or name


def _line_for(kind, lines, rng):
    if not lines:
        return None
    if kind == Kind.REPAIR:
        covered = [line for line in lines if line.product.warranty_months]
        return rng.choice(covered or lines)
    if kind in (Kind.RETURN, Kind.EXCHANGE):
        returnable = [line for line in lines if line.product.returnable]
        return rng.choice(returnable or lines)
    return rng.choice(lines)


def _assignee_for(kind, staff, rng) -> User | None:
    if kind == Kind.REPAIR and "technician" in staff:
        return staff["technician"]
    if kind == Kind.COMPLAINT and "supervisor" in staff:
        return staff["supervisor"]
    if kind == Kind.SUPPORT and "technician" in staff:
        return rng.choice((staff["technician"], staff["agent2"]))
    return None


class _ReturnStory:
    """Returns of one merchant's history: each on a line it could really be asked for then, moved
    step by step through the services at the time each step happened."""

    def __init__(self, builder: _DemoBuilder, tenant: _Tenant, orders: list[Order]):
        self.builder, self.rng, self.now = builder, builder.rng, builder.now
        self.tenant = tenant
        self.merchant = tenant.merchant
        self.policy = ReturnPolicy.objects.get(merchant=self.merchant)
        self.rules = active_rules(self.policy)
        self.reasons = {reason.code: reason for reason in ReturnReason.objects.filter(merchant=self.merchant)}
        self.lines = list(
            OrderLine.objects.filter(order__in=[order.pk for order in orders if order.delivered_at])
            .select_related("product", "order__merchant", "order__customer")
            .order_by("order__delivered_at", "id")
        )
        self.used_orders: set[int] = set()
        self.story_status = ""  # the status the return being told ends at
        self.reused_photo: bytes | None = None
        staff = tenant.staff
        self.agent = staff.get("agent") or tenant.supervisor
        self.warehouse = staff.get("warehouse") or self.agent
        self.supervisor = tenant.supervisor

    # --- choosing a line ----------------------------------------------------------------------

    def plan_hours(self, status: str) -> list[tuple[str, float]]:
        steps = []
        for step in RETURN_PATHS[status]:
            if step == "expire":
                hours = self.policy.ship_by_days * 24 + self.rng.uniform(0.05, 2)
            else:
                hours = self.rng.uniform(*STEP_HOURS[step])
            steps.append((step, hours))
        return steps

    def terms(self, line: OrderLine, reason: ReturnReason, at: datetime):
        return line_terms(
            policy=self.policy, rules=self.rules, line=line, reason=reason, customer=line.order.customer, now=at
        )

    def fits(self, line: OrderLine, status: str, resolution: str, reason: ReturnReason, at: datetime) -> bool:
        if line.order_id in self.used_orders or line.order.delivered_at >= at - timedelta(hours=3):
            return False
        if not line.product.returnable and reason.responsibility != Responsibility.MERCHANT:
            return False
        terms = self.terms(line, reason, at)
        return (
            terms.eligible
            and resolution in terms.allowed_resolutions
            and not (status in DECIDED_BY_STAFF and terms.auto_approve)
        )

    def pick(self, status: str, resolution: str, reason: ReturnReason, total_hours: float):
        """(line, submitted at): at the time the status's age asks for if a line fits then,
        otherwise soon after the delivery of the latest line that fits and leaves room for the story."""
        low, high = RETURN_AGE_DAYS[status]
        submitted_at = self.now - timedelta(days=self.rng.uniform(low, high), hours=total_hours)
        fitting = [line for line in self.lines if self.fits(line, status, resolution, reason, submitted_at)]
        if fitting:
            return self.rng.choice(fitting), submitted_at
        latest = self.now - timedelta(hours=total_hours, minutes=10)
        for line in reversed(self.lines):
            at = line.order.delivered_at + timedelta(hours=self.rng.uniform(4, 12))
            if at < latest and self.fits(line, status, resolution, reason, at):
                return line, at
        return None, None

    # --- the story ----------------------------------------------------------------------------

    def tell(self, plan) -> None:
        for status, resolution, code in plan:
            reason = self.reasons[code]
            steps = self.plan_hours(status)
            line, at = self.pick(status, resolution, reason, sum(hours for _step, hours in steps))
            if line is None:
                continue  # a small demo may have no line left for this one
            self.used_orders.add(line.order_id)
            self.story_status = status
            return_request = self.submit(line, status, resolution, reason, at)
            for step, hours in steps:
                at += timedelta(hours=hours)
                with time_machine.travel(at, tick=False):
                    return_request = getattr(self, f"step_{step}")(return_request)

    def submit(self, line: OrderLine, status: str, resolution: str, reason: ReturnReason, at: datetime):
        order, customer = line.order, line.order.customer
        language = "en" if customer.language == "en" else "zh-hans"
        files = []
        if self.terms(line, reason, at).photos_required:
            if status == ReturnStatus.NEEDS_REVIEW and self.reused_photo:
                content = self.reused_photo  # the same picture as an earlier return: the risk rule flags it
            else:
                content = _png(tuple(self.rng.randrange(256) for _channel in range(3)))
                self.reused_photo = self.reused_photo or content
            files = [SimpleUploadedFile("photo.png", content, content_type="image/png")]
        quantity = line.quantity if self.rng.random() < 0.3 else 1
        with time_machine.travel(at, tick=False):
            return return_request_create(
                order=order,
                customer=customer,
                lines=[(line, quantity)],
                reason=reason,
                resolution=resolution,
                note=RETURN_NOTES[language][reason.code],
                files=files,
                exchange_products=self.next_variant(line) if resolution == Resolution.EXCHANGE else None,
            )

    def next_variant(self, line: OrderLine) -> dict[int, Product]:
        """An exchange of an item that comes in sizes asks for the next one up (or the one before
        the largest), the way a customer swaps a size that runs small."""
        group = line.product.variant_group
        if not group:
            return {}
        run = list(
            Product.objects.filter(merchant=self.merchant, variant_group=group, is_active=True)
            .exclude(price__isnull=True)
            .order_by("variant_position", "sku")
        )
        index = next((i for i, product in enumerate(run) if product.pk == line.product_id), None)
        if index is None or len(run) < 2:
            return {}
        return {line.pk: run[index + 1] if index + 1 < len(run) else run[index - 1]}

    def language(self, return_request: ReturnRequest) -> str:
        return "en" if return_request.customer.language == "en" else "zh-hans"

    def step_approve(self, return_request):
        if return_request.status not in (ReturnStatus.SUBMITTED, ReturnStatus.NEEDS_REVIEW):
            return return_request  # a rule approved it already
        return return_request_approve(return_request=return_request, actor=self.agent)

    def step_reject(self, return_request):
        reason = RETURN_STAFF_LINES[self.language(return_request)]["reject"]
        return return_request_reject(return_request=return_request, actor=self.agent, reason=reason)

    def step_escalate(self, return_request):
        note = RETURN_STAFF_LINES[self.language(return_request)]["escalate"]
        return return_request_escalate(return_request=return_request, customer=return_request.customer, note=note)

    def step_cancel(self, return_request):
        return return_request_cancel(return_request=return_request, customer=return_request.customer)

    def step_expire(self, return_request):
        return return_request_expire(return_request=return_request)

    def step_ship(self, return_request):
        customer = return_request.customer
        if self.rng.random() < 0.25:
            start = (timezone.now() + timedelta(days=1)).replace(minute=0, second=0)
            return_shipping_choose(
                return_request=return_request,
                method=ShippingMethod.PICKUP,
                customer=customer,
                pickup_address=self.builder.pickup_address(customer),
                pickup_slot_start=start,
                pickup_slot_end=start + timedelta(hours=3),
            )
            carrier, _prefix = self.rng.choice(RETURN_CARRIERS)
            reference = f"PU{self.rng.randrange(10**8, 10**9)}"
            return_pickup_book(return_request=return_request, actor=self.agent, carrier=carrier, reference=reference)
        else:
            return_shipping_choose(return_request=return_request, method=ShippingMethod.DROP_OFF, customer=customer)
        return return_request

    def step_track(self, return_request):
        carrier, prefix = self.rng.choice(RETURN_CARRIERS)
        return return_tracking_add(
            return_request=return_request,
            carrier=return_request.shipments.first().carrier or carrier,
            tracking_number=f"{prefix}{self.rng.randrange(10**11, 10**12)}",
            customer=return_request.customer,
        )

    def step_receive(self, return_request):
        return return_request_receive(return_request=return_request, actor=self.warehouse)

    def step_inspect(self, return_request):
        if self.story_status == ReturnStatus.INSPECTED:
            # The story that stops at inspection: the shop could not accept the item, which now
            # waits on the return page (and the queue's filter) to be sent back to the customer.
            results = [
                LineInspection(
                    return_line_id=line.pk,
                    accepted=0,
                    rejected=line.quantity_received,
                    grade=ItemGrade.DAMAGED,
                    disposition="",
                    notes=RETURN_STAFF_LINES[self.language(return_request)]["not_accepted"],
                )
                for line in return_request.lines.order_by("pk")
            ]
            return return_request_inspect(return_request=return_request, actor=self.warehouse, lines=results)
        grade = self.rng.choice((ItemGrade.AS_NEW, ItemGrade.AS_NEW, ItemGrade.GOOD))
        results = [
            LineInspection(
                return_line_id=line.pk,
                accepted=line.quantity_received,
                rejected=0,
                grade=grade,
                disposition=Disposition.RESTOCK if grade == ItemGrade.AS_NEW else Disposition.REFURBISH,
            )
            for line in return_request.lines.order_by("pk")
        ]
        return return_request_inspect(return_request=return_request, actor=self.warehouse, lines=results)

    def step_settle(self, return_request):
        if return_request.resolution == Resolution.EXCHANGE:
            actor = self.warehouse
        else:
            # An agent may refund up to the limit; a bigger return is the supervisor's to settle.
            value = sum((line.refund_amount for line in return_request.lines.all()), Decimal("0"))
            over = value + return_request.order.shipping_amount > Decimal(settings.REFUND_AGENT_LIMIT)
            actor = self.supervisor if over else self.agent
        return return_request_settle(return_request=return_request, actor=actor)

    def step_finish(self, return_request):
        if return_request.resolution == Resolution.EXCHANGE:
            if return_request.exchange_difference_unpaid:
                reference = f"PAY{self.rng.randrange(10**9, 10**10)}"
                exchange_difference_confirm_paid(return_request=return_request, actor=self.agent, reference=reference)
            carrier, prefix = self.rng.choice(RETURN_CARRIERS)
            tracking = f"{prefix}{self.rng.randrange(10**11, 10**12)}"
            exchange_ship(
                return_request=return_request, actor=self.warehouse, carrier=carrier, tracking_number=tracking
            )
        for refund in return_request.refunds.filter(execution__isnull=False).select_related("execution"):
            if refund.execution.state != ExecutionState.SUCCEEDED:
                reference = f"RF{self.rng.randrange(10**9, 10**10)}"
                refund_confirm_manual(execution=refund.execution, actor=self.agent, reference=reference)
        return ReturnRequest.objects.select_related("ticket").get(pk=return_request.pk)


def _png(color: tuple[int, ...]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), color).save(buffer, format="PNG")
    return buffer.getvalue()
