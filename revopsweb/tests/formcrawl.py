"""Every form the app renders, found by crawling its pages as each demo login."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.demo import DEMO_LOGINS
from accounts.models import User

APP_NAMESPACES = ("accounts", "leads", "billing", "handovers", "churn", "leadgen")


@dataclass
class Form:
    login: str
    method: str
    action: str
    enctype: str
    # name -> the values the page offers (select options, checkbox values); [] for free text
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)
    # name -> input type ("number", "date", "email", "checkbox", …, "select", "textarea")
    types: dict[str, str] = field(default_factory=dict)
    maxlength: dict[str, int] = field(default_factory=dict)


class _Parser(HTMLParser):
    def __init__(self, login: str, page: str) -> None:
        super().__init__()
        self.login, self.page = login, page
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: tuple[Form, str] | None = None
        self._by_id: dict[str, Form] = {}
        # Inputs outside their form (the HTML ``form`` attribute), joined at the end.
        self._detached: dict[str, Form] = {}
        self._hx_gets: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"])
        if tag == "form":
            self._form = Form(
                login=self.login,
                method=(a.get("method") or "get").lower(),
                action=a.get("action") or self.page,
                enctype=a.get("enctype", ""),
            )
            self.forms.append(self._form)
            if a.get("id"):
                self._by_id[a["id"]] = self._form
            return
        if a.get("form"):
            holder = self._detached.setdefault(
                a["form"], Form(login=self.login, method="", action="", enctype="")
            )
            self._add(holder, tag, a)
            if a.get("hx-get"):
                self._hx_gets.append((a["form"], a["hx-get"]))
            return
        if self._form is not None:
            self._add(self._form, tag, a)
        elif tag == "option" and self._select:
            self._add(self._select[0], tag, a)

    def _add(self, form: Form, tag: str, a: dict[str, str]) -> None:
        name = a.get("name")
        if tag in ("input", "textarea", "select", "button") and name:
            values = form.fields.setdefault(name, [])
            form.types.setdefault(name, a.get("type", "text") if tag == "input" else tag)
            if a.get("maxlength", "").isdigit():
                form.maxlength[name] = int(a["maxlength"])
            if a.get("type") == "file":
                form.files.add(name)
            elif tag in ("input", "button") and a.get("value"):
                values.append(a["value"])
            if tag == "select":
                self._select = (form, name)
        if tag == "option" and self._select and "value" in a:
            self._select[0].fields[self._select[1]].append(a["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        if tag == "select":
            self._select = None

    def close(self) -> None:
        super().close()
        for form_id, holder in self._detached.items():
            if form_id in self._by_id:
                self._by_id[form_id].fields.update(holder.fields)
                self._by_id[form_id].files |= holder.files
                self._by_id[form_id].types.update(holder.types)
                self._by_id[form_id].maxlength.update(holder.maxlength)
        # htmx previews read the fields of the form they belong to.
        for form_id, url in dict(self._hx_gets).items():
            if form_id in self._by_id:
                source = self._by_id[form_id]
                self.forms.append(
                    Form(
                        login=self.login, method="get", action=url, enctype="", fields=source.fields
                    )
                )


def page_urls() -> list[str]:
    """Every parameterless page of the apps, from the URL conf."""
    urls = []
    for entry in get_resolver().url_patterns:
        if not isinstance(entry, URLResolver) or entry.namespace not in APP_NAMESPACES:
            continue
        for pattern in entry.url_patterns:
            if (
                isinstance(pattern, URLPattern)
                and pattern.name
                and not pattern.pattern.regex.groups
                and not str(pattern.pattern).startswith("api/")
            ):
                urls.append(reverse(f"{entry.namespace}:{pattern.name}"))
    return urls


def crawl(client: Client, *, depth: int = 2, per_prefix: int = 2) -> list[Form]:
    """The forms on every page each demo login reaches from the app's pages, following
    links ``depth`` deep (at most ``per_prefix`` detail pages per kind of page)."""
    forms: dict[tuple[str, str, str], Form] = {}
    for login in DEMO_LOGINS:
        client.force_login(User.objects.get(email=login))
        seen: set[str] = set()
        kinds: dict[str, int] = {}
        frontier = page_urls()
        for _ in range(depth + 1):
            next_frontier: list[str] = []
            for url in frontier:
                path = urlsplit(url).path
                if path in seen or path.endswith(".csv") or path.startswith(("/admin", "/logout")):
                    continue
                kind = "".join("#" if c.isdigit() else c for c in path)
                if kinds.get(kind, 0) >= per_prefix:
                    continue
                kinds[kind] = kinds.get(kind, 0) + 1
                seen.add(path)
                response = client.get(url)
                if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                    continue
                parser = _Parser(login, path)
                parser.feed(response.content.decode())
                parser.close()
                for form in parser.forms:
                    key = (login, form.method, urlsplit(form.action).path)
                    forms.setdefault(key, form)
                next_frontier.extend(parser.links)
            frontier = next_frontier
    return list(forms.values())
