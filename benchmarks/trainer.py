"""Trainer vs. plain PyTorch loop, steps/s ratio (same as `python -m playground bench`).

Usage: python benchmarks/trainer.py [--device cpu|cuda] [--rounds N]
"""

import sys

from playground.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
