"""Identity matching: Amazon Rekognition (boto3) and an offline dlib matcher.

Modules (import what you need; nothing heavy is imported here):

- ``protocol``: the :class:`FaceMatcher` protocol; ``results``: the dataclasses it returns;
  ``errors``: typed errors with plain messages and reason codes.
- ``rekognition``: :class:`RekognitionMatcher` (CompareFaces + DetectFaces, search, enrol,
  Face Liveness); ``client``: :func:`make_rekognition_client`, :func:`aws_status`.
- ``local``: :class:`LocalMatcher` (dlib ResNet descriptor, 5-point alignment);
  ``calibration``: its distance-to-similarity scale.
- ``fallback``: :class:`ResilientMatcher` (cloud first, local when the cloud is down);
  ``factory``: :func:`build_matcher` for the composition root.
- ``images``: JPEG within 5 MB, ID-photo loading; ``detect``: dlib HOG faces and the
  one-face rule; ``media``: a face frame from a photo or video (pair evaluation lives in
  :mod:`kiosk.lab.pairs`).
"""
