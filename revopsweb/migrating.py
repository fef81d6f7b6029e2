"""Reference rows after ``migrate``: whether the database has the tables they go into yet.

``post_migrate`` fires for every installed app after any ``migrate``, also one that
stopped short of the end (``migrate leads 0008`` on an empty database, a rollback to
an older migration). A handler that fills reference rows through the current models
would then query tables or columns that do not exist yet.
"""

from __future__ import annotations

from typing import Any

from django.apps.registry import Apps
from django.db import models


def tables_ready(*model_classes: type[models.Model], apps: Apps | None) -> bool:
    """Whether the migration state ``apps`` has each model with every column it declares.

    ``apps`` is the ``apps`` argument ``post_migrate`` passes: the state the migrate
    left the database in. ``None`` (``flush`` sends none; the tables are complete then)
    counts as ready. A model missing from the state, or a column of the current model
    that the state lacks, means not ready: the handler should skip, and the ``migrate``
    that completes the app sends ``post_migrate`` again.
    """
    if apps is None:
        return True
    for model in model_classes:
        try:
            state: Any = apps.get_model(model._meta.app_label, model._meta.model_name)
        except LookupError:
            return False
        have = {field.column for field in state._meta.concrete_fields}
        if any(field.column not in have for field in model._meta.concrete_fields):
            return False
    return True
