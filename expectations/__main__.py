"""Command line: ``python -m expectations validate [--layer L] [--all-rows]`` and ``python -m expectations docs``."""

from __future__ import annotations

import argparse
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m expectations")
    sub = parser.add_subparsers(dest="command", required=True)
    p_val = sub.add_parser("validate", help="validate one layer (or all) and store the results")
    p_val.add_argument("--layer", help="raw | staging | intermediate | marts (default: all, in order)")
    p_val.add_argument(
        "--all-rows",
        action="store_true",
        help="validate every row of the big append-only tables too, not only the rows since their last "
        "passing run (same as POSTSALE_VALIDATE_ALL_ROWS=1)",
    )
    sub.add_parser("docs", help="build Data Docs from the kept validation results; print where they are")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)

    from connectors.warehouse import resolve_warehouse_url
    from expectations.runner import LAYERS, build_data_docs, data_docs_index, raise_on_failure, validate_layer

    if args.command == "docs":
        print(f"Data Docs: {build_data_docs()}")
        return 0

    url = resolve_warehouse_url()
    layers = [args.layer] if getattr(args, "layer", None) else list(LAYERS)
    failed = False
    for layer in layers:
        outcome = validate_layer(layer, url, all_rows=True if args.all_rows else None)
        print(outcome.summary())
        try:
            raise_on_failure(outcome)
        except Exception as exc:  # report every layer, then fail
            print(exc, file=sys.stderr)
            failed = True
    print(f"Data Docs: {data_docs_index()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
