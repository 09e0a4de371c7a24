"""The conversation's one error type: something the user sent or asked that is refused."""


class UserError(Exception):
    """Something about what the user sent (or asked) that we refuse; ``str(error)`` is the reply."""
