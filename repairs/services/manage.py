"""What managers keep: a technician's profile (skills with levels, certifications, home base,
service areas, working calendar, daily capacity, time off) and the parts catalogue (part number,
cost, price, compatible products). Each edit locks its row, checks, saves the fields that changed
and writes one ``ProfileChange`` with each field before and after; an edit that changes nothing
writes nothing."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from aftersales.exceptions import Conflict, InvalidInput
from aftersales.models import BusinessCalendar, Merchant, Product, User
from repairs.locks import part_lock, technicians_lock
from repairs.models import Part, ProfileChange, TechnicianProfile, TechnicianTimeOff
from repairs.roles import require_stock_keeper, require_technician_manager

MAX_LEVEL = 3


@dataclass(frozen=True)
class TechnicianInput:
    phone: str
    skills: dict[str, int]
    areas: list[str]
    home_latitude: Decimal
    home_longitude: Decimal
    calendar: BusinessCalendar | None
    daily_capacity: int
    is_active: bool


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, BusinessCalendar):
        return value.pk
    return value


def _check_technician(merchant_id: int, data: TechnicianInput) -> None:
    for skill, level in data.skills.items():
        if not skill or not 1 <= level <= MAX_LEVEL:
            raise InvalidInput(
                _("Each skill has a level from 1 to %(max)s.") % {"max": MAX_LEVEL},
                code="invalid_skill",
                extra={"field": "skills"},
            )
    if not (-90 <= data.home_latitude <= 90 and -180 <= data.home_longitude <= 180):
        raise InvalidInput(_("The home base is not a place on Earth."), code="invalid_home", extra={"field": "home"})
    if data.calendar is not None and data.calendar.merchant_id != merchant_id:
        raise InvalidInput(_("Unknown calendar."), code="unknown_calendar", extra={"field": "calendar"})
    if not 0 <= data.daily_capacity <= 50:
        raise InvalidInput(_("A day holds 0 to 50 visits."), code="invalid_capacity", extra={"field": "daily_capacity"})


def technician_update(*, technician: TechnicianProfile, actor: User, data: TechnicianInput) -> TechnicianProfile:
    require_technician_manager(actor, technician.merchant_id)
    _check_technician(technician.merchant_id, data)
    with transaction.atomic():
        (technician,) = technicians_lock([technician.pk])
        wanted = {
            "phone": data.phone.strip(),
            "skills": dict(sorted(data.skills.items())),
            "areas": sorted({area.strip() for area in data.areas if area.strip()}),
            "home_latitude": data.home_latitude.quantize(Decimal("0.000001")),
            "home_longitude": data.home_longitude.quantize(Decimal("0.000001")),
            "calendar": data.calendar,
            "daily_capacity": data.daily_capacity,
            "is_active": data.is_active,
        }
        changes = {}
        for name, value in wanted.items():
            before = getattr(technician, name)
            if before != value:
                changes[name] = [_jsonable(before), _jsonable(value)]
                setattr(technician, name, value)
        if changes:
            technician.save(update_fields=[*changes, "updated_at"])
            ProfileChange.objects.create(
                merchant_id=technician.merchant_id, technician=technician, actor=actor, changes=changes
            )
    return technician


def technician_time_off_add(
    *, technician: TechnicianProfile, actor: User, starts_on: date, ends_on: date, reason: str = ""
) -> TechnicianTimeOff:
    """Days off, both ends included. Visits already booked on those days stay where they are:
    the board shows them and the planner moves them (it never plans a day off)."""
    require_technician_manager(actor, technician.merchant_id)
    if ends_on < starts_on:
        raise InvalidInput(_("The last day is before the first."), code="invalid_range", extra={"field": "ends_on"})
    with transaction.atomic():
        (technician,) = technicians_lock([technician.pk])
        if technician.time_off.filter(starts_on__lte=ends_on, ends_on__gte=starts_on).exists():
            raise Conflict(_("These days overlap time off already recorded."), code="time_off_overlap")
        time_off = TechnicianTimeOff.objects.create(
            technician=technician, starts_on=starts_on, ends_on=ends_on, reason=reason.strip()[:200]
        )
        ProfileChange.objects.create(
            merchant_id=technician.merchant_id,
            technician=technician,
            actor=actor,
            changes={"time_off": [None, [starts_on.isoformat(), ends_on.isoformat(), time_off.reason]]},
        )
    return time_off


def technician_time_off_remove(*, time_off: TechnicianTimeOff, actor: User) -> None:
    technician = time_off.technician
    require_technician_manager(actor, technician.merchant_id)
    with transaction.atomic():
        (technician,) = technicians_lock([technician.pk])
        removed = TechnicianTimeOff.objects.filter(pk=time_off.pk, technician=technician).delete()[0]
        if not removed:
            raise Conflict(_("That time off was already removed."), code="time_off_gone")
        ProfileChange.objects.create(
            merchant_id=technician.merchant_id,
            technician=technician,
            actor=actor,
            changes={
                "time_off": [[time_off.starts_on.isoformat(), time_off.ends_on.isoformat(), time_off.reason], None]
            },
        )


@dataclass(frozen=True)
class PartInput:
    part_number: str
    name: str
    cost: Decimal
    price: Decimal
    component: str = ""
    is_active: bool = True
    compatible_products: list[Product] = field(default_factory=list)


def _check_part(merchant_id: int, data: PartInput) -> None:
    if not data.part_number.strip() or not data.name.strip():
        raise InvalidInput(_("A part has a number and a name."), code="part_incomplete", extra={"field": "part_number"})
    if data.cost < 0 or data.price < 0:
        raise InvalidInput(_("Cost and price are not negative."), code="invalid_amount", extra={"field": "price"})
    if any(product.merchant_id != merchant_id for product in data.compatible_products):
        raise InvalidInput(_("Unknown product."), code="unknown_product", extra={"field": "compatible_products"})


def _product_ids(products: Iterable[Product]) -> list[int]:
    return sorted(product.pk for product in products)


def part_create(*, merchant: Merchant, actor: User, data: PartInput) -> Part:
    require_stock_keeper(actor, merchant.pk)
    _check_part(merchant.pk, data)
    try:
        with transaction.atomic():
            part = Part.objects.create(
                merchant=merchant,
                part_number=data.part_number.strip(),
                name=data.name.strip(),
                cost=data.cost,
                price=data.price,
                component=data.component.strip(),
                is_active=data.is_active,
            )
            part.compatible_products.set(data.compatible_products)
            ProfileChange.objects.create(
                merchant=merchant,
                part=part,
                actor=actor,
                changes={
                    "part_number": [None, part.part_number],
                    "name": [None, part.name],
                    "cost": [None, str(part.cost)],
                    "price": [None, str(part.price)],
                    "compatible_products": [None, _product_ids(data.compatible_products)],
                },
            )
    except IntegrityError as error:
        raise Conflict(_("That part number is already in the catalogue."), code="part_number_taken") from error
    return part


def part_update(*, part: Part, actor: User, data: PartInput) -> Part:
    require_stock_keeper(actor, part.merchant_id)
    _check_part(part.merchant_id, data)
    try:
        with transaction.atomic():
            part = part_lock(part.pk)
            wanted = {
                "part_number": data.part_number.strip(),
                "name": data.name.strip(),
                "cost": data.cost,
                "price": data.price,
                "component": data.component.strip(),
                "is_active": data.is_active,
            }
            changes = {}
            for name, value in wanted.items():
                before = getattr(part, name)
                if before != value:
                    changes[name] = [_jsonable(before), _jsonable(value)]
                    setattr(part, name, value)
            if changes:
                part.save(update_fields=[*changes, "updated_at"])
            products_before = sorted(part.compatible_products.values_list("pk", flat=True))
            products_after = _product_ids(data.compatible_products)
            if products_before != products_after:
                part.compatible_products.set(data.compatible_products)
                changes["compatible_products"] = [products_before, products_after]
            if changes:
                ProfileChange.objects.create(merchant_id=part.merchant_id, part=part, actor=actor, changes=changes)
    except IntegrityError as error:
        raise Conflict(_("That part number is already in the catalogue."), code="part_number_taken") from error
    return part
