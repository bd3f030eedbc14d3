#!/usr/bin/python3
"""Compare HDF5 objects of two files exactly (used by the e2e tests).

Usage: h5same.py A B OBJECT...

Each OBJECT is a dataset or a group path; for a group, every dataset below it is compared and
both files must hold the same set of them. Datasets must have the same dtype, shape and bytes.
Exit status 0 if everything is identical, 1 if something differs (printed), 2 on other errors.
"""
import sys

import h5py
import numpy as np


def datasets(f, path):
    obj = f.get(path)
    if obj is None:
        return None
    if isinstance(obj, h5py.Dataset):
        return {path: obj}
    found = {}

    def visit(name, item):
        if isinstance(item, h5py.Dataset):
            found[path.rstrip("/") + "/" + name] = item

    obj.visititems(visit)
    return found


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    a_path, b_path, objects = argv[1], argv[2], argv[3:]
    differences = []
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        for obj in objects:
            da, db = datasets(a, obj), datasets(b, obj)
            if da is None or db is None:
                differences.append("%s: missing in %s" % (obj, a_path if da is None else b_path))
                continue
            if sorted(da) != sorted(db):
                differences.append("%s: different contents %s vs %s" % (obj, sorted(da), sorted(db)))
                continue
            if not da:
                differences.append("%s: holds no datasets" % obj)
            for name in sorted(da):
                x, y = da[name], db[name]
                if x.dtype != y.dtype or x.shape != y.shape:
                    differences.append("%s: %s %s vs %s %s" % (name, x.dtype, x.shape, y.dtype, y.shape))
                    continue
                xv, yv = np.ascontiguousarray(x[()]), np.ascontiguousarray(y[()])
                if xv.tobytes() != yv.tobytes():
                    n = int(np.sum(xv != yv)) if xv.shape else 1
                    differences.append("%s: %d of %d values differ" % (name, n, max(xv.size, 1)))
    for d in differences:
        print(d)
    return 1 if differences else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as e:  # a missing file etc.: not "different", an error
        print("h5same: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.exit(2)
