"""The book's teaching layer over the model: workloads, waste sweeps, the module loop, slab design,
names shown as code in the prose (:mod:`.inline`), figures (:mod:`.plots`) and widgets (:mod:`.widgets`)."""
