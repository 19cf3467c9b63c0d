"""The one exception type for user mistakes."""


class InputError(ValueError):
    """A user-supplied value is outside what mono accepts.

    The message always names the parameter and the accepted range, so that the
    command line can print it as one line instead of a traceback.

    Parameters
    ----------
    parameter : str
        Name of the offending parameter as the user spelled it (``"eps"``, ``"--s"``).
    message : str
        What is wrong and what is accepted.
    """

    def __init__(self, parameter: str, message: str):
        self.parameter = parameter
        self.detail = message
        super().__init__(f"{parameter}: {message}")

    def renamed(self, parameter: str) -> "InputError":
        """The same complaint under another name (a library argument → the user's option)."""
        return InputError(parameter, self.detail)


def require(condition: bool, parameter: str, message: str) -> None:
    """Raise :class:`InputError` unless ``condition`` holds."""
    if not condition:
        raise InputError(parameter, message)
