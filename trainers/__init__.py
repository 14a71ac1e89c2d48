"""absl-flag binaries over `tfflows.training`: `train`, `evaluate`, `sample`."""
