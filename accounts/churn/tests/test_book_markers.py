"""Churn risk on the accounts core's pages: the app registers its account marks
("churn_risk", "churn_suggested") and the book page and its CSV mark the rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from accounts.churn.flags import flag_account
from accounts.churn.models import ChurnSignal, SignalKind
from accounts.models import OwnerRole
from accounts.tests.books_factories import freeze_today
from accounts.tests.factories import AccountFactory, tam
from revopsweb.tests.csv_reading import export_rows

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today(time_machine):
    freeze_today(time_machine)


def test_my_book_marks_flagged_accounts_and_suggests_ones_with_signals(client):
    me = tam()
    flagged = AccountFactory.create(owner=me, owner_role=OwnerRole.TAM, name="Flagged Inc")
    signalled = AccountFactory.create(owner=me, owner_role=OwnerRole.TAM, name="Signalled Inc")
    AccountFactory.create(owner=me, owner_role=OwnerRole.TAM, name="Quiet Inc")
    flag_account(account=flagged, by=me, triggers="Usage down 40%")
    ChurnSignal.objects.create(
        account=signalled, kind=SignalKind.HEALTH_POOR, detected_on=dt.date(2026, 11, 1)
    )
    client.force_login(me)
    response = client.get(reverse("accounts:my_book"))
    rows = {a.name: a.pk for a in response.context["accounts"]}
    assert response.context["churn_risk"] == {rows["Flagged Inc"]}
    assert response.context["churn_suggested"] == {rows["Signalled Inc"]}
    assert reverse("churn:flag", args=[signalled.pk]) in response.content.decode()


def test_my_book_export_says_which_accounts_are_in_the_churn_risk_segment(client):
    me = tam()
    flagged = AccountFactory.create(owner=me, owner_role=OwnerRole.TAM, name="Flagged Inc")
    AccountFactory.create(owner=me, owner_role=OwnerRole.TAM, name="Quiet Inc")
    flag_account(account=flagged, by=me, triggers="Usage down 40%")
    client.force_login(me)
    rows = export_rows(client.get(reverse("accounts:book_export")))
    assert {r["name"]: r["churn_risk"] for r in rows} == {
        "Flagged Inc": "yes",
        "Quiet Inc": "no",
    }
