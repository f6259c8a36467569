"""Pure formulation functions: data + hyper-parameters -> Program (one model family per module)."""
