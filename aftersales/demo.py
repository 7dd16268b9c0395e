"""Demo data, composed of each app's own story.

The kernel's part is the cast every story plays with: a merchant with stores, staff of every role,
a catalogue and orders, plus a second small merchant to show tenancy. Each app adds its own story
(``tickets/demo.py``: service levels and cases of every kind in every status; ``returns/demo.py``:
the return policy and returns in every status) by registering it in its ``AppConfig.ready`` with
``register_story``; ``manage.py seed_demo`` builds the kernel's part and then tells every
registered story, in the order the apps are installed.

Everything is written through the services, with the clock moved back to when each step
happened, so timelines, SLA clocks and reports look like the history of a real shop. The builder
is deterministic (one seeded ``random.Random`` shared by every story) and idempotent: merchants,
stores, staff, teams and products are keyed by slug, username, name and SKU; the history (orders
and what the stories make of them) is built once, on the first run, because a history is not
something to write twice.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

import time_machine
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from aftersales.models import ApiKey, Customer, Membership, Merchant, Notification, Order, Product, Store, User
from aftersales.services.api_keys import api_key_create, api_key_revoke
from aftersales.services.notifications import notifications_deferred
from aftersales.services.orders import CustomerInput, OrderInput, OrderLineInput, order_upsert

DEFAULT_PASSWORD = "aftersales-demo"  # noqa: S105 (the demo's published login, not a secret)
API_KEY_NAME = "Demo integration"
Role = Membership.Role

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

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

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


# The merchants: (key, slug, name, language, support e-mail, stores, staff, catalogue, supervisor,
# order numbers from). The key is how a story tells them apart ("demo": the big bilingual one).
TENANTS = (
    (
        "demo",
        "demo",
        "Demo Outdoor Co.",
        "zh-hans",
        "service@demo.example.com",
        (
            ("Demo Outdoor 天猫旗舰店", Store.Platform.TMALL, "demo-tmall"),
            ("demooutdoor.com", Store.Platform.SHOPIFY, "demo-outdoor.myshopify.com"),
        ),
        DEMO_STAFF,
        CATALOGUE,
        "supervisor",
        4200001000,
    ),
    (
        "second",
        "second",
        "Second Shop",
        "en",
        "help@second.example.com",
        (("Second Shop 京东自营", Store.Platform.JD, "second-jd"),),
        SECOND_STAFF,
        CATALOGUE[::4],
        "second-admin",
        7700001000,
    ),
)


# --- the result -------------------------------------------------------------------------------


@dataclass
class DemoSummary:
    merchant: Merchant
    second_merchant: Merchant
    password: str
    staff: list[tuple[str, "StrOrPromise"]] = field(default_factory=list)  # (username, role label)
    portal_url: str = ""
    portal_order: Order | None = None
    api_key: str = ""
    history_built: bool = False
    order_count: int = 0
    ticket_count: int = 0  # the tickets story counts them
    return_count: int = 0  # the returns story counts them


@dataclass
class Tenant:
    key: str  # "demo" or "second"
    merchant: Merchant
    stores: list[Store]
    staff: dict[str, User]
    products: list[tuple[Product, Decimal]]
    supervisor: User


@dataclass(frozen=True)
class DemoSize:
    """What ``seed_demo`` was asked for: orders and cases of the demo merchant (the second one
    gets about a tenth)."""

    orders: int
    tickets: int


# --- the stories the apps register ------------------------------------------------------------


class DemoStory(Protocol):
    """An app's part of the demo, made with the builder (its ``rng``, ``now`` and ``password``)."""

    def __init__(self, builder: "DemoBuilder") -> None: ...

    def setup(self, tenants: dict[str, Tenant]) -> None:
        """Keyed configuration (teams, policies…): a second run finds what the first made."""

    def history(self, tenant: Tenant, orders: list[Order], size: DemoSize) -> None:
        """What happened to the tenant's orders, written once; the story opens its own
        transactions (one for many rows, or none around services that open durable ones)."""

    def summarize(self, summary: DemoSummary) -> None:
        """Add this app's counts (and choices, such as the portal's order) to the summary."""


_stories: dict[str, str] = {}


def register_story(name: str, story: str) -> None:
    """``story``: the dotted path of a ``DemoStory`` class, imported only when the demo is built
    (the demo's own dependencies, such as time-machine, are not needed to serve pages)."""
    if name in _stories and _stories[name] != story:
        raise ValueError(f"demo story {name!r} is already registered")
    _stories[name] = story


def registered_stories() -> list[str]:
    return list(_stories)


# --- the builder ------------------------------------------------------------------------------


def demo_build(*, orders: int = 400, tickets: int = 300, password: str = DEFAULT_PASSWORD, seed: int = 2024):
    """Build (or complete) the demo. Notifications stay in the outbox as pending rows.

    Dispatch is deferred while seeding: nothing is sent during the build (even with eager Celery),
    no broker has to be up, and the worker's periodic flush sends the rows later.
    """
    with notifications_deferred():
        return DemoBuilder(seed=seed, password=password).build(DemoSize(orders=orders, tickets=tickets))


class DemoBuilder:
    def __init__(self, *, seed: int, password: str):
        self.rng = random.Random(seed)
        self.password = password
        self.now = timezone.now().replace(microsecond=0)
        self.stories: list[DemoStory] = [import_string(path)(self) for path in _stories.values()]

    def build(self, size: DemoSize) -> DemoSummary:
        tenants = {
            key: self.tenant(
                self.merchant(slug, name, language=language, support_email=support_email),
                key=key,
                stores=stores,
                staff=staff,
                catalogue=catalogue,
                supervisor=supervisor,
            )
            for key, slug, name, language, support_email, stores, staff, catalogue, supervisor, _base in TENANTS
        }
        for story in self.stories:
            story.setup(tenants)
        demo, second = tenants["demo"], tenants["second"]
        admin = demo.staff["admin"]
        admin.is_staff = admin.is_superuser = True
        admin.save(update_fields=["is_staff", "is_superuser"])

        summary = DemoSummary(merchant=demo.merchant, second_merchant=second.merchant, password=self.password)
        summary.staff = [(spec.username, Membership.Role(spec.role).label) for spec in (*DEMO_STAFF, *SECOND_STAFF)]
        if not Order.objects.filter(merchant=demo.merchant).exists():
            summary.history_built = True
            bases = {key: base for key, *_rest, base in TENANTS}
            self.history(
                (demo, size.orders, bases["demo"]),
                (second, max(5, size.orders // 10), bases["second"]),
                size=size,
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
        for story in self.stories:
            story.summarize(summary)
        return summary

    def history(self, *plans: tuple[Tenant, int, int], size: DemoSize) -> None:
        """Per merchant: its orders in one transaction, then each story's history of them. A story
        owns its transactions: the services that pay (a refund's payment call, a replacement's price
        difference) open durable transactions and refuse to run inside one."""
        for tenant, order_count, number_base in plans:
            with transaction.atomic():
                orders = self.orders(tenant, count=order_count, number_base=number_base)
            for story in self.stories:
                story.history(tenant, orders, size)

    def portal_order(self, merchant: Merchant) -> Order | None:
        """The most recently delivered order a newcomer can look up (e-mail and phone); a story may
        pick a better one (the returns story: one with something to return today)."""
        return (
            Order.objects.filter(merchant=merchant, delivered_at__isnull=False)
            .exclude(contact_email="")
            .exclude(contact_phone="")
            .select_related("customer", "merchant")
            .order_by("-delivered_at", "-id")
            .first()
        )

    def tenant(self, merchant: Merchant, *, key: str, stores, staff, catalogue, supervisor: str) -> Tenant:
        users = self.staff(merchant, staff)
        return Tenant(
            key=key,
            merchant=merchant,
            stores=[self.store(merchant, *store) for store in stores],
            staff=users,
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

    def orders(self, tenant: Tenant, *, count: int, number_base: int) -> list[Order]:
        rng = self.rng
        merchant, stores, products = tenant.merchant, tenant.stores, tenant.products
        buyers = [self.customer_input(merchant, i) for i in range(max(3, count * 2 // 3))]
        written = []
        for i in range(count):
            store = stores[i % len(stores)]
            # Spread over 90 days, the most recent orders the most numerous, as a growing shop has.
            placed_at = self.now - timedelta(days=90 * rng.random() ** 1.4, minutes=rng.randrange(24 * 60))
            shipped = placed_at + timedelta(hours=rng.uniform(4, 48))
            delivered = shipped + timedelta(hours=rng.uniform(24, 96))
            shipped_at: datetime | None = shipped
            delivered_at: datetime | None = delivered
            if shipped > self.now:
                shipped_at = delivered_at = None
            elif delivered > self.now:
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
