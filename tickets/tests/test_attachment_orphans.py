"""A file written for a transaction that then rolled back stays on disk with no row naming it:
beat sweeps such files once they are a day old."""

import os
import time
from pathlib import Path

import pytest
from django.db import transaction

from aftersales.celery import app
from tickets.models import Attachment
from tickets.services import attachment_orphans_sweep, ticket_note
from tickets.tasks import attachment_orphans_sweep as sweep_task

pytestmark = pytest.mark.django_db

HOUR = 3600


class LaterFailure(Exception):
    """Something after the upload, in the same transaction, that fails."""


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    return tmp_path


def _files(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def _age(root: Path, name: str, seconds: int) -> None:
    then = time.time() - seconds
    os.utime(root / name, (then, then))


def _orphan(ticket, agent, upload, root: Path) -> str:
    """Upload a file in a transaction that fails after the upload; return the file it left."""
    before = _files(root)

    def note_then_fail() -> None:
        with transaction.atomic():
            ticket_note(ticket=ticket, actor=agent, body="See the photo.", files=[upload])
            raise LaterFailure

    with pytest.raises(LaterFailure):
        note_then_fail()
    (left,) = _files(root) - before
    return left


@pytest.fixture
def stored(make_ticket, agent, png_upload, pdf_upload, private_storage):
    """One referenced file and two orphans, each more or less than a day old."""
    ticket = make_ticket()
    kept = ticket_note(ticket=ticket, actor=agent, body="Kept.", files=[png_upload("kept.png")])
    referenced = kept.attachments.get().file.name
    young = _orphan(ticket, agent, png_upload("young.png"), private_storage)
    old = _orphan(ticket, agent, pdf_upload("old.pdf"), private_storage)
    _age(private_storage, referenced, 30 * HOUR)
    _age(private_storage, young, 23 * HOUR)
    _age(private_storage, old, 25 * HOUR)
    return {"referenced": referenced, "young": young, "old": old}


def test_a_rolled_back_upload_leaves_its_file_with_no_row(stored, private_storage):
    assert list(Attachment.objects.values_list("file", flat=True)) == [stored["referenced"]]
    assert _files(private_storage) == {stored["referenced"], stored["young"], stored["old"]}
    assert all(name.startswith("attachments/") for name in stored.values())


def test_the_sweep_deletes_only_orphans_older_than_a_day(stored, private_storage):
    assert attachment_orphans_sweep() == 1

    assert _files(private_storage) == {stored["referenced"], stored["young"]}
    assert list(Attachment.objects.values_list("file", flat=True)) == [stored["referenced"]]
    # Nothing left to do the second time.
    assert attachment_orphans_sweep() == 0
    assert _files(private_storage) == {stored["referenced"], stored["young"]}


def test_files_outside_the_attachments_directory_are_left_alone(stored, private_storage):
    (private_storage / "exports").mkdir()
    (private_storage / "exports" / "report.csv").write_text("a,b\n")
    _age(private_storage, "exports/report.csv", 48 * HOUR)

    assert attachment_orphans_sweep() == 1

    assert _files(private_storage) == {stored["referenced"], stored["young"], "exports/report.csv"}


def test_an_empty_storage_has_nothing_to_sweep(private_storage):
    assert attachment_orphans_sweep() == 0
    assert _files(private_storage) == set()


def test_beat_runs_the_sweep_task_and_the_task_sweeps(stored, private_storage):
    # The schedule names a registered task, so beat's message reaches a worker that knows it.
    task = "tickets.tasks.attachment_orphans_sweep"
    entry = next(entry for entry in app.conf.beat_schedule.values() if entry["task"] == task)
    assert entry["task"] in app.tasks
    assert entry["schedule"] == 3600.0

    assert sweep_task.delay().get() == 1

    assert _files(private_storage) == {stored["referenced"], stored["young"]}
