"""``python -m imagec.run FILE[:NAME]``: run the pipeline declared in FILE (an image's default
command). Kept apart from ``imagec.runtime`` so ``-m`` never runs an already-imported module."""

import sys

from imagec.runtime import main

if __name__ == "__main__":
    sys.exit(main())
