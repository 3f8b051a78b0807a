"""Domain-name normalisation, the rule by which logins and claims are compared."""

import re
from functools import lru_cache

import idna

# Letters-digits-hyphens labels (RFC 1123) after IDNA, so that claims and email domains that can
# never resolve (`acme!.com`, `-acme.com`, `a@b.com`) are rejected rather than never matching.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_MAX_DOMAIN_LENGTH = 253


class InvalidDomainError(ValueError):
    """Raised when a string cannot be normalised into a domain name."""


# Pure, and a worker sees the same few domains millions of times: remember recent answers.
@lru_cache(maxsize=65_536)
def normalise_domain(raw: str) -> str:
    """Trim, lower-case, strip one trailing dot and IDNA-encode a domain name."""
    domain = raw.strip().lower()
    if domain.endswith("."):
        domain = domain[:-1]
    if not domain.isascii():
        if any(c.isspace() for c in domain) or ".." in domain:
            raise InvalidDomainError(f"{raw!r} is not a domain name")
        try:
            # UTS #46 mapping first, so full-width dots and mixed case fold like browsers do.
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError as error:
            raise InvalidDomainError(f"{raw!r} is not a valid internationalised domain") from error
    if len(domain) > _MAX_DOMAIN_LENGTH or not _HOSTNAME.fullmatch(domain):
        raise InvalidDomainError(f"{raw!r} is not a domain name")
    return domain


def email_domain(email: str) -> str:
    """Return the normalised domain of an email address; never keeps the local part."""
    local, at, domain = email.strip().rpartition("@")
    if not at or not local or not domain:
        raise InvalidDomainError("email has no domain part")
    return normalise_domain(domain)
