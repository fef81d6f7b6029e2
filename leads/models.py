from __future__ import annotations

from django.db import models

from accounts.models import Region


class Territory(models.Model):
    """A sales territory of the round robin, edited by RevOps."""

    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    ownership_region = models.CharField(
        max_length=2,
        choices=Region.choices,
        blank=True,
        help_text="Which team (US or EU) owns accounts in this territory; used to suggest owners.",
    )
    sort_order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ("sort_order", "name")
        verbose_name_plural = "territories"

    def __str__(self) -> str:
        return self.name
