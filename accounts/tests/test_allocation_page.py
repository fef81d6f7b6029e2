"""The allocation page: paged, filtered by queue, nothing preselected, values in words (issue 19)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import NewOwnerTrait, Region
from accounts.tests.books_factories import freeze_today, give_arr
from accounts.tests.factories import AccountFactory, manager, tam, team_lead

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today(time_machine):
    freeze_today(time_machine)


def _rows(content: str) -> int:
    return content.count('data-testid="allocation-row"')


def test_a_long_queue_is_paged_25_at_a_time(client):
    AccountFactory.create_batch(30, new_owner_trait=NewOwnerTrait.READY_TO_MOVE)
    client.force_login(manager())
    first = client.get(reverse("accounts:allocation")).content.decode()
    second = client.get(reverse("accounts:allocation"), {"page": 2}).content.decode()
    assert _rows(first) == 25 and _rows(second) == 5
    assert "30 accounts, page 1 of 2" in first
    assert 'rel="next"' in first and 'rel="prev"' in second


def test_the_queue_filter_shows_one_queue_with_counts(client):
    AccountFactory.create_batch(3, new_owner_trait=NewOwnerTrait.READY_TO_MOVE)
    give_arr(AccountFactory.create(name="Big Unowned"), 30_000)
    client.force_login(manager())
    everything = client.get(reverse("accounts:allocation")).content.decode()
    assert "$20k+ ARR without an owner (1)" in everything
    assert "Flagged for handover (Ready to move) (3)" in everything
    unowned = client.get(reverse("accounts:allocation"), {"queue": "unowned_20k"}).content.decode()
    assert _rows(unowned) == 1 and "Big Unowned" in unowned


def test_no_person_and_no_trait_is_preselected(client):
    account = AccountFactory.create(region=Region.US)
    give_arr(account, 30_000)
    tam(name="Anna First")
    client.force_login(manager())
    content = client.get(reverse("accounts:allocation")).content.decode()
    form = client.get(reverse("accounts:allocation_assign", args=[account.pk])).content.decode()
    assert '<option value="" selected>Choose…</option>' in content
    assert '<option value="us_tam">US TAM (suggested)</option>' in content
    assert '<option value="" selected>Choose…</option>' in form
    assert ">Anna First · 0 of max 15 accounts</option>" in form
    assert len(re.findall(r'<option value="\d+" selected', content + form)) == 0


def test_the_suggestion_is_in_words_with_its_reason(client):
    give_arr(AccountFactory.create(region=Region.US), 30_000)
    client.force_login(manager())
    content = client.get(reverse("accounts:allocation")).content.decode()
    assert "US TAM: US region, core products not all paid" in content
    cell = content.split('data-testid="suggestion">', 1)[1].split("</td>", 1)[0]
    assert "us_tam" not in cell


def _lead_with_two_queued_accounts():
    """A US team lead; a queued account of their team, one of an EU team; the page's HTML."""
    lead = team_lead(region=Region.US)
    ours = AccountFactory.create(
        name="Ourco",
        owner=tam(team_lead=lead),
        owner_role="TAM",
        new_owner_trait=NewOwnerTrait.READY_TO_MOVE,
    )
    theirs = AccountFactory.create(
        name="Theirco",
        owner=tam(team_lead=team_lead(region=Region.EU)),
        owner_role="TAM",
        region=Region.EU,
        new_owner_trait=NewOwnerTrait.READY_TO_MOVE,
    )
    return lead, ours, theirs


def _row_of(content: str, name: str) -> str:
    [row] = [r for r in content.split('data-testid="allocation-row"')[1:] if name in r]
    return row.split("</tr>", 1)[0]


# The account link (accounts:account answers 404 to a lead for another team's account)
# and the handover link (handovers:propose answers 403).
@pytest.mark.parametrize("link", ["accounts:account", "handovers:propose"])
def test_a_team_lead_gets_a_link_only_for_their_teams_accounts(client, link):
    lead, ours, theirs = _lead_with_two_queued_accounts()
    client.force_login(lead)
    content = client.get(reverse("accounts:allocation")).content.decode()
    assert f'href="{reverse(link, args=[ours.pk])}"' in _row_of(content, "Ourco")
    their_row = _row_of(content, "Theirco")
    assert f'href="{reverse(link, args=[theirs.pk])}"' not in their_row


def test_the_page_reads_the_same_queries_whatever_the_queue_length(
    client, django_assert_num_queries
):
    client.force_login(manager())
    AccountFactory.create_batch(3, new_owner_trait=NewOwnerTrait.READY_TO_MOVE)
    # session, user with their roles, revenue month, over-15 TAM books, queue counts,
    # the Top 40 stored if the month is unranked (one statement), the page's rows,
    # which of them the person may open. The people to assign are read by each row's
    # assign form, on demand.
    with django_assert_num_queries(8):
        small = client.get(reverse("accounts:allocation"))
    AccountFactory.create_batch(60, new_owner_trait=NewOwnerTrait.READY_TO_MOVE)
    with django_assert_num_queries(8):
        large = client.get(reverse("accounts:allocation"))
    assert _rows(small.content.decode()) == 3 and _rows(large.content.decode()) == 25


def test_a_page_past_the_end_shows_the_last_page(client):
    AccountFactory.create_batch(30, new_owner_trait=NewOwnerTrait.READY_TO_MOVE)
    client.force_login(manager())
    content = client.get(reverse("accounts:allocation"), {"page": 9}).content.decode()
    assert _rows(content) == 5 and "page 2 of 2" in content


def test_a_page_number_past_any_queue_shows_the_last_page(client):
    AccountFactory.create_batch(30, new_owner_trait=NewOwnerTrait.READY_TO_MOVE)
    client.force_login(manager())
    response = client.get(reverse("accounts:allocation"), {"page": "1" + "0" * 20})
    content = response.content.decode()
    assert response.status_code == 200 and _rows(content) == 5 and "page 2 of 2" in content


def test_queue_counts_hold_when_no_tam_book_is_over_15(client):
    AccountFactory.create_batch(2, new_owner_trait=NewOwnerTrait.READY_TO_MOVE)
    client.force_login(manager())
    content = client.get(reverse("accounts:allocation")).content.decode()
    assert "Flagged for handover (Ready to move) (2)" in content
    assert "In a TAM book over 15 accounts (0)" in content and "2 accounts." in content
