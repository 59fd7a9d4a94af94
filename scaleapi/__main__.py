"""`python -m scaleapi`: the `scaleapi` command line (needs the `cli` extra)."""

import sys

from scaleapi._cli import main

if __name__ == "__main__":
    sys.exit(main(prog_name="python -m scaleapi"))
