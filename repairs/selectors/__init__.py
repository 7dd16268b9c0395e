"""Every read that pages, the API and tasks share; never a service."""

from .costs import customer_total, warranty_cost
from .eligibility import UnitEligibility, base_term_for, repair_policy_for, unit_eligibility

__all__ = [
    "UnitEligibility",
    "base_term_for",
    "customer_total",
    "repair_policy_for",
    "unit_eligibility",
    "warranty_cost",
]
