"""The forms of the case hub: ``dashboard`` for staff pages, ``portal`` for the customer's."""
