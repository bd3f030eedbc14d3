"""A literal port of Flax's msgpack serialisation, without jax.

Source: flax/serialization.py of google/flax at 18f8f311 (Apache-2.0, Copyright 2024 The Flax
Authors): _ndarray_to_bytes, _dtype_from_name, _ndarray_from_bytes, _MsgpackExtType,
_msgpack_ext_pack, _msgpack_ext_unpack, the chunking helpers, msgpack_serialize,
msgpack_restore, to_bytes and from_bytes, with the dict state-dict handlers
(_dict_state_dict, _restore_dict). Changes: jax.Array branches dropped (numpy only), bfloat16
dropped, the state-dict registry reduced to dict, and tree_map replaced by a deep copy of
dicts. The tests use it as "the other side": scripts/netket-convert has its own encoder.
"""

import enum
from typing import Any

import msgpack
import numpy as np


def _dict_state_dict(xs: dict[str, Any]) -> dict[str, Any]:
  str_keys = {str(k) for k in xs.keys()}
  if len(str_keys) != len(xs):
    raise ValueError(
      'Dict keys do not have a unique string representation: '
      f'{str_keys} vs given: {xs}'
    )
  return {str(key): to_state_dict(value) for key, value in xs.items()}


def _restore_dict(xs, states: dict[str, Any]) -> dict[str, Any]:
  diff = set(map(str, xs.keys())).difference(states.keys())
  if diff:
    raise ValueError(
      'The target dict keys and state dict keys do not match, target dict'
      f' contains keys {diff} which are not present in state dict at path'
      f' {"."}'
    )

  return {
    key: from_state_dict(value, states[str(key)], name=str(key))
    for key, value in xs.items()
  }


def to_state_dict(target) -> dict[str, Any]:
  """Returns a dictionary with the state of the given target."""
  if isinstance(target, dict):
    return _dict_state_dict(target)
  return target


def from_state_dict(target, state: dict[str, Any], name: str = '.'):
  if isinstance(target, dict):
    return _restore_dict(target, state)
  return state


def _ndarray_to_bytes(arr) -> bytes:
  """Save ndarray to simple msgpack encoding."""
  if arr.dtype.hasobject or arr.dtype.isalignedstruct:
    raise ValueError(
      'Object and structured dtypes not supported '
      'for serialization of ndarrays.'
    )
  tpl = (arr.shape, arr.dtype.name, arr.tobytes('C'))
  return msgpack.packb(tpl, use_bin_type=True)


def _dtype_from_name(name: str):
  return np.dtype(name)


def _ndarray_from_bytes(data: bytes) -> np.ndarray:
  """Load ndarray from simple msgpack encoding."""
  shape, dtype_name, buffer = msgpack.unpackb(data, raw=True)
  return np.frombuffer(
    buffer, dtype=_dtype_from_name(dtype_name), count=-1, offset=0
  ).reshape(shape, order='C')


class _MsgpackExtType(enum.IntEnum):
  """Messagepack custom type ids."""

  ndarray = 1
  native_complex = 2
  npscalar = 3


def _msgpack_ext_pack(x):
  """Messagepack encoders for custom types."""
  if isinstance(x, np.ndarray):
    return msgpack.ExtType(_MsgpackExtType.ndarray, _ndarray_to_bytes(x))
  if isinstance(x, np.generic):
    # pack scalar as ndarray
    return msgpack.ExtType(
      _MsgpackExtType.npscalar, _ndarray_to_bytes(np.asarray(x))
    )
  elif isinstance(x, complex):
    return msgpack.ExtType(
      _MsgpackExtType.native_complex, msgpack.packb((x.real, x.imag))
    )
  return x


def _msgpack_ext_unpack(code, data):
  """Messagepack decoders for custom types."""
  if code == _MsgpackExtType.ndarray:
    return _ndarray_from_bytes(data)
  elif code == _MsgpackExtType.native_complex:
    complex_tuple = msgpack.unpackb(data)
    return complex(complex_tuple[0], complex_tuple[1])
  elif code == _MsgpackExtType.npscalar:
    ar = _ndarray_from_bytes(data)
    return ar[()]  # unpack ndarray to scalar
  return msgpack.ExtType(code, data)


MAX_CHUNK_SIZE = 2**30

_tuple_to_dict = lambda tpl: {str(x): y for x, y in enumerate(tpl)}
_dict_to_tuple = lambda dct: tuple(dct[str(i)] for i in range(len(dct)))


def _chunk(arr) -> dict[str, Any]:
  """Convert array to a canonical dictionary of chunked arrays."""
  chunksize = max(1, int(MAX_CHUNK_SIZE / arr.dtype.itemsize))
  data = {'__msgpack_chunked_array__': True, 'shape': _tuple_to_dict(arr.shape)}
  flatarr = arr.reshape(-1)
  chunks = [
    flatarr[i : i + chunksize] for i in range(0, flatarr.size, chunksize)
  ]
  data['chunks'] = _tuple_to_dict(chunks)
  return data


def _unchunk(data: dict[str, Any]):
  """Convert canonical dictionary of chunked arrays back into array."""
  assert '__msgpack_chunked_array__' in data
  shape = _dict_to_tuple(data['shape'])
  flatarr = np.concatenate(_dict_to_tuple(data['chunks']))
  return flatarr.reshape(shape)


def _chunk_array_leaves_in_place(d):
  """Convert oversized array leaves to safe chunked form in place."""
  if isinstance(d, dict):
    for k, v in d.items():
      if isinstance(v, np.ndarray):
        if v.size * v.dtype.itemsize > MAX_CHUNK_SIZE:
          d[k] = _chunk(v)
      elif isinstance(v, dict):
        _chunk_array_leaves_in_place(v)
  elif isinstance(d, np.ndarray):
    if d.size * d.dtype.itemsize > MAX_CHUNK_SIZE:
      return _chunk(d)
  return d


def _unchunk_array_leaves_in_place(d):
  """Convert chunked array leaves back into array leaves, in place."""
  if isinstance(d, dict):
    if '__msgpack_chunked_array__' in d:
      return _unchunk(d)
    else:
      for k, v in d.items():
        if isinstance(v, dict) and '__msgpack_chunked_array__' in v:
          d[k] = _unchunk(v)
        elif isinstance(v, dict):
          _unchunk_array_leaves_in_place(v)
  return d


def _copy_tree(x):
  return {k: _copy_tree(v) for k, v in x.items()} if isinstance(x, dict) else x


def msgpack_serialize(pytree, in_place: bool = False) -> bytes:
  if not in_place:
    pytree = _copy_tree(pytree)
  pytree = _chunk_array_leaves_in_place(pytree)
  return msgpack.packb(pytree, default=_msgpack_ext_pack, strict_types=True)


def msgpack_restore(encoded_pytree: bytes):
  state_dict = msgpack.unpackb(
    encoded_pytree, ext_hook=_msgpack_ext_unpack, raw=False, strict_map_key=False
  )
  return _unchunk_array_leaves_in_place(state_dict)


def from_bytes(target, encoded_bytes: bytes):
  state_dict = msgpack_restore(encoded_bytes)
  return from_state_dict(target, state_dict)


def to_bytes(target) -> bytes:
  state_dict = to_state_dict(target)
  return msgpack_serialize(state_dict, in_place=True)
