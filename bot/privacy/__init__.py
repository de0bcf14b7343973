"""Privacy requests about one person: export everything stored about them, or forget them.

See `docs/privacy.md` for what is deleted, what is anonymised and why.
"""

from bot.privacy.refs import ContactRefError, PersonRef, parse_person_ref
from bot.privacy.service import ContactNotFoundError, ForgetReport, PrivacyService

__all__ = [
    "ContactNotFoundError",
    "ContactRefError",
    "ForgetReport",
    "PersonRef",
    "PrivacyService",
    "parse_person_ref",
]
