"""Routing and assignment: the merchant's support settings, routing rules in explicit order, how
each team hands out work, and each agent's presence, capacity and skills."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.config_cache import ConfigModel
from aftersales.models import MerchantOwnedModel

from .tickets import TicketKind, TicketPriority


class SupportSettings(MerchantOwnedModel):
    """One row per merchant; a merchant without one has the defaults below."""

    DEFAULT_REOPEN_WINDOW_DAYS = 7
    DEFAULT_DUPLICATE_WINDOW_DAYS = 7
    DEFAULT_PENDING_CLOSE_DAYS = 3

    merchant = models.OneToOneField(
        "aftersales.Merchant", on_delete=models.CASCADE, related_name="support_settings", verbose_name=_("merchant")
    )
    reopen_window_days = models.PositiveSmallIntegerField(
        _("reopen window (days)"),
        default=DEFAULT_REOPEN_WINDOW_DAYS,
        help_text=_(
            "A customer message this many days or less after resolution reopens the ticket; "
            "a later one opens a new ticket linked to it."
        ),
    )
    duplicate_window_days = models.PositiveSmallIntegerField(
        _("duplicate window (days)"),
        default=DEFAULT_DUPLICATE_WINDOW_DAYS,
        help_text=_(
            "An open ticket of the same customer, order and kind opened this recently is a possible duplicate."
        ),
    )
    pending_close_days = models.PositiveSmallIntegerField(
        _("pending close after (days)"),
        default=DEFAULT_PENDING_CLOSE_DAYS,
        help_text=_("How long a ticket set to pending close waits for the customer before it closes itself."),
    )

    class Meta:
        verbose_name = _("support settings")
        verbose_name_plural = _("support settings")
        constraints = [
            models.CheckConstraint(condition=Q(pending_close_days__gte=1), name="supportsettings_pending_close_min"),
        ]

    def __str__(self) -> str:
        return str(_("Support settings"))


class RoutingRule(ConfigModel, MerchantOwnedModel):
    """Conditions on a new ticket and what to do with it. Rules run by position; each empty
    condition means "any". A matching rule applies its actions; unless it lets later rules run
    too (``continue_after``), routing stops there. Later rules see what earlier ones set (a tag
    added by rule 1 can be matched by rule 2)."""

    merchant = models.ForeignKey(
        "aftersales.Merchant", on_delete=models.CASCADE, related_name="routing_rules", verbose_name=_("merchant")
    )
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"))
    is_active = models.BooleanField(_("active"), default=True)
    continue_after = models.BooleanField(
        _("let later rules run too"), default=False, help_text=_("Otherwise the first matching rule is the last.")
    )
    # Conditions.
    match_kinds = models.JSONField(_("kinds"), default=list, blank=True)
    match_channels = models.JSONField(_("channels"), default=list, blank=True)
    match_customer_tiers = models.JSONField(_("customer tiers"), default=list, blank=True)
    match_languages = models.JSONField(_("languages"), default=list, blank=True)
    match_stores = models.ManyToManyField("aftersales.Store", blank=True, related_name="+", verbose_name=_("stores"))
    min_order_value = models.DecimalField(
        _("order value at least"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    max_order_value = models.DecimalField(
        _("order value at most"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    match_tags = models.JSONField(_("has any of the tags"), default=list, blank=True)
    match_keywords = models.JSONField(
        _("keywords in subject or message"),
        default=list,
        blank=True,
        help_text=_("Any one of them, ignoring case."),
    )
    # Actions.
    set_team = models.ForeignKey(
        "tickets.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("team")
    )
    set_priority = models.PositiveSmallIntegerField(
        _("priority"), choices=TicketPriority.choices, null=True, blank=True
    )
    add_tags = models.JSONField(_("add tags"), default=list, blank=True)
    set_sla_policy = models.ForeignKey(
        "tickets.SlaPolicy",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("SLA policy"),
    )
    set_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assignee"),
        help_text=_("Leave empty to let the team's auto-assignment pick an agent."),
    )

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["merchant_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "position"], name="routingrule_unique_position"),
            models.CheckConstraint(
                condition=Q(min_order_value__isnull=True)
                | Q(max_order_value__isnull=True)
                | Q(min_order_value__lte=models.F("max_order_value")),
                name="routingrule_order_value_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"


class AssignmentStrategy(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")


class TeamAssignment(MerchantOwnedModel):
    """How a team hands out its new tickets. Its row is also the lock that serialises the team's
    auto-assignments, so two of them never both see an agent's last free slot."""

    team = models.OneToOneField(
        "tickets.Team", on_delete=models.CASCADE, related_name="assignment", verbose_name=_("team")
    )
    auto_assign = models.BooleanField(_("assign new tickets automatically"), default=True)
    strategy = models.CharField(
        _("strategy"), max_length=20, choices=AssignmentStrategy.choices, default=AssignmentStrategy.LEAST_LOADED
    )
    kind_weights = models.JSONField(
        _("load per ticket kind"),
        default=dict,
        blank=True,
        help_text=_(
            'How much of an agent\'s capacity one open ticket of a kind takes, e.g. {"complaint": 3}; 1 if not set.'
        ),
    )

    class Meta:
        verbose_name = _("team assignment")
        verbose_name_plural = _("team assignments")

    def __str__(self) -> str:
        return f"{self.team}: {self.get_strategy_display()}"

    def weight_of(self, kind: str) -> int:
        weight = self.kind_weights.get(kind, 1) if isinstance(self.kind_weights, dict) else 1
        return weight if isinstance(weight, int) and weight > 0 else 1


class AgentStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class AgentProfile(MerchantOwnedModel):
    """An agent at one merchant: presence, capacity and skills. Auto-assignment picks only agents
    who are available, on shift by their calendar, qualified, and under capacity."""

    DEFAULT_CAPACITY = 20

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profiles", verbose_name=_("agent")
    )
    status = models.CharField(_("status"), max_length=10, choices=AgentStatus.choices, default=AgentStatus.OFFLINE)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    capacity = models.PositiveSmallIntegerField(
        _("capacity"), default=DEFAULT_CAPACITY, help_text=_("Open tickets at once, weighted by kind.")
    )
    languages = models.JSONField(_("languages"), default=list, blank=True, help_text=_("Empty: any."))
    product_categories = models.JSONField(_("product categories"), default=list, blank=True, help_text=_("Empty: any."))
    kinds = models.JSONField(_("ticket kinds"), default=list, blank=True, help_text=_("Empty: any."))
    shift_calendar = models.ForeignKey(
        "aftersales.BusinessCalendar",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("shift calendar"),
        help_text=_("Empty: the team's calendar, else the merchant's default calendar."),
    )
    # Round robin hands the next ticket to the eligible agent who waited longest.
    last_assigned_at = models.DateTimeField(_("last auto-assigned"), null=True, blank=True)

    class Meta:
        verbose_name = _("agent profile")
        verbose_name_plural = _("agent profiles")
        ordering = ["merchant_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "user"], name="agentprofile_unique_user"),
            models.CheckConstraint(condition=Q(status__in=AgentStatus.values), name="agentprofile_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_status_display()})"

    def skill_labels(self) -> list[str]:
        """The languages and kinds by their names in the page's language (stored as codes: "zh-hans",
        "return"), then the product categories as typed."""
        language_names = dict(settings.LANGUAGES)
        kind_names = dict(TicketKind.choices)
        return [
            *(str(language_names.get(code, code)) for code in self.languages),
            *(str(kind_names.get(kind, kind)) for kind in self.kinds),
            *self.product_categories,
        ]


class AgentLoad(MerchantOwnedModel):
    """How many active tickets of one kind an agent holds at the merchant: the counter that
    auto-assignment reads instead of counting the agent's tickets on every assignment.

    Kept by a database trigger on ``tickets_ticket`` (migration 0009), in the transaction of the
    write that moves a ticket in or out of an agent's active load: an assignment, a hand-back, a
    status change, a merge, a kind change, a delete. A trigger rather than service code because
    those writes come from every workflow app and from queryset ``update()`` calls that no Python
    hook sees. The weights are the team's (``TeamAssignment.kind_weights``), so the counter stays
    per kind and the weighting happens when it is read."""

    # Never written by Django: copies of the database (tests' built_once) leave it to the trigger.
    KEPT_BY_TRIGGER = True

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("agent")
    )
    kind = models.CharField(_("kind"), max_length=20)
    open_count = models.IntegerField(_("open tickets"), default=0)

    class Meta:
        verbose_name = _("agent load")
        verbose_name_plural = _("agent loads")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "user", "kind"], name="agentload_unique_kind"),
            models.CheckConstraint(condition=Q(open_count__gte=0), name="agentload_count_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.open_count}"
