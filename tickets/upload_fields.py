"""The form field that takes several uploaded files, and the codes of the services' refusals about
files: shared by the pages of the hub and of every workflow app (a form shows those refusals on its
files' field)."""

from django import forms

from tickets.attachments import ACCEPT_ATTRIBUTE

FILE_ERROR_CODES = {
    "attachment_type",
    "attachment_too_large",
    "attachment_mismatch",
    "attachment_corrupt",
    "too_many_attachments",
    "attachment_too_many_pixels",
    "attachment_too_long",
}


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field. What each file really is, the service checks by its content."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT_ATTRIBUTE}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        uploads = data if isinstance(data, list | tuple) else [data]
        cleaned = [super(MultipleFileField, self).clean(upload, initial) for upload in uploads if upload]
        if self.required and not cleaned:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return cleaned
