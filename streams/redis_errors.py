"""Redis errors and URLs as people read them."""

import re
from urllib.parse import urlsplit

# redis-py also takes the password as a query parameter (`?password=...`).
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


def describe(error: BaseException) -> str:
    """The error's class and message: redis-py's repr says only `server:ResponseError`."""
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def without_password(url: str) -> str:
    """The URL to show in an error, with a password in its user part or its query masked."""
    password = urlsplit(url).password
    if password:
        url = url.replace(f":{password}@", ":***@", 1)
    return _QUERY_PASSWORD.sub(r"\1***", url)
