"""The leads app's seed_demo step (found by ``accounts.demo.installed_demo_steps``)."""

from __future__ import annotations

from accounts.demo import DemoStep


def demo_steps() -> list[DemoStep]:
    """Round-robin tracker, territories' members and a history of tasks."""
    from .demo_tasks import reset_tasks, seed_tasks_step

    return [DemoStep("tasks", seed_tasks_step, reset_tasks, order=70)]
