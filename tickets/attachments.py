"""What a file is, judged by its content rather than its name."""

import hashlib
from pathlib import PurePosixPath

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from aftersales.exceptions import InvalidInput

# Extension → the content types that extension may carry.
ALLOWED_TYPES: dict[str, set[str]] = {
    ".jpg": {"image/jpeg"},
    ".jpeg": {"image/jpeg"},
    ".png": {"image/png"},
    ".gif": {"image/gif"},
    ".webp": {"image/webp"},
    ".heic": {"image/heic"},
    ".pdf": {"application/pdf"},
    ".mp4": {"video/mp4"},
    ".mov": {"video/quicktime"},
}
PILLOW_CHECKED = {"image/jpeg", "image/png", "image/gif", "image/webp"}
ACCEPT_ATTRIBUTE = ",".join(sorted(ALLOWED_TYPES))


def inspect_upload(upload: UploadedFile) -> tuple[str, str]:
    """Return (content type, sha256) of an acceptable upload, or raise InvalidInput."""
    name = upload.name or ""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in ALLOWED_TYPES:
        raise InvalidInput(
            _("%(name)s: this kind of file is not accepted. Use a photo, PDF or video.") % {"name": name},
            code="attachment_type",
        )
    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise InvalidInput(
            _("%(name)s is larger than %(limit)s.")
            % {"name": name, "limit": filesizeformat(settings.ATTACHMENT_MAX_BYTES)},
            code="attachment_too_large",
        )
    upload.seek(0)
    head = upload.read(8192)
    guessed = filetype.guess(head)
    content_type = guessed.mime if guessed else None
    if content_type not in ALLOWED_TYPES[suffix]:
        raise InvalidInput(
            _("%(name)s is not the kind of file its name says.") % {"name": name}, code="attachment_mismatch"
        )
    if content_type in PILLOW_CHECKED:
        upload.seek(0)
        try:
            with Image.open(upload) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise InvalidInput(
                _("%(name)s is not a readable image.") % {"name": name}, code="attachment_corrupt"
            ) from exc
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return content_type, digest.hexdigest()
