"""Running a check as an ordinary user: tests run as root, who may read any folder."""
from __future__ import annotations

import os
from typing import Callable


def check_as_nobody(check: Callable[[], bool]) -> None:
    """Asserts ``check()``, run in a forked child as 'nobody' when this process is root."""
    if os.geteuid() != 0:
        assert check()
        return
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            os.setgid(65534)
            os.setuid(65534)
            ok = check()
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the check failed in the child run as nobody"
