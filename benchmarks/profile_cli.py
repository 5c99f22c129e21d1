"""Profile one `vaultsync` command line with cProfile, as a user runs it.

    python benchmarks/profile_cli.py OUT.prof fix VAULT --exit-zero -q
    python -m pstats OUT.prof   # then: sort cumulative / stats 30

`python -m cProfile -m vaultsync ...` writes nothing: the CLI ends with `os._exit`, to
skip tearing its heap down, and so skips cProfile's dump too. Here `os._exit` of this
process (not of a forked worker, which must still end at once) raises SystemExit, and
the profile is written on the way out. Work done in forked processes (a cold check's
second half) is not in the profile.
"""

from __future__ import annotations

import cProfile
import os
import runpy
import sys
from typing import NoReturn


def main() -> None:
    out = sys.argv[1]
    sys.argv = ["vaultsync", *sys.argv[2:]]
    me = os.getpid()
    real_exit = os._exit

    def exit_here(status: int) -> NoReturn:
        if os.getpid() == me:
            raise SystemExit(status)
        real_exit(status)

    os._exit = exit_here
    profile = cProfile.Profile()
    code: str | int | None = 0
    try:
        profile.runcall(runpy.run_module, "vaultsync", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
    finally:
        profile.dump_stats(out)
    sys.exit(code)


if __name__ == "__main__":
    main()
