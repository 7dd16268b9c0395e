"""Pages of returns: the staff dashboard's (``dashboard``) and the customer portal's (``portal``)."""
