"""Flag churn risk from the account page and My book rows (issue 19: "when in doubt, flag it")."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.churn.flags import flag_account
from accounts.churn.models import ChurnRiskFlag
from accounts.churn.tests.churn_helpers import owned_account
from accounts.tests.factories import AccountFactory, manager, tam

pytestmark = pytest.mark.django_db

FLAG = {"triggers": "Champion left", "severity": "elevated"}


def test_the_owner_flags_from_the_account_page_and_comes_back_to_it(client):
    account = owned_account()
    client.force_login(account.owner)
    account_url = reverse("accounts:account", args=[account.pk])
    page = client.get(account_url).content.decode()
    flag_url = f"{reverse('churn:flag', args=[account.pk])}?next={account_url}"
    assert f'href="{flag_url}"' in page

    response = client.post(reverse("churn:flag", args=[account.pk]), {**FLAG, "next": account_url})

    assert response.status_code == 302 and response["Location"] == account_url
    assert ChurnRiskFlag.objects.get(account=account).triggers == "Champion left"
    after = client.get(account_url).content.decode()
    assert "flagged" in after and 'data-testid="flag-churn-risk"' not in after


def test_a_tam_overlay_sees_the_account_but_may_not_flag_it(client):
    overlay = tam()
    account = owned_account(tam_overlay=overlay)
    client.force_login(overlay)
    page = client.get(reverse("accounts:account", args=[account.pk])).content.decode()
    assert "not flagged" in page
    assert 'data-testid="flag-churn-risk"' not in page


def test_a_next_pointing_off_site_is_ignored(client):
    account = owned_account()
    client.force_login(account.owner)
    response = client.post(
        reverse("churn:flag", args=[account.pk]), {**FLAG, "next": "https://evil.example/"}
    )
    assert response["Location"].startswith(reverse("churn:review"))


@pytest.mark.parametrize("next_url", ["2147483648", "accounts:account", "//evil.example/x"])
def test_a_next_that_is_not_a_path_of_the_site_is_ignored_not_a_500(client, next_url):
    # redirect() reads a bare word as a view name: "2147483648" was a 500 (found by the fuzz).
    account = owned_account()
    client.force_login(account.owner)
    response = client.post(reverse("churn:flag", args=[account.pk]), {**FLAG, "next": next_url})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("churn:review"))


def test_my_book_rows_offer_flag_churn_risk_except_when_flagged(client):
    owner = tam()
    calm = AccountFactory.create(owner=owner, owner_role="TAM", name="Calm Co")
    risky = AccountFactory.create(owner=owner, owner_role="TAM", name="Risky Co")
    flag_account(account=risky, by=owner, triggers="usage down")
    client.force_login(owner)
    rows = client.get(reverse("accounts:my_book")).content.decode().split('data-testid="book-row"')
    [calm_row] = [r for r in rows[1:] if "Calm Co" in r]
    [risky_row] = [r for r in rows[1:] if "Risky Co" in r]
    assert reverse("churn:flag", args=[calm.pk]) in calm_row
    assert "Flag churn risk" in calm_row
    assert "Flag churn risk" not in risky_row and "Churn risk" in risky_row


def test_a_manager_viewing_a_book_may_flag_its_rows(client):
    account = owned_account()
    client.force_login(manager())
    content = client.get(reverse("accounts:my_book") + f"?owner={account.owner_id}").content
    assert reverse("churn:flag", args=[account.pk]).encode() in content
