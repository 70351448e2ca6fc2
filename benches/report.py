"""Prints the ratio table of BENCHMARKS.md from criterion's last run.

    cargo bench && python3 benches/report.py
"""

import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1] / "target" / "criterion"


def median(group: str, bench: str, size: str = "") -> float:
    path = ROOT / group / bench / size / "new" / "estimates.json" if size else ROOT / group / bench / "new" / "estimates.json"
    return json.loads(path.read_text())["median"]["point_estimate"]


def ns(value: float) -> str:
    return f"{value / 1000:.2f} µs" if value >= 10_000 else f"{value:.0f} ns"


rows = []
for size in ["16B", "256B", "1KiB", "64KiB", "1MiB"]:
    for op, raw in [("seal", "raw_encrypt"), ("open", "raw_decrypt")]:
        lib, base = median("field", f"library_{op}", size), median("field", raw, size)
        rows.append((f"{op} {size}", ns(lib), ns(base), f"+{ns(lib - base)} ({lib / base:.2f}x)"))
for op in ["encrypt", "decrypt"]:
    lib, hand = median("customer", f"library_{op}"), median("customer", f"hand_{op}")
    rows.append((f"Customer {op} + JSON", ns(lib), ns(hand), f"{lib / hand:.2f}x"))
lib, hand = median("partial_nested", "library_decrypt_partial"), median("partial_nested", "hand_banking_view")
rows.append(("partial nested decrypt", ns(lib), ns(hand), f"{lib / hand:.2f}x"))
one, two = median("threads", "one_thread"), median("threads", "two_threads")
rows.append(("2 threads vs 1 (round trips/s)", ns(two) + " per 2", ns(one) + " per 1", f"{2 * one / two:.2f}x throughput"))
lib, hand, raw, post = (median("bulk_1MiB", b) for b in ["library_json", "hand_json", "raw_aead", "library_postcard"])
rows.append(("1 MiB seal + JSON string", ns(lib), ns(hand), f"{lib / hand:.2f}x"))
rows.append(("1 MiB seal + postcard", ns(post), ns(raw) + " (raw AEAD)", f"{post / raw:.2f}x"))
for op, raw, hand in [("seal", "raw_encrypt", "hand_seal_json"), ("open", "raw_decrypt", "hand_open_json")]:
    post, base = median("bytes_1MiB", f"library_{op}_postcard"), median("bytes_1MiB", raw)
    rows.append((f"1 MiB bytes {op} + postcard", ns(post), ns(base) + " (raw AEAD)", f"{post / base:.2f}x"))
    base = median("bytes_1MiB", f"hand_{op}_postcard")
    rows.append((f"1 MiB bytes {op} + postcard", ns(post), ns(base) + " (hand-written, postcard)", f"{post / base:.2f}x"))
    lib, base = median("bytes_1MiB", f"library_{op}_json"), median("bytes_1MiB", hand)
    rows.append((f"1 MiB bytes {op} + JSON string", ns(lib), ns(base) + " (AEAD + base64 + JSON)", f"{lib / base:.2f}x"))

print("| measurement | library | baseline | ratio |")
print("|---|---|---|---|")
for row in rows:
    print("| " + " | ".join(row) + " |")
