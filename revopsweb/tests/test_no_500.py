"""No input reaches a 500 (issue 15): a property-based fuzz over every form the
pages render, every page's query string and every JSON API, then each example
the issue found, written out.

The forms are not listed by hand: the pages of a small demo company are
crawled as each demo login (``formcrawl``), and every form found (its fields,
their offered values, file inputs) is posted with hostile values drawn by
hypothesis. A view that raises makes the test client raise, so the failing
input is shrunk and shown; a view that answers 5xx fails the assertion.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.api import issue_integration_token
from accounts.demo import DEMO_LOGINS
from accounts.models import Account, User
from revopsweb.tests.formcrawl import Form, crawl, page_urls

# The demo seed and crawl run once for the module, before the first test.
pytestmark = pytest.mark.timeout(300)

# Examples per form, per page and per API. Sized so that the whole module,
# demo seed and crawl included, stays under a minute on the 2-core machine.
FORM_EXAMPLES = 4
PAGE_EXAMPLES = 5
API_EXAMPLES = 40

EMAIL_298 = "a" * 64 + "@" + ".".join(["b" * 63] * 3 + ["c" * 29]) + ".example.com"
assert len(EMAIL_298) == 298

# Values that broke, or could break, a parser, a column or a query.
EDGES = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "%00",
    "0",
    "-1",
    "+1",
    "1.5",
    "1e3",
    "1e309",
    "NaN",
    "-inf",
    "12,000",
    "1_000",
    "0x10",
    "\u0661\u0662",  # Arabic-Indic digits: int() accepts them
    "\uff11\uff12",  # full-width digits
    "\u22121",  # a minus sign that is not ASCII
    "32767",
    "32768",
    "-32769",
    "2147483647",
    "2147483648",
    "-2147483649",
    "9223372036854775808",
    "99999999999999999999.99",
    "9999-12",
    "0001-01",
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "2099-01-05",
    "9999Q4",
    "0001Q1",
    "2026Q5",
    "true",
    "false",
    "null",
    "[]",
    "{}",
    "x" * 300,
    EMAIL_298,
    "a@b",
    "<script>alert(1)</script>",
    "'; select 1; --",
    "../../etc/passwd",
    "\u202e\U0001f600",
]

# What a person would type, so that one hostile field is often the only error.
PLAUSIBLE = [
    "1",
    "3",
    "10",
    "2026-11-16",
    "2026-12-01",
    "2026-11",
    "2026Q4",
    "a note",
    "US",
    "good",
]

text_values = st.one_of(
    st.sampled_from(EDGES),
    st.text(max_size=40),
    st.integers().map(str),
    st.text(min_size=190, max_size=320),
)

CSV_HEADERS = [
    "organization_id,name,domain,country,employee_count,owner_email,owner_role,owner_since,"
    "am_managed,plan,renewal_date",
    "organization_id,week,health,active_users_30d,events,support_tickets,billing_page_visits",
    "organization_id,product,month,amount",
]


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A CSV that starts like a real import (or not) and carries hostile cells."""
    header = draw(st.one_of(st.sampled_from(CSV_HEADERS), st.text(max_size=40)))
    width = header.count(",") + 1
    rows = draw(
        st.lists(
            st.lists(text_values, min_size=0, max_size=width + 2).map(
                lambda cells: ",".join(json.dumps(c) if "," in c else c for c in cells)
            ),
            max_size=4,
        )
    )
    text = "\n".join([header, *rows])
    return draw(st.one_of(st.just(text.encode("utf-8", "surrogatepass")), st.binary(max_size=200)))


@dataclass
class Site:
    forms: list[tuple[Form, list[str]]]
    pages: list[str]
    query_names: list[str]
    tokens: dict[str, str]
    organization_id: str


def _form_kind(form: Form) -> tuple[str, str, tuple[str, ...]]:
    path = "".join("#" if c.isdigit() else c for c in form.action.split("?")[0])
    fields = tuple(sorted("".join("#" if c.isdigit() else c for c in f) for f in form.fields))
    return form.method, path, fields


@pytest.fixture(scope="module")
def site(django_db_setup: None, django_db_blocker: Any) -> Iterator[Site]:
    """A small demo company, its forms (as each login sees them) and API tokens;
    rolled back after the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", accounts=40, months=4, seed=7, verbosity=0)
        found = crawl(Client(), depth=1, per_prefix=1)
        # One entry per kind of form, with every login that was shown it.
        kinds: dict[tuple[str, str, tuple[str, ...]], tuple[Form, list[str]]] = {}
        for form in found:
            if form.action.startswith("/logout"):
                continue
            entry = kinds.setdefault(_form_kind(form), (form, []))
            if form.login not in entry[1]:
                entry[1].append(form.login)
        query_names = sorted(
            {name for form in found if form.method == "get" for name in form.fields}
            | {"month", "quarter", "adjusted", "territory", "page", "week", "owner", "user"}
        )
        tokens = {
            scope: issue_integration_token(name=f"Fuzz {scope}", scope=scope, created_by=None)[1]
            for scope in ("intake", "snapshots", "revenue")
        }
        organization_id = Account.objects.order_by("pk").values_list("organization_id", flat=True)[
            0
        ]
        account_pages = [
            f"/accounts/{pk}/" for pk in Account.objects.values_list("pk", flat=True)[:2]
        ]
        yield Site(
            forms=list(kinds.values()),
            pages=[*page_urls(), *account_pages],
            query_names=query_names,
            tokens=tokens,
            organization_id=organization_id,
        )
        transaction.set_rollback(True)


def _login(client: Client, email: str) -> Client:
    client.force_login(User.objects.get(email=email))
    return client


def _answer(send: Any) -> int:
    """Send inside a savepoint that is rolled back, so each example starts from the demo."""
    with transaction.atomic():
        response = send()
        transaction.set_rollback(True)
    return response.status_code


def _send(client: Client, form: Form, data: dict[str, Any]) -> int:
    send = client.get if form.method == "get" else client.post
    return _answer(lambda: send(form.action, data))


FUZZ = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def form_data(draw: st.DrawFn, form: Form) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, offered in form.fields.items():
        if name == "csrfmiddlewaretoken" or draw(st.integers(0, 9)) == 0:
            continue  # a field left out
        if name in form.files:
            data[name] = SimpleUploadedFile("fuzz.csv", draw(csv_files()), "text/csv")
            continue
        # Mostly what the page offers or a plausible value, so the hostile
        # one in the other fields gets past the first error.
        sane = st.sampled_from(offered) if offered else st.sampled_from(PLAUSIBLE)
        value = st.one_of(sane, sane, text_values)
        data[name] = draw(st.one_of(value, value, value, st.lists(value, min_size=2, max_size=3)))
    return data


@pytest.mark.django_db
def test_no_form_answers_a_server_error(site: Site):
    assert len(site.forms) >= 30, [f.action for f, _ in site.forms]
    client = Client()
    for form, logins in site.forms:
        _post_form(client, form, logins)()


def _post_form(client: Client, form: Form, logins: list[str]) -> Any:
    @settings(FUZZ, max_examples=FORM_EXAMPLES)
    @given(login=st.sampled_from(logins), data=form_data(form))
    def post(login: str, data: dict[str, Any]) -> None:
        _login(client, login)
        assert _send(client, form, data) < 500, (form.action, login, data)

    return post


# Schema-driven: each field's type (from the page) picks the values at and past
# the edges of what its column or parser holds; every other field stays sane.
BOUNDARIES = {
    "number": ["32768", "2147483648", "9223372036854775808", "1e309"],
    "date": ["9999-12-31", "0001-01-01", "2026-02-30"],
    "month": ["9999-12", "0001-01"],
    "email": [EMAIL_298],
    "text": ["x" * 1001, "a\x00b"],
    "textarea": ["x" * 10_001],
    "select": ["x" * 300, "-1"],
    "checkbox": ["x" * 300],
    "hidden": ["2147483648"],
}
PRIVILEGED = {"manager", "lead", "revops"}
SANE = {"number": "1", "date": "2026-11-16", "month": "2026-11", "email": "ann@example.com"}


def _sane(form: Form) -> dict[str, Any]:
    return {
        name: offered[0] if offered else SANE.get(form.types.get(name, ""), "a note")
        for name, offered in form.fields.items()
        if name not in form.files
    }


@pytest.mark.django_db
def test_no_field_value_at_or_past_its_edge_answers_a_server_error(site: Site):
    client = Client()
    # One form per URL kind (the one with the most fields): the edges are per field.
    widest: dict[tuple[str, str], tuple[Form, list[str]]] = {}
    for form, logins in site.forms:
        method, path, _ = _form_kind(form)
        if len(form.fields) > len(widest.get((method, path), (Form("", "", "", ""), []))[0].fields):
            widest[method, path] = (form, logins)
    for form, logins in widest.values():
        # The login most likely to get past the permission check to the parsing.
        _login(client, min(logins, key=lambda e: (e.split("@")[0] not in PRIVILEGED, e)))
        base = _sane(form)
        for name in base:
            if name == "csrfmiddlewaretoken":
                continue
            values = list(BOUNDARIES.get(form.types.get(name, "text"), BOUNDARIES["text"]))
            if name in form.maxlength:  # one past the page's own limit replaces the long text
                values = [v for v in values if not v.startswith("xxx")]
                values.append("x" * (form.maxlength[name] + 1))
            for value in values:
                status = _send(client, form, {**base, name: value})
                assert status < 500, (form.action, name, value[:40])


@pytest.mark.django_db
def test_no_page_answers_a_server_error_whatever_its_query_string(site: Site):
    client = Client()
    names = st.sampled_from(site.query_names) | st.text(max_size=10)
    params = st.dictionaries(names, text_values | st.lists(text_values, max_size=3), max_size=4)
    for url in site.pages:
        _get_page(client, url, params)()


def _get_page(client: Client, url: str, params: st.SearchStrategy[dict[str, Any]]) -> Any:
    @settings(FUZZ, max_examples=PAGE_EXAMPLES)
    @given(login=st.sampled_from(list(DEMO_LOGINS)), query=params)
    def get(login: str, query: dict[str, Any]) -> None:
        _login(client, login)
        status = _answer(lambda: client.get(url, query))
        assert status < 500, (url, login, query)

    return get


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | text_values,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(text_values, children, max_size=3)
    ),
    max_leaves=8,
)

INTAKE_FIELDS = [
    "name",
    "email",
    "company",
    "domain",
    "country",
    "state",
    "role",
    "sub_role",
    "employees",
    "monthly_active_users",
    "estimated_revenue",
    "source",
    "lead_type",
    "message",
    "idempotency_key",
]
SNAPSHOT_FIELDS = [
    "week",
    "health",
    "active_users_30d",
    "events",
    "support_tickets",
    "billing_page_visits",
]
MRR_FIELDS = ["organization_id", "product", "month", "amount"]


def _objects(fields: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(fields) | text_values, json_values, max_size=len(fields))


def _bodies(objects: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """JSON of the right shape, of any shape, or not JSON at all."""
    as_json = st.one_of(objects, json_values).map(lambda v: json.dumps(v).encode())
    return st.one_of(
        as_json, as_json, st.binary(max_size=100), st.sampled_from(EDGES).map(str.encode)
    )


@pytest.mark.django_db
def test_no_api_answers_a_server_error(site: Site):
    client = Client()
    mrr_rows = st.lists(_objects(MRR_FIELDS) | json_values, max_size=3)
    mrr = st.fixed_dictionaries({"rows": mrr_rows}, optional={"dry_run": json_values})
    headers = st.fixed_dictionaries(
        {},
        optional={"Idempotency-Key": text_values.filter(lambda t: "\n" not in t and "\r" not in t)},
    )

    @settings(FUZZ, max_examples=API_EXAMPLES)
    @given(
        which=st.sampled_from(["intake", "snapshots", "revenue", "revenue_get"]),
        body=st.data(),
        extra_headers=headers,
        org=st.one_of(st.just(site.organization_id), text_values.filter(bool)),
    )
    def call(which: str, body: st.DataObject, extra_headers: dict[str, str], org: str) -> None:
        auth = {"Authorization": f"Bearer {site.tokens[which.removesuffix('_get')]}"}
        if which == "revenue_get":
            query = body.draw(st.dictionaries(st.sampled_from(["month", "adjusted"]), text_values))
            status = _answer(lambda: client.get("/api/revenue/monthly/", query, headers=auth))
            assert status < 500, query
            return
        url, shape = {
            "intake": ("/api/intake/tasks", _objects(INTAKE_FIELDS)),
            "snapshots": (
                f"/api/accounts/{quote(org, safe='')}/snapshots",
                _objects(SNAPSHOT_FIELDS),
            ),
            "revenue": ("/api/revenue/monthly/", mrr),
        }[which]
        raw = body.draw(_bodies(shape))
        status = _answer(
            lambda: client.generic(
                "POST",
                url,
                raw,
                content_type="application/json",
                headers={**auth, **extra_headers},
            )
        )
        assert status < 500, (url, raw[:300], extra_headers)

    call()
