"""Where a person is in a photo and how they stand: BlazePose's 33 body landmarks on onnxruntime, offline.

The models are MediaPipe's ``pose_detection``, ``pose_landmark_full`` and ``face_detection_short_range``
(Apache-2.0), converted to ONNX (``models/pose/NOTICE.md``), so the bot needs neither mediapipe nor a TFLite
runtime. The pipeline is MediaPipe's own (its graphs ``pose_detection_cpu`` and ``pose_landmark_by_roi_cpu``):
the detector sees the photo letterboxed to 224×224 and finds a person's head and two alignment keypoints (the
mid-hip and a point whose distance and direction give the body's size and tilt); the landmark model sees the
square, upright crop those keypoints define, at 256×256, and places 33 landmarks with how visible each is.
Between the two, a face detector checks the head, because the pose detector alone takes many a garment laid
flat for a body. A photo without a person costs the detector alone (about 12 ms on one CPU core).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
from PIL import Image

from .ort_sessions import providers, session_options

log = logging.getLogger(__name__)

LANDMARK_SIZE = 256
# MediaPipe's defaults: min_detection_confidence, the NMS overlap, the ROI's margin, the pose-presence flag.
MIN_DETECTION_SCORE = 0.5
NMS_OVERLAP = 0.3
ROI_SCALE = 1.25
MIN_PRESENCE = 0.5
# The pose detector finds bodies by their heads, and on a shirt laid flat or hung up it takes the collar or the
# hanger for one: 98 of the 4,336 flat-lays of ../shared/clothing-dataset gave a body with garment regions. Face
# detectors on the head it found tell a person from a garment: BlazeFace's short-range model (near faces), then,
# if it is unsure, its full-range one (small, far faces), each on a square FACE_CONTEXT times the head's box. At
# FACE_SCORE neither kept any of those 98 (their best scored 0.74 and 0.75), and together they kept 388 of the 402
# people of ../shared/fashion-sample's photos (the short-range model alone 378).
FACE_CONTEXT = 3.5
FACE_SCORE = 0.8
# A landmark counts as seen above this visibility; a pose with fewer seen body landmarks is no pose.
VISIBLE = 0.5
MIN_VISIBLE_LANDMARKS = 8
BODY_LANDMARKS = 33


# The detectors' inputs and anchor layouts (MediaPipe's SsdAnchorsCalculator options in their graphs): the square
# side, the strides of the layers, and whether each layer has a second, interpolated anchor per cell.
@dataclass(frozen=True)
class DetectorSpec:
    file: str
    size: int
    strides: tuple[int, ...]
    interpolated: bool = True


POSE_DETECTOR = DetectorSpec("pose_detection.onnx", 224, (8, 16, 32, 32, 32))  # 2254 anchors
NEAR_FACES = DetectorSpec("face_detection_short_range.onnx", 128, (8, 16, 16, 16))  # 896
FAR_FACES = DetectorSpec("face_detection_full_range.onnx", 192, (4,), interpolated=False)  # 2304
LANDMARKS_FILE = "pose_landmark_full.onnx"


class PoseModelUnavailableError(RuntimeError):
    """The pose models cannot be loaded here; the message says what is missing."""


@dataclass(frozen=True)
class PersonDetection:
    """The detector's best person: its score, its head's box (x0, y0, x1, y1) and its four keypoints (mid-hip,
    the full-body scale point, mid-shoulder, the upper-body scale point), in pixels of the photo."""

    score: float
    head: np.ndarray  # (4,) float32
    keypoints: np.ndarray  # (4, 2) float32, x and y


@dataclass(frozen=True)
class Pose:
    """A person's 33 landmarks (MediaPipe's numbering: 11/12 shoulders, 23/24 hips, 25/26 knees, 27/28 ankles,
    29/30 heels, 31/32 foot tips) in pixels of the photo, each with its visibility (in view, not hidden) and
    presence (in the frame) in [0, 1]; ``size`` is the photo's (width, height)."""

    points: np.ndarray  # (33, 2) float32, x and y
    visibility: np.ndarray  # (33,) float32
    presence: np.ndarray  # (33,) float32
    score: float
    size: tuple[int, int]

    def seen(self, threshold: float = VISIBLE) -> np.ndarray:
        """Which landmarks are seen: visible, present, and inside the photo."""
        width, height = self.size
        inside = ((self.points[:, 0] >= 0) & (self.points[:, 0] < width)
                  & (self.points[:, 1] >= 0) & (self.points[:, 1] < height))
        return (self.visibility > threshold) & (self.presence > threshold) & inside


class Detector:
    """One SSD detector session with its anchors: an image square in, its best detection out."""

    def __init__(self, session, spec: DetectorSpec) -> None:
        self._session = session
        self.spec = spec
        self._anchors = ssd_anchors(spec.size, spec.strides, spec.interpolated)

    def best(self, pixels: np.ndarray, min_score: float) -> tuple[float, np.ndarray, np.ndarray] | None:
        """The best detection in a (3, size, size) square of [-1, 1] values (see :func:`decode_detection`)."""
        regressors, scores = self._session.run(None, {"image": pixels[None].astype(np.float32)})
        return decode_detection(regressors[0], scores[0, :, 0], self._anchors, self.spec.size, min_score)


class PoseLocator:
    """The pose detector, the face check and the landmark model. Build with :meth:`load`; no model exists before
    that."""

    def __init__(self, detector: Detector, faces: Sequence[Detector], landmarker) -> None:
        self._detector = detector
        self._faces = faces
        self._landmarker = landmarker

    @classmethod
    def load(cls, threads: int | None = None) -> PoseLocator:
        try:
            import onnxruntime
        except ImportError as error:
            raise PoseModelUnavailableError("finding a person needs onnxruntime: pip install onnxruntime") from error
        options = session_options(threads)
        available = providers()

        def session(name: str):
            path = model_path(name)
            if not path.is_file():
                raise PoseModelUnavailableError(f"the pose model {path} is missing; it ships in the package's models/")
            return onnxruntime.InferenceSession(str(path), options, providers=available)

        detector = Detector(session(POSE_DETECTOR.file), POSE_DETECTOR)
        faces = [Detector(session(spec.file), spec) for spec in (NEAR_FACES, FAR_FACES)]
        log.info("pose locator: BlazePose (full) and BlazeFace on %s", available[0])
        return cls(detector, faces, session(LANDMARKS_FILE))

    def detect(self, image: Image.Image) -> PersonDetection | None:
        """The most confident person in the photo, or None: the detector alone."""
        size = POSE_DETECTOR.size
        pixels, scale, pad = letterbox(image, size)
        best = self._detector.best(pixels / 127.5 - 1, MIN_DETECTION_SCORE)
        if best is None:
            return None
        score, box, keypoints = best
        to_photo = np.tile(pad, 2)  # letterbox → photo pixels
        return PersonDetection(score, ((box * size - to_photo) / scale).astype(np.float32),
                               ((keypoints * size - pad) / scale).astype(np.float32))

    def has_face(self, image: Image.Image, detection: PersonDetection) -> bool:
        """Whether a face is where the detector put the person's head (a near face, else a far one)."""
        x0, y0, x1, y1 = (float(value) for value in detection.head)
        side = FACE_CONTEXT * max(x1 - x0, y1 - y0, 1.0)
        centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        for faces in self._faces:
            size = faces.spec.size
            crop = image.transform((size, size), Image.Transform.AFFINE,
                                   tuple(roi_matrix(centre, side, 0.0, size).ravel()), Image.Resampling.BILINEAR)
            if faces.best(np.asarray(crop, np.float32).transpose(2, 0, 1) / 127.5 - 1, FACE_SCORE) is not None:
                return True
        return False

    def locate(self, image: Image.Image) -> Pose | None:
        """The person's landmarks, or None when there is no person (no body, or no face on it) or too few of
        their landmarks are seen."""
        detection = self.detect(image)
        if detection is None or not self.has_face(image, detection):
            return None
        return self.landmarks(image, detection)

    def landmarks(self, image: Image.Image, detection: PersonDetection) -> Pose | None:
        """The landmark model on the upright square the detection's alignment keypoints define."""
        centre, side, rotation = body_roi(detection.keypoints)
        matrix = roi_matrix(centre, side, rotation, LANDMARK_SIZE)
        crop = image.transform((LANDMARK_SIZE, LANDMARK_SIZE), Image.Transform.AFFINE, tuple(matrix.ravel()),
                               Image.Resampling.BILINEAR)
        pixels = np.asarray(crop, np.float32).transpose(2, 0, 1) / 255
        raw, flag = self._landmarker.run(None, {"image": pixels[None]})
        if float(flag.ravel()[0]) < MIN_PRESENCE:
            return None
        values = raw.reshape(-1, 5)[:BODY_LANDMARKS]
        points = values[:, :2] @ matrix[:, :2].T + matrix[:, 2]  # crop pixels → photo pixels
        pose = Pose(points.astype(np.float32), _sigmoid(values[:, 3]), _sigmoid(values[:, 4]),
                    float(flag.ravel()[0]), image.size)
        return pose if int(pose.seen().sum()) >= MIN_VISIBLE_LANDMARKS else None


def model_path(name: str) -> Path:
    return Path(str(files("models") / "pose" / name))


def letterbox(image: Image.Image, size: int) -> tuple[np.ndarray, float, np.ndarray]:
    """The image fitted into a black ``size`` square, centred, as (3, size, size) float32 in [0, 255]; the
    scale and the (x, y) padding that map photo pixels to the square's."""
    width, height = image.size
    scale = size / max(width, height)
    fitted = (max(1, round(width * scale)), max(1, round(height * scale)))
    canvas = Image.new("RGB", (size, size))
    pad = np.array([(size - fitted[0]) // 2, (size - fitted[1]) // 2], np.float32)
    canvas.paste(image.resize(fitted, Image.Resampling.BILINEAR), (int(pad[0]), int(pad[1])))
    return np.asarray(canvas, np.float32).transpose(2, 0, 1), scale, pad


def ssd_anchors(size: int, strides: tuple[int, ...], interpolated: bool = True) -> np.ndarray:
    """A detector's anchor centres (N, 2), as MediaPipe's SsdAnchorsCalculator lays them out: layers of one
    stride share a grid, each layer puts one anchor per cell, or two with the interpolated one (fixed size, so
    only centres matter)."""
    centres = []
    layer = 0
    while layer < len(strides):
        same = sum(1 for stride in strides[layer:] if stride == strides[layer])
        cells = math.ceil(size / strides[layer])
        grid_y, grid_x = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
        cell_centres = np.stack([(grid_x + 0.5) / cells, (grid_y + 0.5) / cells], axis=-1).reshape(-1, 1, 2)
        per_cell = same * (2 if interpolated else 1)
        centres.append(np.repeat(cell_centres, per_cell, axis=1).reshape(-1, 2))
        layer += same
    return np.concatenate(centres).astype(np.float32)


def decode_detection(regressors: np.ndarray, logits: np.ndarray, anchors: np.ndarray, size: int,
                     min_score: float) -> tuple[float, np.ndarray, np.ndarray] | None:
    """The best detection among the anchors' predictions — its score, box (x0, y0, x1, y1) and keypoints (K, 2),
    normalised to the letterboxed square — merged over the boxes that overlap it (MediaPipe's weighted
    non-maximum suppression). None when no anchor scores ``min_score``."""
    scores = 1 / (1 + np.exp(-np.clip(logits.astype(np.float64), -100, 100)))
    candidates = np.flatnonzero(scores >= min_score)
    if candidates.size == 0:
        return None
    values = regressors[candidates] / size
    centres = anchors[candidates]
    boxes = np.concatenate([values[:, :2] + centres - values[:, 2:4] / 2, values[:, :2] + centres + values[:, 2:4] / 2],
                           axis=1)
    keypoints = values[:, 4:].reshape(len(candidates), -1, 2) + centres[:, None, :]
    best = int(np.argmax(scores[candidates]))
    overlapping = iou(boxes[best], boxes) > NMS_OVERLAP
    weights = scores[candidates][overlapping]
    merged_box = (boxes[overlapping] * weights[:, None]).sum(axis=0) / weights.sum()
    merged_keypoints = (keypoints[overlapping] * weights[:, None, None]).sum(axis=0) / weights.sum()
    return float(scores[candidates][best]), merged_box, merged_keypoints


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one (x0, y0, x1, y1) box with each of ``boxes``."""
    width = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    height = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = width * height
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = (box[2] - box[0]) * (box[3] - box[1]) + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def body_roi(keypoints: np.ndarray) -> tuple[np.ndarray, float, float]:
    """The landmark model's square (centre, side, rotation in radians) from the mid-hip and the full-body scale
    point: twice their distance, widened by :data:`ROI_SCALE`, turned so the body stands upright."""
    hip, scale_point = keypoints[0].astype(np.float64), keypoints[1].astype(np.float64)
    side = 2 * float(np.linalg.norm(scale_point - hip)) * ROI_SCALE
    rotation = math.pi / 2 - math.atan2(-(scale_point[1] - hip[1]), scale_point[0] - hip[0])
    rotation = (rotation + math.pi) % (2 * math.pi) - math.pi
    return hip, max(side, 1.0), rotation


def roi_matrix(centre: np.ndarray, side: float, rotation: float, size: int) -> np.ndarray:
    """The (2, 3) affine map from a ``size`` crop's pixels to the photo's: the crop's centre is ``centre``, its
    side ``side`` photo pixels, turned by ``rotation``. It is PIL's AFFINE data as it stands."""
    cos, sin, unit = math.cos(rotation), math.sin(rotation), side / size
    return np.array([[unit * cos, -unit * sin, centre[0] - side / 2 * (cos - sin)],
                     [unit * sin, unit * cos, centre[1] - side / 2 * (sin + cos)]])


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return (1 / (1 + np.exp(-values))).astype(np.float32)
