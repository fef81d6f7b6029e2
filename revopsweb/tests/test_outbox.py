"""Durable outbound notifications: written with the event, sent at least once."""

from __future__ import annotations

import datetime as dt
import signal
import sys
import time

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from revopsweb import outbox
from revopsweb.models import Delivery
from revopsweb.outbox import enqueue_delivery, send_delivery, sweep_deliveries
from revopsweb.tests.receiver import receiver
from revopsweb.tests.test_redis_down import redis_down  # noqa: F401  (fixture)

PAYLOAD = {"text": "Acme flagged at risk"}


def _later(seconds: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=seconds)


@pytest.mark.django_db
def test_a_rolled_back_event_leaves_no_delivery():
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_delivery(kind="test.event", url="http://127.0.0.1:9/hook", payload=PAYLOAD)
        raise RuntimeError("the event failed")
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_a_delivery_is_posted_with_its_idempotency_key_and_marked_delivered():
    with receiver() as hook:
        delivery = enqueue_delivery(kind="test.event", url=hook.url, payload=PAYLOAD)
        assert send_delivery(delivery_id=delivery.pk) == "delivered"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.DELIVERED, 1)
    assert hook.requests[0]["json"] == PAYLOAD
    assert hook.keys() == [str(delivery.idempotency_key)]
    assert hook.requests[0]["headers"]["X-Revopsweb-Kind"] == "test.event"


@pytest.mark.django_db
def test_a_failed_send_backs_off_exponentially_and_resends_the_same_key(settings):
    settings.OUTBOX_FIRST_RETRY_SECONDS = 60
    with receiver(statuses=[503, 500]) as hook:
        delivery = enqueue_delivery(kind="test.event", url=hook.url, payload=PAYLOAD)
        assert send_delivery(delivery_id=delivery.pk) == "retry"
        first_wait = Delivery.objects.get().next_attempt_at - timezone.now()
        # Not due yet: neither a send nor a sweep posts it again.
        assert send_delivery(delivery_id=delivery.pk) == "not due"
        assert send_delivery(delivery_id=delivery.pk, now=_later(61)) == "retry"
        second_wait = Delivery.objects.get().next_attempt_at - timezone.now()
        assert send_delivery(delivery_id=delivery.pk, now=_later(121)) == "delivered"
    assert 55 < first_wait.total_seconds() <= 60
    assert 115 < second_wait.total_seconds() <= 120
    assert len(hook.keys()) == 3 and len(set(hook.keys())) == 1
    assert Delivery.objects.get().last_error == ""  # cleared once delivered


@pytest.mark.django_db
def test_a_delivery_is_given_up_after_its_attempts_with_the_error_visible(settings, admin_client):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    with receiver(statuses=[502, 502]) as hook:
        delivery = enqueue_delivery(kind="test.event", url=hook.url, payload=PAYLOAD)
        assert send_delivery(delivery_id=delivery.pk) == "retry"
        assert send_delivery(delivery_id=delivery.pk, now=_later(3600)) == "failed"
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED and "HTTP 502" in delivery.last_error
    assert outbox.failed_delivery_count() == 1
    response = admin_client.get(
        reverse("admin:revopsweb_delivery_changelist"), {"status": "failed"}
    )
    assert [d.pk for d in response.context["cl"].result_list] == [delivery.pk]


@pytest.mark.django_db
def test_a_refusal_is_final_at_once():
    with receiver(statuses=[404]) as hook:
        delivery = enqueue_delivery(kind="test.event", url=hook.url, payload=PAYLOAD)
        assert send_delivery(delivery_id=delivery.pk) == "failed"
    assert Delivery.objects.get().attempts == 1


@pytest.mark.django_db
def test_an_unreachable_receiver_is_retried():
    delivery = enqueue_delivery(kind="test.event", url="http://127.0.0.1:9/hook", payload=PAYLOAD)
    assert send_delivery(delivery_id=delivery.pk) == "retry"
    assert "ConnectError" in Delivery.objects.get().last_error


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_at_event_time_the_sweep_sends_it_later(celery_worker, redis_down):  # noqa: F811
    # The event commits while the broker is down: the enqueue fails (logged),
    # the delivery row is committed all the same.
    with receiver() as hook:
        with transaction.atomic():
            delivery = enqueue_delivery(kind="test.event", url=hook.url, payload=PAYLOAD)
        assert Delivery.objects.get().status == Delivery.Status.PENDING
        assert hook.requests == []
        redis_down.restore()  # Redis is back
        assert sweep_deliveries() == 1
        assert hook.received.wait(30), "the worker sent it"
        _wait_for_status(delivery.pk, Delivery.Status.DELIVERED)
    assert hook.keys() == [str(delivery.idempotency_key)]


def _wait_for_status(pk: int, status: str) -> None:
    deadline = time.monotonic() + 30
    while Delivery.objects.get(pk=pk).status != status:
        assert time.monotonic() < deadline, Delivery.objects.get(pk=pk).status
        time.sleep(0.1)


_SEND = """
import sys, django
django.setup()
from revopsweb.outbox import send_delivery
send_delivery(delivery_id=int(sys.argv[1]))
"""


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_is_resent_by_the_sweep_with_the_same_key(tmp_path):
    from revopsweb.tests.processes import app_env, running

    # The receiver takes the first post but holds it: the worker is killed
    # before it learns the answer, so it never records the delivery.
    with receiver(hold_seconds=20) as hook:
        delivery = enqueue_delivery(kind="test.event", url=hook.url, payload=PAYLOAD)
        args = [sys.executable, "-c", _SEND, str(delivery.pk)]
        with running(args, env=app_env(), log=tmp_path / "send.log") as worker:
            assert hook.received.wait(60), (tmp_path / "send.log").read_text()
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        hook.hold_seconds = 0
        assert Delivery.objects.get().status == Delivery.Status.PENDING
        # Within the lease the sweep leaves it alone; after it, sends again.
        assert outbox.due_delivery_ids() == []
        lease_over = _later(outbox._lease().total_seconds() + 1)
        assert outbox.due_delivery_ids(now=lease_over) == [delivery.pk]
        assert send_delivery(delivery_id=delivery.pk, now=lease_over) == "delivered"
    assert len(hook.keys()) == 2 and set(hook.keys()) == {str(delivery.idempotency_key)}


@pytest.mark.django_db
def test_the_admin_home_shows_how_many_deliveries_were_given_up(admin_client):
    assert b"failed-deliveries" not in admin_client.get(reverse("admin:index")).content
    for status in (Delivery.Status.FAILED, Delivery.Status.FAILED, Delivery.Status.DELIVERED):
        delivery = enqueue_delivery(kind="test.event", url="http://127.0.0.1:9/", payload=PAYLOAD)
        Delivery.objects.filter(pk=delivery.pk).update(status=status)
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "2 outbound notifications given up" in page
    assert reverse("admin:revopsweb_delivery_changelist") + "?status__exact=failed" in page
