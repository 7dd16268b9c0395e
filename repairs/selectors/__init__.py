"""Every read that pages, the API and tasks share; never a service."""

from .costs import customer_pays, customer_total, warranty_cost
from .eligibility import UnitEligibility, base_term_for, repair_policy_for, unit_eligibility
from .repairs import (
    diagnosis_code_by_code,
    diagnosis_codes_for,
    order_line_of,
    part_of,
    part_stock_of,
    quote_for_link,
    registration_by_serial,
    registrations_of_customer,
    repair_for_api,
    repair_of_ticket,
    repairs_for_api,
    repairs_visible_to,
    served_by_repair,
    service_centre_of,
    service_centres_of,
)

__all__ = [
    "UnitEligibility",
    "base_term_for",
    "customer_pays",
    "customer_total",
    "diagnosis_code_by_code",
    "diagnosis_codes_for",
    "order_line_of",
    "part_of",
    "part_stock_of",
    "quote_for_link",
    "registration_by_serial",
    "registrations_of_customer",
    "repair_for_api",
    "repair_of_ticket",
    "repair_policy_for",
    "repairs_for_api",
    "repairs_visible_to",
    "served_by_repair",
    "service_centre_of",
    "service_centres_of",
    "unit_eligibility",
    "warranty_cost",
]
