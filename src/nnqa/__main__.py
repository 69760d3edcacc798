import sys

from nnqa.cli import main

sys.exit(main())
