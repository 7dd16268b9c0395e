"""The operator's back office. Built for large tables: every foreign key to a big table is an
autocomplete or a raw id, lists select their related rows in the same query, and no page counts
a whole table just to say how big it is."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from aftersales.models import (
    ApiKey,
    BusinessCalendar,
    CalendarDay,
    Customer,
    Deadline,
    DeadlinePause,
    ExportJob,
    IdempotencyRecord,
    Membership,
    Merchant,
    Notification,
    Order,
    OrderLine,
    PortalChallenge,
    Product,
    Store,
    User,
    WebhookEndpoint,
    WorkingHours,
)
from aftersales.models.commerce import LINE_COUNTERS
from aftersales.models.tenancy import CUSTOMER_CHANNELS
from aftersales.services.api_keys import api_key_create, api_key_revoke
from aftersales.services.deadlines import deadline_retry
from aftersales.services.notifications import notifications_retry


class BigTableAdmin(admin.ModelAdmin):
    """Defaults for tables that grow to hundreds of thousands of rows."""

    show_full_result_count = False
    list_per_page = 50


class ReadOnlyAdmin(BigTableAdmin):
    """Records written by the system; the operator looks, never edits."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- people and tenancy ---------------------------------------------------------------------------


class MembershipOfUserInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    fields = ("merchant", "role", "is_active")
    extra = 0


class MembershipOfMerchantInline(admin.TabularInline):
    model = Membership
    fk_name = "merchant"
    fields = ("user", "role", "is_active")
    autocomplete_fields = ("user",)
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


class StoreInline(admin.TabularInline):
    model = Store
    fields = ("name", "platform", "external_id")
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    show_full_result_count = False
    inlines = (MembershipOfUserInline,)
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ())[:1],
        (_("Personal info"), {"fields": ("first_name", "last_name", "email", "language")}),
        *(DjangoUserAdmin.fieldsets or ())[2:],
    )
    list_display = ("username", "email", "first_name", "last_name", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser")


class MerchantForm(forms.ModelForm):
    """The customer channels as boxes to tick rather than a JSON list to type."""

    customer_channels = forms.MultipleChoiceField(
        label=_("customer channels"),
        choices=[(channel.value, channel.label) for channel in CUSTOMER_CHANNELS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=Merchant._meta.get_field("customer_channels").help_text,
    )

    class Meta:
        model = Merchant
        fields = (
            "name",
            "slug",
            "timezone",
            "currency",
            "default_language",
            "support_email",
            "customer_channels",
            "is_active",
        )

    def clean_customer_channels(self) -> list[str]:
        chosen = set(self.cleaned_data["customer_channels"])
        return [channel.value for channel in CUSTOMER_CHANNELS if channel in chosen]


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    form = MerchantForm
    list_display = ("name", "slug", "timezone", "currency", "default_language", "is_active", "created_at")
    list_filter = ("is_active", "default_language", "currency")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (StoreInline, MembershipOfMerchantInline)


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ("name", "platform", "external_id", "merchant")
    list_filter = ("platform", "merchant")
    list_select_related = ("merchant",)
    search_fields = ("name", "external_id", "merchant__slug")


@admin.register(Membership)
class MembershipAdmin(BigTableAdmin):
    list_display = ("user", "merchant", "role", "is_active", "created_at")
    list_filter = ("role", "is_active", "merchant")
    list_select_related = ("user", "merchant")
    search_fields = ("user__username", "user__email", "merchant__slug")
    autocomplete_fields = ("user",)


@admin.register(ApiKey)
class ApiKeyAdmin(BigTableAdmin):
    """Keys are made by ``api_key_create``; the secret is shown once, the hash never."""

    list_display = ("name", "prefix", "merchant", "created_by", "created_at", "last_used_at", "revoked_at")
    list_filter = ("merchant",)
    list_select_related = ("merchant", "created_by")
    search_fields = ("name", "=prefix", "merchant__slug")
    actions = ("revoke",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("merchant", "name")
        return ("merchant", "name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("merchant", "prefix", "created_by", "created_at", "last_used_at", "revoked_at")

    def has_delete_permission(self, request, obj=None):
        # Revoked keys stay on record: who had access, and until when.
        return False

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name", "updated_at"])
            return
        created, full_key = api_key_create(merchant=obj.merchant, name=obj.name, created_by=request.user)
        # The admin goes on with ``obj`` (log entry, redirect), so it becomes the saved row.
        for field in ApiKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False
        obj._state.db = created._state.db
        messages.warning(
            request,
            _("The new API key is %(key)s — copy it now: it is stored only as a hash and cannot be shown again.")
            % {"key": full_key},
        )

    @admin.action(description=_("Revoke the selected API keys"), permissions=["change"])
    def revoke(self, request, queryset):
        revoked = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(api_key=api_key)
            revoked += 1
        self.message_user(
            request,
            ngettext("%(count)d API key revoked.", "%(count)d API keys revoked.", revoked) % {"count": revoked},
            messages.SUCCESS,
        )


# --- commerce ---------------------------------------------------------------------------------


@admin.register(Customer)
class CustomerAdmin(BigTableAdmin):
    list_display = ("__str__", "email", "phone", "tier", "merchant", "created_at")
    list_filter = ("tier", "merchant")
    list_select_related = ("merchant",)
    search_fields = ("name", "=email", "phone", "=wechat_openid")
    date_hierarchy = "created_at"


@admin.register(Product)
class ProductAdmin(BigTableAdmin):
    list_display = (
        "sku",
        "name",
        "category",
        "variant_group",
        "price",
        "is_active",
        "returnable",
        "warranty_months",
        "serialized",
        "merchant",
    )
    list_filter = ("is_active", "returnable", "serialized", "merchant")
    list_select_related = ("merchant",)
    search_fields = ("=sku", "=variant_group", "name", "category")
    fieldsets = (
        (None, {"fields": ("merchant", "sku", "name", "category", "price", "is_active")}),
        (_("Variants"), {"fields": ("variant_group", "variant_attributes", "variant_position")}),
        (_("After-sales"), {"fields": ("returnable", "warranty_months", "serialized")}),
    )


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = ("line_number", "product", "sku", "name", "quantity", "unit_price", "discount_amount", *LINE_COUNTERS)
    # The after-sales counters belong to the ledgers, which change them under a lock.
    readonly_fields = LINE_COUNTERS
    autocomplete_fields = ("product",)
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


@admin.register(Order)
class OrderAdmin(BigTableAdmin):
    list_display = ("external_number", "store", "customer", "placed_at", "delivered_at", "currency", "merchant")
    list_filter = ("merchant",)
    list_select_related = ("store", "customer", "merchant")
    search_fields = ("=external_number", "=contact_email", "=contact_phone", "=customer__email")
    autocomplete_fields = ("customer",)
    date_hierarchy = "placed_at"
    inlines = (OrderLineInline,)


@admin.register(OrderLine)
class OrderLineAdmin(BigTableAdmin):
    list_display = ("order", "line_number", "sku", "name", "quantity", "unit_price", "discount_amount", "merchant")
    list_filter = ("merchant",)
    list_select_related = ("order", "merchant")
    search_fields = ("=order__external_number", "=sku", "name")
    raw_id_fields = ("order",)
    autocomplete_fields = ("product",)
    readonly_fields = LINE_COUNTERS


# --- outbox and portal ------------------------------------------------------------------------


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    """Background exports: the operator sees who asked for what, how far it got and why one failed."""

    list_display = (
        "created_at",
        "source",
        "file_format",
        "state",
        "rows_written",
        "rows_total",
        "requested_by",
        "merchant",
    )
    list_filter = ("state", "source", "merchant")
    list_select_related = ("merchant", "requested_by")
    date_hierarchy = "created_at"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "template", "channel", "recipient", "state", "attempts", "sent_at", "merchant")
    list_filter = ("state", "channel", "template", "merchant")
    list_select_related = ("merchant",)
    search_fields = ("=recipient", "=ticket__number")
    date_hierarchy = "created_at"
    actions = ("retry",)

    @admin.action(description=_("Retry the selected failed notifications"), permissions=["retry"])
    def retry(self, request, queryset):
        count = notifications_retry(notification_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext(
                "%(count)d failed notification queued again.", "%(count)d failed notifications queued again.", count
            )
            % {"count": count},
            messages.SUCCESS,
        )

    def has_retry_permission(self, request):
        return request.user.has_perm("aftersales.change_notification")


class WebhookEndpointForm(forms.ModelForm):
    """The signing secret is write-only: never shown again; left empty, it is kept (or, for a new
    endpoint, generated)."""

    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    secret = forms.CharField(
        label=_("signing secret"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the current secret (a new endpoint gets a random one)."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("merchant", "url", "secret", "events", "is_active")

    def clean_secret(self):
        secret = self.cleaned_data.get("secret", "")
        if secret:
            return secret
        if self.instance.pk:
            return WebhookEndpoint.objects.values_list("secret", flat=True).get(pk=self.instance.pk)
        return WebhookEndpoint._meta.get_field("secret").get_default()


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(BigTableAdmin):
    form = WebhookEndpointForm
    list_display = ("url", "merchant", "events", "is_active", "created_at")
    list_filter = ("is_active", "merchant")
    list_select_related = ("merchant",)
    search_fields = ("url", "merchant__slug")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "key", "endpoint", "response_status", "merchant")
    list_filter = ("response_status", "merchant")
    list_select_related = ("merchant",)
    search_fields = ("=key", "endpoint")
    date_hierarchy = "created_at"


@admin.register(PortalChallenge)
class PortalChallengeAdmin(ReadOnlyAdmin):
    # Never the code hash: with it, a six-digit code falls to a brute force offline.
    fields = (
        "merchant",
        "order",
        "channel",
        "destination",
        "client_ip",
        "created_at",
        "expires_at",
        "attempts",
        "verified_at",
    )
    readonly_fields = fields
    list_display = ("created_at", "order", "channel", "destination", "attempts", "verified_at", "merchant")
    list_filter = ("channel", "merchant")
    list_select_related = ("order", "merchant")
    search_fields = ("=order__external_number", "=destination", "=client_ip")
    date_hierarchy = "created_at"


# --- business time and timers -----------------------------------------------------------------


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    fields = ("weekday", "start_minute", "end_minute")
    extra = 0


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    fields = ("date", "kind", "name", "works_as")
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "timezone", "team", "merchant")
    list_filter = ("merchant",)
    list_select_related = ("team", "merchant")
    search_fields = ("name", "merchant__slug")
    inlines = (WorkingHoursInline, CalendarDayInline)


class DeadlinePauseInline(admin.TabularInline):
    model = DeadlinePause
    fields = ("paused_at", "resumed_at", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    """Timers are written by the services and the sweep; a failed one can be put back in the sweep."""

    list_display = ("ticket", "kind", "state", "due_at", "next_fire_at", "attempts", "merchant")
    list_filter = ("state", "kind", "merchant")
    list_select_related = ("ticket", "merchant")
    search_fields = ("=ticket__number",)
    date_hierarchy = "due_at"
    inlines = (DeadlinePauseInline,)
    actions = ("retry",)

    @admin.action(description=_("Retry the selected failed deadlines"), permissions=["retry"])
    def retry(self, request, queryset):
        count = 0
        for deadline in queryset.filter(state=Deadline.State.FAILED).order_by("pk"):
            if deadline_retry(deadline=deadline).state == Deadline.State.PENDING:
                count += 1
        self.message_user(
            request,
            ngettext("%(count)d deadline back in the sweep.", "%(count)d deadlines back in the sweep.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    def has_retry_permission(self, request):
        return request.user.has_perm("aftersales.change_deadline")
