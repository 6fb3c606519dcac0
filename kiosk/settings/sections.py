"""The settings, section by section: one frozen dataclass each, the single source of truth.

Every field is declared with :func:`setting`, which keeps its help text and allowed values in
the field's metadata; :mod:`kiosk.settings.schema` derives the validation schema, the
environment names and the README table from these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def setting(default: Any, help: str, *, minimum: float | None = None,
            maximum: float | None = None, choices: tuple[str, ...] | None = None,
            legacy_env: str | None = None, at_most: str | None = None) -> Any:
    """A settings field: its default, help text and allowed values (for the schema).

    ``at_most`` names another key of the same section this value must not exceed (the lower
    end of a min/max pair); each bound alone cannot say so.
    """
    return field(default=default, metadata={
        "help": help, "minimum": minimum, "maximum": maximum, "choices": choices,
        "legacy_env": legacy_env, "at_most": at_most})


@dataclass(frozen=True)
class KioskSettings:
    kiosk_id: str = setting("kiosk-1", "Name of this kiosk in the audit log (1-64 printable "
                            "characters).")
    mode: str = setting("unattended", "Staffed desk or unattended kiosk; decides the offline "
                        "policy default and whether the ID-photo step is shown.",
                        choices=("unattended", "staffed"))
    operator_pin: str = setting("", "PIN that opens the operator panel: 4-12 digits 0-9, or "
                                "better its salted hash from `kiosk settings hash-pin` (a "
                                "settings file holding the plain PIN must be mode 0600); "
                                "empty disables the panel.")
    result_seconds: float = setting(
        25.0, "How long the result stays on screen before idle, unless the person presses "
        "Done; any key, click or touch starts it again, and the accessible check has twice "
        "this. 25: the longest result (34 words) takes 20 s at a slow reading pace of 100 "
        "words a minute, plus a few seconds to look up at it; someone who walks away holds "
        "up the next person no longer than that.", minimum=2, maximum=60)
    sound: bool = setting(False, "Speak each prompt aloud (espeak-ng).")
    approach_s: float = setting(1.0, "A well-placed face held this long starts the kiosk from "
                                "the idle screen.", minimum=0.3, maximum=5)
    consent_timeout_s: float = setting(60.0, "Inactivity on the consent screen before it "
                                       "returns to idle; a warning shows (and is said) for "
                                       "the last 20 s (half the time when shorter), and any "
                                       "key, click or touch starts it again.", minimum=10,
                                       maximum=600)
    identity_timeout_s: float = setting(180.0, "Inactivity on the ID-photo step before it "
                                        "returns to idle.", minimum=30, maximum=1800)
    used_scans: str = setting(
        "delete", "What becomes of an ID scan in a staffed desk's scanner folder (--id-folder) "
        "once a check has used it: delete (a scan shows a whole ID document, and whoever used "
        "the desk next could open it) or keep (where the site must keep ID copies: it clears "
        "the folder by its own rules, and the consent notice says the scan is kept).",
        choices=("delete", "keep"))
    privacy_contact: str = setting(
        "", "Who is responsible for the checks and where a person can ask about their data, "
        "shown as the consent notice's last line after \"Questions about your data:\" (for "
        "example \"Acme Ltd, privacy@acme.example, or ask at the desk\"); up to 160 printable "
        "characters. Empty: the notice names no one, and the site must say it another way.")


@dataclass(frozen=True)
class CameraSettings:
    device: str = setting("0", "Camera index or device path (e.g. /dev/video0); a recording "
                          "is given with --source.")
    width: int = setting(640, "Requested frame width in pixels.", minimum=160, maximum=3840)
    height: int = setting(480, "Requested frame height in pixels.", minimum=120, maximum=2160)
    # Under 10 frames a second liveness is not judged (kiosk.analysis.capture), and the kiosk
    # is back in service only above 12 (kiosk.feed): a camera asked for less than 15 would
    # sit at that limit.
    fps: int = setting(30, "Requested frames per second (at least 15: under 10 the kiosk "
                       "cannot judge liveness and goes out of service).", minimum=15,
                       maximum=120)
    allow_virtual: bool = setting(False, "Accept virtual cameras (v4l2loopback, OBS) and "
                                  "video capture devices (HDMI grabbers): an injected stream "
                                  "is an attack, so only for development.")
    mounted: bool = setting(True, "The camera is rigidly mounted (a kiosk): motion of the "
                            "surroundings then means a hand-held picture or screen. Set false "
                            "for a hand-held or laptop camera.")
    reconnect_min_s: float = setting(0.5, "First wait before reconnecting after an unplug "
                                     "(doubles up to reconnect_max_s).", minimum=0.05,
                                     maximum=10, at_most="reconnect_max_s")
    reconnect_max_s: float = setting(8.0, "Longest wait between reconnection attempts after "
                                     "an unplug.", minimum=0.5, maximum=300)
    overload_pause_s: float = setting(
        60.0, "Out of service this long after a session found the kiosk itself too loaded to "
        "analyse the camera's frames (the camera delivered enough, the analysis under 10 a "
        "second): long enough for a passing load to end; the next session measures again.",
        minimum=5, maximum=3600)


@dataclass(frozen=True)
class LivenessSettings:
    confidence_threshold: float = setting(
        90.0, "Liveness score (0-100) needed to pass; also applied to AWS Face Liveness "
        "confidence. At least 50: the score is the fusion's probability of a live face, and "
        "below 50 the kiosk would pass what it judges more likely an attack.",
        minimum=50, maximum=100, legacy_env="LIVENESS_CONFIDENCE_THRESHOLD")
    challenge_count: int = setting(3, "Challenges per session.", minimum=2, maximum=6)
    response_window_s: float = setting(4.0, "Seconds allowed to answer each prompt.",
                                       minimum=2, maximum=20)
    turn_angle_deg: float = setting(20.0, "Yaw excursion that counts as a head turn.",
                                    minimum=10, maximum=45)
    pitch_angle_deg: float = setting(15.0, "Pitch excursion that counts as a nod or a look up "
                                     "or down.", minimum=8, maximum=30)
    settle_s: float = setting(0.5, "Pause after an answered prompt, with the head back near "
                              "rest and the next prompt's own action not under way (a smile "
                              "held on, for at most one response window), before the next "
                              "prompt.", minimum=0, maximum=3)
    min_reaction_ms: int = setting(150, "Responses sooner than this after a prompt are not "
                                   "human and fail.", minimum=50, maximum=1000)
    baseline_s: float = setting(1.0, "Seconds of neutral face measured before the first "
                                "prompt.", minimum=0.5, maximum=5)
    placement_hold_s: float = setting(0.5, "The face must stay well placed in the oval this "
                                      "long before the session starts.", minimum=0,
                                      maximum=3)
    retries: int = setting(1, "Second chances per session: a prompt that times out, or during "
                           "which the face is lost, is replaced once by a fresh prompt of "
                           "another action. One forgives an honest miss; each more is one more "
                           "chance for a recording to answer a prompt by luck.", minimum=0,
                           maximum=3)
    session_limit_s: float = setting(60.0, "Hard bound on one session from the first frame, "
                                     "pauses and second chances included.", minimum=15,
                                     maximum=600)
    accessible_window_s: float = setting(12.0, "Seconds allowed to answer each prompt in the "
                                         "accessible check a person can choose on the idle "
                                         "or the consent screen (which also asks no blink, "
                                         "never flashes and has twice the session bound).",
                                         minimum=4, maximum=30)
    accessible_challenge_count: int = setting(2, "Challenges in the accessible check (at "
                                              "most challenge_count), before "
                                              "accessible_light_prompts are added.",
                                              minimum=2, maximum=6,
                                              at_most="challenge_count")
    accessible_light_prompts: int = setting(
        2, "Prompts added to the accessible check, which never has the light check (at "
        "sites with it off too): with two, a recording answers the prompts by chance less "
        "often than the standard check's (0.10-0.15 % against 1.22 % at the measured rates; "
        "3.7-4.2 % with none).",
        minimum=0, maximum=4)
    light_challenge: bool = setting(True, "The light challenge: after placement the screen "
                                    "shows a random colour sequence for at most 3.9 s and the "
                                    "face must reflect it. Off only where the screen cannot "
                                    "light the face (a camera far from the screen); a person "
                                    "who chooses the accessible check never gets it.")


@dataclass(frozen=True)
class MatchingSettings:
    similarity_threshold: float = setting(
        95.0, "Face similarity (0-100) needed for a match (Rekognition SimilarityThreshold "
        "and the local matcher's calibrated scale). At least 80, CompareFaces' own default: "
        "different people already reach 93.5 on the developer pairs, and lower still a "
        "stranger matches freely.", minimum=80, maximum=100, legacy_env="FACE_SIMILARITY_THRESHOLD")
    matcher: str = setting("auto", "Face matcher: auto uses Rekognition when AWS is "
                           "configured and the local matcher otherwise.",
                           choices=("auto", "local", "rekognition"))
    offline_policy: str = setting("auto", "What an offline (local) match may do: pass the "
                                  "person, or only flag the attempt for review. auto = pass "
                                  "when staffed, review when unattended.",
                                  choices=("auto", "pass", "review"))
    collection_id: str = setting("", "Rekognition collection of enrolled members (kiosk "
                                 "enroll). Set at an unattended kiosk, every session is a "
                                 "member check-in: the live face is searched there, never "
                                 "locally. Empty: no check-in.")
    quality_filter: str = setting("AUTO", "Rekognition QualityFilter.",
                                  choices=("NONE", "AUTO", "LOW", "MEDIUM", "HIGH"))
    connect_timeout_s: float = setting(3.0, "AWS connect timeout.", minimum=0.5, maximum=60)
    read_timeout_s: float = setting(10.0, "AWS read timeout.", minimum=1, maximum=120)
    max_attempts: int = setting(3, "AWS attempts per call (botocore retries).", minimum=1,
                                maximum=10)


@dataclass(frozen=True)
class AuditSettings:
    db_path: str = setting("", "SQLite audit database, an absolute path (or from ~); empty = "
                           "kiosk.db in the platform data folder. Its folder must exist: a "
                           "mistyped path does not start a new, empty log.")
    retention_days: int = setting(30, "Attempts older than this are purged automatically, at "
                                  "the kiosk's start and then every 6 hours, used or idle (0 "
                                  "keeps everything; the consent notice says how long).",
                                  minimum=0, maximum=3650)
    max_failures: int = setting(5, "Failed attempts of one subject, within the window, that "
                                "lock that subject out (every failure counts).", minimum=1,
                                maximum=100)
    kiosk_max_failures: int = setting(
        15, "Failures that suggest an attack (liveness, changed face, several faces, wrong "
        "action, tries of a locked-out subject; never time-outs, placement, or checks cut "
        "short without a cue that is attack evidence on its own), by anyone at "
        "this kiosk within the window, that lock the whole kiosk. 15: at a few hundred people "
        "a day (up to ~20 sessions in a 15-minute rush) and up to 1 in 5 honest sessions "
        "failing with such a code, 15 in one window happens by chance about once in 50,000 "
        "windows, while an attacker gets at most 14 tries per 45 minutes that end in such a "
        "code (as every replay the light check judges does). Tries that only time out are not "
        "counted, so honest misses never lock a kiosk: a recording's chance of answering the "
        "prompts in one session is what bounds those.", minimum=1,
        maximum=1000)
    failure_window_min: float = setting(15.0, "Sliding window for counting failures, "
                                        "minutes.", minimum=1, maximum=1440)
    lockout_min: float = setting(30.0, "Lockout length, minutes.", minimum=1, maximum=10080)
    busy_timeout_s: float = setting(5.0, "How long a write waits for a locked database before "
                                    "the kiosk goes out of service.", minimum=0.1, maximum=60)
    max_db_mb: int = setting(0, "Size cap of the audit database in MB, treated like a full "
                             "disk when reached (0 = no cap).", minimum=0, maximum=100000)
    store_best_frame: bool = setting(False, "Keep the best frame, encrypted, with each "
                                     "attempt.")
    key_file: str = setting("", "Key file for the subject hash, the keyed chain and frame "
                            "encryption, an absolute path (or from ~); empty = kiosk-audit.key in the folder <database "
                            "folder>-keys beside the database's folder when it exists (never in "
                            "the database's own folder), else the OS keyring, else that file "
                            "is created (not with store_best_frame on: make it first with "
                            "kiosk audit keygen).")


@dataclass(frozen=True)
class FleetSettings:
    url: str = setting("", "PostgreSQL server of the site's fleet as a libpq URL or connection "
                       "string (postgresql://kiosk-east@db.site/kiosks?sslmode=verify-full, or "
                       "service=site); empty = this kiosk stands alone. Passwords go in "
                       "~/.pgpass, PGPASSWORD or a service file, never here.")
    query_timeout_s: float = setting(0.5, "How long the lockout check at the start of a "
                                     "session waits for the server before it decides on the "
                                     "local view alone.", minimum=0.1, maximum=10)
    connect_timeout_s: float = setting(3.0, "Connection timeout of the background sender "
                                       "and the commands (libpq connect_timeout).",
                                       minimum=2, maximum=60)
    unreachable_policy: str = setting(
        "local", "When the server does not answer: local = sessions go on with this kiosk's "
        "own counts (fail open; a person could try at each kiosk in turn); refuse = no new "
        "session once the server has been unreachable for longer than refuse_after_min.",
        choices=("local", "refuse"))
    refuse_after_min: float = setting(10.0, "With unreachable_policy = refuse: minutes "
                                      "without an answer from the server before new sessions "
                                      "are refused.", minimum=0, maximum=1440)
    batch_rows: int = setting(500, "Rows shipped to the server per transaction.", minimum=1,
                              maximum=10000)
    retry_max_s: float = setting(30.0, "Longest wait between the sender's retries while the "
                                 "server is unreachable (the wait doubles from 0.5 s).",
                                 minimum=1, maximum=600)
    flush_timeout_s: float = setting(5.0, "When the kiosk or a command stops, how long it "
                                     "waits for the rows not yet shipped (the rest ship at "
                                     "the next start).", minimum=0, maximum=120)


#: The sections in the order of the settings file and the README table.
SECTIONS: dict[str, type] = {
    "kiosk": KioskSettings, "camera": CameraSettings, "liveness": LivenessSettings,
    "matching": MatchingSettings, "audit": AuditSettings, "fleet": FleetSettings,
}
