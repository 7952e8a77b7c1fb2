"""camflow_ref: the Python reference (PyTorch hooks Grad-CAM, the "seed method") that produces
the committed golden fixtures under test/fixtures/goldens. CI never runs this package."""
