from __future__ import annotations

from typing import Any

import factory
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.factories import AccountFactory, user_with_role
from leads.models import (
    LeadType,
    Task,
    TaskSource,
    Territory,
    TrackerMember,
    TrackerRole,
)
from revopsweb.dates import current_month

ROLE_GROUP = {
    TrackerRole.TAE: Role.TAE,
    TrackerRole.TAM: Role.TAM,
    TrackerRole.ONBOARDING: Role.ONBOARDING,
}


def territory(slug: str = "europe-africa") -> Territory:
    return Territory.objects.get(slug=slug)


class TrackerMemberFactory(factory.django.DjangoModelFactory[TrackerMember]):
    class Meta:
        model = TrackerMember
        skip_postgeneration_save = True

    user = factory.LazyAttribute(lambda m: user_with_role(ROLE_GROUP[m.role]))
    role = TrackerRole.TAE
    priority = 1
    period = factory.LazyFunction(current_month)

    @factory.post_generation
    def territories(obj: TrackerMember, create: bool, extracted: Any, **kwargs: Any) -> None:  # noqa: N805
        if create:
            obj.territories.set(extracted if extracted is not None else [territory()])


def member(**kwargs: Any) -> TrackerMember:
    return TrackerMemberFactory.create(**kwargs)


class TaskFactory(factory.django.DjangoModelFactory[Task]):
    class Meta:
        model = Task

    account = factory.SubFactory(AccountFactory, territory=factory.LazyFunction(territory))
    territory = factory.LazyAttribute(lambda t: t.account.territory)
    source = TaskSource.CONTACT_FORM
    lead_type = LeadType.NEW_BUSINESS
    created_at = factory.LazyFunction(timezone.now)


def teammate(lead: Any, **kwargs: Any) -> TrackerMember:
    """A tracker member who reports to ``lead`` (on the team lead's own team)."""
    role = kwargs.pop("role", TrackerRole.TAE)
    return member(user=user_with_role(ROLE_GROUP[role], team_lead=lead), role=role, **kwargs)
