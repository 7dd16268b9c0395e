"""What a short video really is: its container walked by hachoir (a maintained, pure-Python parser
of MP4/QuickTime and Matroska/WebM), every top-level box or element whole, its length read from the
container's own header and bounded, and a picture in it.

The upload path sniffs the first bytes (``filetype``) to know the kind; this module then reads the
structure, so a file cut short in transfer, a header glued onto something else, or a clip longer
than the merchant asked for is refused with a message instead of being stored and failing to play.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from hachoir.core import config as hachoir_config  # type: ignore[import-untyped]
from hachoir.metadata import extractMetadata  # type: ignore[import-untyped]
from hachoir.parser.container.mkv import MkvFile  # type: ignore[import-untyped]
from hachoir.parser.container.mp4 import MP4File  # type: ignore[import-untyped]
from hachoir.stream import InputIOStream  # type: ignore[import-untyped]

from aftersales.exceptions import InvalidInput

VIDEO_TYPES = {"video/mp4", "video/quicktime", "video/webm"}
# hachoir prints what it cannot parse; the refusal says it instead.
hachoir_config.quiet = True


class _Unreadable(Exception):
    pass


def video_duration(upload: UploadedFile, content_type: str) -> timedelta | None:
    """The length of an acceptable video, or InvalidInput: unreadable or cut short, no picture,
    or longer than ``ATTACHMENT_VIDEO_MAX_SECONDS``.

    A WebM recorded by a browser (MediaRecorder) has no length in its header: its length is then
    the time of its last frame, from the clusters' timecodes; with no frame to time it either, a
    WebM whose structure is whole is accepted with no known length (None): the size cap the
    caller checked bounds it."""
    name = upload.name or ""
    upload.seek(0)
    try:
        stream = InputIOStream(upload.file, source=f"upload:{name}", tags=[])
        parser: Any = MkvFile(stream) if content_type == "video/webm" else MP4File(stream)
        if parser.validate() is not True:
            raise _Unreadable
        _check_whole(parser, content_type, upload.size or 0)
        metadata = extractMetadata(parser)
        duration = metadata.get("duration") if metadata and metadata.has("duration") else None
        if duration is None and content_type == "video/webm":
            duration = _webm_last_frame(parser)
        width = _picture_width(metadata)
    except InvalidInput:
        raise
    except Exception as exc:
        raise InvalidInput(
            _("%(name)s is not a readable video (it may be cut short).") % {"name": name}, code="attachment_corrupt"
        ) from exc
    finally:
        upload.seek(0)
    timed = isinstance(duration, timedelta) and duration > timedelta(0)
    untimed_webm = duration is None and content_type == "video/webm"
    if not width or not (timed or untimed_webm):
        raise InvalidInput(
            _("%(name)s is not a readable video (it may be cut short).") % {"name": name}, code="attachment_corrupt"
        )
    limit = settings.ATTACHMENT_VIDEO_MAX_SECONDS
    if duration is not None and duration > timedelta(seconds=limit):
        raise InvalidInput(
            _("%(name)s is longer than %(limit)s seconds; send a shorter video.") % {"name": name, "limit": limit},
            code="attachment_too_long",
        )
    return duration


def _webm_last_frame(parser: Any) -> timedelta | None:
    """When the last frame of a WebM starts: the largest cluster timecode plus its block's
    offset, in the segment's timecode scale (nanoseconds a tick, a millisecond unless it says).
    None when the file has no frame."""
    scale = 1_000_000
    latest: int | None = None
    for segment in parser:
        if not segment.name.startswith("Segment"):
            continue
        for element in segment:
            if element.name.startswith("Info"):
                for entry in element:
                    if entry.name == "TimecodeScale":
                        scale = entry["unsigned"].value
            elif element.name.startswith("Cluster"):
                base = next((entry["unsigned"].value for entry in element if entry.name == "Timecode"), 0)
                for entry in element:
                    if entry.name.startswith("SimpleBlock"):
                        block = entry["block"]
                    elif entry.name.startswith("BlockGroup"):
                        block = next((part["block"] for part in entry if part.name.startswith("Block[")), None)
                        if block is None:
                            continue
                    else:
                        continue
                    at = base + block["timecode"].value
                    latest = at if latest is None else max(latest, at)
    if latest is None or latest <= 0:
        return None
    return timedelta(microseconds=latest * scale / 1000)


def _picture_width(metadata: Any) -> int:
    """The width of the first picture track (MP4 keeps it at the top, WebM per stream)."""
    if metadata is None:
        return 0
    groups = [metadata, *(metadata.iterGroups() if hasattr(metadata, "iterGroups") else [])]
    return next((group.get("width") for group in groups if group.has("width")), 0)


def _children_whole(element: Any) -> bool:
    """The elements inside a WebM element of unknown size (a live segment) each as long as its
    header says, one of unknown size only last: the segment's own size cannot show a recording
    cut short, its last cluster's can."""
    children = [child for child in element if child.name not in ("id", "size")]
    for position, child in enumerate(children):
        if not child.is_field_set:
            continue
        declared = child["size"].value
        if declared is None:
            if position != len(children) - 1:
                return False
            continue
        header = (child["size"].address + child["size"].size) // 8
        if header + declared != child.size // 8:
            return False
    return True


def _check_whole(parser: Any, content_type: str, size: int) -> None:
    """Every top-level box (MP4, QuickTime) or element (WebM) as long as its header says, and
    together the whole file: hachoir stops quietly at the end of a short file, so this is where a
    truncated upload shows. The movie's header (``moov``) or the segment must be there."""
    total = 0
    names = set()
    for field in parser:
        length = field.size // 8
        total += length
        if content_type == "video/webm":
            names.add(field.name.split("[")[0])
            header = (field["size"].address + field["size"].size) // 8
            # A size of all ones is "unknown" (a live recording, as MediaRecorder writes its
            # segment): the element runs to the end of the file, so it must be the last one.
            unknown = field["size"].value is None
            declared = length if unknown else header + field["size"].value
            if unknown and (total != size or not _children_whole(field)):
                raise _Unreadable
        else:
            names.add(field["tag"].value)
            declared = field["size"].value
            if declared == 1:  # a 64-bit size follows the tag
                declared = field["size64"].value
            elif declared == 0:  # the last box runs to the end of the file
                declared = length
        if declared != length:
            raise _Unreadable
    required = "Segment" if content_type == "video/webm" else "moov"
    if total != size or required not in names:
        raise _Unreadable
