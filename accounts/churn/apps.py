from __future__ import annotations

from django.apps import AppConfig


class ChurnConfig(AppConfig):
    """Churn risk: early-warning signals, flags, the weekly review, retros."""

    name = "accounts.churn"
    label = "churn"
    verbose_name = "Churn risk"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.extensions import register_account_mark

        from .review import churn_risk_mark, suggested_mark

        register_account_mark("churn_risk", churn_risk_mark)
        register_account_mark("churn_suggested", suggested_mark)

        from accounts.extensions import register_home_panel, register_section
        from accounts.permissions import any_staff

        from .home_panels import book_risk_panel, company_risk_panel, team_risk_panel

        # Everyone opens the review; review_accounts narrows it to their own.
        register_section(
            url_name="churn:review", label="Churn review", order=60, may_open=any_staff
        )

        from .backtest_views import can_see_backtest

        register_section(
            url_name="churn:backtest", label="Signal backtest", order=61, may_open=can_see_backtest
        )
        register_home_panel(
            key="book_risk",
            template="churn/home_risk.html",
            order=40,
            homes={"book"},
            context=book_risk_panel,
        )
        register_home_panel(
            key="team_risk",
            template="churn/home_risk.html",
            order=50,
            homes={"team"},
            context=team_risk_panel,
        )
        register_home_panel(
            key="company_risk",
            template="churn/home_company.html",
            order=10,
            homes={"company"},
            context=company_risk_panel,
        )
