from __future__ import annotations

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revopsweb.settings")
application = get_wsgi_application()

# Each worker imports every view now rather than on its first request, then hands
# everything imported so far to gc.freeze(): the garbage collector no longer walks
# those ~150,000 objects (models, URL patterns, libraries) in its full collections.
# On the tracker, one full collection took 81 ms of a request before and 3 ms after
# (gc callbacks over 1,000 requests in process at the 100,000-account seed; issue 20).
# A broken URLconf now stops the worker at start instead of failing its first page.
get_resolver().url_patterns  # noqa: B018 (evaluated for its imports)
gc.freeze()
