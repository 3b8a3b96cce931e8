#!/usr/bin/env python3
"""Measures a directory tree the way docs/trees.md reports it.

Usage: bench/tree_stats.py DIR [--names]

Counts regular files (each inode once), directories (the root included), leaf directories
(no subdirectory), symlinks and hardlinks; the file sizes' median, mean, p90, p99 and max; files
per directory (every directory, the root included, so empty ones count as 0); each file's depth
below the root (a file in the root is at depth 1); executable files; and, with --names, the most
common extensions and names. Never follows a symlink; works relative to directory descriptors,
so paths deeper than PATH_MAX are measured too. Percentiles are nearest-rank.
"""
import collections
import os
import stat
import sys


def percentile(values, q):
    if not values:
        return 0
    rank = max(1, -(-len(values) * q // 100))
    return values[int(rank) - 1]


def measure(root):
    """Walks `root` relative to directory descriptors, so paths deeper than PATH_MAX work."""
    sizes, depths, per_dir, subdirs, dir_depths = [], [], [], [], []
    symlinks, hardlinks, executables, leaves = [], 0, 0, 0
    seen = set()
    extensions = collections.Counter()
    names = collections.Counter()
    name_lengths = []
    stack = [(os.open(root, os.O_RDONLY | os.O_DIRECTORY), "", 0)]
    while stack:
        fd, path, depth = stack.pop()
        files = dirs = 0
        dir_depths.append(depth)
        with os.scandir(fd) as it:
            for entry in it:
                info = entry.stat(follow_symlinks=False)
                name_lengths.append(len(entry.name))
                below = os.path.join(path, entry.name)
                if stat.S_ISDIR(info.st_mode):
                    dirs += 1
                    sub = os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                    stack.append((sub, below, depth + 1))
                elif stat.S_ISLNK(info.st_mode):
                    symlinks.append((below, os.readlink(entry.name, dir_fd=fd)))
                elif stat.S_ISREG(info.st_mode):
                    files += 1
                    if info.st_nlink > 1:
                        key = (info.st_dev, info.st_ino)
                        if key in seen:
                            hardlinks += 1
                            continue
                        seen.add(key)
                    sizes.append(info.st_size)
                    depths.append(depth + 1)
                    if info.st_mode & 0o111:
                        executables += 1
                    base, dot, ext = entry.name.rpartition(".")
                    extensions["." + ext if dot and base else entry.name if "." not in entry.name else "(other)"] += 1
                    names[entry.name] += 1
        os.close(fd)
        per_dir.append(files)
        subdirs.append(dirs)
        if dirs == 0:
            leaves += 1
    return sizes, depths, per_dir, subdirs, dir_depths, symlinks, hardlinks, executables, leaves, extensions, names, name_lengths


def main():
    root = sys.argv[1]
    (sizes, depths, per_dir, subdirs, dir_depths, symlinks, hardlinks, executables, leaves,
     extensions, names, name_lengths) = measure(root)
    sizes.sort()
    per_dir_sorted = sorted(per_dir)
    n = len(sizes)
    print(f"files {n}  directories {len(per_dir)} (leaves {leaves})  symlinks {len(symlinks)}"
          f"  hardlinks {hardlinks}  executables {executables}")
    print(f"bytes {sum(sizes)} ({sum(sizes) / 1e9:.3f} GB, {sum(sizes) / 2**20:.1f} MiB)")
    print(f"size median {percentile(sizes, 50)}  mean {sum(sizes) / max(n, 1):.0f}"
          f"  p90 {percentile(sizes, 90)}  p99 {percentile(sizes, 99)}  max {sizes[-1] if sizes else 0}"
          f"  empty {sum(1 for s in sizes if s == 0)}")
    print(f"files per directory mean {n / len(per_dir):.2f}  median {percentile(per_dir_sorted, 50)}"
          f"  p90 {percentile(per_dir_sorted, 90)}  max {per_dir_sorted[-1]}"
          f"  without files {sum(1 for f in per_dir if f == 0)}")
    sub = sorted(subdirs)
    print(f"subdirectories per directory: mean {sum(sub) / len(sub):.2f}  p90 {percentile(sub, 90)}"
          f"  max {sub[-1]}")
    print(f"file depth mean {sum(depths) / max(n, 1):.2f}  max {max(depths) if depths else 0}"
          f"  directory depth max {max(dir_depths)}")
    print("file depth histogram", sorted(collections.Counter(depths).items()))
    print("directory depth histogram", sorted(collections.Counter(dir_depths).items()))
    nl = sorted(name_lengths)
    print(f"name length median {percentile(nl, 50)}  mean {sum(nl) / len(nl):.1f}  max {nl[-1]}")
    if "--names" in sys.argv:
        print("extensions", extensions.most_common(40))
        print("names", names.most_common(25))
        for path, target in symlinks:
            print(f"symlink {path} -> {target}")


if __name__ == "__main__":
    main()
