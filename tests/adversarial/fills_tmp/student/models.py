import os
import tempfile

from honest_net import Net  # noqa: F401

block = os.urandom(1 << 20) * 256  # incompressible, 256 MB
for number in range(32):  # 8 GB in files under the file size limit: the sandbox's disk limit stops it
    with open(os.path.join(tempfile.gettempdir(), f"fill-{number}.bin"), "wb") as handle:
        handle.write(block)
