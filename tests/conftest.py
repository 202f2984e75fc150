import os

# Tests run in the quick profile unless told otherwise.
os.environ.setdefault("CNNCOURSE_PROFILE", "quick")
