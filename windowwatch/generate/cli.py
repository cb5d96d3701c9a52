"""`windowwatch generate --scale small|city|province --out DIR --seed N [--as-of DATE]`."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time


def main(args) -> int:
    from windowwatch.generate.dataset import generate

    as_of = dt.date.fromisoformat(args.as_of) if getattr(args, "as_of", None) else None
    t0 = time.perf_counter()
    gt = generate(args.out, scale=args.scale, seed=args.seed, as_of=as_of)
    secs = time.perf_counter() - t0
    c = gt["counts"]
    print(f"generated {args.scale} centre into {args.out} ({gt['period']['start']} .. {gt['period']['end']}) "
          f"in {secs:.1f} s", file=sys.stderr)
    print(json.dumps({"rows_per_feed": c["rows_per_feed"], "cases": c["cases"],
                      "same_day_share": c["same_day_share"], "satisfaction_rate": c["satisfaction_rate"],
                      "signals_by_rule": c["signals_by_rule"], "overdue_by_kind": c["overdue_by_kind"],
                      "truth": f"{args.out}/_truth/ground_truth.json"}, ensure_ascii=False, indent=2))
    return 0
