"""Frame sources (camera, video file, image folder), their health, and the camera thread.

No Qt here: :class:`CaptureThread` is a plain thread feeding a :class:`LatestFrameSlot`.
"""

from kiosk.camera.capture import CaptureThread
from kiosk.camera.device import (
    CameraDisconnected,
    DeviceSource,
    VirtualCameraRefused,
    parse_device,
)
from kiosk.camera.factory import (
    is_device_spec,
    open_source,
    recording_path,
    refuse_single_frame,
    refuse_still,
    single_frame_refusal,
)
from kiosk.camera.health import CameraHealth, ControlStatus, HealthMonitor
from kiosk.camera.images import (
    IMAGE_EXTENSIONS,
    ImageFileSource,
    ImageFolderSource,
    ImageSequenceSource,
    is_image_path,
    read_image,
)
from kiosk.camera.slot import LatestFrameSlot
from kiosk.camera.source import BaseSource, FrameSource, SourceInfo, as_bgr
from kiosk.camera.v4l2 import VideoDevice, find_device, list_devices
from kiosk.camera.video import VideoFileSource, decodable_name, parse_frame_range

__all__ = [
    "IMAGE_EXTENSIONS", "BaseSource", "CameraDisconnected", "CameraHealth", "CaptureThread",
    "ControlStatus", "DeviceSource", "FrameSource", "HealthMonitor", "ImageFileSource", "ImageFolderSource",
    "ImageSequenceSource", "LatestFrameSlot", "SourceInfo", "VideoDevice", "VideoFileSource",
    "VirtualCameraRefused", "as_bgr", "decodable_name", "find_device", "is_device_spec", "is_image_path",
    "list_devices", "open_source", "parse_device", "parse_frame_range", "read_image", "recording_path",
    "refuse_single_frame", "refuse_still", "single_frame_refusal",
]
