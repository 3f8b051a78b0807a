"""The reader's listening socket, bound before the server starts so a bad address is one error."""

import socket


class ReaderStartError(RuntimeError):
    """The reader could not listen or start; the message says what to change."""


def listen(host: str, port: int, options: str = "--host/--port") -> socket.socket:
    """Bind the reader's socket here rather than in uvicorn, which logs a busy port and exits 3
    with no word of which option to change: a bad address becomes one error naming `options`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except (OSError, OverflowError) as error:
        listener.close()
        reason = getattr(error, "strerror", None) or str(error)
        raise ReaderStartError(f"cannot listen on {host}:{port} ({options}): {reason}") from None
    return listener
