"""Run every benchmark and print rates and ratios (`make bench`).

BENCH_DATABASE_URL runs them against PostgreSQL (an empty database) instead of a
temporary SQLite file.
"""

from __future__ import annotations

import os
import platform

from bench import allowlist, audit, delivery, records, submission


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    engine = "postgresql" if url else "sqlite"
    print(f"# porta25 bench on {platform.node()} ({os.cpu_count()} cores), {engine}")
    result = submission.run(url)
    print(f"submission, full stack (POST /api/v1/cases): {result['full_stack_per_s']:8.1f}/s")
    print(f"baseline, bare Flask + SQLAlchemy insert:     {result['bare_insert_per_s']:8.1f}/s")
    print(f"ratio full/bare:                              {result['ratio']:8.3f}")
    delivery.report(delivery.run(url))
    result = allowlist.run(url)
    print(f"allow-list export, {allowlist.LARGE:,} entries, JSON ({result['bytes']:,} bytes): "
          f"{result['export_s']:.2f} s")
    print(f"baseline, raw DBAPI read of the same rows:     {result['raw_s']:8.2f} s")
    print(f"ratio export/raw:                             {result['ratio']:8.3f}")
    print(f"peak traced memory at {allowlist.LARGE:,} / {allowlist.SMALL:,} entries: "
          f"{result['large_peak'] / 1e6:.2f} MB / {result['small_peak'] / 1e6:.2f} MB "
          f"(ratio {result['memory_ratio']:.2f})")
    audit.report(audit.run(url))
    records.report(records.run(url))


if __name__ == "__main__":
    main()
