import os

# Read by server.py; the default binds every interface when HOST is unset.
HOST = os.environ.get("HOST", "0.0.0.0")
PORT = int(os.environ.get("PORT", "5000"))
