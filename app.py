"""nnqa's web app: `python app.py` serves it locally, and a Hugging Face Space runs it.

Settings come from the environment: NNQA_KNOWLEDGE, NNQA_INDEX, NNQA_DATA_DIR, and the host
and port from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, as Gradio reads them.
"""

import sys
from pathlib import Path

# Serve the nnqa next to this file: a Space installs the dependencies only, not nnqa itself.
sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from nnqa.faces.webapp import build_app, launch_options  # noqa: E402

demo = build_app()

if __name__ == "__main__":
    demo.launch(**launch_options())
