"""Errors users see, and the exit codes the CLI maps them to."""
from __future__ import annotations

EXIT_OK = 0
EXIT_FATAL = 1
EXIT_USAGE = 2
EXIT_WARNINGS = 3  # finished, but with warnings, under --strict
EXIT_REGRESSION = 4  # anivault bench --compare found a regression
EXIT_CREDENTIALS = 5  # TMDB rejected the key
EXIT_REFUSED = 6  # organize refused: --conflict fail, or the destination is locked


class AniVaultError(Exception):
    """A failure with context for the user: one line, a hint, an exit code."""

    exit_code = EXIT_FATAL

    def __init__(self, message: str, hint: str = "", exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class UsageError(AniVaultError):
    exit_code = EXIT_USAGE


class CredentialsError(AniVaultError):
    exit_code = EXIT_CREDENTIALS


class RefusedError(AniVaultError):
    exit_code = EXIT_REFUSED


class RegressionError(AniVaultError):
    exit_code = EXIT_REGRESSION
