"""One verification, without Qt: the request, its progress, the decision and the verifier.

- :mod:`.types`: :class:`SessionRequest`, :class:`SessionProgress`, :class:`Decision`;
- :mod:`.verifier`: :class:`Verifier`, whose ``session`` generator runs the phases;
- :mod:`.verdict`: what a face comparison may decide (the offline policy);
- :mod:`.unjudged`: sessions that ended before the person could be judged.
"""

from kiosk.session.types import Decision, SessionProgress, SessionRequest
from kiosk.session.verifier import Verifier

__all__ = ["Decision", "SessionProgress", "SessionRequest", "Verifier"]
