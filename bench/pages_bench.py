"""Server time of the project and audit pages, uncached, on a database holding the full demo.

    PACTE_VAR_DIR=/tmp/var .venv/bin/pacte migrate && PACTE_VAR_DIR=/tmp/var .venv/bin/pacte demo load
    PACTE_VAR_DIR=/tmp/var PACTE_ENV=test .venv/bin/python bench/pages_bench.py [rounds]

Each page is fetched through Django's test client (no network) with the public page cache off
(PUBLIC_PAGE_CACHE_SECONDS=0); prints the median and the worst of ``rounds`` fetches per page.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pacte.settings")


def main(rounds: int) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.PUBLIC_PAGE_CACHE_SECONDS = 0
    from pacte.evidence.models import Audit
    from pacte.projects.models import Project

    pages = [f"/projets/{p.slug}/" for p in Project.objects.order_by("name")]
    pages += [f"/audits/{a.pk}/" for a in Audit.objects.order_by("pk")]
    client = Client()
    client.get(pages[0])  # warm the code paths (imports, templates), not the data
    for url in pages:
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            assert client.get(url).status_code == 200, url
            times.append((time.perf_counter() - t) * 1000)
        print(f"{url:45} median {statistics.median(times):7.0f} ms   max {max(times):7.0f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
