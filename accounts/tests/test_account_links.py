"""Account names link to the account page; a former owner sees who owns it now (issue 19)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.ownership import change_account_owner
from accounts.tests.factories import AccountFactory, tam, team_lead

pytestmark = pytest.mark.django_db


def _hand_over(account, *, to, by):
    change_account_owner(
        account=account,
        new_owner=to,
        new_owner_role="CSM",
        changed_by=by,
        reason="Fully expanded",
        source="handover",
    )


def test_after_a_handover_the_former_owner_sees_who_owns_the_account_now(client):
    before, after = tam(name="Tara Before"), tam(name="Cole After")
    account = AccountFactory.create(name="Hedgehog Labs", owner=before, owner_role="TAM")
    _hand_over(account, to=after, by=before)
    client.force_login(before)

    response = client.get(reverse("accounts:account", args=[account.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Hedgehog Labs" in content
    assert "no longer in your book" in content
    assert "Cole After (CSM)" in content
    assert "Fully expanded" in content
    # read-only: none of the owner's forms
    assert "<form" not in content.split("<main", 1)[1].split("</main>")[0]


def test_the_new_owner_gets_the_full_account_page(client):
    before, after = tam(), tam()
    account = AccountFactory.create(owner=before, owner_role="TAM")
    _hand_over(account, to=after, by=before)
    client.force_login(after)
    response = client.get(reverse("accounts:account", args=[account.pk]))
    assert response.status_code == 200
    assert "no longer in your book" not in response.content.decode()


def test_someone_who_never_owned_it_gets_a_404_page_that_says_why(client):
    account = AccountFactory.create(owner=tam(), owner_role="TAM")
    client.force_login(tam())
    response = client.get(reverse("accounts:account", args=[account.pk]))
    assert response.status_code == 404
    content = response.content.decode()
    assert "not in your book or your team" in content
    assert account.name not in content


def test_a_former_owner_who_still_sees_it_as_team_lead_gets_the_full_page(client):
    lead = team_lead()
    member = tam(team_lead=lead)
    account = AccountFactory.create(owner=lead, owner_role="TAM")
    _hand_over(account, to=member, by=lead)
    client.force_login(lead)
    response = client.get(reverse("accounts:account", args=[account.pk]))
    assert response.status_code == 200
    assert "no longer in your book" not in response.content.decode()
