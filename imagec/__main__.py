import sys

from imagec.cli import main

sys.exit(main())
