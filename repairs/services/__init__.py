"""Every write to repairs, one module per family of use cases; the names are re-exported here.

- ``requests``: create (with the repeat-visit guarantee), triage, reject, cancel
- ``quotes``: send, approve, decline, expire
- ``work``: device received, diagnosis, lines, waiting for parts, repair, QC, handed back, confirm,
  auto-close
- ``parts``: stock received, reserved, used, put back
- ``registrations``: on delivery, by the customer with proof, installation, transfer, swap
- ``claims``: supplier claims
- ``evidence``: a visit's photos before and after the work
- ``settlement``: replaced or refunded through the returns ledgers

``_transitions`` holds the one move the families share inside their transactions.
"""

from .claims import supplier_claim_move, supplier_claim_open
from .evidence import visit_photos_add
from .parts import (
    part_reservation_consume,
    part_reservation_release,
    part_reserve,
    part_stock_receive,
    part_use,
    reservations_release,
)
from .quotes import LineInput, repair_quote_approve, repair_quote_decline, repair_quote_expire, repair_quote_send
from .registrations import (
    extended_warranty_sell,
    registration_proof_decide,
    registration_record_installation,
    registration_register,
    registration_swap,
    registration_transfer,
    registrations_for_delivered_order,
)
from .requests import repair_cancel, repair_reject, repair_request_create, repair_triage
from .settlement import repair_settle
from .work import (
    repair_auto_close,
    repair_collected,
    repair_confirm,
    repair_device_receive,
    repair_diagnose,
    repair_diagnosis_start,
    repair_line_add,
    repair_parts_wait,
    repair_qc,
    repair_ship_back,
    repair_start,
)

__all__ = [
    "LineInput",
    "extended_warranty_sell",
    "part_reservation_consume",
    "part_reservation_release",
    "part_reserve",
    "part_stock_receive",
    "part_use",
    "registration_proof_decide",
    "registration_record_installation",
    "registration_register",
    "registration_swap",
    "registration_transfer",
    "registrations_for_delivered_order",
    "repair_auto_close",
    "repair_cancel",
    "repair_collected",
    "repair_confirm",
    "repair_device_receive",
    "repair_diagnose",
    "repair_diagnosis_start",
    "repair_line_add",
    "repair_parts_wait",
    "repair_qc",
    "repair_quote_approve",
    "repair_quote_decline",
    "repair_quote_expire",
    "repair_quote_send",
    "repair_reject",
    "repair_request_create",
    "repair_settle",
    "repair_ship_back",
    "repair_start",
    "repair_triage",
    "reservations_release",
    "supplier_claim_move",
    "supplier_claim_open",
    "visit_photos_add",
]
