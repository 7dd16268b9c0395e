"""The forms of returns: ``dashboard`` for staff pages, ``portal`` for the customer's."""
