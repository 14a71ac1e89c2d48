"""The optimizer's moving average of the weights, swapped into a model for a while.

A Keras optimizer built with `use_ema=True` keeps, next to each trainable
variable `theta`, an exponential moving average updated after every step

  theta_ema <- m * theta_ema + (1 - m) * theta     (m = `ema_momentum`; the
  first step copies theta)

and `model.fit` overwrites the weights with it when training ends. Sampling
from averaged weights is the usual trick of generative-model training
(Polyak averaging; not part of the four papers). `moving_average_weights`
lets one evaluate, save or sample from the average in the middle of
training, e.g. in a callback, and gives the trained weights back afterwards.
Non-trainable state (batch norms' moving statistics) is left as it is.
"""

import contextlib

__all__ = ["moving_average_weights"]


def _averages(model):
    optimizer = model.optimizer
    if optimizer is None or not getattr(optimizer, "use_ema", False):
        raise ValueError(
            "moving_average_weights needs a model compiled with an optimizer built with "
            "use_ema=True (e.g. model.make_optimizer(lr, use_ema=True))."
        )
    if not optimizer.built:
        raise ValueError("The optimizer has no moving averages before its first step.")
    averages = optimizer._model_variables_moving_average
    # Keras keeps the averages in the order of the variables the optimizer was
    # built with; look each one up rather than trusting the model's order.
    return [
        (variable, averages[optimizer._get_variable_index(variable)])
        for variable in model.trainable_variables
    ]


@contextlib.contextmanager
def moving_average_weights(model):
    """Gives `model`'s trainable weights the optimizer's moving averages inside the block.

    The weights trained so far come back when the block ends, also on an
    exception, so training can go on:

      with moving_average_weights(model):
          model.save_weights("averaged.weights.h5")
    """
    pairs = _averages(model)
    trained = [variable.numpy() for variable, _ in pairs]
    try:
        for variable, average in pairs:
            variable.assign(average)
        yield model
    finally:
        for (variable, _), value in zip(pairs, trained):
            variable.assign(value)
