"""One module per interpretation of a jaxpr: ``ad`` (jvp, linearize,
transpose) and ``partial_eval`` (staging)."""
