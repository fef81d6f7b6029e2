"""The progress page of a background import in Chromium: it waits for a worker,
then htmx swaps in the summary without a reload (the page is never navigated)."""

from __future__ import annotations

import pytest

from accounts.models import Account
from accounts.tests.factories import revops
from revopsweb.tests.test_import_jobs import accounts_csv

pytestmark = [pytest.mark.browser, pytest.mark.celery_worker]


@pytest.mark.django_db(transaction=True)
def test_the_progress_page_polls_until_the_summary_of_a_worker_run(
    page, login_as, redis_url, settings
):
    from celery.contrib.testing.worker import start_worker

    from revopsweb.celery import app

    settings.IMPORT_SYNC_MAX_BYTES = 1024
    login_as(revops())
    page.goto("/book/import/")
    page.get_by_label("Kind").select_option("accounts")
    page.get_by_label("File").set_input_files(
        files=[{"name": "accounts.csv", "mimeType": "text/csv", "buffer": accounts_csv(2000)}]
    )
    page.get_by_label("Dry run (check only)").uncheck()
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url("**/imports/*/")

    # No worker yet: the job waits, with a progress bar and a refresh link.
    status = page.get_by_test_id("import-job")
    assert status.get_attribute("data-state") == "queued"
    assert page.get_by_test_id("import-progress").is_visible()
    assert page.get_by_role("link", name="Refresh").is_visible()
    page.evaluate("window.sameDocument = true")

    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        summary = page.get_by_test_id("import-summary")
        summary.wait_for(timeout=120_000)
        assert summary.inner_text() == "Applied · 2000 rows: 2000 new, 0 updated"

    assert page.evaluate("window.sameDocument") is True  # swapped by htmx, not reloaded
    assert status.get_attribute("data-state") == "done"
    assert Account.objects.filter(organization_id__startswith="org_").count() == 2000
