import os

os.system("touch " + os.environ.get("FKP_ADVERSARIAL_MARKER", "/nonexistent/marker"))


class Payload:
    pass
