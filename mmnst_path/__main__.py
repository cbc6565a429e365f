import sys

from mmnst_path.cli import main

sys.exit(main())
