"""Tensors against NumPy: every operation on random shapes (size-0 and size-1 dimensions,
broadcasting edge cases), every dtype, every axis and non-contiguous inputs.

Floats: arithmetic, comparisons, casts and reductions of integers are exact; float sums
and means may differ from NumPy's pairwise order by a few ulps per element summed; the
transcendental functions (exp, log, sin, cos, tanh, pow) are within 4 ulps of NumPy's.
One documented difference: where NumPy gives float16 (exp of int8, say), corepy, which has
no float16, gives float32.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import corepy as cp

DTYPES = [
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float32",
    "float64",
]
NUMERIC = [d for d in DTYPES if d != "bool"]
FLOATS = ["float32", "float64"]

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _expected_dtype(dtype: np.dtype[Any]) -> str:
    """NumPy's result dtype."""
    return str(dtype)


def check(result: cp.Tensor, expected: Any, ulps: int = 0) -> None:
    """``result`` equals NumPy's ``expected``: shape, dtype and values (NaN where NaN)."""
    expected = np.asarray(expected)
    got = result.numpy()
    assert got.shape == expected.shape, (got.shape, expected.shape)
    assert str(got.dtype) == _expected_dtype(expected.dtype), (got.dtype, expected.dtype)
    if got.dtype.kind == "f":
        nan = np.isnan(expected)
        assert np.array_equal(np.isnan(got), nan), (got, expected)
        finite = ~nan
        if ulps == 0:
            assert np.array_equal(got[finite], expected[finite]), (got, expected)
        else:
            tol = ulps * np.spacing(np.abs(expected[finite]).astype(got.dtype))
            diff = np.abs(got[finite].astype(np.float64) - expected[finite].astype(np.float64))
            same_inf = got[finite] == expected[finite]
            assert np.all(same_inf | (diff <= tol)), (got, expected)
    else:
        assert np.array_equal(got, expected), (got, expected)


def arrays(dtype: str, shape: Any) -> st.SearchStrategy[np.ndarray[Any, Any]]:
    elements = None
    if dtype in FLOATS:
        width = 32 if dtype == "float32" else 64
        elements = st.one_of(
            st.floats(-1e6, 1e6, width=width),
            st.sampled_from([float("nan"), float("inf"), -float("inf"), -0.0]),
        )
    return hnp.arrays(np.dtype(dtype), shape, elements=elements)


def non_contiguous(a: np.ndarray[Any, Any], flip: bool) -> np.ndarray[Any, Any]:
    """The same values, laid out with other strides (reversed or spread out)."""
    if a.ndim == 0:
        return a
    if flip:
        return np.flip(np.ascontiguousarray(np.flip(a, 0)), 0)
    spread = np.zeros((*a.shape[:-1], a.shape[-1] * 2), dtype=a.dtype)
    spread[..., ::2] = a
    return spread[..., ::2]


shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)


@SETTINGS
@given(
    st.sampled_from(DTYPES),
    st.sampled_from(DTYPES),
    hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=0, max_side=4),
    st.sampled_from(
        [
            *("add", "sub", "mul", "truediv", "floordiv", "mod"),
            *("eq", "ne", "lt", "le", "gt", "ge", "maximum", "minimum", "and", "or", "xor"),
        ]
    ),
    st.data(),
)
def test_binary_operations_broadcast_and_promote_as_numpy(
    d1: str, d2: str, shapes: Any, op: str, data: st.DataObject
) -> None:
    a = data.draw(arrays(d1, shapes.input_shapes[0]))
    b = data.draw(arrays(d2, shapes.input_shapes[1]))
    a_in = non_contiguous(a, data.draw(st.booleans()))
    np_op = {
        "add": np.add,
        "sub": np.subtract,
        "mul": np.multiply,
        "truediv": np.true_divide,
        "eq": np.equal,
        "ne": np.not_equal,
        "lt": np.less,
        "le": np.less_equal,
        "gt": np.greater,
        "ge": np.greater_equal,
        "maximum": np.maximum,
        "minimum": np.minimum,
        "floordiv": np.floor_divide,
        "mod": np.remainder,
        "and": np.bitwise_and,
        "or": np.bitwise_or,
        "xor": np.bitwise_xor,
    }[op]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = np_op(a, b)
        except TypeError:  # NumPy refuses (bool - bool): so does corepy
            with pytest.raises(cp.CorepyError):
                _apply(op, cp.asarray(a_in), cp.asarray(b)).compute()
            return
    check(_apply(op, cp.asarray(a_in), cp.asarray(b)).compute(), expected)


def _apply(op: str, x: cp.Tensor, y: Any) -> cp.Tensor:
    if op == "maximum":
        return cp.maximum(x, y)
    if op == "minimum":
        return cp.minimum(x, y)
    return getattr(x, f"__{op}__")(y)  # type: ignore[no-any-return]


@SETTINGS
@given(
    st.sampled_from(DTYPES),
    shapes,
    st.sampled_from([0, 1, -1, 2, 127, 300, -5, 2.5, -0.0, True]),
    st.sampled_from(
        ["add", "sub", "mul", "truediv", "floordiv", "mod", "and", "xor", "lt", "eq", "maximum"]
    ),
    st.booleans(),
    st.data(),
)
def test_python_scalars_are_weak_as_in_numpy_2(
    dtype: str, shape: Any, value: Any, op: str, reflected: bool, data: st.DataObject
) -> None:
    a = data.draw(arrays(dtype, shape))
    np_op = {
        "add": np.add,
        "sub": np.subtract,
        "mul": np.multiply,
        "truediv": np.true_divide,
        "lt": np.less,
        "eq": np.equal,
        "maximum": np.maximum,
        "floordiv": np.floor_divide,
        "mod": np.remainder,
        "and": np.bitwise_and,
        "xor": np.bitwise_xor,
    }[op]
    args = (value, a) if reflected else (a, value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = np_op(*args)
        except (OverflowError, TypeError):
            with pytest.raises((cp.CorepyError, TypeError)):
                t = cp.asarray(a)
                _apply_scalar(op, t, value, reflected).compute()
            return
    check(_apply_scalar(op, cp.asarray(a), value, reflected).compute(), expected)


def _apply_scalar(op: str, t: cp.Tensor, value: Any, reflected: bool) -> cp.Tensor:
    if op == "maximum":
        return cp.maximum(value, t) if reflected else cp.maximum(t, value)
    name = f"__r{op}__" if reflected and op not in ("lt", "eq") else f"__{op}__"
    if reflected and op == "lt":
        return t > value
    return getattr(t, name)(value)  # type: ignore[no-any-return]


@SETTINGS
@given(st.sampled_from(DTYPES), shapes, st.data())
def test_invert_is_bitwise_on_integers_and_logical_on_bools(
    dtype: str, shape: Any, data: st.DataObject
) -> None:
    a = data.draw(arrays(dtype, shape))
    if np.dtype(dtype).kind == "f":
        with pytest.raises(cp.SchemaError, match="bitwise not"):
            ~cp.asarray(a)
        return
    check((~cp.asarray(non_contiguous(a, data.draw(st.booleans())))).compute(), ~a)


def test_floor_division_and_remainder_edge_cases_match_numpy() -> None:
    ints = np.array([7, -7, 7, -7, 0, -128, 127, -128], dtype=np.int8)
    divisors = np.array([2, 2, -2, -2, 0, -1, 0, 1], dtype=np.int8)
    floats = np.array([np.inf, -np.inf, np.nan, 5.0, -5.0, 0.0, -0.0, 1e308, -3.0, 3.0])
    by = np.array([2.0, 2.0, 2.0, 0.0, 0.0, 3.0, 3.0, 1e-308, np.inf, -np.inf])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for x, y in (
            (ints, divisors),
            (floats, by),
            (floats.astype(np.float32), by.astype(np.float32)),
        ):
            check((cp.asarray(x) // cp.asarray(y)).compute(), np.floor_divide(x, y))
            check((cp.asarray(x) % cp.asarray(y)).compute(), np.remainder(x, y))
    with pytest.raises(cp.SchemaError, match="bitwise &"):
        cp.ones(3) & cp.ones(3)


UNARY = {
    "abs": (np.abs, 0),
    "sqrt": (np.sqrt, 0),
    "exp": (np.exp, 4),
    "log": (np.log, 4),
    "sin": (np.sin, 4),
    "cos": (np.cos, 4),
    "tanh": (np.tanh, 4),
    "floor": (np.floor, 0),
    "ceil": (np.ceil, 0),
    "isnan": (np.isnan, 0),
    "neg": (np.negative, 0),
}


@SETTINGS
@given(st.sampled_from(DTYPES), shapes, st.sampled_from(sorted(UNARY)), st.data())
def test_unary_functions_match_numpy(
    dtype: str, shape: Any, name: str, data: st.DataObject
) -> None:
    a = data.draw(arrays(dtype, shape))
    a_in = non_contiguous(a, data.draw(st.booleans()))
    fn, ulps = UNARY[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = fn(a)
            if expected.dtype == np.float16:  # corepy has no float16: float32 instead
                expected = fn(a.astype(np.float32))
        except TypeError:
            with pytest.raises(cp.CorepyError):
                _unary(name, cp.asarray(a_in)).compute()
            return
    # Both spellings: the function and the method.
    check(_unary(name, cp.asarray(a_in)).compute(), expected, ulps)
    if name not in ("neg",):
        check(getattr(cp, name)(cp.asarray(a_in)).compute(), expected, ulps)


def _unary(name: str, t: cp.Tensor) -> cp.Tensor:
    return -t if name == "neg" else getattr(t, name)()  # type: ignore[no-any-return]


@SETTINGS
@given(
    st.sampled_from(DTYPES),
    shapes,
    st.sampled_from(["sum", "prod", "min", "max", "any", "all", "mean", "argmin", "argmax"]),
    st.booleans(),
    st.data(),
)
def test_reductions_over_every_axis_match_numpy(
    dtype: str, shape: Any, name: str, keepdims: bool, data: st.DataObject
) -> None:
    a = data.draw(arrays(dtype, shape))
    a_in = non_contiguous(a, data.draw(st.booleans()))
    ndim = a.ndim
    if name in ("argmin", "argmax"):
        axis: Any = data.draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1))) if ndim else None
    else:
        axis = (
            data.draw(
                st.one_of(
                    st.none(),
                    st.lists(st.integers(0, max(ndim - 1, 0)), unique=True, max_size=ndim).map(
                        tuple
                    ),
                )
            )
            if ndim
            else None
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = getattr(np, name)(a, axis=axis, keepdims=keepdims)
        except ValueError:  # min/max/argmin of no elements: NumPy and corepy refuse
            with pytest.raises(cp.ShapeError):
                getattr(cp.asarray(a_in), name)(axis=axis, keepdims=keepdims)
            return
    got = getattr(cp.asarray(a_in), name)(axis=axis, keepdims=keepdims).compute()
    ulps = 0
    if a.dtype.kind == "f" and name in ("sum", "mean", "prod"):
        check_close(got, expected, a, name)
        return
    if name == "mean" and a.dtype.kind != "f":
        ulps = 8
    check(got, expected, ulps)


def check_close(got: cp.Tensor, expected: Any, a: np.ndarray[Any, Any], name: str) -> None:
    """Float sums and products in another order: within n·eps of the magnitudes summed."""
    expected = np.asarray(expected)
    values = got.numpy()
    assert values.shape == expected.shape and values.dtype == expected.dtype
    if name == "prod":
        np.testing.assert_allclose(values, expected, rtol=1e-4 if a.dtype == np.float32 else 1e-12)
        return
    eps = np.finfo(a.dtype).eps
    n = max(a.size, 1)
    finite = np.abs(a)[np.isfinite(a)]
    scale = finite.max() if finite.size else 1.0
    nan = np.isnan(expected)
    assert np.array_equal(np.isnan(values), nan)
    same = values[~nan] == expected[~nan]  # infinities too
    with np.errstate(invalid="ignore"):
        close = np.abs(values[~nan] - expected[~nan]) <= 2 * n * eps * max(scale, 1.0)
    assert np.all(same | close), (values, expected)


INDEXES = [
    (slice(None, None, -1),),
    (0,),
    (-1, slice(1, None)),
    (Ellipsis, None),
    (None, Ellipsis, slice(None, None, 2)),
    (slice(-2, None), Ellipsis, 0),
    (slice(None, None, -2), None, slice(3, 0, -1)),
]


@SETTINGS
@given(
    st.sampled_from(DTYPES),
    hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=5),
    st.sampled_from(INDEXES),
    st.data(),
)
def test_indexing_slicing_and_views_match_numpy(
    dtype: str, shape: Any, key: Any, data: st.DataObject
) -> None:
    a = data.draw(arrays(dtype, shape))
    t = cp.asarray(non_contiguous(a, data.draw(st.booleans())))
    try:
        expected = a[key]
    except IndexError:
        with pytest.raises(cp.ShapeError):
            t[key]
        return
    check(t[key].compute(), expected)
    check(
        (t[key] * 1).compute() if dtype != "bool" else t[key].compute(),
        expected * 1 if dtype != "bool" else expected,
    )
    check(t.T.compute(), a.T)
    check(t.swapaxes(0, -1).compute(), np.swapaxes(a, 0, -1))
    check(t.reshape(-1).compute(), a.reshape(-1))
    check(t.T.reshape(-1).compute(), a.T.reshape(-1))
    check(t[None].squeeze(0).compute(), a)
    check(t.broadcast_to((2, *a.shape)).compute(), np.broadcast_to(a, (2, *a.shape)))


@SETTINGS
@given(
    st.sampled_from(NUMERIC),
    st.integers(0, 4),
    st.integers(0, 4),
    st.integers(0, 4),
    st.sampled_from([(), (2,), (3, 1)]),
    st.data(),
)
def test_matmul_matches_numpy(
    dtype: str, m: int, k: int, n: int, batch: tuple[int, ...], data: st.DataObject
) -> None:
    a = data.draw(hnp.arrays(np.dtype(dtype), (*batch, m, k), elements=_small(dtype)))
    b = data.draw(hnp.arrays(np.dtype(dtype), (k, n), elements=_small(dtype)))
    got = (cp.asarray(a) @ cp.asarray(non_contiguous(b, True))).compute()
    expected = a @ b
    if dtype in FLOATS:
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-5)
        assert got.dtype == dtype
    else:
        check(got, expected)


def _small(dtype: str) -> st.SearchStrategy[Any]:
    if dtype in FLOATS:
        return st.floats(-100, 100, width=32 if dtype == "float32" else 64)
    info = np.iinfo(np.dtype(dtype))
    return st.integers(max(info.min, -10), min(info.max, 10))


def test_matmul_of_vectors_and_batches_follows_numpy_shapes() -> None:
    a = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    v = np.arange(4, dtype=np.float64)
    np.testing.assert_allclose((cp.asarray(a) @ cp.asarray(v)).numpy(), a @ v)
    np.testing.assert_allclose((cp.asarray(v) @ cp.asarray(v)).numpy(), v @ v)
    np.testing.assert_allclose(
        (cp.asarray(a) @ cp.asarray(a).transpose(0, 2, 1)).numpy(), a @ a.transpose(0, 2, 1)
    )
    with pytest.raises(cp.ShapeError, match=r"\(2, 3, 4\).*\(3,\)"):
        cp.asarray(a) @ cp.asarray(np.ones(3))


@SETTINGS
@given(st.sampled_from(DTYPES), st.sampled_from(DTYPES), shapes, st.integers(0, 3), st.data())
def test_concat_and_stack_match_numpy(
    d1: str, d2: str, shape: Any, extra: int, data: st.DataObject
) -> None:
    if not shape:
        shape = (2,)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    other = list(shape)
    other[axis] = extra
    a = data.draw(arrays(d1, shape))
    b = data.draw(arrays(d2, tuple(other)))
    check(
        cp.concat([cp.asarray(a), cp.asarray(non_contiguous(b, True))], axis=axis).compute(),
        np.concatenate([a, b], axis=axis),
    )
    c = data.draw(arrays(d2, shape))
    check(
        cp.stack([cp.asarray(a), cp.asarray(c)], axis=axis).compute(), np.stack([a, c], axis=axis)
    )


@SETTINGS
@given(
    st.sampled_from(FLOATS),
    hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6),
    st.data(),
)
def test_softmax_var_std_where_clip_astype(dtype: str, shape: Any, data: st.DataObject) -> None:
    a = data.draw(
        hnp.arrays(
            np.dtype(dtype),
            shape,
            elements=st.floats(-50, 50, width=32 if dtype == "float32" else 64),
        )
    )
    t = cp.asarray(a)
    axis = data.draw(st.integers(-a.ndim, a.ndim - 1))
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    soft = e / e.sum(axis=axis, keepdims=True)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(t.softmax(axis).numpy(), soft, rtol=rtol, atol=1e-7)
    # log(softmax) in the input's precision loses digits where softmax is subnormal (a
    # float32 difference of 100 gives log(3.7e-44) = -99.98); the reference is the
    # stable form, in float64.
    shifted = a.astype(np.float64) - a.max(axis=axis, keepdims=True)
    log_soft = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    np.testing.assert_allclose(t.log_softmax(axis).numpy(), log_soft, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(t.var(axis=axis).numpy(), a.var(axis=axis), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(
        t.std(axis=axis, ddof=1).numpy(), a.std(axis=axis, ddof=1), rtol=1e-4, atol=1e-4
    ) if a.shape[axis] > 1 else None
    check(cp.where(t > 0, t, 0.0).compute(), np.where(a > 0, a, 0.0).astype(dtype))
    check(t.clip(-1.0, 1.0).compute(), np.clip(a, -1.0, 1.0))
    check(t.relu().compute(), np.maximum(a, 0).astype(dtype))
    for target in DTYPES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            small = np.trunc(a).clip(0, 100)
            check(cp.asarray(small).astype(target).compute(), small.astype(target))


def test_integer_semantics_follow_numpy() -> None:
    a = np.array([127, -128, 5], dtype=np.int8)
    check((cp.asarray(a) + np.int8(1)).compute(), a + np.int8(1))  # wraps
    check((cp.asarray(a) * 3).compute(), a * 3)
    check((-cp.asarray(a)).compute(), -a)
    check(abs(cp.asarray(a)).compute(), np.abs(a))
    u = np.array([0, 1, 200], dtype=np.uint8)
    check((-cp.asarray(u)).compute(), -u)
    check((cp.asarray(u) ** 2).compute(), u**2)
    check(
        (cp.asarray(np.array([2, 3], np.int64)) ** cp.asarray(np.array([62, 3]))).compute(),
        np.array([2, 3]) ** np.array([62, 3]),
    )
    b = np.array([True, False, True])
    check((cp.asarray(b) + cp.asarray(b)).compute(), b + b)
    check((cp.asarray(b) * cp.asarray(~b)).compute(), b * ~b)
    check((~cp.asarray(b)).compute(), ~b)
    check(cp.asarray(b).sum().compute(), b.sum())
    check(cp.asarray(u).sum().compute(), u.sum())


def test_size_zero_and_scalar_tensors() -> None:
    z = np.zeros((0, 3), dtype=np.float32)
    check(cp.asarray(z).sum(axis=0).compute(), z.sum(axis=0))
    check(cp.asarray(z).sum(axis=1).compute(), z.sum(axis=1))
    check(cp.asarray(z).prod().compute(), z.prod())
    check(cp.asarray(z).any().compute(), z.any())
    check(cp.asarray(z).all().compute(), z.all())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(cp.asarray(z).mean(axis=0).compute(), z.mean(axis=0))
    s = cp.tensor(3.5)
    assert s.shape == () and (s * 2).compute().item() == 7.0
    assert cp.tensor([[1, 2], [3, 4]]).sum().compute().item() == 10


def test_creation_functions_match_numpy() -> None:
    check(cp.zeros((2, 3)).compute(), np.zeros((2, 3)))
    check(cp.ones(4, dtype="int32").compute(), np.ones(4, dtype=np.int32))
    check(cp.full((2,), 2.5, dtype="float32").compute(), np.full((2,), 2.5, dtype=np.float32))
    check(cp.arange(10).compute(), np.arange(10))
    check(cp.arange(0.5, 3.0, 0.5).compute(), np.arange(0.5, 3.0, 0.5))
    check(cp.arange(5, 0, -2).compute(), np.arange(5, 0, -2))
    np.testing.assert_allclose(cp.linspace(-1, 1, 7).numpy(), np.linspace(-1, 1, 7))
    np.testing.assert_allclose(
        cp.linspace(0, 1, 4, endpoint=False).numpy(), np.linspace(0, 1, 4, endpoint=False)
    )
    check(cp.eye(3, 4, k=1).compute(), np.eye(3, 4, k=1))
    r = cp.random.rand((1000,), seed=3).numpy()
    assert r.min() >= 0 and r.max() < 1 and 0.4 < r.mean() < 0.6
    assert np.array_equal(r, cp.random.rand((1000,), seed=3).numpy())
    n = cp.random.randn((20000,), seed=4, dtype="float32").numpy()
    assert n.dtype == np.float32 and abs(n.mean()) < 0.05 and 0.95 < n.std() < 1.05


def test_numpy_interop_is_zero_copy_where_the_layout_allows() -> None:
    a = np.arange(12.0).reshape(3, 4)
    t = cp.asarray(a[:, ::2])
    assert t.compute() is t  # data: nothing to compute
    out = t.numpy()
    assert np.shares_memory(out, a), "asarray and numpy() read the array in place"
    assert not out.flags.writeable
    copy = cp.tensor(a)
    assert not np.shares_memory(copy.numpy(), a)
    assert np.array_equal(np.asarray(cp.asarray(a) + 1), a + 1)
    computed = (cp.asarray(a) * 2).compute()
    address = computed.numpy().__array_interface__["data"][0]
    assert address % 64 == 0, "corepy's own buffers are 64-byte aligned"
    assert np.asarray(computed).__array_interface__["data"][0] == address


def test_dlpack_round_trips_through_numpy() -> None:
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = cp.from_dlpack(a)
    assert np.shares_memory(t.numpy(), a)
    back = np.from_dlpack((t * 2).compute())
    assert np.array_equal(back, a * 2)
    assert t.__dlpack_device__() == (1, 0)


def test_dlpack_with_pytorch_both_ways() -> None:
    torch = pytest.importorskip("torch")
    x = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    t = cp.from_dlpack(x)
    assert np.array_equal(t.numpy(), x.numpy())
    y = torch.from_dlpack((t + 1).compute())
    assert torch.equal(y, x + 1)


def test_dlpack_with_jax_both_ways() -> None:
    # A second DLPack implementation besides NumPy's, installed with the test extras
    # (PyPI's Linux PyTorch is the CUDA build, too large for CI: the test above runs where
    # torch is installed).
    jnp = pytest.importorskip("jax.numpy")
    x = jnp.arange(6, dtype=jnp.float32).reshape(2, 3)
    t = cp.from_dlpack(x)
    assert t.shape == (2, 3) and t.dtype == "float32"
    assert np.array_equal(t.numpy(), np.asarray(x))
    y = jnp.from_dlpack((t * 2 + 1).compute())
    assert bool((y == x * 2 + 1).all())


BAD = [
    (lambda: cp.ones((2, 3)) + cp.ones((4,)), cp.ShapeError, r"shapes \(2, 3\) \(4,\)"),
    (lambda: cp.ones((2, 3)).sum(axis=2), cp.ShapeError, "axis 2 is out of bounds"),
    (lambda: cp.ones((2, 3)).reshape(4, 2), cp.ShapeError, "cannot reshape a tensor of size 6"),
    (
        lambda: cp.asarray(np.ones(3, dtype=np.float16)),
        cp.SchemaError,
        "unsupported tensor dtype 'float16'",
    ),
    (lambda: cp.ones(3).astype("complex64"), cp.SchemaError, "unsupported tensor dtype"),
    (lambda: cp.ones((2, 3))[5], cp.ShapeError, "index 5 is out of bounds for axis 0"),
    (lambda: cp.ones((2,))[0, 0], cp.ShapeError, "too many indices"),
    (lambda: cp.ones((0,)).max(), cp.ShapeError, "zero-size"),
    (
        lambda: cp.ones(2, dtype="uint8") + 300,
        cp.InvalidArgumentError,
        "300 out of bounds for uint8",
    ),
    (lambda: cp.concat([cp.ones((2, 3)), cp.ones((2, 4))]), cp.ShapeError, "concatenation axis"),
    (lambda: cp.ones(3).compute(device="tpu"), cp.InvalidArgumentError, 'device "tpu"'),
]


@pytest.mark.parametrize(("make", "error", "message"), BAD)
def test_bad_input_is_a_clear_error(make: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        make()


def test_explain_shows_the_graph_fused_kernels_and_ir() -> None:
    x = cp.asarray(np.ones((4, 3, 8, 8), dtype=np.float32))
    y = ((x - 0.485) / 0.229).clip(0.0, 1.0).sum(axis=-1)
    text = y.explain()
    assert "Tensor graph:" in text and "Program: 1 step(s)" in text
    assert "kernel over [96, 8]" in text, text
    detailed = y.explain(kernels=True)
    assert "reduce sum" in detailed and "strides" in detailed


def test_aggregation_names_reduce_tensors_as_numpy() -> None:
    a = np.random.default_rng(2).random((3, 4))
    t = cp.asarray(a)
    np.testing.assert_allclose(cp.sum(t, axis=0).numpy(), a.sum(axis=0))
    np.testing.assert_allclose(cp.mean(t, axis=1, keepdims=True).numpy(), a.mean(1, keepdims=True))
    assert cp.min(t).item() == a.min() and cp.max(t).item() == a.max()
    np.testing.assert_allclose(cp.std(t).item(), a.std())
    np.testing.assert_allclose(cp.var(t, ddof=1, axis=0).numpy(), a.var(axis=0, ddof=1))
    with pytest.raises(TypeError, match="column name"):
        cp.sum(3)  # type: ignore[call-overload]
