#!/usr/bin/env python3
"""Marks one version need of an ELF64 little-endian shared object weak (VER_FLG_WEAK), in place.

    weak_version_need.py LIB.so GLIBCXX_3.4.32

The dynamic loader refuses a library that needs a symbol version its dependency lacks, even when no symbol still
refers to it (patchelf --clear-symbol-version drops the symbol's version, not the library's need). A weak need is
only checked when present: Debian 12's libstdc++ (GLIBCXX_3.4.30) then loads TorchSharp's GCC 13 wrapper. Exits 1
when the object has no such need (nothing to patch, or not the expected wrapper); prints what it changed.
"""
import struct
import sys

SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2


def main(path, want):
    data = bytearray(open(path, "rb").read())
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        sys.exit(f"weak_version_need.py: {path} is not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    found = False
    for s in sections:
        if s[1] != SHT_GNU_VERNEED:
            continue
        offset, link, count = s[4], s[6], s[7]
        strings = sections[link][4]
        p = offset
        for _ in range(count):
            _, aux_count, _, aux, nxt = struct.unpack_from("<HHIII", data, p)
            a = p + aux
            for _ in range(aux_count):
                _, flags, _, name, aux_next = struct.unpack_from("<IHHII", data, a)
                text = bytes(data[strings + name:data.index(0, strings + name)]).decode()
                if text == want:
                    struct.pack_into("<H", data, a + 4, flags | VER_FLG_WEAK)
                    found = True
                a += aux_next
            p += nxt
    if not found:
        sys.exit(f"weak_version_need.py: {path} does not need {want}")
    open(path, "wb").write(data)
    print(f"weak_version_need.py: {want} of {path} marked weak")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
