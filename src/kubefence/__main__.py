import sys

from kubefence.cli import main

sys.exit(main())
