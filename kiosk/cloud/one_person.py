"""Whether live face descriptors are one person's, before they are combined.

The local matcher compares an ID photo with the mean of several live frames' descriptors; a
mean of two people's descriptors can match either of them. The session tells a changed face
by landmark positions and proportions (:mod:`kiosk.analysis.challenges.continuity`), which do
not tell a look-alike in the same place: identity is the matcher's. So faces that would match
each other (descriptors at most the matcher's threshold distance apart) are one person, and so
are faces joined through such matches (single linkage). Not every two must match: one
person's best frames differ with expression and pose (two of LivePortrait d8's, a man talking
and grimacing, are 0.53 apart; every recording of the developer set joins within 0.44), while
two people's frames fall apart (Obama's and Biden's, 0.79 and more).

Pure functions over numpy arrays; descriptors are never logged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import cdist

from kiosk.cloud.errors import CloudError
from kiosk.errors import InputError
from kiosk.reasons import Reason

__all__ = ["LiveFacesDiffer", "check_one_person", "linked_groups"]


class LiveFacesDiffer(CloudError, InputError):
    """Live frames offered as one person's show different people: they fall into groups
    whose faces would not match each other. They are refused, never combined.

    The code is the session's for a changed face (``FACE_CHANGED``); an input error too, so
    ``kiosk match`` exits 2 as for any unusable input.
    """

    code: str = Reason.FACE_CHANGED


def linked_groups(vectors: np.ndarray, max_distance: float) -> tuple[list[list[int]], np.ndarray]:
    """Faces joined into groups by links of at most ``max_distance`` (single linkage).

    Parameters
    ----------
    vectors : ndarray (n, d)
        One descriptor per face (d = 128 for dlib).
    max_distance : float

    Returns
    -------
    groups : list of list of int
        Indices into ``vectors``, ascending in each group; groups ordered by their first face.
    distances : ndarray (n, n)
        Euclidean distances between every two faces.
    """
    vectors = np.asarray(vectors, np.float64)
    distances = cdist(vectors, vectors)
    _, labels = connected_components(distances <= max_distance, directed=False)
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        groups.setdefault(int(label), []).append(index)
    return sorted(groups.values()), distances


def check_one_person(vectors: Sequence[np.ndarray], max_distance: float) -> None:
    """Refuse live descriptors that are not all one person's (see the module docstring).

    Parameters
    ----------
    vectors : sequence of ndarray (d,)
        The live faces' descriptors (nothing to check below two).
    max_distance : float
        Largest distance between two descriptors of one person: the matcher's threshold.

    Raises
    ------
    LiveFacesDiffer
        The faces fall into groups none of whose faces would match a face of another.
    """
    if len(vectors) < 2:
        return
    groups, distances = linked_groups(np.stack(vectors), max_distance)
    if len(groups) < 2:
        return
    others = [i for group in groups[1:] for i in group]
    gap = float(distances[np.ix_(groups[0], others)].min())
    raise LiveFacesDiffer(
        f"the live side shows more than one person: its {len(vectors)} best frames fall "
        f"into {len(groups)} groups whose faces would not match each other (closest "
        f"{gap:.3f} apart, one person's at most {max_distance:.3f} at this threshold); give "
        "a picture or recording of one person")
