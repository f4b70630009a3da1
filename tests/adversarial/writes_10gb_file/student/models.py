from honest_net import Net  # noqa: F401

with open("huge.bin", "wb") as handle:
    block = b"\0" * (64 << 20)
    for _ in range(160):  # 10 GB in 64 MB blocks: the sandbox's file size limit stops it
        handle.write(block)
