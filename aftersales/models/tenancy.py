import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aftersales.config_cache import ConfigModel

from .base import MerchantOwnedModel, TimeStampedModel
from .notifications import Notification

# The channels a customer can be told on (webhooks are for integrations, not customers).
CUSTOMER_CHANNELS = (Notification.Channel.EMAIL, Notification.Channel.SMS, Notification.Channel.WECHAT)


def default_customer_channels() -> list[str]:
    return [Notification.Channel.EMAIL.value, Notification.Channel.SMS.value]


def validate_customer_channels(value: object) -> None:
    if not isinstance(value, list) or any(channel not in CUSTOMER_CHANNELS for channel in value):
        raise ValidationError(
            _("Pick channels among: %(channels)s.") % {"channels": ", ".join(c.value for c in CUSTOMER_CHANNELS)},
            code="invalid_channels",
        )


class User(AbstractUser):
    """Staff and operators. Customers are not users: they prove an order by a one-time code."""

    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Merchant(ConfigModel, TimeStampedModel):
    # Its own row is its configuration too (time zone, languages, channels): see config_cache.
    CONFIG_MERCHANT_FIELD = "pk"

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    default_language = models.CharField(
        _("default language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans"
    )
    support_email = models.EmailField(_("support e-mail"), blank=True)
    customer_channels = models.JSONField(
        _("customer channels"),
        default=default_customer_channels,
        blank=True,
        validators=[validate_customer_channels],
        help_text=_("How customers are told of each step, on each channel they have an address for."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def config_merchant_id(self) -> int:
        return self.pk


class Store(MerchantOwnedModel):
    class Platform(models.TextChoices):
        TMALL = "tmall", _("Tmall")
        JD = "jd", _("JD.com")
        SHOPIFY = "shopify", _("Shopify")
        OWN = "own", _("Own website")
        OTHER = "other", _("Other")

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="stores", verbose_name=_("merchant"))
    name = models.CharField(_("name"), max_length=200)
    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices)
    external_id = models.CharField(_("external id"), max_length=100)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["merchant_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "platform", "external_id"], name="store_unique_external_id"),
        ]

    def __str__(self) -> str:
        # The brackets are the translation's: full-width in Chinese, "天猫旗舰店（天猫）".
        return gettext("%(store)s (%(platform)s)") % {"store": self.name, "platform": self.get_platform_display()}


class Membership(MerchantOwnedModel):
    """A staff user's place at a merchant; the role decides which actions they may take."""

    class Role(models.TextChoices):
        MERCHANT_ADMIN = "merchant_admin", _("Merchant admin")
        SUPERVISOR = "supervisor", _("Supervisor")
        AGENT = "agent", _("Agent")
        TECHNICIAN = "technician", _("Technician")
        WAREHOUSE = "warehouse", _("Warehouse")

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("merchant")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["merchant", "user"], name="membership_unique_user")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant} ({self.get_role_display()})"

    @property
    def is_supervisor(self) -> bool:
        return self.role in (self.Role.MERCHANT_ADMIN, self.Role.SUPERVISOR)


class ApiKey(MerchantOwnedModel):
    """A per-merchant key for integrations. Only a hash is stored; the key is shown once."""

    PREFIX_LENGTH = 8

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("merchant")
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=PREFIX_LENGTH, unique=True, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate() -> tuple[str, str, str]:
        """Return (full key, prefix, hash). The secret has 256 bits, so a plain SHA-256 suffices."""
        prefix = secrets.token_hex(ApiKey.PREFIX_LENGTH // 2)
        secret = secrets.token_urlsafe(32)
        full_key = f"{prefix}.{secret}"
        return full_key, prefix, ApiKey.hash(full_key)

    @staticmethod
    def hash(full_key: str) -> str:
        return hashlib.sha256(full_key.encode()).hexdigest()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
