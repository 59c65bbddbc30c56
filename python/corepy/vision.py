"""Images as tensors: :func:`read_images` decodes JPEG and PNG files in parallel into one
uint8 tensor (``[images, height, width, channels]``), and :func:`resize` resamples image
tensors lazily, as a step of the tensor program (``fast_image_resize``: SIMD convolutions
with Pillow's filters).

>>> import corepy as cp
>>> images = cp.zeros((2, 8, 8, 3), dtype="uint8") + 200
>>> small = cp.vision.resize(images, (4, 4))
>>> small.shape, small.dtype
((2, 4, 4, 3), 'uint8')
>>> int(small.max().compute().item())
200
"""

from __future__ import annotations

import os
from typing import Literal

from corepy import _core
from corepy.exceptions import InvalidArgumentError
from corepy.tensor import Tensor

__all__ = ["read_images", "resize"]

ResizeMethod = Literal["nearest", "bilinear", "bicubic", "lanczos", "area"]
"""How pixels are resampled: ``bilinear``, ``bicubic`` (Catmull-Rom, Pillow's) and
``lanczos`` (Lanczos3) interpolate; ``area`` gives each output pixel the mean of the input
area it covers, a partly covered pixel weighing by the part covered (OpenCV's
``INTER_AREA`` when shrinking; an integer factor gives block means); ``nearest`` picks one:
output pixel ``i`` of a side takes input pixel ``floor((i + 1/2) * from / to)``, computed
exactly (Pillow's rule, whose float steps pick the other neighbour at some exact ties)."""

ImageLayout = Literal["auto", "NHWC", "NCHW", "HWC", "CHW", "HW"]
"""Which axes hold the images' height and width. ``auto``: rank 2 is HW; in rank 3 and 4 the
channel axis is the last one or the third from last, whichever alone has at most four
entries (when both or neither do, name the layout)."""

ColorMode = Literal["RGB", "RGBA", "L"]
"""The channels each decoded pixel gets: RGB, RGB and alpha, or gray (one channel)."""


def read_images(
    path: str | os.PathLike[str],
    parallel: bool = True,
    size: tuple[int, int] | None = None,
    mode: ColorMode = "RGB",
) -> Tensor:
    """The JPEG and PNG images ``path`` names, decoded into a uint8 tensor of shape
    ``[images, height, width, channels]`` (files in name order).

    ``path`` is a file, a glob (``"data/*.jpg"``) or a directory (its ``.jpg``, ``.jpeg``
    and ``.png`` files). ``parallel`` decodes the files on all cores. Without ``size`` all
    images must have one size (the error lists the sizes and files); ``size=(height,
    width)`` resamples each image as it loads (antialiased bilinear, as Pillow's
    ``resize``). A file that does not decode raises :class:`corepy.FileFormatError`
    naming it; a path that names nothing, :class:`corepy.PathNotFoundError`.

    >>> import corepy as cp
    >>> import os, tempfile, numpy as np
    >>> from PIL import Image
    >>> folder = tempfile.mkdtemp()
    >>> Image.fromarray(np.full((6, 5, 3), 9, np.uint8)).save(os.path.join(folder, "a.png"))
    >>> batch = cp.read_images(os.path.join(folder, "*.png"))
    >>> batch.shape, batch.dtype
    ((1, 6, 5, 3), 'uint8')
    >>> cp.read_images(folder, size=(3, 3)).shape
    (1, 3, 3, 3)
    """
    if size is not None:
        size = _size(size)
    return Tensor(_core.TensorNode.read_images(os.fspath(path), parallel, size, mode))


def resize(
    images: Tensor,
    size: tuple[int, int],
    method: ResizeMethod = "bilinear",
    antialias: bool = True,
    layout: ImageLayout = "auto",
) -> Tensor:
    """``images`` resampled to ``size = (height, width)``: lazily, as one step of the
    tensor program.

    Images are ``NHWC`` or ``NCHW`` batches, or single ``HWC``, ``CHW`` or ``HW`` images
    (``layout`` names it when ``auto`` cannot tell). uint8, uint16 and float32 images are
    resampled in their own type (integers rounded and saturated); float64 ones in float32;
    ``nearest`` copies pixels of any type (label maps, masks).
    With ``antialias`` (the default, as Pillow and torchvision) the filter widens when
    shrinking so every input pixel counts; without it, the fixed-size kernel of OpenCV.
    Channels are resampled independently (a fourth channel is not treated as alpha).

    >>> import corepy as cp
    >>> x = cp.arange(16, dtype="float32").reshape(4, 4)
    >>> cp.vision.resize(x, (2, 2), method="area").compute().tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """
    return Tensor(images._node.resize(_size(size), method, antialias, layout))


def _size(size: tuple[int, int]) -> tuple[int, int]:
    """``(height, width)``, both positive integers."""
    if len(size) != 2 or any(int(n) != n or n <= 0 for n in size):
        raise InvalidArgumentError(f"size={size!r}: give (height, width), two positive integers")
    return int(size[0]), int(size[1])
