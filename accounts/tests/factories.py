from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from accounts.models import Account, Region, User
from accounts.roles import Role

TEST_PASSWORD = "correct-horse-battery"  # noqa: S105
_HASHED = make_password(TEST_PASSWORD)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    name = factory.Faker("name")
    title = "Technical Account Manager"
    region = Region.US
    password = _HASHED

    @factory.post_generation
    def roles(obj: User, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:  # noqa: N805
        if create and extracted:
            obj.groups.add(*[Group.objects.get(name=role) for role in extracted])


def user_with_role(role: str, **kwargs: Any) -> User:
    return UserFactory.create(roles=[role], **kwargs)


def tam(**kwargs: Any) -> User:
    return user_with_role(Role.TAM, **kwargs)


def team_lead(**kwargs: Any) -> User:
    return user_with_role(Role.TEAM_LEAD, title="Team lead", **kwargs)


def manager(**kwargs: Any) -> User:
    return user_with_role(Role.MANAGER, title="Manager", **kwargs)


def revops(**kwargs: Any) -> User:
    return user_with_role(Role.REVOPS, title="RevOps", is_staff=True, **kwargs)


class AccountFactory(factory.django.DjangoModelFactory[Account]):
    class Meta:
        model = Account

    name = factory.Faker("company")
    organization_id = factory.Sequence(lambda n: f"org_test_{n:06d}")
    domain = factory.LazyAttribute(lambda a: f"{a.organization_id}.example.com")
    country = "US"
    region = Region.US
    employee_count = 120


# The seven kinds of staff the permission matrices check, by the words the
# tests' tables use.
MATRIX_ROLES = ("TAM", "CSM", "TAE", "team lead", "manager", "RevOps", "superuser")


def actor(kind: str, **kwargs: Any) -> User:
    """A user of one of MATRIX_ROLES (a superuser holds no group)."""
    if kind == "superuser":
        return UserFactory.create(is_superuser=True, is_staff=True, **kwargs)
    role = {"team lead": Role.TEAM_LEAD, "manager": Role.MANAGER}.get(kind, kind)
    return user_with_role(role, **kwargs)
