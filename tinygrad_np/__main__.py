"""``python -m tinygrad_np``: the ``tinygrad-np`` command without installing the package."""

import sys

from tinygrad_np.cli import main

sys.exit(main())
