"""Large exports as background jobs (issue 13): above ``EXPORT_BACKGROUND_ROWS`` the queue's export
is written by a worker (Celery eager here) to private storage, with its progress on the job, the
requester told by e-mail in their language, the file handed out only to them under the download
sandbox, and deleted by the beat sweep when it expires. Below the threshold the export streams."""

import csv
import io
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from aftersales import exports
from aftersales.models import ExportJob, ExportState, Membership, Notification
from aftersales.services.exports import export_job_request, export_job_run, export_jobs_sweep
from aftersales.tests.factories import MembershipFactory, MerchantFactory, UserFactory
from tickets.models import TicketKind
from tickets.tests.factories import TicketFactory

SANDBOX = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"


@pytest.fixture
def shop(db, settings, private_storage):
    settings.EXPORT_BACKGROUND_ROWS = 3
    ours = MerchantFactory.create(default_language="zh-hans")
    theirs = MerchantFactory.create()
    agent = MembershipFactory.create(
        merchant=ours, role=Membership.Role.AGENT, user=UserFactory.create(username="li-agent", language="zh-hans")
    ).user
    for number in range(1, 6):
        TicketFactory.create(merchant=ours, number=f"SUP-00000{number}", subject=f"Question {number}")
    TicketFactory.create(merchant=theirs, number="SUP-000099", subject="Not ours")
    return ours, theirs, agent


def _file_rows(job: ExportJob) -> list[list[str]]:
    with default_storage.open(job.file, "rb") as handle:
        text = handle.read().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_a_large_queue_export_runs_as_a_job_with_every_row_and_tells_the_requester(
    client, shop, django_capture_on_commit_callbacks
):
    # Given five of our tickets (one of another merchant's) and a threshold of three rows
    ours, _theirs, agent = shop
    client.force_login(agent)

    # When our agent exports the queue as CSV, the task running after commit
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("dashboard:queue"), {"export": "csv"})

    # Then the page sends them to their Exports page, and the job wrote our five rows, no other
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:exports")
    job = ExportJob.objects.get()
    assert (job.merchant_id, job.requested_by_id, job.source, job.file_format) == (
        ours.pk,
        agent.pk,
        "tickets.queue",
        "csv",
    )
    assert (job.state, job.rows_total, job.rows_written, job.error) == (ExportState.DONE, 5, 5, "")
    assert job.params == {}
    assert job.language == "zh-hans"
    rows = _file_rows(job)
    assert rows[0][:3] == ["编号", "类型", "状态"]
    assert sorted(row[0] for row in rows[1:]) == [f"SUP-00000{n}" for n in range(1, 6)]
    assert job.file_size == default_storage.size(job.file)
    assert job.expires_at == job.finished_at + timedelta(hours=72)
    # And one e-mail to the requester, in their language, says it is ready
    [mail] = Notification.objects.filter(template="export_ready")
    assert (mail.channel, mail.recipient, mail.recipient_user_id, mail.language) == (
        Notification.Channel.EMAIL,
        agent.email,
        agent.pk,
        "zh-hans",
    )
    assert mail.context["rows"] == 5
    assert mail.context["exports_url"].endswith("/dashboard/exports/")


def test_the_exports_page_shows_progress_and_the_download_is_sandboxed(
    client, shop, django_capture_on_commit_callbacks
):
    # Given a finished export of the queue filtered to one status
    _ours, _theirs, agent = shop
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("dashboard:queue"), {"export": "csv", "status": "all"})
    job = ExportJob.objects.get()
    assert job.params == {"status": ["all"]}

    # When the agent opens their Exports page and downloads the file
    page = client.get(reverse("dashboard:exports"))
    download = client.get(reverse("dashboard:export_download", args=[job.pk]))

    # Then the page lists it as ready (no self-reload while nothing runs), and the file is theirs
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-export="{job.pk}"' in html
    assert reverse("dashboard:export_download", args=[job.pk]) in html
    assert 'http-equiv="refresh"' not in html
    assert download.status_code == 200
    assert download["Content-Security-Policy"] == SANDBOX
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"].startswith('attachment; filename="queue-')
    body = b"".join(download.streaming_content)
    with default_storage.open(job.file, "rb") as handle:
        assert body == handle.read()


def test_a_queued_job_shows_on_a_page_that_reloads_itself_and_a_running_one_its_progress(client, shop):
    # Given one queued job and one running at 2 of 5 rows
    ours, _theirs, agent = shop
    ExportJob.objects.create(
        merchant=ours, requested_by=agent, source="tickets.queue", stem="queue", file_format="csv", language="en"
    )
    ExportJob.objects.create(
        merchant=ours,
        requested_by=agent,
        source="tickets.queue",
        stem="queue",
        file_format="xlsx",
        language="en",
        state=ExportState.RUNNING,
        rows_total=5,
        rows_written=2,
    )
    client.force_login(agent)

    # When the agent opens the Exports page
    html = client.get(reverse("dashboard:exports"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # Then it reloads itself and shows 2 of 5 rows (40 %)
    assert '<meta http-equiv="refresh" content="3">' in html
    assert '<progress max="5" value="2"' in html
    assert "(40%)" in html


def test_another_merchant_or_another_person_cannot_see_or_download_an_export(
    client, shop, django_capture_on_commit_callbacks
):
    # Given our agent's finished export
    ours, theirs, agent = shop
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("dashboard:queue"), {"export": "csv"})
    job = ExportJob.objects.get(state=ExportState.DONE)
    colleague = MembershipFactory.create(merchant=ours, role=Membership.Role.SUPERVISOR).user
    stranger = MembershipFactory.create(merchant=theirs, role=Membership.Role.MERCHANT_ADMIN).user

    for other in (colleague, stranger):
        # When someone else asks for it or opens their Exports page
        client.force_login(other)
        download = client.get(reverse("dashboard:export_download", args=[job.pk]))
        page = client.get(reverse("dashboard:exports"))

        # Then it is a 404 and not listed
        assert download.status_code == 404
        assert f'data-export="{job.pk}"' not in page.content.decode()


def test_a_small_export_still_streams_and_records_no_job(client, shop, settings):
    # Given a threshold of five rows and five tickets
    _ours, _theirs, agent = shop
    settings.EXPORT_BACKGROUND_ROWS = 5
    client.force_login(agent)

    # When the agent exports the queue
    response = client.get(reverse("dashboard:queue"), {"export": "csv"})

    # Then it is the streamed download and no job exists
    assert response.status_code == 200
    assert response.streaming
    assert len(b"".join(response.streaming_content).decode().splitlines()) == 6
    assert ExportJob.objects.count() == 0


def test_the_worker_reads_as_the_requester_a_technician_gets_only_their_repairs(
    client, shop, django_capture_on_commit_callbacks
):
    # Given five repairs, four assigned to our technician, one to nobody
    ours, _theirs, _agent = shop
    technician = MembershipFactory.create(merchant=ours, role=Membership.Role.TECHNICIAN).user
    for number in range(1, 5):
        TicketFactory.create(merchant=ours, number=f"RP-00000{number}", kind=TicketKind.REPAIR, assignee=technician)
    TicketFactory.create(merchant=ours, number="RP-000009", kind=TicketKind.REPAIR)
    client.force_login(technician)

    # When the technician exports the queue (above the threshold of three: a job)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("dashboard:queue"), {"export": "csv"})

    # Then the file holds their four repairs only
    job = ExportJob.objects.get()
    assert (job.state, job.rows_written) == (ExportState.DONE, 4)
    assert sorted(row[0] for row in _file_rows(job)[1:]) == ["RP-000001", "RP-000002", "RP-000003", "RP-000004"]


def test_an_xlsx_job_writes_a_workbook_with_every_row(client, shop, django_capture_on_commit_callbacks):
    _ours, _theirs, agent = shop
    client.force_login(agent)

    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("dashboard:queue"), {"export": "xlsx"})

    job = ExportJob.objects.get()
    assert (job.state, job.rows_written, job.file_format) == (ExportState.DONE, 5, "xlsx")
    with default_storage.open(job.file, "rb") as handle, zipfile.ZipFile(io.BytesIO(handle.read())) as workbook:
        sheet = workbook.read("xl/worksheets/sheet1.xml").decode()
    assert sheet.count("<row ") == 6
    assert all(f"SUP-00000{n}" in sheet for n in range(1, 6))
    assert "SUP-000099" not in sheet


def test_a_job_whose_requester_left_fails_with_why_and_writes_nothing(shop, django_capture_on_commit_callbacks):
    # Given a job recorded while the agent still worked here, who then left before a worker ran it
    ours, _theirs, agent = shop
    membership = Membership.objects.get(merchant=ours, user=agent)
    with django_capture_on_commit_callbacks(execute=False):
        job = export_job_request(
            membership=membership, source="tickets.queue", stem="queue", params={}, file_format="csv"
        )
    Membership.objects.filter(pk=membership.pk).update(is_active=False)

    # When the worker runs it
    export_job_run(job_id=job.pk)

    # Then it failed with the reason, no file and no e-mail
    job.refresh_from_db()
    assert (job.state, job.error, job.file, job.rows_written) == (
        ExportState.FAILED,
        "You no longer work for this merchant.",
        "",
        0,
    )
    assert job.finished_at is not None
    assert Notification.objects.filter(template="export_ready").count() == 0


def test_a_job_whose_list_breaks_records_the_error(shop, django_capture_on_commit_callbacks):
    # Given a list source that breaks half way
    ours, _theirs, agent = shop

    def broken(membership, params):
        raise RuntimeError("the database went away")

    exports.export_source_register("test.broken", broken)
    membership = Membership.objects.get(merchant=ours, user=agent)
    with django_capture_on_commit_callbacks(execute=True):
        job = export_job_request(
            membership=membership, source="test.broken", stem="broken", params={}, file_format="csv"
        )

    job.refresh_from_db()
    assert (job.state, job.error) == (ExportState.FAILED, "RuntimeError: the database went away")


def test_a_second_delivery_of_the_task_changes_nothing(client, shop, django_capture_on_commit_callbacks):
    _ours, _theirs, agent = shop
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("dashboard:queue"), {"export": "csv"})
    job = ExportJob.objects.get()
    before = (job.file, job.finished_at, job.rows_written)

    assert export_job_run(job_id=job.pk) is None

    job.refresh_from_db()
    assert (job.file, job.finished_at, job.rows_written) == before
    assert Notification.objects.filter(template="export_ready").count() == 1


def test_an_unknown_list_or_format_is_refused_and_nothing_is_recorded(shop):
    ours, _theirs, agent = shop
    membership = Membership.objects.get(merchant=ours, user=agent)
    from aftersales.exceptions import InvalidInput

    with pytest.raises(InvalidInput):
        export_job_request(membership=membership, source="nothing.here", stem="x", params={}, file_format="csv")
    with pytest.raises(InvalidInput):
        export_job_request(membership=membership, source="tickets.queue", stem="x", params={}, file_format="pdf")
    assert ExportJob.objects.count() == 0


def test_the_sweep_deletes_expired_files_and_fails_stalled_jobs(client, shop, django_capture_on_commit_callbacks):
    # Given a finished export and a job that no worker ever took
    ours, _theirs, agent = shop
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("dashboard:queue"), {"export": "csv"})
    done = ExportJob.objects.get()
    name = done.file
    stuck = ExportJob.objects.create(
        merchant=ours, requested_by=agent, source="tickets.queue", stem="queue", file_format="csv", language="en"
    )

    # When the sweep runs an hour before the file expires, nothing changes
    with time_machine.travel(done.expires_at - timedelta(hours=1)), django_capture_on_commit_callbacks(execute=True):
        assert export_jobs_sweep(now=timezone.now()) == (0, 1)
    done.refresh_from_db()
    assert done.state == ExportState.DONE
    assert default_storage.exists(name)
    stuck.refresh_from_db()
    assert stuck.state == ExportState.FAILED
    assert stuck.error.startswith("The export stalled")

    # When it runs once the file has expired
    with time_machine.travel(done.expires_at + timedelta(seconds=1)), django_capture_on_commit_callbacks(execute=True):
        assert export_jobs_sweep(now=timezone.now()) == (1, 0)

    # Then the job is expired, its file deleted, and the download a 404
    done.refresh_from_db()
    assert (done.state, done.file) == (ExportState.EXPIRED, "")
    assert not default_storage.exists(name)
    assert client.get(reverse("dashboard:export_download", args=[done.pk])).status_code == 404


def test_a_large_returns_export_runs_as_a_job_with_the_pages_filters(
    client, db, settings, private_storage, django_capture_on_commit_callbacks
):
    # Given our submitted return, another merchant's, and a threshold of no rows
    from returns.tests.builders import make_world, submit

    settings.EXPORT_BACKGROUND_ROWS = 0
    ours = make_world()
    ours_return = submit(ours)
    theirs = make_world()
    submit(theirs)
    client.force_login(ours.agent)

    # When our agent exports the returns list (every status)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("dashboard:returns"), {"status": "all", "export": "csv"})

    # Then a job wrote our one return with its units and estimated refund
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert (job.source, job.state, job.rows_total, job.rows_written) == ("returns.list", ExportState.DONE, 1, 1)
    rows = _file_rows(job)
    assert [(row[0], row[4], row[8], row[9]) for row in rows[1:]] == [
        (ours_return.ticket.number, ours.order.external_number, "3", "300.00")
    ]


def test_a_returns_job_of_someone_whose_role_no_longer_allows_it_fails_and_writes_nothing(
    db, settings, private_storage, django_capture_on_commit_callbacks
):
    # Given a returns export recorded for an agent who became a technician before it ran
    from returns.tests.builders import make_world, submit

    world = make_world()
    submit(world)
    membership = Membership.objects.get(merchant=world.merchant, user=world.agent)
    with django_capture_on_commit_callbacks(execute=False):
        job = export_job_request(
            membership=membership, source="returns.list", stem="returns", params={}, file_format="csv"
        )
    Membership.objects.filter(pk=membership.pk).update(role=Membership.Role.TECHNICIAN)

    # When the worker runs it
    export_job_run(job_id=job.pk)

    # Then it is refused with the role's reason and no file
    job.refresh_from_db()
    assert (job.state, job.error, job.file) == (ExportState.FAILED, "Your role does not allow this action.", "")
