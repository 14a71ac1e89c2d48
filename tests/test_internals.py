"""Private Keras and TFP APIs are used in one module only (`tfflows._internals`)."""

import pathlib
import re

import tfflows

PRIVATE = re.compile(
    r"tensorflow_probability\.python\.internal|_flatten_layers|_model_variables_moving_average"
    r"|_get_variable_index|def _maybe_symbolic_build|\._symbolic_build|keras\.src\b"
)


def test_private_apis_appear_only_in_the_internals_module():
    root = pathlib.Path(tfflows.__file__).parent
    offenders = [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for path in sorted(root.rglob("*.py"))
        if path.name != "_internals.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if PRIVATE.search(line)
    ]
    assert not offenders, "private APIs outside tfflows/_internals.py:\n" + "\n".join(offenders)
    assert PRIVATE.search((root / "_internals.py").read_text())  # the pattern still matches


def test_internals_work_on_this_stack():
    import keras

    from tfflows import _internals, layers

    flow = layers.RealNVP(4, num_blocks=1, hidden_units=8)
    names = {type(layer).__name__ for layer in _internals.sublayers(flow)}
    assert {"RealNVP", "Coupling", "DenseConditioner", "Dense"} <= names
    variable = keras.Variable([1.0, 2.0])
    optimizer = keras.optimizers.Adam(0.1, use_ema=True, ema_momentum=0.5)
    optimizer.apply([keras.ops.ones(2)], [variable])
    (average,) = _internals.moving_averages(optimizer, [variable])
    assert average.shape == (2,)
