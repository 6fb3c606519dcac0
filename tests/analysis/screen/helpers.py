"""Shared paths and a runner for the screen, life and mask cue tests on real clips."""

from __future__ import annotations

from pathlib import Path

REPLAY_F_PH1 = ("Trainingdata-datamarket_Anti-Spoofing-Replay-Dataset/samples/"
                "0001fffbd2--630b66fab961b45a3ceb1ca9/replay_video.mp4")
REPLAY_F_ZA1 = ("Trainingdata-datamarket_Anti-Spoofing-Replay-Dataset/samples/"
                "0001fffbd2--630b6ba7e3a4854c648025ea/replay_video.mp4")
LIVE_F_PH1 = ("Trainingdata-datamarket_Anti-Spoofing-Real-Dataset/samples/"
              "0001e96803--621ea6f51185323cad2533b8/live_video.mp4")
DOORWAY = ("Trainingdata-datamarket_Selfies-and-video-dataset/samples/"
           "0001d815c0--61dc1afaeae6cc347caa18b2/8.mp4")
LP = "KwaiVGI_LivePortrait/assets/examples/driving/"
WEBCAM_REAL_1 = ("jomariya23156_face-recognition-with-liveness-web-login/"
                 "face_recognition_and_liveness/face_liveness_detection/videos/real_1.mp4")


def run_video(analyzer, shared_data: Path, relpath: str, track_clip, step: int = 1):
    """Feed a clip (decoded again) and its tracked observations to one analyzer; ``step`` > 1
    feeds every step-th frame only (a camera that many times slower)."""
    from kiosk.camera import open_source

    analyzer.reset()
    by_seq = {o.seq: o for o in track_clip(relpath, step=step)}
    with open_source(str(shared_data / relpath), paced=False) as source:
        for frame in source:
            obs = by_seq.get(frame.seq)
            if obs is not None:
                analyzer.update(frame, obs)
    return analyzer.result()
