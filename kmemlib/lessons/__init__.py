"""The book's teaching layer over the model: workloads, waste sweeps, the module loop, slab design,
figures (:mod:`.plots`) and widgets (:mod:`.widgets`)."""
