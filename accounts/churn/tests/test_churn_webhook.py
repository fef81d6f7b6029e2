"""A new flag's #customer-churn note goes through the durable outbox (issue 15):
written with the flag, posted by a worker, re-sent by the sweep, at least once
with one idempotency key."""

from __future__ import annotations

import signal
import sys
import time

import pytest
from django.contrib.messages import get_messages
from django.db import transaction
from django.urls import reverse

from accounts.churn.flags import ChurnError, flag_account
from accounts.churn.models import ChurnRiskFlag
from accounts.churn.tests.churn_helpers import owned_account
from accounts.churn.webhook import FLAG_RAISED
from accounts.tests.factories import TEST_PASSWORD
from revopsweb import outbox
from revopsweb.celery import app
from revopsweb.models import Delivery
from revopsweb.tests.receiver import receiver
from revopsweb.tests.test_outbox import _SEND, _later
from revopsweb.tests.test_redis_down import redis_down  # noqa: F401  (fixture)

HOOK = "http://127.0.0.1:9/hook"  # nobody listens: a send fails, the row stays


def _flag(account, **kwargs):
    return flag_account(account=account, by=account.owner, triggers="usage down", **kwargs)


def _wait_for(pk: int, status: str) -> Delivery:
    deadline = time.monotonic() + 30
    while (delivery := Delivery.objects.get(pk=pk)).status != status:
        assert time.monotonic() < deadline, (delivery.status, delivery.last_error)
        time.sleep(0.1)
    return delivery


@pytest.mark.django_db
def test_a_flag_writes_its_note_as_a_delivery_in_the_same_transaction(settings):
    settings.CHURN_WEBHOOK_URL = HOOK
    flag = _flag(owned_account(name="Acme"), known="CTO left", help_needed="exec sponsor")
    delivery = Delivery.objects.get()
    assert ChurnRiskFlag.objects.get().webhook_delivery == delivery == flag.webhook_delivery
    assert (delivery.kind, delivery.url, delivery.status) == (FLAG_RAISED, HOOK, "pending")
    text = delivery.payload["text"]
    assert "Acme" in text and "CTO left" in text and "exec sponsor" in text


@pytest.mark.django_db
def test_a_rolled_back_flag_leaves_no_delivery(settings):
    settings.CHURN_WEBHOOK_URL = HOOK
    account = owned_account()
    with pytest.raises(RuntimeError), transaction.atomic():
        _flag(account)
        raise RuntimeError("the page failed after flagging")
    assert not ChurnRiskFlag.objects.exists() and not Delivery.objects.exists()


@pytest.mark.django_db
def test_a_refused_second_flag_queues_no_second_note(settings):
    settings.CHURN_WEBHOOK_URL = HOOK
    account = owned_account()
    _flag(account)
    with pytest.raises(ChurnError):
        _flag(account)
    assert Delivery.objects.count() == 1


@pytest.mark.django_db
def test_without_a_webhook_the_flag_queues_nothing(settings):
    settings.CHURN_WEBHOOK_URL = ""
    flag = _flag(owned_account())
    assert flag.webhook_delivery is None and not Delivery.objects.exists()


def test_the_old_retrying_churn_task_is_gone():
    app.loader.import_default_modules()
    assert not [name for name in app.tasks if "webhook" in name]


@pytest.mark.django_db
def test_re_sends_of_a_note_carry_the_same_idempotency_key(settings):
    with receiver(statuses=[503, 429]) as hook:
        settings.CHURN_WEBHOOK_URL = hook.url
        delivery = _flag(owned_account()).webhook_delivery
        assert delivery is not None
        assert outbox.send_delivery(delivery_id=delivery.pk) == "retry"
        assert outbox.send_delivery(delivery_id=delivery.pk, now=_later(3600)) == "retry"
        assert outbox.send_delivery(delivery_id=delivery.pk, now=_later(7200)) == "delivered"
    assert hook.keys() == [str(delivery.idempotency_key)] * 3
    assert hook.requests[0]["json"] == hook.requests[2]["json"] == delivery.payload


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_posts_the_note_after_the_flag_commits(celery_worker, settings):
    with receiver() as hook:
        settings.CHURN_WEBHOOK_URL = hook.url
        delivery = _flag(owned_account(name="Wired Inc")).webhook_delivery
        assert delivery is not None
        assert hook.received.wait(30), "the worker posted it"
        _wait_for(delivery.pk, Delivery.Status.DELIVERED)
    assert "Wired Inc" in hook.requests[0]["json"]["text"]
    assert hook.keys() == [str(delivery.idempotency_key)]


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_at_flag_time_the_flag_saves_and_the_sweep_posts_later(
    celery_worker,
    settings,
    redis_down,  # noqa: F811
):
    with receiver() as hook:
        settings.CHURN_WEBHOOK_URL = hook.url
        # The after-commit enqueue fails (logged); the flag and its row commit.
        flag = _flag(owned_account(name="Outage Co"))
        assert ChurnRiskFlag.objects.get().pk == flag.pk
        assert Delivery.objects.get().status == Delivery.Status.PENDING
        time.sleep(1)
        assert hook.requests == []
        redis_down.restore()
        assert outbox.sweep_deliveries() == 1
        assert hook.received.wait(30), "the sweep's send reached the receiver"
        delivery = _wait_for(Delivery.objects.get().pk, Delivery.Status.DELIVERED)
    assert "Outage Co" in hook.requests[0]["json"]["text"]
    assert hook.keys() == [str(delivery.idempotency_key)]


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_is_re_sent_after_its_lease_with_the_same_key(settings, tmp_path):
    from revopsweb.tests.processes import app_env, running

    with receiver(hold_seconds=20) as hook:
        settings.CHURN_WEBHOOK_URL = hook.url
        with transaction.atomic():
            delivery = _flag(owned_account()).webhook_delivery
        assert delivery is not None
        # A sender process posts, the receiver holds the answer, the sender is
        # killed before it can record anything.
        args = [sys.executable, "-c", _SEND, str(delivery.pk)]
        with running(args, env=app_env(), log=tmp_path / "send.log") as sender:
            assert hook.received.wait(60), (tmp_path / "send.log").read_text()
            sender.send_signal(signal.SIGKILL)
            sender.wait(10)
        hook.hold_seconds = 0
        assert Delivery.objects.get().status == Delivery.Status.PENDING
        assert outbox.due_delivery_ids() == []  # leased: the sweep waits
        lease_over = _later(outbox._lease().total_seconds() + 1)
        assert outbox.due_delivery_ids(now=lease_over) == [delivery.pk]
        assert outbox.send_delivery(delivery_id=delivery.pk, now=lease_over) == "delivered"
    assert hook.keys() == [str(delivery.idempotency_key)] * 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "told"), [(HOOK, True), ("", False)], ids=["webhook set", "no webhook"]
)
def test_the_flag_page_says_the_channel_is_told_only_with_a_webhook(client, settings, url, told):
    settings.CHURN_WEBHOOK_URL = url
    account = owned_account()
    assert client.login(email=account.owner.email, password=TEST_PASSWORD)
    form = client.get(reverse("churn:flag", args=[account.pk])).content.decode()
    response = client.post(
        reverse("churn:flag", args=[account.pk]), {"triggers": "x", "severity": "elevated"}
    )
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert ("#customer-churn is told" in message) is told
    assert ("The note goes to #customer-churn" in form) is told
    assert ("post the note in the channel yourself" in form) is not told
