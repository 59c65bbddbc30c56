"""Images: ``cp.read_images`` against Pillow's decoding, ``cp.vision.resize`` against Pillow's
resampling (stated tolerances), layouts, laziness, and the errors bad input gets."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corepy as cp

Image = pytest.importorskip("PIL.Image")

# Pillow's filters by our method names (antialiased, as Pillow's resize always is).
PILLOW = {
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}
METHODS = [*PILLOW, "nearest", "area"]

# uint8 against Pillow: bilinear within 1 level on any image (fixed-point rounding); bicubic
# and lanczos, whose filters overshoot, within 2 on natural (smooth) images — on noise the
# two libraries clamp the intermediate pass differently and may differ by more.
U8_TOLERANCE = {"bilinear": 1, "bicubic": 2, "lanczos": 2, "nearest": 0, "area": 1}
# float32 against Pillow's float mode: the same filters, summed in another order.
F32_TOLERANCE = 1e-5


def pattern(h: int, w: int, channels: int, seed: int) -> np.ndarray:
    """A smooth image with some detail (JPEG keeps it close to the original)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    planes = [
        127 + 100 * np.sin(x / (3 + c) + y / (5 + seed % 7)) + rng.normal(0, 4, (h, w))
        for c in range(channels)
    ]
    return np.clip(np.stack(planes, axis=-1), 0, 255).astype(np.uint8)


def write(folder: Path, name: str, pixels: np.ndarray, **options: object) -> Path:
    path = folder / name
    Image.fromarray(pixels.squeeze(-1) if pixels.shape[-1] == 1 else pixels).save(path, **options)
    return path


def exact_nearest(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Output pixel i takes input pixel floor((i + 1/2) * from / to), in exact integers
    (Pillow's rule; Pillow's own float steps pick the other neighbour at some exact ties)."""
    rows = [(2 * i + 1) * pixels.shape[0] // (2 * size[0]) for i in range(size[0])]
    cols = [(2 * i + 1) * pixels.shape[1] // (2 * size[1]) for i in range(size[1])]
    return pixels[rows][:, cols]


def coverage_matrix(source: int, target: int) -> np.ndarray:
    """[target, source]: the part of each input pixel each output pixel covers, over the
    output pixel's span (each row sums to 1)."""
    m = np.zeros((target, source))
    for i in range(target):
        lo, hi = i * source / target, (i + 1) * source / target
        for j in range(int(np.floor(lo)), min(int(np.ceil(hi)), source)):
            m[i, j] = (min(j + 1, hi) - max(j, lo)) / (hi - lo)
    return m


def exact_area(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Each output pixel the mean of the input area it covers (float64)."""
    rows = coverage_matrix(pixels.shape[0], size[0])
    cols = coverage_matrix(pixels.shape[1], size[1])
    return np.einsum("yi,ij...,xj->yx...", rows, pixels.astype(np.float64), cols)


def reference(pixels: np.ndarray, size: tuple[int, int], method: str) -> np.ndarray:
    """The expected resize of one HW or HWC image: Pillow's, channel by channel, for the
    interpolating methods; the exact rules for nearest and area."""
    if method == "nearest":
        return exact_nearest(pixels, size)
    if method == "area":
        values = exact_area(pixels, size)
        return np.clip(np.round(values), 0, 255) if pixels.dtype == np.uint8 else values
    if pixels.ndim == 2:
        return np.asarray(Image.fromarray(pixels).resize((size[1], size[0]), PILLOW[method]))
    return np.stack([reference(pixels[..., c], size, method) for c in range(pixels.shape[-1])], -1)


def test_png_decodes_exactly_in_name_order(tmp_path: Path) -> None:
    images = [pattern(12, 9, 3, seed) for seed in range(5)]
    for i, pixels in enumerate(images):
        write(tmp_path, f"img{i}.png", pixels)
    for parallel in (True, False):
        batch = cp.read_images(str(tmp_path / "*.png"), parallel=parallel)
        assert batch.shape == (5, 12, 9, 3) and batch.dtype == "uint8"
        np.testing.assert_array_equal(batch.numpy(), np.stack(images))
    # A directory reads its images; a Path works as well as a string.
    np.testing.assert_array_equal(cp.read_images(tmp_path).numpy(), np.stack(images))


def test_jpeg_decodes_as_pillow_does(tmp_path: Path) -> None:
    originals = [pattern(40, 56, 3, seed) for seed in range(3)]
    for i, pixels in enumerate(originals):
        write(tmp_path, f"photo{i}.jpg", pixels, quality=90)
    batch = cp.read_images(str(tmp_path / "*.jpg")).numpy().astype(int)
    for i in range(3):
        expected = np.asarray(Image.open(tmp_path / f"photo{i}.jpg").convert("RGB")).astype(int)
        # Two JPEG decoders: IDCT and chroma upsampling differ by a few levels at most.
        assert np.abs(batch[i] - expected).max() <= 8
        assert np.abs(batch[i] - expected).mean() < 1.0


def test_modes_give_one_three_or_four_channels(tmp_path: Path) -> None:
    write(tmp_path, "a.png", pattern(5, 7, 4, 1))
    assert cp.read_images(tmp_path, mode="RGBA").shape == (1, 5, 7, 4)
    assert cp.read_images(tmp_path, mode="RGB").shape == (1, 5, 7, 3)
    gray = cp.read_images(tmp_path, mode="L")
    assert gray.shape == (1, 5, 7, 1)
    # Pillow's ITU-R 601 weights, to the level.
    expected = np.asarray(Image.open(tmp_path / "a.png").convert("L"))
    np.testing.assert_array_equal(gray.numpy()[0, ..., 0], expected)


def test_images_of_different_sizes_need_a_size(tmp_path: Path) -> None:
    write(tmp_path, "big.png", pattern(20, 30, 3, 1))
    write(tmp_path, "small.png", pattern(10, 12, 3, 2))
    with pytest.raises(cp.ShapeError) as error:
        cp.read_images(tmp_path)
    text = str(error.value)
    assert "20x30: big.png" in text and "10x12: small.png" in text and "size=" in text
    batch = cp.read_images(tmp_path, size=(16, 16))
    assert batch.shape == (2, 16, 16, 3)
    small = pattern(10, 12, 3, 2)
    expected = reference(small, (16, 16), "bilinear")
    assert np.abs(batch.numpy()[1].astype(int) - expected.astype(int)).max() <= 1


def test_bad_files_and_paths_are_named(tmp_path: Path) -> None:
    write(tmp_path, "good.png", pattern(4, 4, 3, 1))
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(cp.FileFormatError, match=r"broken\.jpg"):
        cp.read_images(tmp_path)
    with pytest.raises(cp.FileFormatError, match=r"broken\.jpg"):
        cp.read_images(tmp_path, size=(4, 4))
    with pytest.raises(cp.PathNotFoundError):
        cp.read_images(str(tmp_path / "nothing*.png"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(cp.PathNotFoundError, match=r"no \.jpg"):
        cp.read_images(empty)
    with pytest.raises(cp.InvalidArgumentError, match="mode"):
        cp.read_images(tmp_path, mode="CMYK")  # type: ignore[arg-type]
    with pytest.raises(cp.InvalidArgumentError, match="positive"):
        cp.read_images(tmp_path / "good.png", size=(0, 4))


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    to_h=st.integers(1, 40),
    to_w=st.integers(1, 40),
    channels=st.sampled_from([1, 3, 4]),
    method=st.sampled_from(METHODS),
    seed=st.integers(0, 100),
)
def test_uint8_resize_matches_pillow_and_the_exact_rules(
    h: int, w: int, to_h: int, to_w: int, channels: int, method: str, seed: int
) -> None:
    noise = np.random.default_rng(seed).integers(0, 256, (h, w, channels), dtype=np.uint8)
    pixels = noise if method in ("bilinear", "nearest", "area") else pattern(h, w, channels, seed)
    batch = cp.asarray(pixels[None])
    got = cp.vision.resize(batch, (to_h, to_w), method=method, layout="NHWC")  # type: ignore[arg-type]
    assert got.shape == (1, to_h, to_w, channels) and got.dtype == "uint8"
    expected = reference(pixels, (to_h, to_w), method)
    diff = np.abs(got.numpy()[0].astype(int) - expected.astype(int))
    assert diff.max() <= U8_TOLERANCE[method], (method, diff.max())


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(1, 30),
    w=st.integers(1, 30),
    to_h=st.integers(1, 30),
    to_w=st.integers(1, 30),
    method=st.sampled_from(METHODS),
    seed=st.integers(0, 100),
)
def test_float_resize_matches_pillow_and_the_exact_rules(
    h: int, w: int, to_h: int, to_w: int, method: str, seed: int
) -> None:
    plane = np.random.default_rng(seed).random((h, w), dtype=np.float32)
    got = cp.vision.resize(cp.asarray(plane), (to_h, to_w), method=method).numpy()  # type: ignore[arg-type]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, reference(plane, (to_h, to_w), method), atol=F32_TOLERANCE)


def test_area_of_an_integer_factor_is_the_block_mean() -> None:
    x = np.random.default_rng(8).random((2, 12, 18, 3), dtype=np.float32)
    got = cp.vision.resize(cp.asarray(x), (4, 6), method="area").numpy()
    blocks = x.reshape(2, 4, 3, 6, 3, 3).mean(axis=(2, 4))
    np.testing.assert_allclose(got, blocks, rtol=1e-6)
    # Pillow's reduce() is the same block mean, for uint8.
    u8 = (x[0] * 255).astype(np.uint8)
    reduced = np.asarray(Image.fromarray(u8).reduce(3))
    got8 = cp.vision.resize(cp.asarray(u8), (4, 6), method="area").numpy()
    assert np.abs(got8.astype(int) - reduced.astype(int)).max() <= 1


def test_layouts_agree_and_float64_stays_float64() -> None:
    x = np.random.default_rng(3).random((2, 3, 20, 16))  # NCHW float64
    nchw = cp.vision.resize(cp.asarray(x), (10, 8)).numpy()
    nhwc = cp.vision.resize(cp.asarray(x.transpose(0, 2, 3, 1)), (10, 8)).numpy()
    assert nchw.dtype == np.float64 and nchw.shape == (2, 3, 10, 8)
    np.testing.assert_allclose(nhwc.transpose(0, 3, 1, 2), nchw, atol=1e-5)
    # Every channel alike: a plane resized alone gives the same values.
    alone = cp.vision.resize(cp.asarray(x[1, 2]), (10, 8)).numpy()
    np.testing.assert_allclose(alone, nchw[1, 2], atol=1e-6)
    # Named layouts where `auto` would guess otherwise: 3 rows of 4 pixels, 2 channels.
    odd = np.random.default_rng(4).random((3, 4, 2), dtype=np.float32)
    hwc = cp.vision.resize(cp.asarray(odd), (6, 8), layout="HWC")
    assert hwc.shape == (6, 8, 2)


def test_resize_is_lazy_fused_with_its_input_and_reads_views() -> None:
    pixels = np.random.default_rng(5).integers(0, 256, (2, 32, 24, 3), dtype=np.uint8)
    t = cp.asarray(pixels)
    normalized = (t - 0.485) / 0.229
    resized = cp.vision.resize(normalized, (16, 12))
    text = resized.explain()
    assert "resize 16x12 bilinear antialias" in text and "fast_image_resize" in text
    expected = np.stack(
        [
            np.stack(
                [
                    np.asarray(
                        Image.fromarray(
                            ((pixels[n, ..., c] - 0.485) / 0.229).astype(np.float32)
                        ).resize((12, 16), Image.Resampling.BILINEAR)
                    )
                    for c in range(3)
                ],
                axis=-1,
            )
            for n in range(2)
        ]
    )
    np.testing.assert_allclose(resized.numpy(), expected, rtol=1e-5, atol=1e-3)
    # A transposed, sliced view resizes as its values say.
    view = t[:, ::-2, :, :].transpose(0, 3, 1, 2)  # NCHW, rows reversed
    got = cp.vision.resize(view, (8, 6), method="nearest").numpy()
    plain = cp.vision.resize(
        cp.asarray(np.ascontiguousarray(pixels[:, ::-2])), (8, 6), method="nearest"
    )
    np.testing.assert_array_equal(got, plain.numpy().transpose(0, 3, 1, 2))


def test_bad_resize_arguments_raise_clear_errors() -> None:
    images = cp.zeros((1, 8, 8, 3), dtype="uint8")
    with pytest.raises(cp.InvalidArgumentError, match="unknown resize method"):
        cp.vision.resize(images, (2, 2), method="cubic")  # type: ignore[arg-type]
    with pytest.raises(cp.InvalidArgumentError, match="positive"):
        cp.vision.resize(images, (0, 2))
    with pytest.raises(cp.InvalidArgumentError, match="positive"):
        cp.vision.resize(images, (-4, 2))
    with pytest.raises(cp.InvalidArgumentError, match="height, width"):
        cp.vision.resize(images, (4,))  # type: ignore[arg-type]
    with pytest.raises(cp.SchemaError, match="int32"):
        cp.vision.resize(cp.zeros((4, 4), dtype="int32"), (2, 2))
    # Nearest copies pixels of any type.
    labels = cp.arange(16, dtype="int32").reshape(4, 4)
    assert cp.vision.resize(labels, (2, 2), method="nearest").tolist() == [[5, 7], [13, 15]]
    with pytest.raises(cp.ShapeError, match="rank"):
        cp.vision.resize(cp.zeros((1, 1, 4, 4, 3)), (2, 2))
    with pytest.raises(cp.ShapeError, match="neither the last"):
        cp.vision.resize(cp.zeros((2, 9, 8, 7)), (2, 2))
    with pytest.raises(cp.ShapeError, match="both the last"):
        cp.vision.resize(cp.zeros((1, 3, 4, 3)), (2, 2))
    with pytest.raises(cp.ShapeError, match="layout NHWC"):
        cp.vision.resize(cp.zeros((4, 4, 3)), (2, 2), layout="NHWC")
    with pytest.raises(cp.ShapeError, match="size 0"):
        cp.vision.resize(cp.zeros((1, 0, 8, 3)), (2, 2), layout="NHWC")


def test_the_design_paper_example_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").mkdir()
    for i in range(4):
        write(tmp_path / "data", f"{i}.jpg", pattern(300, 260, 3, i), quality=92)
    monkeypatch.chdir(tmp_path)
    source = """
import corepy as cp
from corepy.schema import Tensor, Float32
def preprocess(image_batch: cp.Tensor) -> cp.Tensor:
    normalized = (image_batch - 0.485) / 0.229
    return cp.vision.resize(normalized, (224, 224))
batch = cp.read_images("./data/*.jpg", parallel=True)
result = preprocess(batch).compute(device="auto")   # "auto" is the CPU until the GPU issue
"""
    scope: dict[str, object] = {}
    exec(compile(source, "design-paper-example", "exec"), scope)
    result = scope["result"]
    assert isinstance(result, cp.Tensor)
    # NumPy's promotion: uint8 - a Python float is float64 (resampled in float32).
    assert result.shape == (4, 224, 224, 3) and result.dtype == "float64"
    batch = scope["batch"]
    assert isinstance(batch, cp.Tensor)
    first = ((batch.numpy()[0] - 0.485) / 0.229).astype(np.float32)
    expected = np.asarray(
        Image.fromarray(np.ascontiguousarray(first[..., 1])).resize(
            (224, 224), Image.Resampling.BILINEAR
        )
    )
    np.testing.assert_allclose(result.numpy()[0, ..., 1], expected, rtol=1e-5, atol=1e-3)
    assert os.path.exists("data/0.jpg")


def test_reused_output_memory_never_leaks_old_values() -> None:
    # A large result is freed to the buffer pool; the next result of that size reuses it
    # and must hold only its own values (an empty matmul sum is 0, not old bytes).
    big = (cp.ones((1024, 600), dtype="float32") * 7).compute()
    del big
    product = (cp.zeros((1024, 0), dtype="float32") @ cp.zeros((0, 600), dtype="float32")).numpy()
    assert product.shape == (1024, 600) and not product.any()
