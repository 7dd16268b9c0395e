"""What a file is, judged by its content rather than its name."""

import hashlib
import io
import warnings
from pathlib import PurePosixPath

import filetype
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, UnidentifiedImageError

from aftersales.exceptions import InvalidInput
from tickets.videos import VIDEO_TYPES, video_duration

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
    ".webm": {"video/webm"},
}
PILLOW_CHECKED = {"image/jpeg", "image/png", "image/gif", "image/webp"}
# Saved again without their metadata (GIF carries no EXIF; HEIC is not readable by Pillow).
SCRUBBED = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
# What an image's info may hold that says nothing about where or by whom it was taken: kept, and
# given back to the encoder.
KEPT_INFO = {"icc_profile", "transparency", "gamma", "dpi", "srgb", "chromaticity", "background", "loop", "duration"}
# How the file is encoded, which the encoder works out again: no reason to save a photo anew.
ENCODING_INFO = {
    "jfif",
    "jfif_version",
    "jfif_unit",
    "jfif_density",
    "adobe",
    "adobe_transform",
    "progressive",
    "progression",
    "interlace",
    "aspect",
    "lossless",
}
ACCEPT_ATTRIBUTE = ",".join(sorted(ALLOWED_TYPES))
# Sent with every uploaded file, to staff and customer alike: what a customer uploaded never runs
# a script or loads anything under the site's origin, whoever opens it.
DOWNLOAD_CONTENT_SECURITY_POLICY = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"


def inspect_upload(upload: UploadedFile) -> tuple[str, str]:
    """Return (content type, sha256) of an acceptable upload, or raise InvalidInput."""
    name = upload.name or ""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in ALLOWED_TYPES:
        raise InvalidInput(
            _("%(name)s: this kind of file is not accepted. Use a photo, PDF or video.") % {"name": name},
            code="attachment_type",
        )
    # A short video may be larger than a photo (its own setting); what it really is decides below.
    is_video = ALLOWED_TYPES[suffix] <= VIDEO_TYPES
    limit = settings.ATTACHMENT_VIDEO_MAX_BYTES if is_video else settings.ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        raise InvalidInput(
            _("%(name)s is larger than %(limit)s.") % {"name": name, "limit": filesizeformat(limit)},
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
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; our own limit is lower.
            with warnings.catch_warnings(), Image.open(upload) as image:
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                _refuse_too_many_pixels(name, *image.size)
                image.verify()
        except Image.DecompressionBombError as exc:
            raise _too_many_pixels(name) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise InvalidInput(
                _("%(name)s is not a readable image.") % {"name": name}, code="attachment_corrupt"
            ) from exc
    if content_type in VIDEO_TYPES:
        video_duration(upload, content_type)
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return content_type, digest.hexdigest()


def _too_many_pixels(name: str) -> InvalidInput:
    return InvalidInput(
        _("%(name)s is too large a picture; the limit is %(limit)s megapixels.")
        % {"name": name, "limit": settings.ATTACHMENT_MAX_PIXELS // 1_000_000},
        code="attachment_too_many_pixels",
    )


def _refuse_too_many_pixels(name: str, width: int, height: int) -> None:
    """A small file can declare a huge picture (a 48 KB PNG of 20000 × 20000): refuse it from its
    header, before anything decodes it."""
    if width * height > settings.ATTACHMENT_MAX_PIXELS:
        raise _too_many_pixels(name)


def scrubbed_image(upload: UploadedFile, content_type: str) -> bytes | None:
    """The image saved again without its metadata (GPS position, camera make, model and serial,
    owner, comments, XMP, IPTC), keeping only its orientation and colour profile; None when there
    was nothing to remove, so a clean file is stored as it came."""
    image_format = SCRUBBED.get(content_type)
    if image_format is None:
        return None
    upload.seek(0)
    with Image.open(upload) as image:
        exif = image.getexif()
        orientation = exif.get(ExifTags.Base.Orientation)
        identifying = {key for key in image.info if key not in KEPT_INFO | ENCODING_INFO}
        lossless = bool(image.info.get("lossless", False))
        if not identifying and set(exif) <= {ExifTags.Base.Orientation}:
            return None
        kept = Image.Exif()
        if orientation is not None:
            kept[ExifTags.Base.Orientation] = orientation
        options = {key: image.info[key] for key in KEPT_INFO & set(image.info)}
        # Pillow writes some of what it read back out (a JPEG's comment) unless it is gone from info.
        for key in identifying:
            del image.info[key]
        if kept:
            options["exif"] = kept.tobytes()
        if image_format == "JPEG":
            # The same quantisation tables and subsampling: the pixels change as little as a re-save can.
            options.update(quality="keep", subsampling="keep", progressive="progressive" in image.info)
            options.pop("transparency", None)
        elif image_format == "WEBP":
            options.update(lossless=lossless, quality=90)
            if getattr(image, "n_frames", 1) > 1:
                options["save_all"] = True
        elif image_format == "PNG" and getattr(image, "n_frames", 1) > 1:
            options["save_all"] = True
        buffer = io.BytesIO()
        image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def checked_upload(upload: UploadedFile) -> tuple[UploadedFile, str, str]:
    """The file to store, its content type and its sha256: an acceptable upload (see
    ``inspect_upload``), and an image without what a customer did not mean to give."""
    content_type, sha256 = inspect_upload(upload)
    try:
        clean = scrubbed_image(upload, content_type)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput(
            _("%(name)s is not a readable image.") % {"name": upload.name}, code="attachment_corrupt"
        ) from exc
    upload.seek(0)
    if clean is None:
        return upload, content_type, sha256
    stored = SimpleUploadedFile(upload.name or "upload", clean, content_type=content_type)
    return stored, content_type, hashlib.sha256(clean).hexdigest()
