"""Short videos on the checked-upload path: MP4, QuickTime and WebM whose container hachoir reads
whole, with a picture and a length within ``ATTACHMENT_VIDEO_MAX_SECONDS``, under their own size
cap; a file cut short, a header glued onto something else, bytes that are not what the name says or
a clip too long are refused with a clear message."""

import pytest

from aftersales.exceptions import InvalidInput
from tickets.attachments import checked_upload
from tickets.tests.videos import mp4_bytes, video_upload, webm_bytes


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("fault.mp4", "video/mp4"), ("fault.mov", "video/quicktime"), ("fault.webm", "video/webm")],
)
def test_a_short_video_is_accepted_and_stored_as_it_came(settings, name, content_type):
    settings.ATTACHMENT_VIDEO_MAX_SECONDS = 60
    upload = video_upload(name, seconds=12)
    data = upload.read()

    stored, found_type, _sha256 = checked_upload(upload)

    assert found_type == content_type
    assert stored.read() == data


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("cut.mp4", mp4_bytes()[:-20]),  # the mdat ends early
        ("cut.mov", mp4_bytes(quicktime=True)[:60]),  # the movie header ends early
        ("cut.webm", webm_bytes()[:-10]),  # the segment ends early
        ("glued.mp4", mp4_bytes()[:32] + b"\xff" * 200),  # a real ftyp glued onto junk
        ("tail.mp4", mp4_bytes() + b"\x00\x00"),  # bytes after the last box
        ("nopicture.mp4", mp4_bytes(width=0, height=0)),
        ("still.mp4", mp4_bytes(seconds=0)),
    ],
)
def test_a_truncated_or_forged_video_is_refused_as_unreadable(name, data):
    with pytest.raises(InvalidInput) as refusal:
        checked_upload(video_upload(name, data))

    assert refusal.value.code == "attachment_corrupt"
    assert refusal.value.message == f"{name} is not a readable video (it may be cut short)."


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("fault.webm", mp4_bytes()),  # MP4 bytes named WebM
        ("fault.mp4", webm_bytes()),  # WebM bytes named MP4
        ("fault.mov", mp4_bytes()),  # an MP4 named QuickTime
        ("fault.mp4", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100),  # a picture named a video
    ],
)
def test_bytes_that_are_not_what_the_name_says_are_refused(name, data):
    with pytest.raises(InvalidInput) as refusal:
        checked_upload(video_upload(name, data))

    assert refusal.value.code == "attachment_mismatch"
    assert refusal.value.message == f"{name} is not the kind of file its name says."


@pytest.mark.parametrize("name", ["long.mp4", "long.webm"])
def test_a_video_longer_than_the_setting_is_refused(settings, name):
    settings.ATTACHMENT_VIDEO_MAX_SECONDS = 60

    assert checked_upload(video_upload(name, seconds=60))[1].startswith("video/")
    with pytest.raises(InvalidInput) as refusal:
        checked_upload(video_upload(name, seconds=60.5))

    assert refusal.value.code == "attachment_too_long"
    assert refusal.value.message == f"{name} is longer than 60 seconds; send a shorter video."


def test_a_browser_recorded_webm_without_a_duration_is_timed_by_its_clusters(settings):
    # given: MediaRecorder's WebM, no Duration in its info; frames up to 59.5 s, then up to 61 s
    settings.ATTACHMENT_VIDEO_MAX_SECONDS = 60
    short = webm_bytes(seconds=None, clusters=((0, (0, 500)), (30_000, (0, 29_500))))
    long = webm_bytes(seconds=None, clusters=((0, (0,)), (30_000, (0, 31_000))))

    # when
    stored, found_type, _sha256 = checked_upload(video_upload("recorded.webm", short))
    with pytest.raises(InvalidInput) as refusal:
        checked_upload(video_upload("long.webm", long))

    # then: the short one is stored as it came, the long one refused for its length
    assert (found_type, stored.read()) == ("video/webm", short)
    assert refusal.value.code == "attachment_too_long"
    assert refusal.value.message == "long.webm is longer than 60 seconds; send a shorter video."


def test_a_live_recorded_webm_of_unknown_size_is_accepted_whole_and_refused_cut_short(settings):
    # given: MediaRecorder's segment of unknown size, no Duration, frames up to 1.9 s
    settings.ATTACHMENT_VIDEO_MAX_SECONDS = 60
    whole = webm_bytes(seconds=None, clusters=((0, (0, 500)), (1000, (0, 900))), live=True)
    too_long = webm_bytes(seconds=None, clusters=((0, (0,)), (30_000, (0, 31_000))), live=True)

    # when
    stored, found_type, _sha256 = checked_upload(video_upload("recorded.webm", whole))
    refusals = {}
    for name, data in [("cut.webm", whole[:-5]), ("mid.webm", whole[:-30]), ("long.webm", too_long)]:
        with pytest.raises(InvalidInput) as refusal:
            checked_upload(video_upload(name, data))
        refusals[name] = refusal.value.code

    # then: the whole one is stored as it came; its last cluster cut short shows it was cut
    assert (found_type, stored.read()) == ("video/webm", whole)
    assert refusals == {
        "cut.webm": "attachment_corrupt",
        "mid.webm": "attachment_corrupt",
        "long.webm": "attachment_too_long",
    }


def test_a_whole_webm_without_a_duration_or_frames_is_accepted_within_the_size_cap(settings):
    # given: no Duration and no cluster to time, but a whole structure with a picture track
    data = webm_bytes(seconds=None)
    settings.ATTACHMENT_VIDEO_MAX_BYTES = len(data)

    # when
    accepted = checked_upload(video_upload("recorded.webm", data))[1]
    settings.ATTACHMENT_VIDEO_MAX_BYTES = len(data) - 1
    with pytest.raises(InvalidInput) as too_large:
        checked_upload(video_upload("recorded.webm", data))
    with pytest.raises(InvalidInput) as cut:
        checked_upload(video_upload("cut.webm", data[:-10]))

    # then: accepted; over the cap refused for its size; cut short refused as unreadable
    assert accepted == "video/webm"
    assert too_large.value.code == "attachment_too_large"
    assert cut.value.code == "attachment_corrupt"


def test_a_video_has_its_own_size_cap_above_the_photos_one(settings, png_upload):
    data = mp4_bytes()
    settings.ATTACHMENT_MAX_BYTES = len(data) - 1
    settings.ATTACHMENT_VIDEO_MAX_BYTES = len(data)

    accepted = checked_upload(video_upload("fault.mp4", data))[1]
    settings.ATTACHMENT_VIDEO_MAX_BYTES = len(data) - 1
    with pytest.raises(InvalidInput) as refusal:
        checked_upload(video_upload("fault.mp4", data))

    assert accepted == "video/mp4"
    assert refusal.value.code == "attachment_too_large"
