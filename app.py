"""nnqa's web app: `python app.py` (or a Hugging Face Space) serves it.

Settings come from the environment: NNQA_KNOWLEDGE, NNQA_INDEX, NNQA_DATA_DIR, and the host
and port from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, as Gradio reads them.
"""

from nnqa.webapp import build_app, launch_options

demo = build_app()

if __name__ == "__main__":
    demo.launch(**launch_options())
