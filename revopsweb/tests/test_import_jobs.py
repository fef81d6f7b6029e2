"""Page imports above IMPORT_SYNC_MAX_BYTES run on a real Celery worker with progress,
all or nothing, and every error downloadable; a dead worker's job is reported."""

from __future__ import annotations

import time
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.imports import AccountImport, SnapshotImport
from accounts.models import Account
from accounts.tests.factories import AccountFactory, revops
from billing.models import MonthlyRevenue
from revopsweb import import_jobs, tasks
from revopsweb.import_jobs import DIED, start_import
from revopsweb.jobs import _lock_key
from revopsweb.models import ImportJob
from revopsweb.tests.csv_reading import export_rows

HEADER = ",".join(AccountImport.header)


def accounts_csv(count: int, *, bad_lines: dict[int, str] | None = None) -> bytes:
    """``count`` valid account rows (line n+1 is org_n); ``bad_lines`` replaces rows by line."""
    rows = [f"org_{n},Company {n},,US,,,,,,," for n in range(1, count + 1)]
    for line, row in (bad_lines or {}).items():
        rows[line - 2] = row
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def post_accounts(client, data: bytes, *, dry_run: bool = False):
    return client.post(
        reverse("accounts:import"),
        {
            "kind": "accounts",
            "file": SimpleUploadedFile("accounts.csv", data, content_type="text/csv"),
            **({"dry_run": "on"} if dry_run else {}),
        },
    )


def wait_until_finished(job_id: uuid.UUID, *, timeout: float = 120) -> ImportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ImportJob.objects.defer("data").get(pk=job_id)
        if job.finished:
            return job
        time.sleep(0.2)
    raise AssertionError(f"import {job_id} still {job.state} after {timeout} s")


def job_of(response) -> uuid.UUID:
    assert response.status_code == 302, response.content.decode()[:500]
    job_id = uuid.UUID(response["Location"].strip("/").split("/")[-1])
    assert response["Location"] == reverse("import_job", args=[job_id])
    return job_id


# --- on a real worker ----------------------------------------------------------------


@pytest.mark.celery_worker
def test_a_large_file_is_applied_by_a_worker_and_the_page_shows_the_summary(
    client, celery_worker, settings
):
    settings.IMPORT_SYNC_MAX_BYTES = 1024
    client.force_login(revops())
    job_id = job_of(post_accounts(client, accounts_csv(3000)))

    job = wait_until_finished(job_id)

    assert (job.state, job.applied, job.rows, job.created, job.error_count) == (
        "done",
        True,
        3000,
        3000,
        0,
    )
    assert Account.objects.filter(organization_id__startswith="org_").count() == 3000
    page = client.get(reverse("import_job", args=[job_id])).content.decode()
    assert "Applied · 3000 rows: 3000 new, 0 updated" in page
    assert bytes(ImportJob.objects.get(pk=job_id).data) == b""  # the upload is not kept


@pytest.mark.celery_worker
def test_a_bad_row_at_the_end_means_nothing_is_applied_and_every_error_is_downloadable(
    client, celery_worker, settings
):
    settings.IMPORT_SYNC_MAX_BYTES = 1024
    bad = {line: f"org_{line - 1},Company,,Germany,,,,,,," for line in range(1000, 1151)}
    client.force_login(revops())
    job_id = job_of(post_accounts(client, accounts_csv(1200, bad_lines=bad)))

    job = wait_until_finished(job_id)

    assert (job.state, job.applied, job.error_count) == ("done", False, 151)
    assert not Account.objects.filter(organization_id__startswith="org_").exists()
    page = client.get(reverse("import_job", args=[job_id])).content.decode()
    assert "151 errors in 1200 rows: nothing was applied" in page
    assert "The first 100 are shown." in page
    assert page.count("<td>country</td>") == 100
    rows = export_rows(client.get(reverse("import_job_errors", args=[job_id])))
    assert len(rows) == 151
    assert rows[0]["line"] == "1000" and rows[-1]["line"] == "1150"
    assert {r["column"] for r in rows} == {"country"}
    assert all(r["reason"] for r in rows)


@pytest.mark.celery_worker
def test_a_dry_run_in_the_background_writes_nothing(client, celery_worker, settings):
    settings.IMPORT_SYNC_MAX_BYTES = 1024
    client.force_login(revops())
    job_id = job_of(post_accounts(client, accounts_csv(500), dry_run=True))

    job = wait_until_finished(job_id)

    assert (job.state, job.applied, job.created) == ("done", False, 500)
    assert not Account.objects.exists()
    assert (
        "Dry run: nothing applied"
        in client.get(reverse("import_job", args=[job_id])).content.decode()
    )


@pytest.mark.celery_worker
def test_an_error_while_writing_rolls_everything_back_and_says_so(
    client, celery_worker, settings, monkeypatch
):
    settings.IMPORT_SYNC_MAX_BYTES = 1024

    def explode(self, objs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(AccountImport, "after_apply", explode)
    client.force_login(revops())
    job_id = job_of(post_accounts(client, accounts_csv(2500)))

    job = wait_until_finished(job_id)

    assert (job.state, job.applied) == ("failed", False)
    assert not Account.objects.exists()
    assert (
        "nothing was applied" in client.get(reverse("import_job", args=[job_id])).content.decode()
    )


@pytest.mark.celery_worker
def test_a_large_monthly_revenue_file_runs_in_the_background_too(client, celery_worker, settings):
    settings.IMPORT_SYNC_MAX_BYTES = 100
    account = AccountFactory.create(organization_id="org_mrr")
    text = "organization_id,product,month,amount\n" + "".join(
        f"org_mrr,product_analytics,2025-{m:02d},{1000 + m}.50\n" for m in range(1, 13)
    )
    client.force_login(revops())
    response = client.post(
        reverse("billing:import_mrr"),
        {"file": SimpleUploadedFile("mrr.csv", text.encode(), content_type="text/csv")},
    )

    job = wait_until_finished(job_of(response))

    assert (job.kind, job.applied, job.created) == ("monthly_revenue", True, 12)
    assert MonthlyRevenue.objects.filter(account=account).count() == 12


# --- the job's life without a worker ---------------------------------------------------


def _running_job(user, *, state: str = "checking") -> ImportJob:
    return ImportJob.objects.create(
        kind="accounts",
        dry_run=False,
        created_by=user,
        created_at=timezone.now(),
        started_at=timezone.now(),
        state=state,
        rows_done=2000,
        rows_total=8000,
        data=accounts_csv(1),
    )


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_worker_died_is_reported_as_stopped_with_nothing_applied(client):
    user = revops()
    job = _running_job(user)  # "checking", but no worker holds its lock
    client.force_login(user)

    page = client.get(reverse("import_job", args=[job.pk])).content.decode()

    job.refresh_from_db()
    assert (job.state, job.failure) == ("failed", DIED)
    assert "Stopped: nothing was applied" in page


@pytest.mark.django_db(transaction=True)
def test_a_run_in_progress_shows_its_progress_and_polls(client):
    user = revops()
    job = _running_job(user, state="writing")
    worker = connections.create_connection(DEFAULT_DB_ALIAS)  # a live worker holds the lock
    with worker.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_lock_key(f"import:{job.pk}")])
    try:
        client.force_login(user)
        page = client.get(reverse("import_job", args=[job.pk])).content.decode()
        partial = client.get(reverse("import_job", args=[job.pk]), headers={"HX-Request": "true"})
    finally:
        worker.close()

    job.refresh_from_db()
    assert job.state == "writing"
    assert "Writing rows: 2000 of 8000 rows (25%)" in page
    assert 'value="2000" max="8000"' in page
    assert 'hx-trigger="every 1s"' in page
    assert f'href="{reverse("import_job", args=[job.pk])}">Refresh</a>' in page
    body = partial.content.decode()
    assert body.lstrip().startswith('<section id="job-status"') and "<html" not in body


@pytest.mark.django_db(transaction=True)
def test_progress_written_during_the_runs_transaction_is_visible_to_the_page():
    job = _running_job(revops())
    progress = import_jobs._Progress(job.pk)
    try:
        with transaction.atomic():  # the run's transaction, still open
            progress.writing(4000, 8000)
            reader = connections.create_connection(DEFAULT_DB_ALIAS)
            with reader.cursor() as cursor:
                cursor.execute("SELECT rows_done FROM revopsweb_importjob WHERE id = %s", [job.pk])
                assert cursor.fetchone() == (4000,)
            reader.close()
    finally:
        progress.close()


@pytest.mark.django_db(transaction=True)
def test_a_job_the_broker_never_took_is_handed_over_again(client, monkeypatch):
    sent: list[str] = []
    monkeypatch.setattr(tasks.run_import_job_task, "delay", lambda job_id: sent.append(job_id))
    user = revops()
    job = start_import(
        kind="accounts",
        data=accounts_csv(1),
        actor=user,
        file_name="a.csv",
        dry_run=True,
        back_url="",
    )
    assert sent == [str(job.pk)]
    client.force_login(user)
    client.get(reverse("import_job", args=[job.pk]))
    assert sent == [str(job.pk)]  # not yet: it was handed over a moment ago

    ImportJob.objects.filter(pk=job.pk).update(
        enqueued_at=timezone.now() - import_jobs.REQUEUE_AFTER * 2
    )
    client.get(reverse("import_job", args=[job.pk]))
    assert sent == [str(job.pk), str(job.pk)]


@pytest.mark.django_db(transaction=True)
def test_a_second_delivery_of_the_same_job_does_nothing(monkeypatch):
    monkeypatch.setattr(tasks.run_import_job_task, "delay", lambda job_id: None)
    job = start_import(
        kind="accounts",
        data=accounts_csv(3),
        actor=revops(),
        file_name="",
        dry_run=False,
        back_url="",
    )
    assert import_jobs.run_import_job(job_id=str(job.pk)) == "applied"
    assert import_jobs.run_import_job(job_id=str(job.pk)) == "nothing to do"
    assert Account.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_nul_in_a_background_file_is_a_row_error_not_a_crash(monkeypatch):
    monkeypatch.setattr(tasks.run_import_job_task, "delay", lambda job_id: None)
    data = accounts_csv(2, bad_lines={3: "org_2,Ac\x00me,,US,,,,,,,"})
    job = start_import(
        kind="accounts", data=data, actor=revops(), file_name="", dry_run=False, back_url=""
    )
    import_jobs.run_import_job(job_id=str(job.pk))
    job.refresh_from_db()
    assert (job.state, job.error_count, job.errors[0][:2]) == ("done", 1, [3, "name"])


@pytest.mark.django_db
def test_someone_else_cannot_open_an_import_or_its_errors(client):
    job = _running_job(revops(), state="done")
    client.force_login(revops())
    assert client.get(reverse("import_job", args=[job.pk])).status_code == 404
    assert client.get(reverse("import_job_errors", args=[job.pk])).status_code == 404


# --- the request path ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_small_file_with_errors_is_checked_in_the_request_and_its_errors_downloadable(client):
    client.force_login(revops())
    response = post_accounts(client, accounts_csv(3, bad_lines={3: "org_2,,,US,,,,,,,"}))
    assert response.status_code == 422
    link = reverse("import_job_errors", args=[response.context["job"].pk])
    assert link in response.content.decode()
    rows = export_rows(client.get(link))
    assert [(r["line"], r["column"]) for r in rows] == [("3", "name")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "extra"),
    [("accounts:import", {"kind": "accounts"}), ("billing:import_mrr", {})],
)
def test_every_import_page_refuses_a_file_over_the_upload_cap(client, settings, url, extra):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000
    client.force_login(revops())
    data = accounts_csv(100)
    response = client.post(
        reverse(url),
        {**extra, "file": SimpleUploadedFile("big.csv", data, content_type="text/csv")},
    )
    assert response.context["form"].errors["file"] == [
        "The file is 2.9\xa0KB; an import page takes at most 1000\xa0bytes "
        "(IMPORT_MAX_UPLOAD_BYTES). Split it, or import it with the management command."
    ]
    assert not ImportJob.objects.exists() and not Account.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_snapshots_page_import_runs_as_a_job_like_any_kind(client, settings, monkeypatch):
    sent: list[str] = []
    monkeypatch.setattr(tasks.run_import_job_task, "delay", lambda job_id: sent.append(job_id))
    settings.IMPORT_SYNC_MAX_BYTES = 100
    account = AccountFactory.create(organization_id="org_snap")
    header = SnapshotImport.header
    known = {"organization_id": "org_snap", "health": "good"}
    text = ",".join(header) + "\n"
    for day in (5, 12, 19, 26):
        values = {**known, "week": f"2026-01-{day:02d}"}
        text += ",".join(values.get(column, "1") for column in header) + "\n"
    client.force_login(revops())
    response = client.post(
        reverse("accounts:import"),
        {"kind": "snapshots", "file": SimpleUploadedFile("s.csv", text.encode())},
    )
    job_id = job_of(response)
    assert sent == [str(job_id)]

    outcome = import_jobs.run_import_job(job_id=str(job_id))
    job = ImportJob.objects.get(pk=job_id)
    assert (outcome, job.kind, job.created, job.errors) == ("applied", "snapshots", 4, [])
    assert account.snapshots.count() == 4


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["accounts:import", "billing:import_mrr"])
def test_every_import_page_states_its_size_cap_and_background_threshold(client, settings, url):
    settings.IMPORT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    settings.IMPORT_SYNC_MAX_BYTES = 512 * 1024
    client.force_login(revops())
    page = client.get(reverse(url)).content.decode()
    assert "At most 10.0\xa0MB; a file over 512.0\xa0KB is checked by a background worker" in page
