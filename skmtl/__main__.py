"""Command line: ``python -m skmtl demo [--school PATH] [--quick]``,
``python -m skmtl --version``."""

import argparse
import sys


def main(argv=None):
    """Entry point of the ``skmtl`` command."""
    from . import __version__

    parser = argparse.ArgumentParser(prog="skmtl", description=__doc__)
    parser.add_argument("--version", action="version", version=f"skmtl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="multi-task models against baselines on synthetic house/apartment "
        "prices (or School with --school)",
    )
    demo.add_argument("--school", metavar="PATH", help="path of school.mat")
    demo.add_argument("--quick", action="store_true", help="smaller, faster run")
    demo.add_argument(
        "--figure",
        default="skmtl_demo.png",
        help="figure file (needs matplotlib); '' for none",
    )
    demo.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "demo":
        from ._demo import check_paths, run_demo

        try:  # fail before the run starts, not after it
            check_paths(args.school, args.figure or None)
        except ValueError as exc:
            parser.error(str(exc))

        run_demo(
            school=args.school,
            quick=args.quick,
            figure=args.figure or None,
            random_state=args.seed,
            log=lambda s: print(s, flush=True),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
