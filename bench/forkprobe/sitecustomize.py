"""Makes every forked child exit at once (bench/instructions.sh's probe).

Under valgrind a forked child's count starts from its parent's at the fork, so
such a child's count is the work its parent did before forking.
"""

import os

_fork = os.fork


def _fork_and_end_child() -> int:
    pid = _fork()
    if pid == 0:
        os._exit(0)
    return pid


os.fork = _fork_and_end_child
