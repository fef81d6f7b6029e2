"""Trials (sales/trials): stages and the Day 0 gate, the trials page and the account panel."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.tests.factories import AccountFactory, manager, tam
from billing.models import Trial, TrialExtension, TrialKind, TrialOutcome
from billing.trials import trial_state

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 10)


def _trial(**kwargs) -> Trial:
    values = {
        "account": AccountFactory.create(name="Acme"),
        "kind": TrialKind.SALES_ASSISTED,
        "starts_on": dt.date(2026, 3, 2),
        "ends_on": dt.date(2026, 3, 16),
        "deal_arr": Decimal(45000),
    }
    values.update(kwargs)
    return Trial.objects.create(**values)


def test_a_started_trial_waits_at_day_0_until_the_sdk_is_live():
    trial = _trial(success_criteria="Funnels on signup")
    state = trial_state(trial=trial, extension_days=0, today=TODAY)
    assert (state.stage, state.missing) == ("day_0", ("Day 0: SDK installed and events firing",))
    trial.sdk_live_on = dt.date(2026, 3, 4)
    state = trial_state(trial=trial, extension_days=0, today=TODAY)
    assert (state.stage, state.day, state.missing) == ("running", 6, ())
    assert state.label == "day 6, 6 days left"


def test_the_trial_ends_on_its_expiry_plus_extensions_and_an_outcome_wins():
    trial = _trial(sdk_live_on=dt.date(2026, 3, 2))
    assert trial_state(trial=trial, extension_days=0, today=dt.date(2026, 3, 16)).stage == "ended"
    extended = trial_state(trial=trial, extension_days=7, today=dt.date(2026, 3, 16))
    assert (extended.stage, extended.expires_on) == ("running", dt.date(2026, 3, 23))
    trial.outcome = TrialOutcome.WON
    assert trial_state(trial=trial, extension_days=0, today=TODAY).label == "Won"


@time_machine.travel(dt.datetime(2026, 3, 10, 15, tzinfo=dt.UTC))
def test_trials_page_shows_open_trials_with_their_extensions(client, django_assert_num_queries):
    running = _trial(sdk_live_on=dt.date(2026, 3, 3), success_criteria="Replay on checkout")
    TrialExtension.objects.create(
        trial=running, granted_on=TODAY, days=14, reason="CTO away", get="Procurement started"
    )
    _trial(account=AccountFactory.create(name="Old Co"), starts_on=dt.date(2026, 1, 5),
           ends_on=dt.date(2026, 1, 19))  # fmt: skip
    client.force_login(tam())
    response = client.get(reverse("billing:trials"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Acme" in html and "Old Co" not in html
    assert "2026-03-30" in html and "(+14 days)" in html  # 16 March + 14 days
    assert "Procurement started" in html and "2 weeks ($20–60K)" in html
    ended = client.get(reverse("billing:trials"), {"show": "ended"}).content.decode()
    assert "Old Co" in ended and "Acme" not in ended


@time_machine.travel(dt.datetime(2026, 3, 10, 15, tzinfo=dt.UTC))
def test_trials_page_links_only_the_accounts_the_viewer_opens(client):
    me = tam()
    mine = _trial(account=AccountFactory.create(name="Mineco", owner=me, owner_role="TAM"))
    theirs = _trial(account=AccountFactory.create(name="Theirco", owner=tam(), owner_role="TAM"))
    client.force_login(me)
    html = client.get(reverse("billing:trials")).content.decode()
    assert f'href="{reverse("accounts:account", args=[mine.account_id])}"' in html
    assert "Theirco" in html
    assert f'href="{reverse("accounts:account", args=[theirs.account_id])}"' not in html


def test_trials_page_queries_do_not_grow_with_trials(client, django_assert_max_num_queries):
    client.force_login(tam())
    for n in range(12):
        trial = _trial(account=AccountFactory.create(), starts_on=dt.date(2026, 3, 1 + n),
                       ends_on=dt.date(2026, 3, 14 + n))  # fmt: skip
        TrialExtension.objects.create(trial=trial, granted_on=trial.starts_on, days=7,
                                      reason="r", get="g")  # fmt: skip
    with django_assert_max_num_queries(8):
        assert client.get(reverse("billing:trials"), {"show": "all"}).status_code == 200


def test_the_account_page_shows_its_trials(client):
    trial = _trial(kind=TrialKind.CROSS_SELL, success_criteria="Error tracking on web")
    client.force_login(manager())
    html = client.get(reverse("accounts:account", args=[trial.account_id])).content.decode()
    assert 'id="trials"' in html and "Cross-sell trial" in html and "Error tracking on web" in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_trials_page_lists_a_trial_waiting_for_day_0(page, login_as):
    today = dt.date.today()
    _trial(starts_on=today - dt.timedelta(days=2), ends_on=today + dt.timedelta(days=12))
    login_as(manager())
    page.goto("/trials/")
    row = page.get_by_test_id("trials").locator("tr[data-stage='day_0']")
    assert "Acme" in row.inner_text() and "waiting for Day 0" in row.inner_text()
    page.get_by_role("link", name="Acme").click()
    page.wait_for_url("**/accounts/*/")
    assert page.locator("#trials").get_by_text("waiting for Day 0").is_visible()


def test_the_owner_records_day_0_and_an_extension_through_the_row_forms(client):
    owner = tam()
    trial = _trial(account=AccountFactory.create(owner=owner, owner_role="TAM"))
    client.force_login(owner)
    client.post(reverse("billing:trial_update", args=[trial.pk]), {"sdk_live_on": "2026-03-03"})
    bad = client.post(
        reverse("billing:trial_extend", args=[trial.pk]),
        {"days": "31", "reason": "Holidays", "get": "Intro to the CFO"},
        follow=True,
    )
    assert "An extension is 7 to 30 days; got 31." in bad.content.decode()
    client.post(
        reverse("billing:trial_extend", args=[trial.pk]),
        {"days": "30", "reason": "Holidays", "get": "Intro to the CFO"},
    )
    trial.refresh_from_db()
    trial.account.refresh_from_db()
    assert trial.sdk_live_on == dt.date(2026, 3, 3)
    assert trial.extensions.get().get == "Intro to the CFO"
    assert trial.account.trial_ends_on == dt.date(2026, 4, 15)  # 16 March + 30 days


def test_someone_elses_trial_cannot_be_changed(client):
    trial = _trial(account=AccountFactory.create(owner=tam(), owner_role="TAM"))
    client.force_login(tam())
    response = client.post(reverse("billing:trial_update", args=[trial.pk]), {"outcome": "lost"})
    assert response.status_code == 403
    trial.refresh_from_db()
    assert trial.outcome == ""
