"""Identity matching: Amazon Rekognition (boto3) and an offline dlib matcher.

Modules (import what you need; nothing heavy is imported here):

- ``protocol``: the :class:`FaceMatcher` protocol; ``results``: the dataclasses it returns;
  ``errors``: typed errors with plain messages and reason codes.
- ``rekognition``: :class:`RekognitionMatcher` (CompareFaces + DetectFaces, search, enrol,
  Face Liveness); ``client``: :func:`make_rekognition_client`, :func:`aws_status`.
- ``local``: :class:`LocalMatcher` (dlib ResNet descriptor, several live frames combined);
  ``align``: 5-point alignment; ``face_quality``: the quality gate before matching;
  ``calibration``: the distance-to-similarity scale and what its threshold means.
- ``fallback``: :class:`ResilientMatcher` (cloud first, local when the cloud is down);
  ``factory``: :func:`build_matcher` for the composition root.
- ``images``: JPEG within 5 MB, ID-photo loading with its pixel limit; ``detect``: dlib HOG
  faces (padded canvas and CNN fallback for tight and small photos) and the one-face rule;
  ``parse``: Rekognition answers read defensively; ``media``: photo suffixes and frame ranges
  (recordings' frames are chosen in :mod:`kiosk.lab.live_frames`; pair evaluation lives in
  :mod:`kiosk.lab.pairs`).
"""
