"""benchmarks/flow_throughput.py's result JSON: the keys the reproduction report reads."""

from benchmarks import flow_throughput, report


def test_summary_has_the_reports_keys_and_the_environment():
    args = flow_throughput.parse_args([])
    rows = [
        ("tfflows", False, 1000, 14.7, 130.9, 132.5),
        ("tfflows", True, 1000, 26.7, 101.8, 104.1),
        ("tfb.Glow", False, 990, 18.0, 44.7, 45.7),
        ("tfb.Glow", True, 990, 29.4, 64.0, 64.8),
    ]
    repeats = [[130.9, 132.5], [101.8, 104.1], [44.7, 45.7], [64.0, 64.8]]
    argv = ["benchmarks/flow_throughput.py", "--output=glow.json"]
    by_library = {"onednn": {"matmul": 137.0, "conv": 162.0}, "eigen": {"matmul": 90.2, "conv": 80}}
    peaks = (137.0, 162.0, "onednn", by_library)
    result = flow_throughput.summary(args, rows, repeats, 0.717e9, peaks, argv)
    measured = result["measured_peak_gflops"]
    assert measured["matmul_2048"] == 137 and measured["matmul_2048_library"] == "onednn"
    assert measured["by_kernel_library"]["eigen"] == {"matmul": 90, "conv": 80}
    assert result["ours_best_images_per_second"] == 130.9
    assert result["tfp_best_images_per_second"] == 64.0
    assert result["ratio_vs_tfp"] == 2.05
    key = "rows/[model=tfb.Glow,xla=True]/images_per_second"
    assert report.lookup(result, key) == [64.0, 64.8]
    assert result["config"]["levels"] == 3 and result["training_gflop_per_image"] == 0.717
    assert result["environment"]["command"] == (
        "python -m benchmarks.flow_throughput --output=glow.json"
    )
    assert set(result["environment"]["versions"]) >= {"tfflows", "tensorflow", "keras"}


def test_peaks_are_measured_with_each_kernel_library_and_the_best_is_named():
    first = flow_throughput.measure_peaks_per_library(repeats=1)
    assert set(first) == {"onednn", "eigen"}
    assert all(v["matmul"] > 0 and v["conv"] > 0 for v in first.values())
    second = {
        "onednn": {"matmul": 10.0, "conv": 1e6},
        "eigen": {"matmul": 1e6, "conv": 10.0},
    }
    matmul, conv, library, by_library = flow_throughput.best_peaks(first, second)
    assert (matmul, conv, library) == (1e6, 1e6, "eigen")
    assert by_library["onednn"] == {"matmul": first["onednn"]["matmul"], "conv": 1e6}
