"""Warranty and repairs: terms and registrations per serial, repair orders on the case hub, their
lines, quotes and parts.

A repair order hangs one-to-one off its Ticket (kind ``repair``) and moves the ticket's generic
status in the same transaction. Eligibility and the 三包 floor in force are snapshotted onto it at
triage, so a later edit of the terms never changes what a customer was told.
"""

from .centres import RepairPolicy, ServiceAddressFields, ServiceCentre
from .dispatch import (
    ACTIVE_VISIT_STATUSES,
    PLANNABLE_VISIT_STATUSES,
    VISIT_TRANSITIONS,
    DispatchPolicy,
    TechnicianDayLoad,
    TechnicianProfile,
    TechnicianTimeOff,
    TechnicianWindowLoad,
    Visit,
    VisitParty,
    VisitStatus,
)
from .evidence import PhotoPhase, VisitPhoto
from .orders import (
    COVERED_STATUSES,
    DEVICE_HELD_STATUSES,
    FINAL_STATUSES,
    OPEN_STATUSES,
    REPAIR_TRANSITIONS,
    TO_SCHEDULE_STATUSES,
    DiagnosisCode,
    Remedy,
    RepairMode,
    RepairOrder,
    RepairStatus,
    Responsibility,
)
from .parts import LocationKind, Part, PartReservation, PartStock, ReservationState, StockLocation
from .records import MovementKind, ProfileChange, StockMovement
from .warranty import (
    CoverageKind,
    Exclusion,
    ExtendedWarranty,
    RegistrationSource,
    RegistrationStatus,
    RegistrationTransfer,
    StartBasis,
    WarrantyCoverage,
    WarrantyRegistration,
    WarrantyTerm,
)
from .work import (
    SUPPLIER_CLAIM_TRANSITIONS,
    LineCoverage,
    LineKind,
    QuoteStatus,
    RepairLine,
    RepairQuote,
    SupplierClaim,
    SupplierClaimStatus,
)

__all__ = [
    "ACTIVE_VISIT_STATUSES",
    "COVERED_STATUSES",
    "DEVICE_HELD_STATUSES",
    "FINAL_STATUSES",
    "OPEN_STATUSES",
    "PLANNABLE_VISIT_STATUSES",
    "REPAIR_TRANSITIONS",
    "SUPPLIER_CLAIM_TRANSITIONS",
    "TO_SCHEDULE_STATUSES",
    "VISIT_TRANSITIONS",
    "CoverageKind",
    "DiagnosisCode",
    "DispatchPolicy",
    "Exclusion",
    "ExtendedWarranty",
    "LineCoverage",
    "LineKind",
    "LocationKind",
    "MovementKind",
    "Part",
    "PartReservation",
    "PartStock",
    "PhotoPhase",
    "ProfileChange",
    "QuoteStatus",
    "RegistrationSource",
    "RegistrationStatus",
    "RegistrationTransfer",
    "Remedy",
    "RepairLine",
    "RepairMode",
    "RepairOrder",
    "RepairPolicy",
    "RepairQuote",
    "RepairStatus",
    "ReservationState",
    "Responsibility",
    "ServiceAddressFields",
    "ServiceCentre",
    "StartBasis",
    "StockLocation",
    "StockMovement",
    "SupplierClaim",
    "SupplierClaimStatus",
    "TechnicianDayLoad",
    "TechnicianProfile",
    "TechnicianTimeOff",
    "TechnicianWindowLoad",
    "Visit",
    "VisitParty",
    "VisitPhoto",
    "VisitStatus",
    "WarrantyCoverage",
    "WarrantyRegistration",
    "WarrantyTerm",
]
