"""The documented production deployment, run for real on loopback.

Production settings (``revopsweb.settings``, DEBUG off) with the values of
``.env.example`` except the hosts and secrets that must point at this test:
``collectstatic`` into a temporary folder, ``check --deploy`` with warnings
as failures, gunicorn serving a manager who logs in over HTTP (behind a
"proxy" that says HTTPS, as the README requires), every page answering 200,
a static file served compressed with far-future cache headers; and the
Celery worker and beat started with the README's commands, against a
private redis-server, with a second beat refused.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from celery import Celery
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from revopsweb.tests.processes import (
    ROOT,
    app_env,
    free_port,
    port_open,
    private_redis,
    running,
    wait_for,
)
from revopsweb.tests.test_smoke import _page_names

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

PASSWORD = "a-long-production-test-password"  # noqa: S105
MANAGER = "manager@demo.revopsweb.test"
# Parameterless URLs that are actions reached only by POST (a GET is 405 by design).
ACTIONS = ("leads:member_add", "leads:time_off_add")
# Pages of another role: the MRR import is RevOps's (a manager gets 403 by design).
NOT_A_MANAGERS = ("billing:import_mrr", "billing:fact_imports")


def _documented_env() -> dict[str, str]:
    """The variables of .env.example (empty ones left out: their defaults apply)."""
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            if value:
                values[name] = value
    return values


def _production_env(*, redis_url: str, static_root: Path) -> dict[str, str]:
    env = app_env(**_documented_env())
    # The test suite's own switches (test_settings) must not leak in.
    for name in (
        "AXES_ENABLED",
        "RATELIMIT_ENABLE",
        "CELERY_TASK_ALWAYS_EAGER",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "CELERY_VISIBILITY_TIMEOUT_SECONDS",
    ):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="revopsweb.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        CSRF_TRUSTED_ORIGINS="https://127.0.0.1",
        DATABASE_URL=app_env()["DATABASE_URL"],
        REDIS_URL=redis_url,
        STATIC_ROOT=str(static_root),
    )
    return env


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[str]:
    with private_redis(tmp_path) as url:
        yield url


def _manage(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


class Browser:
    """An HTTP client behind a TLS-terminating proxy: it says X-Forwarded-Proto:
    https and keeps the (Secure) cookies itself, as a browser on HTTPS would."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies: dict[str, str] = {}
        self.client = httpx.Client(base_url=base, timeout=60, follow_redirects=False)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-Forwarded-Proto": "https", **kwargs.pop("headers", {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.client.request(method, path, headers=headers, **kwargs)
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response


@pytest.mark.django_db(transaction=True)
def test_the_documented_deployment_serves_a_manager_every_page(tmp_path, own_redis):
    call_command("seed_demo", accounts=40, months=4, seed=7, verbosity=0)
    # The production hashers do not read the suite's fast MD5 hashes.
    User.objects.filter(email=MANAGER).update(
        password=PBKDF2PasswordHasher().encode(PASSWORD, "prodsmoketest")
    )
    env = _production_env(redis_url=own_redis, static_root=tmp_path / "static")

    _manage("collectstatic", "--noinput", "-v", "0", env=env)
    assert (tmp_path / "static" / "staticfiles.json").exists()
    assert "no issues" in _manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    port = free_port()
    log = tmp_path / "gunicorn.log"
    web = [sys.executable, "-m", "gunicorn", "revopsweb.wsgi", "--workers", "2",
           "--bind", f"127.0.0.1:{port}"]  # fmt: skip
    with running(web, env=env, log=log):
        wait_for(lambda: port_open(port), timeout=60, what="gunicorn", log=log)
        browser = Browser(f"http://127.0.0.1:{port}")
        assert browser.request("GET", "/healthz").json()["status"] == "ok"

        # Without the proxy's header, plain HTTP is sent to HTTPS.
        assert httpx.get(f"http://127.0.0.1:{port}/login/").status_code == 301
        browser.request("GET", "/login/")
        response = browser.request(
            "POST",
            "/login/",
            data={
                "username": MANAGER,
                "password": PASSWORD,
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            },
            headers={"Referer": f"https://127.0.0.1:{port}/login/"},
        )
        assert response.status_code == 302, response.text[:2000]
        assert "sessionid" in browser.cookies

        names = sorted(set(_page_names()))
        statuses = {name: browser.request("GET", reverse(name)).status_code for name in names}
        assert len(statuses) > 10
        assert {n: code for n, code in statuses.items() if code != 200} == {
            **dict.fromkeys(ACTIONS, 405),
            **dict.fromkeys(NOT_A_MANAGERS, 403),
        }

        page = browser.request("GET", reverse("billing:revenue")).text
        chart = re.search(r'src="(/static/vendor/chartjs/chart\.umd\.min\.\w{12}\.js)"', page)
        assert chart, "the revenue page loads Chart.js under its hashed name"
        asset = browser.request("GET", chart.group(1), headers={"Accept-Encoding": "gzip"})
        assert asset.status_code == 200
        assert asset.headers["content-encoding"] == "gzip"
        assert "max-age=315360000" in asset.headers["cache-control"]
        assert "immutable" in asset.headers["cache-control"]


@pytest.mark.django_db(transaction=True)
def test_worker_and_beat_start_as_documented_and_a_second_beat_is_refused(tmp_path, own_redis):
    env = _production_env(redis_url=own_redis, static_root=tmp_path / "static")
    worker_log, beat_log, second_log = (tmp_path / f"{n}.log" for n in ("worker", "beat", "2nd"))
    celery = [sys.executable, "-m", "celery", "-A", "revopsweb"]
    with (
        running([*celery, "worker", "--loglevel", "INFO"], env=env, log=worker_log),
        running(
            [*celery, "beat", "--loglevel", "INFO", "--schedule", str(tmp_path / "schedule")],
            env=env,
            log=beat_log,
        ) as beat,
    ):
        wait_for(lambda: "ready." in worker_log.read_text(), timeout=90, what="the worker",
                 log=worker_log)  # fmt: skip
        sender = Celery(broker=own_redis, backend=own_redis)
        try:
            # The README's end-to-end check: accounts.tasks.ping through the worker.
            assert sender.send_task("accounts.tasks.ping").get(timeout=60) == {"accounts": 0}
        finally:
            sender.close()
        wait_for(lambda: "Holding the beat lock" in beat_log.read_text(), timeout=60,
                 what="beat to take its lock", log=beat_log)  # fmt: skip

        second = subprocess.run(
            [*celery, "beat", "--schedule", str(tmp_path / "schedule-2")],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert second.returncode == 1, second.stdout + second.stderr
        assert "refusing to start a second one" in second.stderr
        assert beat.poll() is None, "the first beat goes on"
    # Once the first beat is gone, the lock is free for the next one.
    with running(
        [*celery, "beat", "--loglevel", "INFO", "--schedule", str(tmp_path / "schedule-3")],
        env=env,
        log=second_log,
    ):
        wait_for(lambda: "Holding the beat lock" in second_log.read_text(), timeout=60,
                 what="the next beat", log=second_log)  # fmt: skip
