"""benchmarks.environment: what every result JSON records, naming no machine's paths."""

from benchmarks.environment import describe


def test_describe_records_versions_cpu_and_a_command_without_paths():
    record = describe(
        [
            "benchmarks/glow_sampling.py",
            "--data_dir=/home/me/mnist",
            "--steps=3",
            "--model_dir",
            "/tmp/run7",
            "--output=a.json",
            "--save=/home/me/runs/all.json",
            "--weights",
            "/home/me/w.h5",
        ]
    )
    assert record["command"] == (
        "python -m benchmarks.glow_sampling --data_dir=/path/to/mnist --steps=3 "
        "--model_dir /path/to/run7 --output=a.json --save=/path/to/all.json "
        "--weights /path/to/w.h5"
    )
    assert record["versions"]["tensorflow"] and record["versions"]["tfflows"]
    assert record["cpu"]["model"] and record["cpu"]["cores"] >= 1
    assert 1 <= record["cpu"]["cores_used"] <= record["cpu"]["cores"]
    assert isinstance(record["cpu"]["vector_extensions"], list)
