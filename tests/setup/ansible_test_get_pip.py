"""Stand-in for pip's get-pip.py, which ansible-test runs to put pip into its sanity venvs.

ansible-test creates each sanity test's virtual environment without pip, then runs
~/.ansible/test/cache/get_pip_<version>.py, downloading it first from an address this
machine cannot reach unless the file is already there. tests/setup/bootstrap.d/ecosystem.sh
puts this script there, beside pip's own wheel from PyPI (pip-<version>-py3-none-any.whl).
The contract is get-pip.py's: install pip (and the packages named on the command line) into
the running interpreter, here from that wheel alone. Runs on every Python ansible-test
creates venvs for (3.8 and later).
"""

import os
import sys


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    name = os.path.splitext(os.path.basename(__file__))[0]
    version = name[len("get_pip_") :].replace("_", ".")
    wheel = os.path.join(here, f"pip-{version}-py3-none-any.whl")
    if not os.path.isfile(wheel):
        sys.exit(f"get_pip: {wheel} is missing (tests/setup/bootstrap.d/ecosystem.sh fetches it)")
    # pip runs from its own wheel (a zip on sys.path), as get-pip.py runs its embedded copy.
    sys.path.insert(0, wheel)
    from pip._internal.cli.main import main as pip_main

    # get-pip.py's own flags: setuptools and wheel are never installed here.
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    options = ["--upgrade", "--force-reinstall", "--no-index", "--find-links", here]
    sys.exit(pip_main(["install", *options, *args]))


if __name__ == "__main__":
    main()
