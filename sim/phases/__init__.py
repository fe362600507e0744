"""The phases of a day, one module each, in the order :meth:`sim.model.MarketModel.step`
runs them. A phase takes what it needs as arguments and returns a frozen dataclass of what it
produced; it hands nothing to a later phase through the model."""
