"""The error every contract check raises (``benchmark.contracts`` re-exports it)."""


class ContractError(ValueError):
    """A plug-in or a user input breaks a contract; the message names the culprit."""
