"""Look-alikes: none of these is a Flask development server."""
import subprocess

import uvicorn

uvicorn.run("server:app", host="0.0.0.0", port=8000)
subprocess.run(["flask", "run", "--host", "0.0.0.0"], check=True)
