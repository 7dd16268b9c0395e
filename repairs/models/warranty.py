"""Warranty terms with split coverage, extended warranties, and registrations per serial number."""

import uuid
from decimal import Decimal
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.models import MerchantOwnedModel, TimeStampedModel


class CoverageKind(models.TextChoices):
    PARTS = "parts", _("Parts")
    LABOUR = "labour", _("Labour")
    TRAVEL = "travel", _("On-site travel")
    COMPONENT = "component", _("Named component")


class StartBasis(models.TextChoices):
    DELIVERY = "delivery", _("Delivery date")
    INSTALLATION = "installation", _("Installation date (with proof)")


class Exclusion(models.TextChoices):
    USER_DAMAGE = "user_damage", _("User damage")
    LIQUID = "liquid", _("Liquid damage")
    UNAUTHORISED_REPAIR = "unauthorised_repair", _("Unauthorised repair")
    CONSUMABLES = "consumables", _("Consumables")


class WarrantyTerm(MerchantOwnedModel):
    """What a product (or every product of a category) is covered for, coverage by coverage.

    An extended term is sold on an order line: its months add to the base coverage of the same
    kind, counted from the end of it."""

    name = models.CharField(_("name"), max_length=200)
    product = models.ForeignKey(
        "aftersales.Product",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="warranty_terms",
        verbose_name=_("product"),
    )
    category = models.CharField(_("category"), max_length=100, blank=True)
    start_basis = models.CharField(
        _("coverage starts from"), max_length=20, choices=StartBasis.choices, default=StartBasis.DELIVERY
    )
    exclusions = models.JSONField(
        _("exclusions"), default=list, blank=True, help_text=_("What the warranty does not cover.")
    )
    is_extended = models.BooleanField(_("extended warranty (sold separately)"), default=False)
    price = models.DecimalField(
        _("price of the extended warranty"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("warranty term")
        verbose_name_plural = _("warranty terms")
        ordering = ["merchant_id", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(product__isnull=False) | ~Q(category=""), name="warrantyterm_product_or_category"
            ),
            models.CheckConstraint(
                condition=Q(is_extended=False, price__isnull=True) | Q(is_extended=True, price__gte=0),
                name="warrantyterm_price_only_extended",
            ),
            # One base term per product and one per category: which applies is never a guess.
            models.UniqueConstraint(
                fields=["merchant", "product"],
                condition=Q(is_extended=False, is_active=True, product__isnull=False),
                name="warrantyterm_one_base_per_product",
            ),
            models.UniqueConstraint(
                fields=["merchant", "category"],
                condition=Q(is_extended=False, is_active=True, product__isnull=True),
                name="warrantyterm_one_base_per_category",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class WarrantyCoverage(TimeStampedModel):
    """One coverage of a term with its own duration: parts 12 months, compressor 60, labour 6."""

    term = models.ForeignKey(
        WarrantyTerm, on_delete=models.CASCADE, related_name="coverages", verbose_name=_("warranty term")
    )
    kind = models.CharField(_("coverage"), max_length=20, choices=CoverageKind.choices)
    component = models.CharField(
        _("component"), max_length=100, blank=True, help_text=_("Only for a named component, e.g. compressor.")
    )
    months = models.PositiveSmallIntegerField(_("months"))

    class Meta:
        verbose_name = _("warranty coverage")
        verbose_name_plural = _("warranty coverages")
        ordering = ["term_id", "kind", "component"]
        constraints = [
            models.UniqueConstraint(fields=["term", "kind", "component"], name="warrantycoverage_unique"),
            models.CheckConstraint(
                condition=Q(kind="component", component__gt="") | (~Q(kind="component") & Q(component="")),
                name="warrantycoverage_component_named",
            ),
        ]

    def __str__(self) -> str:
        label = self.component or self.get_kind_display()
        return f"{label}: {self.months}"


class RegistrationSource(models.TextChoices):
    DELIVERY = "delivery", _("Delivered with the order")
    CUSTOMER = "customer", _("Registered by the customer")
    STAFF = "staff", _("Registered by staff")
    REPLACEMENT = "replacement", _("Replacement unit")


class RegistrationStatus(models.TextChoices):
    PENDING_PROOF = "pending_proof", _("Proof being checked")
    ACTIVE = "active", pgettext_lazy("warranty registration", "Active")
    REPLACED = "replaced", _("Swapped for a replacement")
    REJECTED = "rejected", _("Proof rejected")


REGISTRATION_PROOF_DIR = "registrations"


def registration_proof_upload_to(instance: "WarrantyRegistration", filename: str) -> str:
    suffix = PurePosixPath(filename).suffix.lower()
    return f"{REGISTRATION_PROOF_DIR}/{instance.merchant_id}/{uuid.uuid4().hex}{suffix}"


class WarrantyRegistration(MerchantOwnedModel):
    """One serial number, one registration: where the warranty of a unit lives.

    ``coverage_starts_at`` is when its clocks count from (delivery, or installation with proof); a
    replacement unit inherits it from the faulty one, so the remaining warranty carries over."""

    serial_number = models.CharField(_("serial number"), max_length=100)
    product = models.ForeignKey(
        "aftersales.Product", on_delete=models.PROTECT, related_name="registrations", verbose_name=_("product")
    )
    customer = models.ForeignKey(
        "aftersales.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registrations",
        verbose_name=_("owner"),
    )
    # The warranty outlives the order record: its dates are kept on the registration.
    order_line = models.ForeignKey(
        "aftersales.OrderLine",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="registrations",
        verbose_name=_("order line"),
    )
    source = models.CharField(_("source"), max_length=20, choices=RegistrationSource.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=RegistrationStatus.choices, default=RegistrationStatus.ACTIVE
    )
    purchased_at = models.DateTimeField(_("purchased"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    installed_at = models.DateTimeField(_("installed"), null=True, blank=True)
    coverage_starts_at = models.DateTimeField(_("coverage starts"), null=True, blank=True)
    proof_of_purchase = models.FileField(
        _("proof of purchase"), upload_to=registration_proof_upload_to, max_length=255, blank=True
    )
    installation_proof = models.FileField(
        _("installation proof"), upload_to=registration_proof_upload_to, max_length=255, blank=True
    )
    replaced_by = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaces",
        verbose_name=_("replaced by"),
    )

    class Meta:
        verbose_name = _("warranty registration")
        verbose_name_plural = _("warranty registrations")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "serial_number"], name="registration_unique_serial"),
            models.CheckConstraint(condition=~Q(serial_number=""), name="registration_serial_not_empty"),
            models.CheckConstraint(
                condition=Q(status=RegistrationStatus.REPLACED, replaced_by__isnull=False)
                | (~Q(status=RegistrationStatus.REPLACED) & Q(replaced_by__isnull=True)),
                name="registration_replaced_has_replacement",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "customer"], name="registration_customer"),
            models.Index(fields=["merchant", "product"], name="registration_product"),
        ]

    def __str__(self) -> str:
        return self.serial_number


class RegistrationTransfer(MerchantOwnedModel):
    """A unit changing hands: the warranty follows the serial, the history stays."""

    registration = models.ForeignKey(
        WarrantyRegistration, on_delete=models.CASCADE, related_name="transfers", verbose_name=_("registration")
    )
    from_customer = models.ForeignKey(
        "aftersales.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from"),
    )
    to_customer = models.ForeignKey(
        "aftersales.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("to")
    )
    transferred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("registration transfer")
        verbose_name_plural = _("registration transfers")
        ordering = ["registration_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.registration} → {self.to_customer}"


class ExtendedWarranty(MerchantOwnedModel):
    """An extended term bought on an order line, at the price it was sold for."""

    order_line = models.ForeignKey(
        "aftersales.OrderLine",
        on_delete=models.CASCADE,
        related_name="extended_warranties",
        verbose_name=_("order line"),
    )
    term = models.ForeignKey(
        WarrantyTerm, on_delete=models.PROTECT, related_name="purchases", verbose_name=_("extended term")
    )
    price_paid = models.DecimalField(_("price paid"), max_digits=12, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name = _("extended warranty")
        verbose_name_plural = _("extended warranties")
        constraints = [
            models.UniqueConstraint(fields=["order_line", "term"], name="extendedwarranty_unique"),
            models.CheckConstraint(condition=Q(price_paid__gte=0), name="extendedwarranty_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.term} / {self.order_line}"
