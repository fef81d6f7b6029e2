"""The owner TAE marks their account "Ready to move" (sales/account-allocation)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.books import Queue, allocation_queue, set_new_owner_trait, set_ready_to_move
from accounts.models import Account, Activity, NewOwnerTrait, User
from accounts.roles import Role
from accounts.tests.books_factories import TODAY, freeze_today
from accounts.tests.factories import AccountFactory, manager, tam, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today(time_machine):
    freeze_today(time_machine)


def tae_account() -> tuple[User, Account]:
    owner = user_with_role(Role.TAE)
    return owner, AccountFactory.create(owner=owner, owner_role="TAE")


def test_the_owner_tae_marks_it_ready_and_the_allocation_queue_picks_it_up():
    owner, account = tae_account()

    note = set_ready_to_move(account=account, by=owner, ready=True)

    account.refresh_from_db()
    assert account.new_owner_trait == NewOwnerTrait.READY_TO_MOVE
    assert note is not None and (note.author, note.summary) == (owner, "Marked Ready to move")
    [(row, reasons, _)] = [r for r in allocation_queue(today=TODAY) if r[0].pk == account.pk]
    assert reasons == [Queue.HANDOVER]


def test_marking_twice_records_once():
    owner, account = tae_account()
    set_ready_to_move(account=account, by=owner, ready=True)
    assert set_ready_to_move(account=account, by=owner, ready=True) is None
    assert Activity.objects.filter(account=account).count() == 1


def test_the_owner_can_take_it_back():
    owner, account = tae_account()
    set_ready_to_move(account=account, by=owner, ready=True)
    set_ready_to_move(account=account, by=owner, ready=False)
    account.refresh_from_db()
    assert account.new_owner_trait == ""


@pytest.mark.parametrize("who", ["colleague", "manager"])
def test_nobody_but_the_owner_tae_marks_it(who):
    _, account = tae_account()
    person = user_with_role(Role.TAE) if who == "colleague" else manager()
    with pytest.raises(PermissionDenied):
        set_ready_to_move(account=account, by=person, ready=True)


def test_a_tam_owner_does_not_mark_ready_to_move():
    owner = tam()
    account = AccountFactory.create(owner=owner, owner_role="TAM")
    with pytest.raises(PermissionDenied):
        set_ready_to_move(account=account, by=owner, ready=True)


def test_a_trait_the_manager_set_is_left_alone():
    owner, account = tae_account()
    set_new_owner_trait(account=account, trait=NewOwnerTrait.US_TAM, by=manager())
    with pytest.raises(ValueError, match="US TAM"):
        set_ready_to_move(account=account, by=owner, ready=True)
    account.refresh_from_db()
    assert account.new_owner_trait == NewOwnerTrait.US_TAM


def test_the_account_page_button_works_as_a_plain_form_post(client):
    owner, account = tae_account()
    client.force_login(owner)
    page = client.get(reverse("accounts:account", args=[account.pk]))
    assert 'data-testid="ready-to-move"' in page.text

    response = client.post(
        reverse("accounts:account_ready_to_move", args=[account.pk]), {"ready": "on"}
    )

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.new_owner_trait == NewOwnerTrait.READY_TO_MOVE


def test_another_tae_is_refused_by_the_page(client):
    _, account = tae_account()
    client.force_login(user_with_role(Role.TAE))
    url = reverse("accounts:account_ready_to_move", args=[account.pk])
    assert client.post(url, {"ready": "on"}).status_code == 404
    assert client.get(url).status_code == 405
