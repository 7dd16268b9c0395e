"""Small real videos, written byte by byte in the test: an MP4 or QuickTime movie (``ftyp``, a
``moov`` with its movie and track headers, an ``mdat``) and a WebM (EBML header, a segment with its
info and one VP8 picture track). Each is a few hundred bytes and says how long it lasts."""

import struct

from django.core.files.uploadedfile import SimpleUploadedFile

MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _full_box(kind: bytes, flags: int, payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", flags) + payload)


def mp4_bytes(*, seconds: float = 3, quicktime: bool = False, width: int = 64, height: int = 48) -> bytes:
    timescale = 1000
    duration = int(seconds * timescale)
    brands = (
        b"qt  " + struct.pack(">I", 0x200) + b"qt  "
        if quicktime
        else b"isom" + struct.pack(">I", 0x200) + b"isomiso2mp41"
    )
    mvhd = _full_box(
        b"mvhd",
        0,
        struct.pack(">IIII", 0, 0, timescale, duration)
        + struct.pack(">IH", 0x10000, 0x100)
        + b"\x00" * 10
        + MATRIX
        + b"\x00" * 24
        + struct.pack(">I", 2),
    )
    tkhd = _full_box(
        b"tkhd",
        3,
        struct.pack(">IIIII", 0, 0, 1, 0, duration)
        + b"\x00" * 8
        + struct.pack(">hhH", 0, 0, 0)
        + b"\x00\x00"
        + MATRIX
        + struct.pack(">II", width << 16, height << 16),
    )
    mdhd = _full_box(b"mdhd", 0, struct.pack(">IIII", 0, 0, timescale, duration) + struct.pack(">HH", 0x55C4, 0))
    hdlr = _full_box(b"hdlr", 0, struct.pack(">I", 0) + b"vide" + b"\x00" * 12 + b"VideoHandler\x00")
    trak = _box(b"trak", tkhd + _box(b"mdia", mdhd + hdlr))
    return _box(b"ftyp", brands) + _box(b"moov", mvhd + trak) + _box(b"mdat", b"\x00" * 64)


def _ebml_size(length: int) -> bytes:
    if length < 0x7F:
        return bytes([0x80 | length])
    if length < 0x3FFF:
        return struct.pack(">H", 0x4000 | length)
    return b"\x01" + length.to_bytes(7, "big")


def _element(element_id: int, payload: bytes) -> bytes:
    return element_id.to_bytes((element_id.bit_length() + 7) // 8, "big") + _ebml_size(len(payload)) + payload


def _uint(element_id: int, value: int, width: int = 1) -> bytes:
    return _element(element_id, value.to_bytes(width, "big"))


def _cluster(at_ms: int, frames_ms: tuple[int, ...]) -> bytes:
    """A cluster starting at ``at_ms`` with one VP8 frame (a SimpleBlock of track 1) at each offset."""
    blocks = b"".join(_element(0xA3, b"\x81" + struct.pack(">hB", offset, 0x80) + b"\x00" * 8) for offset in frames_ms)
    return _element(0x1F43B675, _uint(0xE7, at_ms, 4) + blocks)


def webm_bytes(
    *, seconds: float | None = 3, clusters: tuple[tuple[int, tuple[int, ...]], ...] = (), live: bool = False
) -> bytes:
    """``seconds`` None: no Duration in the segment's info, as a browser's MediaRecorder writes
    it; ``clusters``: (start in ms, (frame offsets in ms)) of each cluster of frames; ``live``: the
    segment's size written as unknown (all ones), as a live recording does."""
    header = _element(
        0x1A45DFA3,
        _uint(0x4286, 1)
        + _uint(0x42F7, 1)
        + _uint(0x42F2, 4)
        + _uint(0x42F3, 8)
        + _element(0x4282, b"webm")
        + _uint(0x4287, 4)
        + _uint(0x4285, 2),
    )
    info = _element(
        0x1549A966,
        _uint(0x2AD7B1, 1_000_000, 3)
        + (_element(0x4489, struct.pack(">d", seconds * 1000.0)) if seconds is not None else b"")
        + _element(0x4D80, b"test")
        + _element(0x5741, b"test"),
    )
    video = _element(0xE0, _uint(0xB0, 64, 2) + _uint(0xBA, 48, 2))
    track = _element(0xAE, _uint(0xD7, 1) + _uint(0x73C5, 1) + _uint(0x83, 1) + _element(0x86, b"V_VP8") + video)
    frames = b"".join(_cluster(at_ms, offsets) for at_ms, offsets in clusters)
    body = info + _element(0x1654AE6B, track) + frames
    if live:
        return header + (0x18538067).to_bytes(4, "big") + b"\x01" + b"\xff" * 7 + body
    return header + _element(0x18538067, body)


def video_upload(name: str = "fault.mp4", data: bytes | None = None, **kwargs) -> SimpleUploadedFile:
    if data is None:
        data = webm_bytes(**kwargs) if name.endswith(".webm") else mp4_bytes(quicktime=name.endswith(".mov"), **kwargs)
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")
