"""The performance harness's Redis memory rows, from bench.memory's figures."""

from typing import Any

from bench.memory import headline


def key_row(users: int, hll: int, companion: int) -> dict[str, Any]:
    return {"distinct_users": users, "hll_bytes": hll, "companion_bytes": companion}


def test_rows_give_a_key_at_three_sizes_and_each_single_redis_org_per_day() -> None:
    results = {
        "keys": [
            key_row(1, 152, 288),
            key_row(64, 344, 4800),
            key_row(1_000, 2136, 272),
            key_row(100_000, 12408, 272),
        ],
        "orgs": [
            {"users": 1000, "redis": "single", "bytes_per_day": 54_783,
             "bytes_per_org_retained": 24_326_963},
            {"users": 1000, "redis": "cluster-3", "bytes_per_day": 1, "bytes_per_org_retained": 1},
        ],
    }  # fmt: skip
    assert headline(results) == [
        (
            "Redis bytes per key (HLL + exact set), 1 / 1,000 / 100,000 users",
            "440 / 2,408 / 12,680 B",
        ),
        ("Redis bytes per org per day, 1,000 users", "54,783 B (23.2 MiB over 400 days)"),
    ]
