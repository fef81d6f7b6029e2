from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.churn.flags import close_flag, escalate_flag, flag_account, post_weekly_status
from accounts.churn.models import ChurnRiskFlag, ChurnSignal, FlagStatus, WeeklyStatusUpdate
from accounts.churn.review import (
    review_groups,
    review_owner_summaries,
    suggested_accounts,
    suggested_window,
)
from accounts.churn.tests.churn_helpers import NOW, TODAY, activity, owned_account
from accounts.models import ActivityKind
from accounts.tests.factories import TEST_PASSWORD, AccountFactory, manager, tam, team_lead
from revopsweb.tests.csv_reading import export_rows

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def _flag(account, *, arr=None, raised_at=NOW, severity="elevated"):
    flag = flag_account(
        account=account, by=account.owner, triggers="usage down", severity=severity, now=raised_at
    )
    if arr is not None:
        ChurnRiskFlag.objects.filter(pk=flag.pk).update(arr_at_flag=Decimal(arr))
        flag.refresh_from_db()
    return flag


def _rows(user, now=NOW):
    return [row for group in review_groups(user=user, now=now) for row in group.rows]


def _login(client, user):
    assert client.login(email=user.email, password=TEST_PASSWORD)
    return client


# --- grouping and ordering -------------------------------------------------------


def test_review_groups_flags_by_owner_name_and_orders_rows_by_arr():
    zoe, adam = tam(name="Zoe Z"), tam(name="Adam A")
    small = _flag(owned_account(owner=zoe, name="Small"), arr=10_000)
    big = _flag(owned_account(owner=zoe, name="Big"), arr=90_000)
    other = _flag(owned_account(owner=adam, name="Other"), arr=5_000)
    groups = review_groups(user=manager(), now=NOW)
    assert [g.owner for g in groups] == [adam, zoe]
    assert [[r.flag for r in g.rows] for g in groups] == [[other], [big, small]]
    assert groups[1].arr == Decimal(100_000)


def test_owner_groups_are_headed_by_the_owners_name_and_their_counts():
    zoe = tam(name="Zoe Z")
    _flag(owned_account(owner=zoe), arr=10_000)
    _flag(owned_account(owner=zoe), arr=5_000)
    summaries = review_owner_summaries(user=manager())
    assert [(s.name, s.count, s.arr) for s in summaries] == [("Zoe Z", 2, Decimal(15_000))]


def test_closed_flags_leave_the_review():
    account = owned_account()
    flag = _flag(account)
    close_flag(flag=flag, by=account.owner, status=FlagStatus.RESOLVED)
    assert _rows(manager()) == []


def test_a_tam_sees_their_own_flags_a_lead_their_teams_and_a_manager_everyones():
    lead = team_lead()
    mine, teammates, elsewhere = (
        owned_account(),
        owned_account(owner=tam(team_lead=lead)),
        owned_account(),
    )
    for account in (mine, teammates, elsewhere):
        _flag(account)
    assert [r.flag.account for r in _rows(mine.owner)] == [mine]
    assert [r.flag.account for r in _rows(lead)] == [teammates]
    assert len(_rows(manager())) == 3


# --- the rules ------------------------------------------------------------------------


@pytest.mark.parametrize(("days", "prompt"), [(27, False), (28, True)])
def test_four_weeks_at_risk_without_improvement_prompts_escalate_or_accept(days, prompt):
    _flag(owned_account(), raised_at=NOW - dt.timedelta(days=days))
    [row] = _rows(manager())
    assert row.weeks_at_risk == days // 7
    assert row.escalate_or_accept is prompt


def test_an_improving_status_removes_the_escalate_or_accept_prompt():
    account = owned_account()
    flag = _flag(account, raised_at=NOW - dt.timedelta(days=40))
    post_weekly_status(flag=flag, by=account.owner, tried="exec call", trend="improving")
    [row] = _rows(manager())
    assert row.escalate_or_accept is False


@pytest.mark.parametrize(
    ("arr", "severity", "marker"),
    [
        (50_000, "serious", ""),
        (50_001, "serious", "needed"),
        (80_000, "elevated", ""),
    ],
)
def test_over_fifty_k_at_serious_risk_needs_leadership(arr, severity, marker):
    _flag(owned_account(), arr=arr, severity=severity)
    [row] = _rows(manager())
    assert row.leadership_marker == marker


def test_a_leadership_escalation_marks_leadership_involved():
    account = owned_account()
    flag = _flag(account, arr=120_000, severity="serious")
    escalate_flag(flag=flag, by=account.owner, team="leadership", person="Simon")
    [row] = _rows(manager())
    assert row.leadership_marker == "involved"


@pytest.mark.parametrize(
    ("call_after_hours", "now_after_hours", "state"),
    [
        (47, 72, "held"),
        (48, 72, "held"),
        (49, 72, "missed"),
        (None, 30, "due"),
        (None, 49, "missed"),
    ],
)
def test_recovery_call_within_48_hours_of_flagging(call_after_hours, now_after_hours, state):
    account = owned_account()
    raised = NOW - dt.timedelta(hours=now_after_hours)
    _flag(account, raised_at=raised)
    if call_after_hours is not None:
        activity(account, kind=ActivityKind.CALL, at=raised + dt.timedelta(hours=call_after_hours))
    [row] = _rows(manager())
    assert row.recovery_call == state


def test_an_email_is_not_a_recovery_call():
    account = owned_account()
    raised = NOW - dt.timedelta(hours=72)
    _flag(account, raised_at=raised)
    activity(account, kind=ActivityKind.EMAIL, at=raised + dt.timedelta(hours=1))
    [row] = _rows(manager())
    assert row.recovery_call == "missed"


def test_a_flag_without_a_status_this_week_is_highlighted():
    account = owned_account()
    flag = _flag(account, raised_at=NOW - dt.timedelta(days=10))
    [row] = _rows(manager())
    assert row.missing_update is True
    post_weekly_status(flag=flag, by=account.owner, tried="call")
    [row] = _rows(manager())
    assert row.missing_update is False


def test_a_flag_raised_this_week_needs_no_status_yet():
    _flag(owned_account(), raised_at=NOW - dt.timedelta(days=1))
    [row] = _rows(manager())
    assert row.missing_update is False


def test_next_key_date_is_the_earliest_upcoming_of_status_flag_and_renewal():
    account = owned_account(renewal_date=TODAY + dt.timedelta(days=60))
    flag = _flag(account)
    post_weekly_status(
        flag=flag, by=account.owner, tried="x", next_key_date=TODAY + dt.timedelta(days=5)
    )
    [row] = _rows(manager())
    assert row.next_key_date == TODAY + dt.timedelta(days=5)


# --- the page ---------------------------------------------------------------------------


def test_review_page_shows_markers_and_overdue_retros(client):
    lead = team_lead()
    owner = tam(team_lead=lead)
    big = owned_account(owner=owner, name="Bigco")
    _flag(big, arr=75_000, severity="serious", raised_at=NOW - dt.timedelta(days=35))
    lost = owned_account(owner=owner, name="Lostco")
    lost_flag = _flag(lost)
    close_flag(flag=lost_flag, by=owner, status=FlagStatus.CHURNED, now=NOW - dt.timedelta(days=8))
    body = _login(client, lead).get(reverse("churn:review")).content.decode()
    assert "Bigco" in body
    assert 'data-testid="escalate-or-accept"' in body
    assert "Over $50k: involve leadership" in body
    assert 'data-testid="missing-update"' in body
    assert f'data-testid="retro-{lost_flag.pk}"' in body and "Overdue" in body


def test_suggested_accounts_are_listed_with_a_flag_link(client):
    account = owned_account(name="Quietco")
    ChurnSignal.objects.create(account=account, kind="champion_left", detected_on=TODAY)
    body = _login(client, account.owner).get(reverse("churn:review")).content.decode()
    assert "Quietco" in body and reverse("churn:flag", args=[account.pk]) in body


def test_a_team_lead_is_suggested_only_their_teams_accounts(client):
    # Another team's account neither opens nor flags for a lead (404, 403).
    lead = team_lead()
    ours = owned_account(owner=tam(team_lead=lead), name="Ourco")
    theirs = owned_account(name="Elsewhereco")
    for account in (ours, theirs):
        ChurnSignal.objects.create(account=account, kind="champion_left", detected_on=TODAY)
    body = _login(client, lead).get(reverse("churn:review")).content.decode()
    assert "Suggested: signals without a flag <small>· 1</small>" in body
    assert "Ourco" in body and reverse("churn:flag", args=[ours.pk]) in body
    assert "Elsewhereco" not in body


def test_a_team_lead_reviews_their_teams_flags_only(client):
    # A lead's review is their team's (as their home's at-risk panel): another team's
    # owner is not listed, and asking for their group shows no card.
    lead = team_lead()
    ours = owned_account(owner=tam(team_lead=lead), name="Ourco")
    theirs = owned_account(name="Elsewhereco")
    for account in (ours, theirs):
        _flag(account)
    _login(client, lead)
    body = client.get(reverse("churn:review"), {"owner": ours.owner_id}).content.decode()
    assert "Ourco" in body and reverse("accounts:account", args=[ours.pk]) in body
    body = client.get(reverse("churn:review"), {"owner": theirs.owner_id}).content.decode()
    assert "Elsewhereco" not in body and 'data-testid="flag-card"' not in body


def test_a_team_lead_sees_their_teams_retros_only(client):
    lead = team_lead()
    ours = owned_account(owner=tam(team_lead=lead), name="Ourco")
    theirs = owned_account(name="Elsewhereco")
    for account in (ours, theirs):
        close_flag(flag=_flag(account), by=manager(), status=FlagStatus.CHURNED)
    body = _login(client, lead).get(reverse("churn:review")).content.decode()
    assert 'data-testid="retro-' in body and "Ourco" in body
    assert "Elsewhereco" not in body


def _scoped_company():
    """A team lead with three flagged accounts in their team (one their own) and six
    flagged elsewhere, one of the team's closed (saved) last week."""
    lead = team_lead()
    member = tam(team_lead=lead)
    ours = [owned_account(owner=member), owned_account(owner=member), owned_account(owner=lead)]
    for account in ours:
        _flag(account, arr=10_000, raised_at=NOW - dt.timedelta(weeks=2))
    saved = owned_account(owner=member)
    close_flag(
        flag=_flag(saved, raised_at=NOW - dt.timedelta(weeks=3)),
        by=member,
        status=FlagStatus.RESOLVED,
        now=NOW - dt.timedelta(weeks=1),
    )
    for _ in range(6):
        _flag(owned_account(), arr=1_000, raised_at=NOW - dt.timedelta(weeks=2))
    return lead, member


@pytest.mark.parametrize(
    ("viewer", "scope", "count", "saved"),
    [("member", "your book", 2, 1), ("lead", "your team", 3, 1), ("manager", "the company", 9, 1)],
)
def test_the_reviews_header_chart_and_table_share_the_viewers_scope(
    client, viewer, scope, count, saved
):
    lead, member = _scoped_company()
    user = {"member": member, "lead": lead, "manager": manager()}[viewer]
    response = _login(client, user).get(reverse("churn:review"))
    body = re.sub(r"\s+", " ", response.content.decode())
    assert f"<h1>Weekly at-risk review: {scope}</h1>" in body
    assert f"{count} accounts at risk in {scope}" in body
    assert f"Last 6 months: {scope}</h2>" in body
    trend = response.context["trend"]
    assert trend[-1].at_risk == response.context["chart"]["at_risk"][-1] == count
    assert sum(w.saved for w in trend) == saved


@pytest.mark.parametrize("viewer", ["member", "lead"])
def test_the_home_and_the_review_count_the_same_flags(client, viewer):
    lead, member = _scoped_company()
    _login(client, lead if viewer == "lead" else member)
    home = client.get("/").content.decode()
    review_page = client.get(reverse("churn:review"))
    [flagged] = re.findall(r"<strong>(\d+)</strong> flagged at risk", home)
    assert int(flagged) == review_page.context["flag_count"] == (3 if viewer == "lead" else 2)


def _build_review(n, *, boss, owner=None):
    """``n`` flagged accounts (each with a status, an escalation and a recovery call),
    ``n`` suggested ones and one churned flag awaiting its retro."""
    for i in range(n):
        account = owned_account(owner=owner)
        flag = _flag(account, raised_at=NOW - dt.timedelta(days=30 + i % 3))
        post_weekly_status(flag=flag, by=account.owner, tried="call")
        escalate_flag(flag=flag, by=account.owner, team="product")
        activity(account, kind=ActivityKind.CALL, at=flag.raised_at + dt.timedelta(hours=2))
        suggested = owned_account(owner=owner)
        ChurnSignal.objects.create(account=suggested, kind="data_export", detected_on=TODAY)
    lost = _flag(owned_account(owner=owner))
    close_flag(flag=lost, by=boss, status=FlagStatus.CHURNED)


def test_review_page_query_count_does_not_grow_with_flags_or_owners(
    client, django_assert_num_queries
):
    boss = manager()
    _login(client, boss)
    _build_review(3, boss=boss)
    # session, user with their roles, owners with their counts, suggested count and
    # page, their open signals, retros count and page, trend flags.
    with django_assert_num_queries(9):
        small = client.get(reverse("churn:review"))
    _build_review(60, boss=boss)
    with django_assert_num_queries(9):
        large = client.get(reverse("churn:review"))
    assert small.content.decode().count('data-testid="owner-group"') == 3
    assert large.content.decode().count('data-testid="owner-group"') == 63
    # Owners' groups start closed: no card is rendered until one is opened.
    assert 'data-testid="flag-card"' not in large.content.decode()


def test_an_open_group_costs_the_same_queries_whatever_its_size(client, django_assert_num_queries):
    boss, owner = manager(), tam()
    _login(client, boss)
    _build_review(2, boss=boss, owner=owner)
    url = reverse("churn:review") + f"?owner={owner.pk}"
    # the nine above, and the group's flags, their status updates, their escalations
    with django_assert_num_queries(12):
        small = client.get(url)
    _build_review(40, boss=boss, owner=owner)
    with django_assert_num_queries(12):
        large = client.get(url)
    assert small.content.decode().count('data-testid="flag-card"') == 2
    assert large.content.decode().count('data-testid="flag-card"') == 25


def test_an_owner_with_more_flags_than_a_page_gets_pages_of_25(client):
    owner = tam()
    for i in range(30):
        _flag(owned_account(owner=owner, name=f"Acct {i:02d}"), arr=1_000 * (i + 1))
    _login(client, manager())
    url = reverse("churn:review") + f"?owner={owner.pk}&page=2"
    body = client.get(url).content.decode()
    # Largest ARR first: page 2 holds the five smallest.
    names = re.findall(r'data-testid="flag-card">\s*<header>\s*<strong><a [^>]+>([^<]+)<', body)
    assert sorted(names) == [f"Acct {i:02d}" for i in range(5)]
    assert "Previous page" in body and "Next page" not in body


def test_htmx_opens_one_owners_group_as_a_fragment(client):
    owner = tam(name="Olive Owner")
    other = tam(name="Zed Other")
    _flag(owned_account(owner=owner, name="Acme"))
    _flag(owned_account(owner=other, name="Zedco"))
    _login(client, manager())
    response = client.get(
        reverse("churn:review") + f"?owner={owner.pk}&part=group", headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div class="owner-flags"')
    assert "Acme" in body and "Zedco" not in body and "<html" not in body


def test_a_plain_get_with_part_renders_the_whole_page(client):
    owner = tam()
    _flag(owned_account(owner=owner, name="Acme"))
    _flag(owned_account(name="Other"))
    _login(client, manager())
    body = client.get(reverse("churn:review") + f"?owner={owner.pk}&part=group").content
    assert b"<html" in body and b"Acme" in body


def test_suggested_accounts_come_50_a_page(client):
    owner = tam()
    for i in range(55):
        account = owned_account(owner=owner, name=f"Quiet {i:02d}")
        ChurnSignal.objects.create(account=account, kind="champion_left", detected_on=TODAY)
    _login(client, owner)
    first = client.get(reverse("churn:review")).content.decode()
    second = client.get(reverse("churn:review") + "?suggested=2").content.decode()
    assert "Quiet 49" in first and "Quiet 50" not in first
    assert "Quiet 50" in second and "Quiet 54" in second and "Quiet 49" not in second
    assert "51–55 of 55" in second


# --- posting status, escalations, outcomes ---------------------------------------------


def test_owner_posts_status_with_htmx_and_gets_the_card_back(client):
    account = owned_account(name="Acme")
    flag = _flag(account, raised_at=NOW - dt.timedelta(days=10))
    response = _login(client, account.owner).post(
        reverse("churn:status", args=[flag.pk]),
        {"tried": "exec call booked", "working": "", "help_needed": "", "trend": "improving"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.startswith(f'<article id="flag-{flag.pk}"') or f'id="flag-{flag.pk}"' in body
    assert "exec call booked" in body and "<html" not in body
    assert WeeklyStatusUpdate.objects.get(flag=flag).author == account.owner


def test_plain_status_post_redirects_to_the_review(client):
    account = owned_account()
    flag = _flag(account)
    response = _login(client, account.owner).post(
        reverse("churn:status", args=[flag.pk]), {"tried": "call", "trend": "no_change"}
    )
    assert response.status_code == 302
    assert (
        response["Location"]
        == reverse("churn:review") + f"?owner={account.owner.pk}&page=1#flag-{flag.pk}"
    )


def test_plain_post_lands_on_the_page_of_the_group_holding_the_card(client):
    owner = tam()
    flags = [_flag(owned_account(owner=owner), arr=1_000 * (30 - i)) for i in range(30)]
    response = _login(client, owner).post(
        reverse("churn:status", args=[flags[27].pk]), {"tried": "call", "trend": "no_change"}
    )
    assert response["Location"].endswith(f"?owner={owner.pk}&page=2#flag-{flags[27].pk}")
    page = client.get(response["Location"]).content.decode()
    assert f'id="flag-{flags[27].pk}"' in page


def test_status_with_missing_fields_saves_nothing(client):
    account = owned_account()
    flag = _flag(account)
    _login(client, account.owner).post(
        reverse("churn:status", args=[flag.pk]), {"tried": "", "trend": "sideways"}
    )
    assert not WeeklyStatusUpdate.objects.exists()


def test_status_url_refuses_get(client):
    account = owned_account()
    flag = _flag(account)
    response = _login(client, account.owner).get(reverse("churn:status", args=[flag.pk]))
    assert response.status_code == 405


def test_another_tam_cannot_see_or_post_on_a_flag(client):
    flag = _flag(owned_account())
    response = _login(client, tam()).post(
        reverse("churn:status", args=[flag.pk]), {"tried": "x", "trend": "no_change"}
    )
    assert response.status_code == 404
    assert not WeeklyStatusUpdate.objects.exists()


def test_a_team_lead_of_another_team_cannot_close_a_flag(client):
    flag = _flag(owned_account(owner=tam(team_lead=team_lead())))
    response = _login(client, team_lead()).post(
        reverse("churn:close", args=[flag.pk]), {"status": "resolved"}
    )
    assert response.status_code == 403
    flag.refresh_from_db()
    assert flag.is_open


def test_a_tam_cannot_flag_someone_elses_account(client):
    account = owned_account()
    response = _login(client, tam()).post(
        reverse("churn:flag", args=[account.pk]), {"triggers": "x", "severity": "elevated"}
    )
    assert response.status_code == 404
    assert not ChurnRiskFlag.objects.exists()


def test_flag_form_is_prefilled_with_open_signals_and_flags(client):
    account = owned_account()
    ChurnSignal.objects.create(account=account, kind="data_export", detected_on=TODAY)
    _login(client, account.owner)
    page = client.get(reverse("churn:flag", args=[account.pk])).content.decode()
    assert "Full data export requested" in page
    response = client.post(
        reverse("churn:flag", args=[account.pk]),
        {"triggers": "export", "known": "moving to BigQuery", "severity": "serious"},
    )
    flag = ChurnRiskFlag.objects.get(account=account)
    assert response.status_code == 302 and flag.severity == "serious"
    assert flag.signal_kinds == ["data_export"]


def test_churned_outcome_sends_the_owner_to_the_retro(client):
    account = owned_account()
    flag = _flag(account)
    response = _login(client, account.owner).post(
        reverse("churn:close", args=[flag.pk]), {"status": "churned", "note": "gone"}
    )
    assert response["Location"] == reverse("churn:retro", args=[flag.pk])
    response = client.post(
        reverse("churn:retro", args=[flag.pk]),
        {
            "what_happened": "budget cut",
            "root_cause": "business_change",
            "learnings": "multi-thread",
        },
    )
    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.retro.root_cause == "business_change"


def test_escalation_by_htmx_returns_the_card(client):
    account = owned_account()
    flag = _flag(account)
    response = _login(client, account.owner).post(
        reverse("churn:escalate", args=[flag.pk]),
        {"team": "product", "person": "PM for replay", "note": ""},
        headers={"HX-Request": "true"},
    )
    assert "PM for replay" in response.content.decode()


def test_csv_export_lists_the_review(client):
    account = owned_account(name="Acme")
    flag = _flag(account, arr=60_000)
    post_weekly_status(flag=flag, by=account.owner, tried="call", trend="worse")
    rows = export_rows(_login(client, manager()).get(reverse("churn:review_csv")))
    assert [(r["account"], r["arr_at_flag"], r["tried"], r["trend"]) for r in rows] == [
        ("Acme", "60000.00", "call", "worse")
    ]


def test_csv_export_neutralises_formulas_and_keeps_numbers_exact(client):
    account = owned_account(name="+Acme")
    flag = _flag(account, arr="-1234.5")
    post_weekly_status(flag=flag, by=account.owner, tried="=1+1", trend="worse")
    [row] = export_rows(_login(client, manager()).get(reverse("churn:review_csv")))
    assert (row["account"], row["tried"]) == ("'+Acme", "'=1+1")
    assert row["arr_at_flag"] == "-1234.50"


def test_csv_export_dates_a_flag_in_the_company_time_zone(client, settings):
    settings.TIME_ZONE = "America/New_York"
    # 03:00 UTC on 18 November is 22:00 on 17 November in New York.
    _flag(owned_account(), raised_at=dt.datetime(2026, 11, 18, 3, 0, tzinfo=dt.UTC))
    [row] = export_rows(_login(client, manager()).get(reverse("churn:review_csv")))
    assert row["flagged_on"] == "2026-11-17"


def test_trend_counts_at_risk_accounts_arr_saved_and_churned_per_week():
    from accounts.churn.review import weekly_trend

    saved_account, lost_account, open_account = (owned_account() for _ in range(3))
    saved = _flag(saved_account, arr=10_000, raised_at=NOW - dt.timedelta(weeks=3))
    close_flag(
        flag=saved,
        by=saved_account.owner,
        status=FlagStatus.RESOLVED,
        now=NOW - dt.timedelta(weeks=1),
    )
    lost = _flag(lost_account, arr=20_000, raised_at=NOW - dt.timedelta(weeks=2))
    close_flag(flag=lost, by=lost_account.owner, status=FlagStatus.CHURNED, now=NOW)
    _flag(open_account, arr=5_000, raised_at=NOW - dt.timedelta(days=1))
    trend = weekly_trend(today=TODAY, weeks=4)
    assert [w.week for w in trend][-1] == dt.date(2026, 11, 16)
    # Weeks of Oct 26, Nov 2, Nov 9, Nov 16; at risk = open at the week's end.
    assert [(w.at_risk, w.arr_at_risk, w.saved, w.churned) for w in trend] == [
        (1, Decimal(10_000), 0, 0),
        (2, Decimal(30_000), 0, 0),
        (1, Decimal(20_000), 1, 0),
        (1, Decimal(5_000), 0, 1),
    ]


def test_the_review_links_each_flagged_account(client):
    account = owned_account()
    _flag(account)
    content = _login(client, manager()).get(reverse("churn:review")).content.decode()
    assert f'href="{reverse("accounts:account", args=[account.pk])}"' in content


def test_each_card_has_form_ids_of_its_own(client):
    owner = tam()
    first, second = owned_account(owner=owner), owned_account(owner=owner)
    flags = [_flag(first), _flag(second)]
    content = _login(client, manager()).get(reverse("churn:review")).content.decode()
    ids = re.findall(r' id="([^"]+)"', content)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for flag in flags:
        assert f'for="id_flag{flag.pk}_status_tried"' in content


def test_the_suggested_count_leaves_out_flagged_accounts_and_counts_each_account_once(client):
    owner = tam()
    twice = owned_account(owner=owner, name="Twice")
    ChurnSignal.objects.create(account=twice, kind="champion_left", detected_on=TODAY)
    ChurnSignal.objects.create(account=twice, kind="data_export", detected_on=TODAY)
    flagged = owned_account(owner=owner, name="Flagged")
    ChurnSignal.objects.create(account=flagged, kind="champion_left", detected_on=TODAY)
    _flag(flagged)
    cleared = owned_account(owner=owner, name="Cleared")
    ChurnSignal.objects.create(
        account=cleared, kind="champion_left", detected_on=TODAY, cleared_on=TODAY
    )
    others = owned_account(name="Someone else's")
    ChurnSignal.objects.create(account=others, kind="champion_left", detected_on=TODAY)
    mine = _login(client, owner).get(reverse("churn:review")).content.decode()
    everyone = _login(client, manager()).get(reverse("churn:review")).content.decode()
    assert "Suggested: signals without a flag <small>· 1</small>" in mine
    assert "Suggested: signals without a flag <small>· 2</small>" in everyone


def _suggest(account):
    ChurnSignal.objects.create(account=account, kind="champion_left", detected_on=TODAY)
    return account


def _suggestions_for_windows():
    """Owned and unowned suggestions with ties: two owners of one name, accounts of one
    name under one owner, a flagged account, another team's; more unowned accounts than
    owned, created in reverse name order."""
    lead = team_lead(name="Lena Lead")
    ann, ann_too = tam(name="Ann", team_lead=lead), tam(name="Ann", team_lead=lead)
    bob = tam(name="Bob")
    for owner, names in ((ann, "CAC"), (ann_too, "BAB"), (bob, "AB")):
        for name in names:
            _suggest(owned_account(owner=owner, name=name))
    _flag(_suggest(owned_account(owner=ann, name="A flagged")))
    for name in "KJIHGFEDCBAA":
        _suggest(AccountFactory.create(name=name))
    return lead


@pytest.mark.parametrize("viewer", ["manager", "team lead"])
def test_each_window_of_the_suggested_list_is_that_slice_of_the_whole_list(viewer):
    lead = _suggestions_for_windows()
    user = manager() if viewer == "manager" else lead
    whole = list(suggested_accounts(user=user))
    # The team lead's list is her team's six; the manager's adds Bob's two and 12 unowned.
    assert len(whole) == (20 if viewer == "manager" else 6)
    for size in (1, 2, 3, 5):
        for start in range(0, len(whole) + size, size):
            window = suggested_window(user=user, start=start, stop=start + size)
            assert list(window) == whole[start : start + size], (size, start)


def test_the_suggested_list_is_by_owner_name_then_account_name_unowned_last():
    _suggestions_for_windows()
    rows = [(a.owner.name if a.owner else None, a.name) for a in suggested_accounts(user=manager())]
    assert rows == sorted(rows, key=lambda r: (r[0] is None, r[0] or "", r[1]))
    assert rows[-12:] == [(None, name) for name in "AABCDEFGHIJK"]


def test_the_trend_places_flags_raised_or_closed_at_a_weeks_end_midnight():
    from zoneinfo import ZoneInfo

    from accounts.churn.review import weekly_trend

    # Company midnights: the week of Oct 26 ends Nov 2 (after the DST change of Nov 1),
    # the week of Nov 2 ends Nov 9.
    midnight = {d: dt.datetime(2026, 11, d, tzinfo=ZoneInfo("America/New_York")) for d in (2, 9)}
    closed_at_end = owned_account()
    flag = _flag(closed_at_end, arr=10_000, raised_at=NOW - dt.timedelta(weeks=8))
    close_flag(flag=flag, by=closed_at_end.owner, status=FlagStatus.RESOLVED, now=midnight[2])
    _flag(owned_account(), arr=7_000, raised_at=midnight[9])
    trend = weekly_trend(today=TODAY, weeks=4)
    # Closed at the end of the week of Oct 26: still at risk then, saved the week after.
    # Raised at the end of the week of Nov 2: at risk from the week of Nov 9.
    assert [(w.at_risk, w.arr_at_risk, w.saved) for w in trend] == [
        (1, Decimal(10_000), 0),
        (0, Decimal(0), 1),
        (1, Decimal(7_000), 0),
        (1, Decimal(7_000), 0),
    ]
