import sys

from nnqa.faces.cli import main

sys.exit(main())
