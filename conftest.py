"""Shared fixtures: real services, a real Celery worker, headless Chromium."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import pytest
from django.conf import settings

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# Playwright's sync API runs an event loop in this thread; Django would then
# refuse ORM calls from the test body, which are plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() == "true"


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    return _port_open(parsed.hostname or "127.0.0.1", parsed.port or default_port)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _missing_service(message: str) -> None:
    """Under CI a missing service fails the run; locally it skips what needs it."""
    if IN_CI:
        pytest.exit(
            f"{message} (CI=true: a missing service is a failure, not a skip)", returncode=3
        )
    pytest.skip(message)


def _postgres_reachable(host: str, port: int) -> bool:
    # A host starting with "/" is a Unix socket directory (the quick start's
    # embedded server listens on no TCP port).
    if host.startswith("/"):
        return Path(host, f".s.PGSQL.{port}").exists()
    return _port_open(host, port)


def pytest_sessionstart(session: pytest.Session) -> None:
    db = settings.DATABASES["default"]
    host, port = db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)
    if not _postgres_reachable(host, port):
        pytest.exit(
            f"PostgreSQL is not reachable at {host}:{port}. "
            "Start it (see README, 'Tests') or set DATABASE_URL.",
            returncode=3,
        )


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = settings.REDIS_URL
    if not url or not _reachable(url, 6379):
        _missing_service(f"Redis is not reachable at {url or '(REDIS_URL unset)'}")
    return url


@pytest.fixture
def celery_worker(redis_url: str, transactional_db: None) -> Iterator[Any]:
    """A real Celery worker thread consuming from the real Redis broker.

    It needs transactional_db: the worker uses its own database connection,
    so it only sees rows the test has committed.
    """
    from celery.contrib.testing.worker import start_worker

    from revopsweb.celery import app

    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        _missing_service(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def _new_page(browser: Browser, live_server: Any, **options: Any) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1400, "height": 900}, **options
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _login_through_form(page: Page) -> Any:
    from accounts.tests.factories import TEST_PASSWORD

    def _login(user: Any) -> Page:
        page.goto("/login/")
        page.get_by_label("Work email").fill(user.email)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/login/" not in url)
        return page

    return _login


@pytest.fixture
def page(browser: Browser, live_server: Any) -> Iterator[Page]:
    yield from _new_page(browser, live_server)


@pytest.fixture
def login_as(page: Page, live_server: Any) -> Any:
    """Log a user in through the real login form."""
    return _login_through_form(page)


@pytest.fixture
def no_js_page(browser: Browser, live_server: Any) -> Iterator[Page]:
    """A page with JavaScript switched off: the plain links and form posts behind htmx."""
    yield from _new_page(browser, live_server, java_script_enabled=False)


@pytest.fixture
def no_js_login_as(no_js_page: Page, live_server: Any) -> Any:
    """Log a user in through the real login form, on ``no_js_page``."""
    return _login_through_form(no_js_page)
