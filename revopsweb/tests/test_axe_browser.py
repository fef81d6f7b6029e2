"""axe-core on every page for every demo role (issue 19): zero critical and zero
serious violations.

A small demo company is seeded once; one browser context per demo login logs in
once through the form, then visits every parameterless page of the apps, the home,
and one page of each kind of detail page linked from them (an account, a task, a
handover, ...). axe-core, vendored from npm in ``vendor/axe-core`` (see its
``VENDORED.md``), is injected into each page and run with its default rules; the
failure lists every violation as page, login, rule and the first offending nodes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import Error as PlaywrightError

from accounts.demo import DEMO_LOGINS, DEMO_PASSWORD
from revopsweb.tests.formcrawl import page_urls

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(900),
]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("critical", "serious")
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
  }));
}"""
LINKS = """() => [...document.querySelectorAll("a[href^='/']")].map(a => a.getAttribute("href"))"""


def _kind(path: str) -> str:
    return "".join("#" if c.isdigit() else c for c in path)


def _skipped(path: str) -> bool:
    return path.endswith(".csv") or path.startswith(("/admin", "/logout", "/static"))


def _violations(page: Any, login: str) -> list[str]:
    found = []
    for v in page.evaluate(RUN_AXE):
        if v["impact"] in BLOCKING:
            found.append(
                f"{page.url} as {login}: {v['impact']} {v['id']} ({v['help']}) {v['nodes']}"
            )
    return found


def test_axe_reports_a_page_with_serious_faults(browser):
    # The oracle is axe itself, so first show it is loaded, run and read: a page
    # with an unlabelled field, an image without text and grey on white at 1.6:1.
    context = browser.new_context()
    page = context.new_page()
    try:
        page.set_content(
            '<html lang="en"><head><title>Bad</title></head><body><main><h1>Bad</h1><img src="data:,">'
            '<input type="text"><p style="color:#ddd;background:#fff">faint</p></main></body></html>'
        )
        page.add_script_tag(path=str(AXE))
        rules = {line.split()[4] for line in _violations(page, "nobody")}
    finally:
        context.close()
    assert rules == {"image-alt", "label", "color-contrast"}


def test_no_page_has_a_critical_or_serious_axe_violation_for_any_role(browser, live_server):
    call_command("seed_demo", accounts=40, months=4, seed=7, verbosity=0)
    found: list[str] = []
    visited = 0
    anonymous = browser.new_context(base_url=live_server.url)
    anonymous.add_init_script(path=str(AXE))
    page = anonymous.new_page()
    page.goto("/login/")
    found += _violations(page, "nobody")
    anonymous.close()
    for login in DEMO_LOGINS:
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(15_000)
        context.add_init_script(path=str(AXE))
        page = context.new_page()
        page.goto("/login/")
        page.get_by_label("Work email").fill(login)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/login/" not in url)
        seen: set[str] = set()
        refusals: set[int] = set()
        kinds = {_kind(url) for url in ["/", *page_urls()]}
        frontier = ["/", *page_urls()]
        details: list[str] = []
        for urls in (frontier, details):
            for url in urls:
                path = urlsplit(url).path
                if path in seen or _skipped(path):
                    continue
                seen.add(path)
                try:
                    response = page.goto(url)
                except PlaywrightError as error:
                    # A POST-only URL answers an empty 405, which Chromium turns into
                    # its own error page; that navigation would interrupt the next
                    # goto (and so on down the list), so the tab is replaced.
                    page.close()
                    page = context.new_page()
                    if "ERR_HTTP_RESPONSE_CODE_FAILURE" not in str(error):
                        found.append(f"{url} as {login} did not load: {str(error).splitlines()[0]}")
                    continue
                if response is None or "html" not in response.headers.get("content-type", ""):
                    continue
                if not page.evaluate("document.doctype !== null"):
                    # An htmx partial asked for directly (a fragment, no document):
                    # axe checks it inside the page that swaps it in.
                    continue
                if response.status >= 400:
                    # Refusals share one layout: the first of each status per login
                    # is checked, the rest add time and no coverage.
                    if response.status in refusals:
                        continue
                    refusals.add(response.status)
                visited += 1
                found += _violations(page, login)
                for href in page.evaluate(LINKS):
                    linked = urlsplit(href).path
                    if _kind(linked) not in kinds and not _skipped(linked):
                        kinds.add(_kind(linked))
                        details.append(linked)
        context.close()
    # A guard that the crawl checked pages at all, not a page census.
    assert visited > 6 * 20, visited
    assert not found, "\n".join(found)
