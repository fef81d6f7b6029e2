"""The outbox's count of given-up notifications, for the admin's home page."""

from __future__ import annotations

from django import template

from revopsweb.outbox import failed_delivery_count

register = template.Library()


@register.simple_tag
def failed_deliveries() -> int:
    """Outbound notifications given up (``revopsweb.outbox.failed_delivery_count``)."""
    return failed_delivery_count()
