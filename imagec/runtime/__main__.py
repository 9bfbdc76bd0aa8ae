"""``python -m imagec.runtime [--path DIR] MODULE:NAME | FILE[:NAME]``: run the pipeline
(an image's default command); ``--inspect`` prints what the image was built from."""

import sys

from imagec.runtime.runner import main

sys.exit(main())
