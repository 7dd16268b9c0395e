"""Filters that every list of the API shares."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.instants import instant_in_utc


class InstantField(django_filters.fields.IsoDateTimeField):
    default_error_messages = {
        "out_of_range": _("Enter a time with an offset of at most ±15:59, between years 1 and 9999.")
    }

    def to_python(self, value):
        instant = super().to_python(value)
        if instant is None:
            return None
        in_utc = instant_in_utc(instant)
        if in_utc is None or abs(instant.utcoffset().total_seconds()) >= 16 * 3600:
            raise forms.ValidationError(self.error_messages["out_of_range"], code="out_of_range")
        return in_utc


class InstantFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time, moved to UTC before it reaches the query; an offset or a date PostgreSQL
    cannot hold is the client's error (400), never the server's."""

    field_class = InstantField
