from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import NewOwnerTrait, OwnerRole
from accounts.tests.books_factories import give_arr
from accounts.tests.factories import AccountFactory, manager, tam, team_lead
from revopsweb.dates import company_today, latest_complete_month

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def names(page) -> list[str]:
    return [
        row.get_by_role("link").first.inner_text() for row in page.get_by_test_id("book-row").all()
    ]


def test_my_book_sorts_filters_and_opens_an_account(page, login_as):
    me = tam()
    month = latest_complete_month(company_today())
    for name, arr in (("Alpha", 24_000), ("Bravo", 120_000), ("Charlie", 1_200)):
        give_arr(
            AccountFactory.create(owner=me, owner_role=OwnerRole.TAM, name=name), arr, month=month
        )
    login_as(me)
    page.goto("/book/")
    assert names(page) == ["Bravo", "Alpha", "Charlie"]  # ARR, highest first

    page.get_by_role("link", name="Account", exact=True).click()
    page.wait_for_url("**sort=name**")
    assert names(page) == ["Alpha", "Bravo", "Charlie"]

    page.get_by_label("Segment").select_option("arr_20k")
    page.wait_for_url("**segment=arr_20k**")
    assert "sort=name" in page.url  # the filter keeps the chosen sort
    page.get_by_test_id("book-row").first.wait_for()
    assert names(page) == ["Alpha"]

    page.get_by_role("link", name="Alpha", exact=True).click()
    page.wait_for_url("**/accounts/*/")
    assert page.get_by_role("heading", name="Alpha").is_visible()
    assert page.get_by_test_id("account-arr").inner_text() == "$24,000"


def test_a_pasted_or_cut_search_filters_my_book_without_a_key_press(page, login_as):
    me = tam()
    for name in ("Alpha", "Bravo", "Charlie"):
        AccountFactory.create(owner=me, owner_role=OwnerRole.TAM, name=name)
    login_as(me)
    page.goto("/book/")
    search = page.locator("#id_q")

    # fill() sets the value with one input event and no key events, as a paste does.
    search.fill("brav")
    page.wait_for_url("**q=brav**")
    expect(page.get_by_test_id("book-row")).to_have_count(1)
    assert names(page) == ["Bravo"]
    # Cutting the text out, likewise.
    search.fill("")
    page.wait_for_url(lambda url: "q=brav" not in url)
    expect(page.get_by_test_id("book-row")).to_have_count(3)


def test_manager_sets_the_new_owner_trait_and_assigns_a_person(page, login_as):
    boss = manager()
    person = tam(name="Nina New")
    account = AccountFactory.create(name="Unowned Big", region="EU")
    give_arr(account, 36_000, month=latest_complete_month(company_today()))
    login_as(boss)
    page.goto("/book/allocation/")
    row = page.locator(f"#account-{account.pk}")
    assert "$20k+ ARR without an owner" in row.inner_text()
    row.get_by_label("New owner trait for Unowned Big").select_option(NewOwnerTrait.EU_TAM)
    row.get_by_role("button", name="Set").click()
    page.wait_for_load_state()
    row = page.locator(f"#account-{account.pk}")
    # The row loads its assign form on demand (htmx), in place of the link.
    row.get_by_role("link", name="Assign Unowned Big…").click()
    row.get_by_test_id("assign-form").wait_for()
    assert "/assign/" not in page.url
    row.get_by_label("Assign Unowned Big to").select_option(str(person.pk))
    row.get_by_label("Reason for Unowned Big").fill("EU expansion fit")
    row.get_by_role("button", name="Assign").click()
    page.get_by_text("Unowned Big assigned to Nina New").wait_for()
    account.refresh_from_db()
    assert (account.owner, account.owner_role) == (person, "TAM")


def test_the_owner_records_a_recommendation_and_marks_it_actioned(page, login_as):
    from leads.models import Task, TaskKind, TaskStatus

    me = tam()
    account = AccountFactory.create(owner=me, owner_role=OwnerRole.TAM, name="Rec Co")
    login_as(me)
    page.goto(f"/accounts/{account.pk}/")
    panel = page.locator("#recommendations")
    panel.get_by_label("Recommendation").fill("Adopt session replay for checkout")
    panel.get_by_role("button", name="Record recommendation").click()
    row = page.locator("#recommendations tr", has_text="Adopt session replay for checkout")
    row.wait_for()
    task = Task.objects.get(kind=TaskKind.RECOMMENDATION)
    assert task.due_on is not None and task.status == TaskStatus.RECOMMENDED
    row.get_by_role("button", name="Actioned").click()
    page.locator("#recommendations", has_text="None open.").wait_for()
    task.refresh_from_db()
    assert task.status == TaskStatus.ACTIONED


def test_a_lead_picking_a_teammates_book_sees_its_name_in_heading_and_tab(page, login_as):
    lead = team_lead(name="Lena Lead")
    mate = tam(team_lead=lead, name="Emeka Zhang")
    AccountFactory.create(owner=mate, owner_role=OwnerRole.TAM, name="Mate Co")
    login_as(lead)
    page.goto("/book/")

    page.get_by_test_id("owner-filter").select_option(label="Emeka Zhang")

    page.wait_for_url(f"**owner={mate.pk}**")
    expect(page.get_by_role("heading", level=1)).to_have_text("Emeka Zhang's book")
    expect(page).to_have_title("Emeka Zhang's book · revopsweb")
    assert names(page) == ["Mate Co"]
