"""Exports do not depend on the exporting machine: TF's convolutions, never the CPU forms.

On a machine without a GPU, `ConvConditioner` and `ShiftedConv2DTranspose` trace
their "output shifts" formulation (one matmul, then `k*k` (or 4) shifted slices of
padded tensors summed by an `AddN`); a SavedModel must carry `Conv2D` /
`Conv2DBackpropInput` instead, whatever machine wrote it. Each test first finds the
shifted sums in an in-process trace (so the detector is known to see them), then
none, and one more TF convolution in the place of each, in the exported graphs.
"""

import collections

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from tfflows import export, models
from tfflows.data import digits_arrays
from tfflows.layers import ConvConditioner, ShiftedConv2DTranspose, portable
from tfflows.layers._devices import has_gpu

TINY = {
    "glow": dict(num_levels=2, num_steps=2, hidden_units=16, seed=0),
    # GLF's InfoGAN decoder ends with a ShiftedConv2DTranspose (16 -> 1 channels).
    "glf": dict(latent_dim=2, filters=(16, 8), hidden_units=16, flow_blocks=1, flow_hidden_units=4),
}
CONVOLUTIONS = ("Conv2D", "Conv2DBackpropInput")

pytestmark = pytest.mark.skipif(
    has_gpu(), reason="the shifted formulations are only traced on machines without a GPU"
)


def _source(nodes, tensor_name):
    return nodes.get(tensor_name.split(":")[0].lstrip("^"))


def _is_shifted_sum(nodes, node):
    """An `AddN` of `Slice`s of `Pad`s: `_conv_by_output_shifts` / `conv_transpose_by_...`."""
    if node.op != "AddN":
        return False
    slices = [_source(nodes, name) for name in node.input]
    return all(
        s is not None and s.op == "Slice" and getattr(_source(nodes, s.input[0]), "op", "") == "Pad"
        for s in slices
    )


def _op_counts(bodies, entry):
    """Op types in `bodies[entry]` and every function it calls (each once), plus shifted sums."""
    counts, seen, todo = collections.Counter(), set(), [entry]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        nodes = {node.name: node for node in bodies[name]}
        for node in nodes.values():
            counts[node.op] += 1
            counts["shifted_sum"] += _is_shifted_sum(nodes, node)
            for attr in node.attr.values():
                todo += [attr.func.name] if attr.func.name else []
                todo += [f.name for f in attr.list.func]
    return counts


def _saved_graph(path):
    saved = saved_model_pb2.SavedModel()
    saved.ParseFromString((path / "saved_model.pb").read_bytes())
    return saved.meta_graphs[0]


def _exported_counts(path, signature):
    graph = _saved_graph(path)
    bodies = {f.signature.name: f.node_def for f in graph.graph_def.library.function}
    output = next(iter(graph.signature_def[signature].outputs.values())).name.split(":")[0]
    (call,) = [node for node in graph.graph_def.node if node.name == output]
    return _op_counts(bodies, call.attr["f"].func.name)


def _traced_counts(fn, *specs):
    graph = tf.function(fn, autograph=False).get_concrete_function(*specs).graph.as_graph_def()
    bodies = {f.signature.name: f.node_def for f in graph.library.function}
    bodies[""] = graph.node
    return _op_counts(bodies, "")


def _in_process(model):
    """The exporter's computations, traced in this process (no `portable()`)."""
    images = tf.TensorSpec([None, *model.image_shape], tf.uint8)
    functions = {
        "log_prob": (
            lambda x: model.serving_log_prob(model.check_images(x), seed=export.LOG_PROB_SEED),
            images,
        ),
        "sample": (
            lambda n, t, s: model.sample(n, temperature=t, seed=s),
            tf.TensorSpec([], tf.int32),
            tf.TensorSpec([], tf.float32),
            tf.TensorSpec([], tf.int64),
        ),
    }
    if model.latent_shape is not None:
        functions["decode"] = (model.decode, tf.TensorSpec([None, *model.latent_shape]))
    return functions


@pytest.fixture(scope="module", params=sorted(TINY))
def exported(request, tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = models.get(request.param, (8, 8, 1), **TINY[request.param])
    images = digits_arrays("test")[0][:4]
    model.initialize(images)
    # Off the zero-initialised last convolutions, so both formulations have work to do.
    rng = np.random.default_rng(1)
    for v in model.trainable_variables:
        v.assign(v + 0.05 * rng.standard_normal(v.shape).astype(v.dtype))
    path = tmp_path_factory.mktemp(request.param) / "saved_model"
    export.export_saved_model(model, path, max_samples=8)
    return model, path, images


def test_exported_graphs_use_tfs_convolutions(exported):
    model, path, _ = exported
    for signature, (fn, *specs) in _in_process(model).items():
        traced, saved = _traced_counts(fn, *specs), _exported_counts(path, signature)
        assert traced["shifted_sum"] > 0, (signature, "the CPU form is not traced in-process")
        assert saved["shifted_sum"] == 0, (signature, "the CPU form was exported")
        assert saved["MatMul"] < traced["MatMul"], signature
        assert sum(saved[op] for op in CONVOLUTIONS) == (
            sum(traced[op] for op in CONVOLUTIONS) + traced["shifted_sum"]
        ), (signature, {op: (traced[op], saved[op]) for op in CONVOLUTIONS})
    # Nor anywhere else in the SavedModel's function library.
    library = _saved_graph(path).graph_def.library.function
    for function in library:
        nodes = {node.name: node for node in function.node_def}
        assert not any(_is_shifted_sum(nodes, node) for node in nodes.values()), function.signature


def test_portable_switches_the_formulation_only_while_tracing_inside_it():
    inputs = keras.Input((4, 4, 16))
    conditioner = ConvConditioner(2, num_outputs=1, hidden_units=None)
    conditioner.build(inputs.shape)
    transpose = ShiftedConv2DTranspose(1, 4, strides=2, padding="same")
    transpose.build(inputs.shape)
    spec = tf.TensorSpec([None, 4, 4, 16])
    for layer in (conditioner._output_conv, transpose):
        with portable():
            assert _traced_counts(layer, spec)["shifted_sum"] == 0
        assert _traced_counts(layer, spec)["shifted_sum"] == 1  # CPU training keeps it


def test_exported_numbers_equal_the_in_process_model(exported):
    model, path, images = exported
    loaded = tf.saved_model.load(str(path))
    served = loaded.signatures["log_prob"](images=tf.constant(images))["log_prob"]
    reference = model.log_prob(images, seed=export.LOG_PROB_SEED)
    np.testing.assert_allclose(served, reference, rtol=1e-5)
    kwargs = dict(
        num_samples=tf.constant(3), temperature=tf.constant(0.7), seed=tf.constant(5, tf.int64)
    )
    served = loaded.signatures["sample"](**kwargs)["images"]
    np.testing.assert_allclose(served, model.sample(3, 0.7, seed=5), atol=1e-5)
