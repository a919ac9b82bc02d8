"""Typed errors, each carrying the exit code main() turns it into."""

from __future__ import annotations

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_CREDENTIALS = 3
EXIT_PLAYBOOK = 4
EXIT_BUSY = 5
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """\
exit codes:
  0    done
  1    unexpected error (run again with -v for the traceback)
  2    bad usage or input, or a needed choice is missing and there is no terminal to ask
  3    cloud credentials missing
  4    a playbook failed (the failing task's message and the full log's path are printed)
  5    another run of this workbench holds its lock (its pid, command and start are printed;
       --wait waits for it)
  130  interrupted (Ctrl-C); running the same command again finishes the job
"""


class CliError(Exception):
    """An error with a one-line message for the user and an exit code."""

    exit_code = EXIT_UNEXPECTED


class UsageError(CliError):
    exit_code = EXIT_USAGE


class CredentialsError(CliError):
    exit_code = EXIT_CREDENTIALS


class PlaybookError(CliError):
    exit_code = EXIT_PLAYBOOK


class BusyError(CliError):
    exit_code = EXIT_BUSY


class Interrupted(CliError):
    exit_code = EXIT_INTERRUPTED
