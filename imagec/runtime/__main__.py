"""``python -m imagec.runtime FILE[:NAME]``: run the pipeline declared in FILE (an image's
default command); ``--inspect`` prints what the image was built from."""

import sys

from imagec.runtime.runner import main

sys.exit(main())
