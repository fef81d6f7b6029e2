"""One import framework for every input kind: validate each row with one form, apply all or nothing.

An *input kind* (accounts, weekly snapshots, monthly revenue, …) is declared
once, as a ``RowForm`` (the validator of one row, shared by the CSV import,
the JSON API and the admin) and an ``ImportKind`` subclass that says how a
valid row becomes a model instance and how instances are written. The
machinery here does the rest, the same way for every kind:

- ``read_csv``: UTF-8 text (a BOM is ignored) with an exact header; every
  record keeps its *physical* line number (right after blank lines and quoted
  newlines); a record with fewer or more fields than the header is an error;
  blank lines are skipped.
- ``ImportKind.run`` / ``ImportKind.run_csv``: every row through the form
  (per-field errors with line and column), duplicate natural keys detected
  after normalisation ("repeats line 2"), create/update outcome per row, then,
  unless it is a dry run or anything is wrong, everything written in one
  transaction with ``bulk_create(update_conflicts=True)`` in batches. The dry
  run and the apply run the same validation, so they cannot disagree.
- Import pages hand uploads to ``revopsweb.import_views.handle_upload``: files
  over ``IMPORT_SYNC_MAX_BYTES`` run as a background job with a progress bar
  (``revopsweb.import_jobs``, by the kind's ``name``), every error downloadable
  as CSV; ``UploadForm`` caps every import page at ``IMPORT_MAX_UPLOAD_BYTES``.

How to add a kind (e.g. invoices)::

    # billing/forms.py: the one validator of a row, used by CSV, API and admin
    class InvoiceRowForm(RowForm):
        number = KeyField(max_length=40, case="upper")
        organization_id = KeyField(max_length=64)
        amount = AmountField()
        issued_on = DateField()

        @classmethod
        def prefetch(cls, records):  # one query for all rows, not one per row
            return {"accounts": accounts_by_org_id(r.get("organization_id") for r in records)}

        def clean_organization_id(self):
            org = self.cleaned_data["organization_id"]
            if org not in self.context["accounts"]:
                raise forms.ValidationError(f"No account {org!r}.")
            return org

    # billing/imports.py: the declaration
    class InvoiceImport(ImportKind[Invoice]):
        name = "invoices"                     # registry key (background jobs, URLs)
        label = "Invoices"
        header = ("number", "organization_id", "amount", "issued_on")
        form = InvoiceRowForm
        model = Invoice
        key_columns = ("number",)             # the natural key as the file names it
        unique_fields = ("number",)           # ... and as the table's unique constraint
        update_fields = ("account", "amount", "issued_on")

        def build(self, data, context):       # cleaned row -> unsaved instance
            return Invoice(number=data["number"], account_id=context["accounts"][...], ...)

    InvoiceImport(actor=user).run_csv(text, dry_run=True)   # -> ImportResult
    InvoiceImport(actor=None).run(records=[(1, body_row), ...], dry_run=False)  # API

    # billing/views.py: the page (small files in the request, large ones on a
    # worker with a progress page; every error downloadable as CSV)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = handle_upload(            # revopsweb.import_views
            request, form, kind=InvoiceImport.name, back_url=reverse("billing:import_invoices"),
            run=lambda text, dry_run: InvoiceImport(actor=request.user).run_csv(text, dry_run=dry_run),
        )
        if upload.response is not None:    # a background job: its progress page
            return upload.response
    # render upload.result, and upload.job for the errors CSV link
    # ({% url 'import_job_errors' job.pk %})

Every row the apply writes is recorded by django-pghistory's triggers (on
the tracked tables) with the context ``source`` ("import", or "api" when the
kind runs as ``ImportKind(source="api")``), the kind's ``name`` and the acting
user. Override ``after_apply`` for follow-up writes inside the same transaction (a
cache bump on commit, a derived column) and ``outcome`` / ``apply`` only when a
kind records history of its own (accounts write ``OwnershipChange`` rows).
Import the kind's module in the app's ``AppConfig.ready`` so background jobs
find it by ``name``. A JSON API validates its body with the same ``RowForm``
(``revopsweb.jsonapi`` reads bodies safely and renders form errors).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pghistory
from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import models, transaction
from django.template.defaultfilters import filesizeformat

from revopsweb.forms import Form

Progress = Callable[[int, int], None]  # (rows done, rows in all)
Record = tuple[int, Mapping[str, object]]  # (line, raw values by column)
# How often validation reports progress, in rows.
VALIDATE_PROGRESS_EVERY = 2000


@dataclass(frozen=True)
class RowError:
    """One problem: the physical line (1 is the header), the column, and why."""

    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.reason}"

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "column": self.column, "message": self.reason}


@dataclass
class ImportResult:
    """What an import did (or, on a dry run or with errors, would do).

    ``outcomes`` is ``(line, key, outcome)`` per valid row, outcome starting
    with "create" or "update"; ``rows`` counts the data rows read.
    """

    rows: int = 0
    outcomes: list[tuple[int, str, str]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def created(self) -> int:
        return sum(1 for _, _, o in self.outcomes if o.startswith("create"))

    @property
    def updated(self) -> int:
        return sum(1 for _, _, o in self.outcomes if o.startswith("update"))

    def as_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "applied": self.applied,
            "errors": [e.as_dict() for e in self.errors],
        }


def read_csv(text: str, header: Sequence[str]) -> tuple[list[Record], list[RowError]]:
    """Records of a CSV with exactly ``header``, each with its physical line number.

    Returns the records and the errors (a wrong header makes it the only
    error). Blank lines are skipped; a record whose field count differs from
    the header's is an error, never a row with blanks.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        found = next(reader, None)
    except csv.Error as exc:
        return [], [RowError(1, "header", f"Not a CSV file: {exc}.")]
    if found is None or tuple(h.strip() for h in found) != tuple(header):
        return [], [RowError(1, "header", f"The header must be exactly {','.join(header)}.")]
    records: list[Record] = []
    errors: list[RowError] = []
    rows: Iterator[list[str]] = reader
    while True:
        line = reader.line_num + 1  # the physical line this record starts on
        try:
            values = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(line, "row", f"Not readable as CSV: {exc}."))
            break
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            errors.append(
                RowError(line, "row", f"Expected {len(header)} fields, found {len(values)}.")
            )
            continue
        records.append((line, dict(zip(header, values, strict=True))))
    return records, errors


class RowForm(Form):
    """The one validator of a row (or API body) of an input kind.

    ``context`` holds lookups shared by all rows of one import (built once by
    ``prefetch``, so validating 200,000 rows does not query per row); a form
    used on its own (an API body, an admin form) prefetches for itself. A JSON
    list or object where one value is expected is a field error.
    """

    def __init__(
        self,
        data: Mapping[str, object] | None = None,
        *args: Any,
        context: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, *args, **kwargs)
        self._context = context

    @classmethod
    def prefetch(cls, records: Sequence[Mapping[str, object]]) -> dict[str, Any]:
        """Lookups for every row at once (accounts by id, users by e-mail …)."""
        return {}

    @property
    def context(self) -> Mapping[str, Any]:
        if self._context is None:
            self._context = type(self).prefetch([self.data] if self.data else [])
        return self._context

    def error_list(self, *, line: int) -> list[RowError]:
        """This form's errors as row errors (non-field errors under column "row")."""
        return [
            RowError(line, "row" if name == NON_FIELD_ERRORS else name, str(message))
            for name, messages in self.errors.items()
            for message in messages
        ]


class UploadForm(Form):
    """An import page's upload: a UTF-8 CSV of at most ``IMPORT_MAX_UPLOAD_BYTES``, and dry run.

    ``cleaned_data["file"]`` is the uploaded file; ``text()`` decodes it.
    """

    file = forms.FileField()
    dry_run = forms.BooleanField(required=False, initial=True, label="Dry run (check only)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = (
            f"At most {filesizeformat(settings.IMPORT_MAX_UPLOAD_BYTES)}; a file over "
            f"{filesizeformat(settings.IMPORT_SYNC_MAX_BYTES)} is checked by a background worker "
            "while a progress page shows how far it is."
        )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit: int = settings.IMPORT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {filesizeformat(upload.size)}; an import page takes at most "
                f"{filesizeformat(limit)} (IMPORT_MAX_UPLOAD_BYTES). Split it, or import it "
                "with the management command."
            )
        return upload

    def text(self) -> str:
        """The file's text; adds a field error and returns "" when it is not UTF-8."""
        upload = self.cleaned_data["file"]
        upload.seek(0)
        try:
            return str(upload.read().decode("utf-8-sig"))
        except UnicodeDecodeError:
            self.add_error("file", "The file is not UTF-8 text.")
            return ""


class RowValidatedModelForm(forms.ModelForm[Any]):
    """An admin ModelForm validated by the kind's ``RowForm``, so the admin cannot store
    what the CSV and the API would refuse.

    Declare ``row_form`` and ``row_values(cleaned_data) -> {column: value}``
    (e.g. the account's organization_id for its foreign key). The row form's
    errors land on the admin field of the same name (else on the form), and
    its normalised values replace the admin's for fields of the same name.
    """

    row_form: ClassVar[type[RowForm]]

    def row_values(self, data: Mapping[str, Any]) -> dict[str, object]:
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        row = self.row_form(self.row_values(data))
        if not row.is_valid():
            for name, messages in row.errors.items():
                self.add_error(name if name in self.fields else None, list(messages))
            return data
        for name, value in row.cleaned_data.items():
            field = self.fields.get(name)
            # Keys that are foreign keys here (product) keep the admin's object.
            if field is not None and not isinstance(field, forms.ModelChoiceField):
                data[name] = value
        return data


class ImportKind[M: models.Model]:
    """The declaration of an input kind; see the module docstring for an example.

    An instance is one run: it carries the acting user and options. ``run``
    and ``run_csv`` validate everything first and write only when every row is
    valid and ``dry_run`` is false. Idempotent: the same input twice leaves the
    same rows (upsert by ``unique_fields``).
    """

    registry: ClassVar[dict[str, type[ImportKind[Any]]]] = {}

    name: ClassVar[str]
    label: ClassVar[str]
    header: ClassVar[tuple[str, ...]]
    form: ClassVar[type[RowForm]]
    model: ClassVar[type[models.Model]]
    key_columns: ClassVar[tuple[str, ...]]
    unique_fields: ClassVar[tuple[str, ...]]
    update_fields: ClassVar[tuple[str, ...]]
    batch_size: ClassVar[int] = 2000

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            ImportKind.registry[cls.name] = cls

    def __init__(self, *, actor: Any = None, source: str = "import", **options: Any) -> None:
        self.actor = actor
        # Recorded with every row change of the apply (django-pghistory's context):
        # "import" (a CSV page, command or background job) or "api".
        self.source = source
        self.options = options
        # The lookups of the rows being imported (``RowForm.prefetch``), for build and outcome.
        self.context: Mapping[str, Any] = {}

    # --- what a kind declares ---------------------------------------------------

    def build(self, data: Mapping[str, Any], context: Mapping[str, Any]) -> M:
        """An unsaved instance from one row's cleaned data."""
        raise NotImplementedError

    def outcome(self, obj: M, *, existing: bool) -> str:
        return "update" if existing else "create"

    def after_apply(self, objs: list[M]) -> None:
        """Follow-up writes, inside the apply transaction."""

    # --- machinery ----------------------------------------------------------------

    def history_context(self) -> dict[str, object]:
        """What the history of every row this run writes records beside who and when."""
        context: dict[str, object] = {"source": self.source, "import": self.name}
        if self.actor is not None and getattr(self.actor, "pk", None) is not None:
            context["user"] = self.actor.pk
        return context

    def key(self, obj: M) -> tuple[object, ...]:
        return tuple(getattr(obj, attname) for attname in self._key_attnames())

    def _key_attnames(self) -> list[str]:
        return [self.model._meta.get_field(f).attname for f in self.unique_fields]  # type: ignore[union-attr]

    def existing_keys(self, objs: list[M]) -> set[tuple[object, ...]]:
        """The natural keys of ``objs`` already in the table (one query per 10,000)."""
        if not objs:
            return set()
        attnames = self._key_attnames()
        found: set[tuple[object, ...]] = set()
        for start in range(0, len(objs), 10_000):
            chunk = objs[start : start + 10_000]
            first = {getattr(o, attnames[0]) for o in chunk}
            query = self.model._default_manager.filter(**{f"{attnames[0]}__in": first})
            found.update(tuple(v) for v in query.values_list(*attnames))
        return found

    def validate(
        self, records: Sequence[Record], *, progress: Progress | None = None
    ) -> tuple[list[tuple[int, str, M]], list[RowError]]:
        """Every record through the row form; duplicates by natural key after normalisation."""
        context = self.context = self.form.prefetch([r for _, r in records])
        valid: list[tuple[int, str, M]] = []
        errors: list[RowError] = []
        seen: dict[tuple[object, ...], int] = {}
        for done, (line, record) in enumerate(records, start=1):
            form = self.form(record, context=context)
            if not form.is_valid():
                errors.extend(form.error_list(line=line))
            else:
                data = form.cleaned_data
                obj = self.build(data, context)
                key = self.key(obj)
                if key in seen:
                    errors.append(
                        RowError(line, self.key_columns[-1], f"Repeats line {seen[key]}.")
                    )
                else:
                    seen[key] = line
                    label = " ".join(_label(data[c]) for c in self.key_columns)
                    valid.append((line, label, obj))
            if progress is not None and done % VALIDATE_PROGRESS_EVERY == 0:
                progress(done, len(records))
        return valid, errors

    def run(
        self,
        records: Iterable[Record],
        *,
        dry_run: bool,
        progress: Progress | None = None,
        validated: Progress | None = None,
        before_commit: Callable[[ImportResult], None] | None = None,
    ) -> ImportResult:
        """Validate ``(line, record)`` pairs; apply them all unless any is bad or ``dry_run``.

        ``validated(done, total)`` is called while rows are checked and
        ``progress(done, total)`` after each batch is written;
        ``before_commit(result)`` is the last write of an applied import, in
        its transaction (a background job records its outcome with the rows).
        """
        record_list = list(records)
        valid, errors = self.validate(record_list, progress=validated)
        result = ImportResult(rows=len(record_list), errors=errors)
        objs = [obj for _, _, obj in valid]
        existing = self.existing_keys(objs)
        result.outcomes = [
            (line, label, self.outcome(obj, existing=self.key(obj) in existing))
            for line, label, obj in valid
        ]
        if errors or dry_run:
            return result
        with transaction.atomic(), pghistory.context(**self.history_context()):
            self.apply(objs, progress=progress)
            self.after_apply(objs)
            result.applied = True
            if before_commit is not None:
                before_commit(result)
        return result

    def run_csv(
        self,
        text: str,
        *,
        dry_run: bool,
        progress: Progress | None = None,
        validated: Progress | None = None,
        before_commit: Callable[[ImportResult], None] | None = None,
    ) -> ImportResult:
        """``run`` over CSV text with the kind's ``header`` (see ``read_csv``)."""
        records, bad = read_csv(text, self.header)
        if bad and bad[0].column == "header":
            return ImportResult(errors=bad)
        result = self.run(
            records,
            dry_run=dry_run or bool(bad),
            progress=progress,
            validated=validated,
            before_commit=before_commit,
        )
        if bad:
            result.errors = sorted([*bad, *result.errors], key=lambda e: e.line)
            result.rows += len(bad)
            result.applied = False
        return result

    def apply(self, objs: list[M], *, progress: Progress | None = None) -> None:
        """Upsert ``objs`` by ``unique_fields`` in batches; the caller holds the transaction."""
        for start in range(0, len(objs), self.batch_size):
            batch = objs[start : start + self.batch_size]
            self.model._default_manager.bulk_create(
                batch,
                update_conflicts=True,
                unique_fields=list(self.unique_fields),
                update_fields=list(self.update_fields),
            )
            if progress is not None:
                progress(start + len(batch), len(objs))


def _label(value: object) -> str:
    return "" if value is None else str(value)
